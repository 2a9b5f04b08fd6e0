package walknet

import (
	"strings"

	"github.com/paulmach/osm"
)

// excludedHighway lists the substrings that make a highway value
// non-walkable, as in OSMnx's "walk" network filter.
var excludedHighway = []string{
	"abandoned", "bus_guideway", "construction", "cycleway", "motor",
	"planned", "platform", "proposed", "raceway",
}

// Walkable reports whether a way with these tags is part of the walking
// network: it has a highway tag, and none of the OSMnx "walk" exclusions
// matches. Matches are case-sensitive substring matches, as the Overpass
// regular expressions OSMnx uses: area contains "yes", access contains
// "private", highway contains one of excludedHighway, foot contains "no",
// service contains "private".
func Walkable(tags osm.Tags) bool {
	var highway, area, access, foot, service string
	hasHighway := false
	for _, t := range tags {
		switch t.Key {
		case "highway":
			highway, hasHighway = t.Value, true
		case "area":
			area = t.Value
		case "access":
			access = t.Value
		case "foot":
			foot = t.Value
		case "service":
			service = t.Value
		}
	}
	return walkable(hasHighway, highway, area, access, foot, service)
}

// walkable is the rule of Walkable on the values of the tags it reads.
func walkable(hasHighway bool, highway, area, access, foot, service string) bool {
	if !hasHighway {
		return false
	}
	if strings.Contains(area, "yes") || strings.Contains(access, "private") ||
		strings.Contains(foot, "no") || strings.Contains(service, "private") {
		return false
	}
	for _, s := range excludedHighway {
		if strings.Contains(highway, s) {
			return false
		}
	}
	return true
}

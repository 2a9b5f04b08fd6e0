package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/walkshed/walkshed/coverage/crs"
)

// ParseCRS returns the transform of a coordinate reference system named as
// people and files name them: "EPSG:32651", "epsg:3857", "32651",
// "ESRI:54009", "urn:ogc:def:crs:EPSG::32651" (and with a version,
// "urn:ogc:def:crs:EPSG:6.6:32651"), "http://www.opengis.net/def/crs/EPSG/0/32651",
// "CRS84" or "urn:ogc:def:crs:OGC:1.3:CRS84" (WGS-84 longitude/latitude), or
// a WKT definition. The systems are those of crs.ByEPSG and crs.FromWKT.
func ParseCRS(name string) (crs.Transform, error) {
	t, err := parseCRS(name)
	if err != nil {
		return nil, fmt.Errorf("format: crs %q: %w", name, err)
	}
	return t, nil
}

// parseCRS is ParseCRS with errors that do not repeat the name.
func parseCRS(name string) (crs.Transform, error) {
	s := strings.TrimSpace(name)
	u := strings.ToUpper(s)
	if strings.Contains(u, "[") {
		return crs.FromWKT(s)
	}
	switch u {
	case "CRS84", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC::CRS84", "URN:OGC:DEF:CRS:OGC:2:84",
		"HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84", "WGS84", "WGS 84", "WGS-84":
		return crs.ByEPSG(4326)
	}
	auth, code, ok := authorityCode(u)
	if !ok {
		return nil, errors.New("not a CRS name; give EPSG:CODE (e.g. EPSG:32651 for UTM zone 51N, EPSG:3857 for Web Mercator) or a WKT definition")
	}
	return crs.Lookup(auth, code, "")
}

// authorityCode reads the authority and code out of the usual spellings of
// a CRS name (already upper-cased): "EPSG:N", "EPSG::N", "N", the OGC URN
// and the OGC http URI.
func authorityCode(u string) (string, int, bool) {
	for _, p := range []string{"URN:OGC:DEF:CRS:", "HTTP://WWW.OPENGIS.NET/DEF/CRS/", "HTTPS://WWW.OPENGIS.NET/DEF/CRS/"} {
		if rest, ok := strings.CutPrefix(u, p); ok {
			sep := ":"
			if strings.HasPrefix(p, "HTTP") {
				sep = "/"
			}
			parts := strings.Split(rest, sep)
			if len(parts) < 2 {
				return "", 0, false
			}
			code, err := strconv.Atoi(parts[len(parts)-1])
			return parts[0], code, err == nil && code > 0
		}
	}
	auth := "EPSG"
	if a, c, ok := strings.Cut(u, ":"); ok {
		auth, u = strings.TrimSpace(a), strings.TrimLeft(c, ":")
	}
	code, err := strconv.Atoi(strings.TrimSpace(u))
	return auth, code, err == nil && code > 0 && auth != ""
}

// fileCRS decides the CRS of a GeoJSON file's positions from its legacy
// "crs" member (GeoJSON 2008: {"type":"name","properties":{"name":…}}) and
// the CRS the options give: a declared CRS is converted from (with
// ParseCRS); one that cannot be is an error; a declaration that disagrees
// with the options is an error (which one is right cannot be known). It
// returns nil for longitude/latitude degrees.
func fileCRS(path string, raw json.RawMessage, given crs.Transform) (crs.Transform, error) {
	var declared crs.Transform
	var name string
	if raw != nil && string(raw) != "null" {
		var c struct {
			Properties struct {
				Name string `json:"name"`
			} `json:"properties"`
		}
		if json.Unmarshal(raw, &c) == nil && strings.TrimSpace(c.Properties.Name) != "" {
			name = c.Properties.Name
			t, err := parseCRS(name)
			if err != nil {
				return nil, fileErr(path, "crs %q cannot be converted: %v; convert the file to EPSG:4326 first", name, err)
			}
			declared = t
		}
	}
	switch {
	case declared == nil:
		return given, nil
	case given == nil:
		return declared, nil
	case sameCRS(declared, given):
		return declared, nil
	}
	return nil, fileErr(path, "the file declares crs %q (%s), but %s is given: drop --crs, or fix the file's crs member", name, declared.Name(), given.Name())
}

// sameCRS: both geographic (each read as WGS-84), or of one name.
func sameCRS(a, b crs.Transform) bool {
	if a.Geographic() && b.Geographic() {
		return true
	}
	return a.Name() == b.Name()
}

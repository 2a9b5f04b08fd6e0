package format

import (
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// PointOptions name the columns (CSV) or properties (GeoJSON) a point file
// keeps its values in. An empty name means "detect": names are matched
// case-insensitively against the usual ones (id; name, stop_name, stopname;
// tier; lon, lng, long, longitude, x; lat, latitude, y).
type PointOptions struct {
	IDCol, NameCol, TierCol, LonCol, LatCol string

	// Where keeps only the rows or features that pass a comparison:
	// "COL>NUM", "COL>=NUM", "COL<NUM", "COL<=NUM", "COL=TEXT" or
	// "COL!=TEXT". Numeric comparisons skip empty values and reject values
	// that are not numbers; = and != compare numerically when both sides are
	// numbers, as text otherwise. Skipped rows are not validated.
	Where string
}

// ReadStations reads stations from a CSV file with a header row or from
// GeoJSON Point features; a file whose first non-blank byte is '{' is
// GeoJSON. Stations keep the file's order.
//
// Ids: CSV takes the id column; a file with no id column at all numbers its
// stations by data row ("1" for the first row after the header, counting
// rows a Where filter skips, so ids do not depend on the filter). GeoJSON
// takes the feature's "id" member, else its id property, else the feature's
// number ("1" for the first feature). Empty ids, and duplicate ids among
// the stations kept, are errors.
// A file with no station left after filtering is an error.
func ReadStations(path string, opt PointOptions) ([]coverage.Station, error) {
	data, isJSON, err := loadInput(path)
	if err != nil {
		return nil, err
	}
	if isJSON {
		return stationsGeoJSON(path, data, opt)
	}
	return stationsCSV(path, data, opt)
}

func stationsCSV(path string, data []byte, opt PointOptions) ([]coverage.Station, error) {
	t, err := readCSVTable(path, data)
	if err != nil {
		return nil, err
	}
	idCol, err := t.column("id", opt.IDCol, idNames, false)
	if err != nil {
		return nil, err
	}
	nameCol, err := t.column("name", opt.NameCol, nameNames, false)
	if err != nil {
		return nil, err
	}
	tierCol, err := t.column("tier", opt.TierCol, tierNames, false)
	if err != nil {
		return nil, err
	}
	lonCol, err := t.column("longitude", opt.LonCol, lonNames, true)
	if err != nil {
		return nil, err
	}
	latCol, err := t.column("latitude", opt.LatCol, latNames, true)
	if err != nil {
		return nil, err
	}
	if lonCol == latCol {
		return nil, lineErr(path, t.headerLine, "column %q cannot be both longitude and latitude", t.header[lonCol])
	}
	filter, err := t.filter(opt.Where)
	if err != nil {
		return nil, err
	}
	sw := t.swapSignal(lonCol, latCol)
	var out []coverage.Station
	firstLine := map[string]int{}
	for i, row := range t.rows {
		ok, err := t.keep(filter, i)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		line := t.lines[i]
		id := strconv.Itoa(i + 1)
		if idCol >= 0 {
			id = strings.TrimSpace(row[idCol])
			if id == "" {
				return nil, lineErr(path, line, "empty station id (column %q)", t.header[idCol])
			}
		}
		if prev, dup := firstLine[id]; dup {
			return nil, lineErr(path, line, "duplicate station id %q (also on line %d)", id, prev)
		}
		firstLine[id] = line
		lon, lat, err := t.lonLat(i, lonCol, latCol, sw)
		if err != nil {
			return nil, err
		}
		s := coverage.Station{ID: id, Pos: orb.Point{lon, lat}}
		if nameCol >= 0 {
			s.Name = strings.TrimSpace(row[nameCol])
		}
		if tierCol >= 0 {
			s.Tier = strings.TrimSpace(row[tierCol])
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fileErr(path, "no row passes where %q: no stations", opt.Where)
	}
	return out, nil
}

func stationsGeoJSON(path string, data []byte, opt PointOptions) ([]coverage.Station, error) {
	fs, err := readGeoJSON(path, data)
	if err != nil {
		return nil, err
	}
	idKey, err := gjProps(path, fs, "id", opt.IDCol, idNames, "")
	if err != nil {
		return nil, err
	}
	nameKey, err := gjProps(path, fs, "name", opt.NameCol, nameNames, "")
	if err != nil {
		return nil, err
	}
	tierKey, err := gjProps(path, fs, "tier", opt.TierCol, tierNames, "")
	if err != nil {
		return nil, err
	}
	filter, err := gjWhere(path, fs, opt.Where)
	if err != nil {
		return nil, err
	}
	// Ids come from one source for the whole file: an explicit IDCol, else
	// feature ids when any feature has one, else the id property, else the
	// feature number. A feature that lacks the chosen source is an error.
	useFeatureID := false
	if opt.IDCol == "" {
		for _, f := range fs {
			useFeatureID = useFeatureID || f.hasID
		}
	}
	g := geomChecker{sw: swapSignalOf(fs)}
	var out []coverage.Station
	first := map[string]int{}
	for i := range fs {
		f := &fs[i]
		ok, err := filter.keep(path, f)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		var id string
		switch {
		case useFeatureID:
			if !f.hasID {
				return nil, featureErr(path, f.num, "no feature id, while other features have one")
			}
			id = f.id
		case idKey != "":
			id = strings.TrimSpace(f.prop(idKey))
			if id == "" {
				return nil, featureErr(path, f.num, "empty station id (property %q)", idKey)
			}
		default:
			id = strconv.Itoa(f.num)
		}
		if prev, dup := first[id]; dup {
			return nil, featureErr(path, f.num, "duplicate station id %q (also feature %d)", id, prev)
		}
		first[id] = f.num
		switch f.geomType {
		case "Point":
		case "":
			return nil, featureErr(path, f.num, "geometry is null, want a Point")
		default:
			return nil, featureErr(path, f.num, "geometry is %s, want a Point", f.geomType)
		}
		p, err := f.decodePoint(g)
		if err != nil {
			return nil, featureErr(path, f.num, "%w", err)
		}
		out = append(out, coverage.Station{
			ID:   id,
			Name: strings.TrimSpace(f.prop(nameKey)),
			Tier: strings.TrimSpace(f.prop(tierKey)),
			Pos:  p,
		})
	}
	if len(out) == 0 {
		return nil, fileErr(path, "no feature passes where %q: no stations", opt.Where)
	}
	return out, nil
}

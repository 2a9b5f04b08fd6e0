package format

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
)

// PointOptions name the columns (CSV) or properties (GeoJSON) a point file
// keeps its values in, and how to read it. An empty name means "detect":
// names are matched case-insensitively against the usual ones (id, 编号,
// 序号; name, stop_name, stopname, 名称, 站点名称; tier, 层级, 级别;
// capacity, 容量; lon, lng, long, longitude, x, 经度; lat, latitude, y,
// 纬度).
type PointOptions struct {
	IDCol, NameCol, TierCol, LonCol, LatCol string

	// CapacityCol is the stations' capacity column (see ReadStations);
	// "" detects capacity or 容量.
	CapacityCol string

	// Where keeps only the rows or features that pass a comparison:
	// "COL>NUM", "COL>=NUM", "COL<NUM", "COL<=NUM", "COL=TEXT" or
	// "COL!=TEXT". Numeric comparisons skip empty values and reject values
	// that are not numbers; = and != compare numerically when both sides are
	// numbers, as text otherwise. Skipped rows are not validated.
	Where string

	// Encoding is the file's text encoding: "" to detect it (UTF-8 with or
	// without a byte order mark, UTF-16 with one, else GB18030/GBK; see
	// ReadStations), or "utf-8", "gb18030" (also "gbk", "gb2312"),
	// "utf-16", "windows-1252" (also "latin1").
	Encoding string

	// CRS is the CRS of the file's coordinates when they are not WGS-84
	// longitude/latitude, e.g. ParseCRS("EPSG:32651") for UTM zone 51N;
	// nil for degrees. A GeoJSON file's own "crs" member is used without
	// it; the two must agree when both are given.
	CRS crs.Transform

	// Near, when not zero, is where the points are expected (e.g. the
	// population's extent, see PopulationExtent): when the coordinates look
	// like metres, the message names the CRS that puts them there.
	Near orb.Bound

	// Warn receives what is odd but readable; nil drops it.
	Warn func(Warning)
}

// ReadStations reads stations from a CSV file with a header row or from
// GeoJSON Point (and MultiPoint) features; a file whose first non-blank
// byte is '{' is GeoJSON. Stations keep the file's order.
//
// Files may be gzipped, or be a zip archive holding one CSV or GeoJSON
// file (messages then name "archive.zip/member"). Text that is not UTF-8
// is read as GB18030 (GBK) when it forms valid GB18030 throughout and
// reads as Chinese; otherwise, and for invalid bytes in a named Encoding,
// the error names the line. Lines may end in CR LF, LF or CR alone; an
// Excel "sep=;" first line names the delimiter; with a delimiter other than
// a comma, numbers may have a decimal comma.
//
// Ids: CSV takes the id column; a file with no id column at all numbers its
// stations by data row ("1" for the first row after the header, counting
// rows a Where filter skips, so ids do not depend on the filter). GeoJSON
// takes the feature's "id" member, else its id property, else the feature's
// number ("1" for the first feature); a MultiPoint of several points
// becomes one station per point, with ids "ID#1", "ID#2", … (a MultiPoint
// of one point keeps the plain id). Empty ids, and duplicate ids among the
// stations kept, are errors.
//
// Positions: a position at (0, 0) is an error (a missing position written
// as zeros); so are coordinates beyond ±180/±90, with the message saying
// when the file looks swapped or in metres of a projected CRS (see CRS).
// A file with no station left after filtering is an error.
//
// Capacities: a station's capacity (Station.Capacity) comes from the
// capacity column or property when there is one. An empty value means
// unknown (0); any other value must be a positive finite number, else the
// error names the line or feature.
func ReadStations(path string, opt PointOptions) ([]coverage.Station, error) {
	in, err := loadInput(path, opt.Encoding, opt.Warn)
	if err != nil {
		return nil, err
	}
	if in.isJSON {
		return stationsGeoJSON(in, opt)
	}
	return stationsCSV(in, opt)
}

func stationsCSV(in *input, opt PointOptions) ([]coverage.Station, error) {
	path := in.path
	t, err := readCSVTable(in)
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
	capCol, err := t.column("capacity", opt.CapacityCol, capacityNames, false)
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
	pl := t.placer(lonCol, latCol, opt.CRS, opt.Near)
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
		pos, err := t.lonLat(i, lonCol, latCol, pl)
		if err != nil {
			return nil, err
		}
		s := coverage.Station{ID: id, Pos: pos}
		if nameCol >= 0 {
			s.Name = strings.TrimSpace(row[nameCol])
		}
		if tierCol >= 0 {
			s.Tier = strings.TrimSpace(row[tierCol])
		}
		if capCol >= 0 {
			v := row[capCol]
			if t.decimalComma {
				v = fromDecimalComma(v)
			}
			if s.Capacity, err = parseCapacity(v, t.header[capCol]); err != nil {
				return nil, lineErr(path, line, "%w", err)
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fileErr(path, "no row passes where %q: no stations", opt.Where)
	}
	return out, nil
}

func stationsGeoJSON(in *input, opt PointOptions) ([]coverage.Station, error) {
	path := in.path
	fs, tr, err := readGeoJSON(path, in.data, opt.CRS)
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
	capKey, err := gjProps(path, fs, "capacity", opt.CapacityCol, capacityNames, "")
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
	g := placerOf(fs, tr, opt.Near)
	var out []coverage.Station
	first := map[string]int{}
	split, splitInto, firstSplit := 0, 0, 0 // MultiPoints of several points
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
		var capacity float64
		if capKey != "" {
			if capacity, err = parseCapacity(f.prop(capKey), capKey); err != nil {
				return nil, featureErr(path, f.num, "%w", err)
			}
		}
		var pts []orb.Point
		switch f.geomType {
		case "Point":
			p, err := f.decodePoint(g)
			if err != nil {
				return nil, featureErr(path, f.num, "%w", err)
			}
			pts = []orb.Point{p}
		case "MultiPoint":
			if pts, err = f.decodeMultiPoint(g); err != nil {
				return nil, featureErr(path, f.num, "%w", err)
			}
		case "":
			return nil, featureErr(path, f.num, "geometry is null, want a Point")
		default:
			return nil, featureErr(path, f.num, "geometry is %s, want a Point or MultiPoint", f.geomType)
		}
		if len(pts) > 1 {
			if split++; split == 1 {
				firstSplit = f.num
			}
			splitInto += len(pts)
		}
		for k, p := range pts {
			pid := id
			if len(pts) > 1 {
				pid = id + "#" + strconv.Itoa(k+1)
			}
			if prev, dup := first[pid]; dup {
				return nil, featureErr(path, f.num, "duplicate station id %q (also feature %d)", pid, prev)
			}
			first[pid] = f.num
			out = append(out, coverage.Station{
				ID:       pid,
				Name:     strings.TrimSpace(f.prop(nameKey)),
				Tier:     strings.TrimSpace(f.prop(tierKey)),
				Pos:      p,
				Capacity: capacity,
			})
		}
	}
	if len(out) == 0 {
		return nil, fileErr(path, "no feature passes where %q: no stations", opt.Where)
	}
	if split > 0 {
		warnf(opt.Warn, Warning{Path: path, Feature: firstSplit}, "%d MultiPoint %s of several points became %d stations, one per point, with ids ID#1, ID#2, … (the first is feature %d)",
			split, plural(split, "feature", "features"), splitInto, firstSplit)
	}
	return out, nil
}

// capacityNames are the accepted names of the stations' capacity column.
var capacityNames = []string{"capacity", "容量"}

// parseCapacity reads a station's capacity from column col: empty is
// unknown (0), anything else a positive finite number.
func parseCapacity(s, col string) (float64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	v, err := parseNumber(s, fmt.Sprintf("capacity (column %q)", col))
	if err != nil {
		return 0, err
	}
	if !(v > 0) {
		return 0, fmt.Errorf("capacity %s (column %q) must be a positive number; leave it empty when unknown", strings.TrimSpace(s), col)
	}
	return v, nil
}

package format

import (
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
)

// AreaOptions name the GeoJSON properties holding an area's name and its
// parent's name; "" means detect: the name under name, subdistrict or
// district (or 名称, 街道), the parent under parent or district (or 上级, 区;
// never the name's own property), matched case-insensitively.
//
// Encoding, CRS and Warn work as in PointOptions.
type AreaOptions struct {
	NameCol, ParentCol string
	Encoding           string
	CRS                crs.Transform
	Warn               func(Warning)
}

// ReadAreas reads areas from GeoJSON Polygon and MultiPolygon features,
// in file order. Every area needs a non-empty name; the parent is optional.
// Rings must be closed and have at least 4 positions: an unclosed ring is an
// error rather than closed silently, since it usually means a broken export.
func ReadAreas(path string, opt AreaOptions) ([]coverage.Area, error) {
	in, err := loadInput(path, opt.Encoding, opt.Warn)
	if err != nil {
		return nil, err
	}
	path = in.path
	if !in.isJSON {
		return nil, fileErr(path, "areas must be GeoJSON (a FeatureCollection of Polygons or MultiPolygons); this file does not start with '{'")
	}
	fs, tr, err := readGeoJSON(path, in.data, opt.CRS)
	if err != nil {
		return nil, err
	}
	nameKey, err := gjProps(path, fs, "name", opt.NameCol, areaNames, "")
	if err != nil {
		return nil, err
	}
	if nameKey == "" {
		return nil, missingProp(path, fs, "name", areaNames)
	}
	parentKey, err := gjProps(path, fs, "parent", opt.ParentCol, parentNames, nameKey)
	if err != nil {
		return nil, err
	}
	g := placerOf(fs, tr, orb.Bound{})
	out := make([]coverage.Area, 0, len(fs))
	for i := range fs {
		f := &fs[i]
		name := strings.TrimSpace(f.prop(nameKey))
		if name == "" {
			return nil, featureErr(path, f.num, "empty or missing name (property %q)", nameKey)
		}
		if f.geomType == "" {
			return nil, featureErr(path, f.num, "geometry is null, want a Polygon or MultiPolygon")
		}
		mp, err := f.decodeAreal(g)
		if err != nil {
			return nil, featureErr(path, f.num, "%w", err)
		}
		out = append(out, coverage.Area{Name: name, Parent: strings.TrimSpace(f.prop(parentKey)), Geom: mp})
	}
	return out, nil
}

package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage/crs"
)

// GeoJSON is decoded with encoding/json into the few shapes walkshed reads
// (Point, MultiPoint, Polygon, MultiPolygon), rather than through
// orb/geojson, because every position must be checked: orb decodes [5] as
// the point (5, 0) and a null coordinate as 0, and neither may pass
// silently.

// gjFeature is one feature of a GeoJSON file, numbered from 1 in file order.
type gjFeature struct {
	num      int
	id       string // the feature's "id" member, "" when absent
	hasID    bool
	props    map[string]any // numbers are json.Number
	geomType string         // "" when the geometry is null or absent
	coords   json.RawMessage
}

// readGeoJSON splits a FeatureCollection (or a single Feature) into its
// features. It checks the structure of each feature but decodes geometries
// only on demand, so features a Where filter skips are never judged. It
// returns the CRS of the positions (see fileCRS): nil for degrees.
func readGeoJSON(path string, data []byte, given crs.Transform) ([]gjFeature, crs.Transform, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, jsonErr(path, data, err)
	}
	var typ string
	if err := json.Unmarshal(top["type"], &typ); err != nil || typ == "" {
		return nil, nil, fileErr(path, "not GeoJSON: no \"type\" naming a FeatureCollection or Feature")
	}
	tr, err := fileCRS(path, top["crs"], given)
	if err != nil {
		return nil, nil, err
	}
	var raws []json.RawMessage
	switch typ {
	case "FeatureCollection":
		f, ok := top["features"]
		if !ok || string(f) == "null" {
			return nil, nil, fileErr(path, "FeatureCollection has no \"features\" array")
		}
		if err := json.Unmarshal(f, &raws); err != nil {
			return nil, nil, fileErr(path, "\"features\" is not an array of features")
		}
	case "Feature":
		raws = []json.RawMessage{data}
	default:
		return nil, nil, fileErr(path, "GeoJSON of type %q: want a FeatureCollection or a Feature", typ)
	}
	if len(raws) == 0 {
		return nil, nil, fileErr(path, "FeatureCollection has no features")
	}
	out := make([]gjFeature, len(raws))
	for i, raw := range raws {
		f, err := decodeFeature(raw)
		if err != nil {
			return nil, nil, featureErr(path, i+1, "%w", err)
		}
		f.num = i + 1
		out[i] = f
	}
	return out, tr, nil
}

func decodeFeature(raw json.RawMessage) (gjFeature, error) {
	var f gjFeature
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return f, errors.New("not a JSON object")
	}
	var typ string
	if err := json.Unmarshal(m["type"], &typ); err != nil || typ != "Feature" {
		return f, fmt.Errorf("type %s: want \"Feature\"", orNone(m["type"]))
	}
	if id, ok := m["id"]; ok && string(id) != "null" {
		s, err := jsonScalar(id)
		if err != nil {
			return f, fmt.Errorf("id %s is neither a string nor a number", id)
		}
		f.id, f.hasID = s, s != ""
	}
	if p, ok := m["properties"]; ok && string(p) != "null" {
		d := json.NewDecoder(bytes.NewReader(p))
		d.UseNumber()
		if err := d.Decode(&f.props); err != nil {
			return f, errors.New("\"properties\" is not a JSON object")
		}
	}
	g, ok := m["geometry"]
	if !ok || string(g) == "null" {
		return f, nil
	}
	var geom struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(g, &geom); err != nil {
		return f, errors.New("\"geometry\" is not a GeoJSON geometry object")
	}
	if geom.Type == "" {
		return f, errors.New("geometry has no \"type\"")
	}
	f.geomType, f.coords = geom.Type, geom.Coordinates
	return f, nil
}

func orNone(raw json.RawMessage) string {
	if raw == nil {
		return "missing"
	}
	return string(raw)
}

// jsonScalar renders a JSON string or number as text; a number keeps the
// digits it was written with.
func jsonScalar(raw json.RawMessage) (string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	}
	return "", errors.New("not a string or number")
}

// propText renders a property value as text: strings as they are, numbers
// as written, booleans as true/false, null as "", anything else as JSON.
func propText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// propNumber reads a numeric property; numbers written as strings ("12")
// are accepted, as many exports write them so.
func propNumber(v any, what string) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, fmt.Errorf("%s is null", what)
	case json.Number:
		return parseNumber(x.String(), what)
	case string:
		return parseNumber(x, what)
	}
	return 0, fmt.Errorf("%s %s is not a number", what, propText(v))
}

// jsonErr reports a JSON syntax error at the line where it occurs.
func jsonErr(path string, data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return lineErr(path, line, "invalid JSON: %w", err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fileErr(path, "not GeoJSON: the file is a JSON %s, not an object", te.Value)
	}
	return fileErr(path, "invalid JSON: %w", err)
}

// coord is one number of a position. Unlike float64 it refuses null,
// strings and booleans instead of decoding them as 0 or failing vaguely.
type coord float64

func (c *coord) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		return fmt.Errorf("coordinate %s is not a number", b)
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(v, 0) {
		return fmt.Errorf("coordinate %s is out of range", b)
	}
	*c = coord(v)
	return nil
}

// position converts and checks one decoded position (of a polygon ring).
func (pl *placer) position(p []coord) (orb.Point, error) {
	if len(p) < 2 {
		return orb.Point{}, fmt.Errorf("position %v needs longitude and latitude, it has %d number(s)", floats(p), len(p))
	}
	return pl.place(float64(p[0]), float64(p[1]))
}

// pointAt converts and checks the position of a point feature.
func (pl *placer) pointAt(p []coord) (orb.Point, error) {
	if len(p) < 2 {
		return orb.Point{}, fmt.Errorf("position %v needs longitude and latitude, it has %d number(s)", floats(p), len(p))
	}
	return pl.point(float64(p[0]), float64(p[1]))
}

func floats(p []coord) []float64 {
	out := make([]float64, len(p))
	for i, c := range p {
		out[i] = float64(c)
	}
	return out
}

func (pl *placer) polygon(rings [][][]coord) (orb.Polygon, error) {
	if len(rings) == 0 {
		return nil, errors.New("polygon has no rings")
	}
	poly := make(orb.Polygon, len(rings))
	for r, ring := range rings {
		if len(ring) < 4 {
			return nil, fmt.Errorf("ring %d has %d positions, a closed ring needs at least 4", r+1, len(ring))
		}
		out := make(orb.Ring, len(ring))
		for k, p := range ring {
			pt, err := pl.position(p)
			if err != nil {
				return nil, fmt.Errorf("ring %d position %d: %w", r+1, k+1, err)
			}
			out[k] = pt
		}
		if out[0] != out[len(out)-1] {
			return nil, fmt.Errorf("ring %d is not closed: it starts at %v and ends at %v", r+1, out[0], out[len(out)-1])
		}
		poly[r] = out
	}
	return poly, nil
}

// decodePoint decodes a Point feature's position.
func (f *gjFeature) decodePoint(g *placer) (orb.Point, error) {
	var p []coord
	if err := json.Unmarshal(f.coords, &p); err != nil {
		//lint:ignore ST1005 the message starts with the GeoJSON type name, which is capitalised
		return orb.Point{}, fmt.Errorf("Point coordinates: %w", coordErr(err))
	}
	return g.pointAt(p)
}

// decodeMultiPoint decodes a MultiPoint feature's positions.
func (f *gjFeature) decodeMultiPoint(g *placer) ([]orb.Point, error) {
	var ps [][]coord
	if err := json.Unmarshal(f.coords, &ps); err != nil {
		return nil, fmt.Errorf("MultiPoint coordinates: %w", coordErr(err))
	}
	if len(ps) == 0 {
		return nil, errors.New("MultiPoint has no points")
	}
	out := make([]orb.Point, len(ps))
	for k, p := range ps {
		pt, err := g.pointAt(p)
		if err != nil {
			return nil, fmt.Errorf("point %d of the MultiPoint: %w", k+1, err)
		}
		out[k] = pt
	}
	return out, nil
}

// decodeAreal decodes a Polygon or MultiPolygon as a MultiPolygon.
func (f *gjFeature) decodeAreal(g *placer) (orb.MultiPolygon, error) {
	switch f.geomType {
	case "Polygon":
		var rings [][][]coord
		if err := json.Unmarshal(f.coords, &rings); err != nil {
			//lint:ignore ST1005 the message starts with the GeoJSON type name, which is capitalised
			return nil, fmt.Errorf("Polygon coordinates: %w", coordErr(err))
		}
		p, err := g.polygon(rings)
		if err != nil {
			return nil, err
		}
		return orb.MultiPolygon{p}, nil
	case "MultiPolygon":
		var polys [][][][]coord
		if err := json.Unmarshal(f.coords, &polys); err != nil {
			return nil, fmt.Errorf("MultiPolygon coordinates: %w", coordErr(err))
		}
		if len(polys) == 0 {
			return nil, errors.New("MultiPolygon has no polygons")
		}
		mp := make(orb.MultiPolygon, len(polys))
		for i, rings := range polys {
			p, err := g.polygon(rings)
			if err != nil {
				return nil, fmt.Errorf("polygon %d: %w", i+1, err)
			}
			mp[i] = p
		}
		return mp, nil
	}
	return nil, fmt.Errorf("geometry is %s, want Polygon or MultiPolygon", f.geomType)
}

// coordErr keeps our own coordinate messages and names the others plainly.
func coordErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("nesting is wrong (found a JSON %s where an array was expected)", te.Value)
	}
	return err
}

// placerOf sees the positions of the features' geometries, ignoring any
// that do not decode (they are reported later, in order).
func placerOf(fs []gjFeature, tr crs.Transform, near orb.Bound) *placer {
	pl := newPlacer(tr, near)
	see := func(p []coord) {
		if len(p) >= 2 {
			pl.see(float64(p[0]), float64(p[1]))
		}
	}
	for i := range fs {
		f := &fs[i]
		switch f.geomType {
		case "Point":
			var p []coord
			if json.Unmarshal(f.coords, &p) == nil {
				see(p)
			}
		case "MultiPoint":
			var ps [][]coord
			if json.Unmarshal(f.coords, &ps) == nil {
				for _, p := range ps {
					see(p)
				}
			}
		case "Polygon":
			var rings [][][]coord
			if json.Unmarshal(f.coords, &rings) == nil {
				seeRings(see, rings)
			}
		case "MultiPolygon":
			var polys [][][][]coord
			if json.Unmarshal(f.coords, &polys) == nil {
				for _, r := range polys {
					seeRings(see, r)
				}
			}
		}
	}
	return &pl
}

func seeRings(see func([]coord), rings [][][]coord) {
	for _, ring := range rings {
		for _, p := range ring {
			see(p)
		}
	}
}

// gjProps picks, for a whole file, the property that holds some value: the
// one named explicitly, or the first accepted name some feature carries.
// It returns "" when none is found; an explicit name no feature carries is
// an error listing the properties found.
func gjProps(path string, fs []gjFeature, what, explicit string, accepted []string, exclude string) (string, error) {
	keys := propKeys(fs)
	if exclude != "" {
		kept := keys[:0:0]
		for _, k := range keys {
			if k != exclude {
				kept = append(kept, k)
			}
		}
		keys = kept
	}
	if i := pickName(keys, explicit, accepted); i >= 0 {
		return keys[i], nil
	}
	if explicit != "" {
		return "", fileErr(path, "no feature has a %s property named %q; properties found: %s", what, explicit, quoteList(propKeys(fs)))
	}
	return "", nil
}

// missingProp is the error for a required property no feature carries.
func missingProp(path string, fs []gjFeature, what string, accepted []string) error {
	return fileErr(path, "no %s property; properties found: %s; accepted names: %s (or name the property in the options)", what, quoteList(propKeys(fs)), strings.Join(accepted, ", "))
}

// gjFilter is a Where filter over feature properties.
type gjFilter struct {
	w   *where
	key string
}

func gjWhere(path string, fs []gjFeature, expr string) (*gjFilter, error) {
	w, err := parseWhere(path, expr)
	if err != nil || w == nil {
		return nil, err
	}
	keys := propKeys(fs)
	i := matchName(keys, w.col)
	if i < 0 {
		return nil, fileErr(path, "where %q: no feature has a property %q; properties found: %s", w.raw, w.col, quoteList(keys))
	}
	key := keys[i]
	return &gjFilter{w: w, key: key}, nil
}

func (g *gjFilter) keep(path string, f *gjFeature) (bool, error) {
	if g == nil {
		return true, nil
	}
	ok, err := g.w.match(propText(f.props[g.key]))
	if err != nil {
		return false, featureErr(path, f.num, "%w", err)
	}
	return ok, nil
}

// prop returns a feature's property as text ("" when key is "" or absent).
func (f *gjFeature) prop(key string) string {
	if key == "" {
		return ""
	}
	return propText(f.props[key])
}

// propKeys lists the property names used by any feature, sorted.
func propKeys(fs []gjFeature) []string {
	seen := map[string]bool{}
	for _, f := range fs {
		for k := range f.props {
			seen[k] = true
		}
	}
	return sortedKeys(seen)
}

package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// Resolver turns a layer's declared spatial reference system into a
// function from the file's coordinates to WGS-84 lon/lat. org and code come
// from gpkg_spatial_ref_sys (organization, organization_coordsys_id), wkt is
// its definition. The caller supplies it so this package needs no projection
// library.
type Resolver func(org string, code int, wkt string) (func(x, y float64) (lon, lat float64, err error), error)

// ReadOptions choose the layer and how its coordinates become lon/lat.
type ReadOptions struct {
	Layer   string   // feature table to read; "" = the file's only feature layer
	Resolve Resolver // nil: only EPSG:4326 (or srs_id 0, undefined geographic) is accepted
}

// Errors the readers wrap, for callers that test with errors.Is.
var (
	ErrNoLayer = errors.New("no such layer")
	ErrNoField = errors.New("no such field")
)

// LayerInfo describes a feature table of a GeoPackage.
type LayerInfo struct {
	Name         string
	GeometryType string // as in gpkg_geometry_columns: POINT, POLYGON, …
	SRSID        int
	Fields       []string // attribute columns, without the primary key and geometry
}

// Layers lists the feature tables of the GeoPackage at path.
func Layers(path string) ([]LayerInfo, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.close()
	return f.layers()
}

// ReadPopulation reads a population count per feature from field: points
// become coverage.PopPoint, polygons and multipolygons coverage.PopPolygon.
// A NULL, non-numeric, negative, infinite or NaN value is an error naming the
// feature.
func ReadPopulation(path, field string, o ReadOptions) (coverage.Population, error) {
	var pop coverage.Population
	err := scan(path, o, []string{field}, func(f feature) error {
		v, err := number(f.vals[0])
		if err != nil {
			return fmt.Errorf("field %q: %w", field, err)
		}
		switch g := f.geom.(type) {
		case orb.Point:
			pop.Points = append(pop.Points, coverage.PopPoint{Pos: g, Population: v})
		case orb.Polygon:
			pop.Polygons = append(pop.Polygons, coverage.PopPolygon{Geom: orb.MultiPolygon{g}, Population: v})
		case orb.MultiPolygon:
			pop.Polygons = append(pop.Polygons, coverage.PopPolygon{Geom: g, Population: v})
		default:
			return fmt.Errorf("%s geometry: population needs points or polygons", g.GeoJSONType())
		}
		return nil
	})
	if err != nil {
		return coverage.Population{}, err
	}
	return pop, nil
}

// ReadStations reads point features as stations. idField "" uses the
// feature id; nameField "" leaves names empty. A multipoint of one point is
// accepted as that point.
func ReadStations(path, idField, nameField string, o ReadOptions) ([]coverage.Station, error) {
	var out []coverage.Station
	err := scan(path, o, []string{idField, nameField}, func(f feature) error {
		p, ok := f.geom.(orb.Point)
		if mp, isMulti := f.geom.(orb.MultiPoint); isMulti && len(mp) == 1 {
			p, ok = mp[0], true
		}
		if !ok {
			return fmt.Errorf("%s geometry: stations must be points", f.geom.GeoJSONType())
		}
		s := coverage.Station{ID: strconv.FormatInt(f.fid, 10), Pos: p}
		if idField != "" {
			if f.vals[0] == nil {
				return fmt.Errorf("field %q is NULL", idField)
			}
			s.ID = text(f.vals[0])
		}
		if nameField != "" {
			s.Name = text(f.vals[1])
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// ReadAreas reads polygon features as named areas; parentField "" leaves
// parents empty.
func ReadAreas(path, nameField, parentField string, o ReadOptions) ([]coverage.Area, error) {
	var out []coverage.Area
	err := scan(path, o, []string{nameField, parentField}, func(f feature) error {
		a := coverage.Area{Name: text(f.vals[0])}
		if a.Name == "" {
			return fmt.Errorf("field %q is empty", nameField)
		}
		if parentField != "" {
			a.Parent = text(f.vals[1])
		}
		switch g := f.geom.(type) {
		case orb.Polygon:
			a.Geom = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			a.Geom = g
		default:
			return fmt.Errorf("%s geometry: areas must be polygons", g.GeoJSONType())
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// feature is one row of a layer, its geometry already in lon/lat.
type feature struct {
	fid  int64
	geom orb.Geometry
	vals []any // one per requested field; nil for an unrequested ("") field
}

type file struct {
	path string
	db   *sql.DB
	ctx  context.Context
}

// existing returns the absolute path of an existing file (SQLite would
// otherwise create an empty database for a mistyped name).
func existing(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("gpkg: %w", err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("gpkg: %s is a directory", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("gpkg: %s: %w", path, err)
	}
	return abs, nil
}

// open opens an existing GeoPackage read-only.
func open(path string) (*file, error) {
	abs, err := existing(path)
	if err != nil {
		return nil, err
	}
	u := url.URL{Scheme: "file", Path: abs, RawQuery: "mode=ro"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("gpkg: %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	f := &file{path: path, db: db, ctx: context.Background()}
	var n int
	if err := db.QueryRowContext(f.ctx, `SELECT count(*) FROM sqlite_master WHERE name IN ('gpkg_contents', 'gpkg_geometry_columns', 'gpkg_spatial_ref_sys')`).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("gpkg: %s: not a GeoPackage: %w", path, err)
	}
	if n != 3 {
		db.Close()
		return nil, fmt.Errorf("gpkg: %s: not a GeoPackage (gpkg_contents, gpkg_geometry_columns or gpkg_spatial_ref_sys missing)", path)
	}
	return f, nil
}

func (f *file) close() { f.db.Close() }

func (f *file) layers() ([]LayerInfo, error) {
	rows, err := f.db.QueryContext(f.ctx, `SELECT c.table_name, g.geometry_type_name, g.srs_id FROM gpkg_contents c JOIN gpkg_geometry_columns g ON c.table_name = g.table_name WHERE c.data_type = 'features' ORDER BY c.table_name`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: %s: listing layers: %w", f.path, err)
	}
	var out []LayerInfo
	for rows.Next() {
		var l LayerInfo
		if err := rows.Scan(&l.Name, &l.GeometryType, &l.SRSID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("gpkg: %s: listing layers: %w", f.path, err)
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gpkg: %s: listing layers: %w", f.path, err)
	}
	for i := range out {
		cols, err := f.columns(out[i].Name)
		if err != nil {
			return nil, err
		}
		for _, c := range cols.names {
			if c != cols.pk && !strings.EqualFold(c, cols.geom) {
				out[i].Fields = append(out[i].Fields, c)
			}
		}
	}
	return out, nil
}

type tableColumns struct {
	names    []string
	pk, geom string
}

func (f *file) columns(table string) (tableColumns, error) {
	var tc tableColumns
	if err := f.db.QueryRowContext(f.ctx, `SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?`, table).Scan(&tc.geom); err != nil {
		return tc, fmt.Errorf("gpkg: %s: layer %q: geometry column: %w", f.path, table, err)
	}
	rows, err := f.db.QueryContext(f.ctx, "SELECT name, type, pk FROM pragma_table_info(?)", table)
	if err != nil {
		return tc, fmt.Errorf("gpkg: %s: layer %q: columns: %w", f.path, table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		var pk int
		if err := rows.Scan(&name, &typ, &pk); err != nil {
			return tc, fmt.Errorf("gpkg: %s: layer %q: columns: %w", f.path, table, err)
		}
		tc.names = append(tc.names, name)
		if pk == 1 && strings.EqualFold(typ, "INTEGER") {
			tc.pk = name
		}
	}
	if err := rows.Err(); err != nil {
		return tc, fmt.Errorf("gpkg: %s: layer %q: columns: %w", f.path, table, err)
	}
	if len(tc.names) == 0 {
		return tc, fmt.Errorf("gpkg: %s: layer %q is registered but its table is missing", f.path, table)
	}
	return tc, nil
}

// pick finds the requested layer, or the only one.
func (f *file) pick(name string) (LayerInfo, error) {
	ls, err := f.layers()
	if err != nil {
		return LayerInfo{}, err
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
	}
	have := strings.Join(names, ", ")
	if have == "" {
		have = "none"
	}
	if name == "" {
		if len(ls) == 1 {
			return ls[0], nil
		}
		return LayerInfo{}, fmt.Errorf("gpkg: %s: %d feature layers, name one (layers: %s): %w", f.path, len(ls), have, ErrNoLayer)
	}
	for _, l := range ls {
		if l.Name == name {
			return l, nil
		}
	}
	for _, l := range ls {
		if strings.EqualFold(l.Name, name) {
			return l, nil
		}
	}
	return LayerInfo{}, fmt.Errorf("gpkg: %s: no feature layer %q (layers: %s): %w", f.path, name, have, ErrNoLayer)
}

// transform resolves the layer's SRS into a coordinate function.
func (f *file) transform(l LayerInfo, resolve Resolver) (func(x, y float64) (float64, float64, error), error) {
	var org, def string
	var code int
	err := f.db.QueryRowContext(f.ctx, `SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?`, l.SRSID).Scan(&org, &code, &def)
	if err != nil {
		return nil, fmt.Errorf("gpkg: %s: layer %q: srs_id %d not in gpkg_spatial_ref_sys: %w", f.path, l.Name, l.SRSID, err)
	}
	if resolve != nil {
		fn, err := resolve(org, code, def)
		if err != nil {
			return nil, fmt.Errorf("gpkg: %s: layer %q: CRS %s:%d %s: %w", f.path, l.Name, org, code, wktName(def), err)
		}
		if fn == nil {
			return nil, fmt.Errorf("gpkg: %s: layer %q: resolver gave no transform for %s:%d", f.path, l.Name, org, code)
		}
		return fn, nil
	}
	if (strings.EqualFold(org, "EPSG") && code == 4326) || l.SRSID == 0 {
		return func(x, y float64) (float64, float64, error) { return x, y, nil }, nil
	}
	return nil, fmt.Errorf("gpkg: %s: layer %q: CRS %s:%d %s is not WGS-84 lon/lat and no projection resolver was given", f.path, l.Name, org, code, wktName(def))
}

// wktName is the quoted name at the start of a WKT definition.
func wktName(def string) string {
	i := strings.IndexByte(def, '"')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(def[i+1:], '"')
	if j < 0 {
		return ""
	}
	return strconv.Quote(def[i+1 : i+1+j])
}

// scan calls fn for each feature of the chosen layer with the named fields
// ("" = not wanted). Errors from fn are wrapped with the file, layer and fid.
func scan(path string, o ReadOptions, fields []string, fn func(feature) error) error {
	f, err := open(path)
	if err != nil {
		return err
	}
	defer f.close()
	l, err := f.pick(o.Layer)
	if err != nil {
		return err
	}
	cols, err := f.columns(l.Name)
	if err != nil {
		return err
	}
	sel := make([]string, 0, len(fields)+2)
	if cols.pk != "" {
		sel = append(sel, quoteID(cols.pk))
	} else {
		sel = append(sel, "rowid")
	}
	sel = append(sel, quoteID(cols.geom))
	want := make([]int, len(fields)) // index into the selected values, -1 = not wanted
	for i, name := range fields {
		want[i] = -1
		if name == "" {
			continue
		}
		c := findField(l.Fields, name)
		if c == "" {
			return fmt.Errorf("gpkg: %s: layer %q has no field %q (fields: %s): %w", path, l.Name, name, strings.Join(l.Fields, ", "), ErrNoField)
		}
		want[i] = len(sel)
		sel = append(sel, quoteID(c))
	}
	tr, err := f.transform(l, o.Resolve)
	if err != nil {
		return err
	}
	rows, err := f.db.QueryContext(f.ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+quoteID(l.Name)+" ORDER BY 1")
	if err != nil {
		return fmt.Errorf("gpkg: %s: layer %q: %w", path, l.Name, err)
	}
	defer rows.Close()
	raw := make([]any, len(sel))
	ptrs := make([]any, len(sel))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		for i := range raw {
			raw[i] = nil
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("gpkg: %s: layer %q: %w", path, l.Name, err)
		}
		fid, _ := raw[0].(int64)
		blob, ok := raw[1].([]byte)
		if !ok || len(blob) == 0 {
			return fmt.Errorf("gpkg: %s: layer %q: feature %d: no geometry", path, l.Name, fid)
		}
		g, _, err := decodeGeometry(blob)
		if err != nil {
			return fmt.Errorf("gpkg: %s: layer %q: feature %d: %w", path, l.Name, fid, err)
		}
		if g, err = project(g, tr); err != nil {
			return fmt.Errorf("gpkg: %s: layer %q: feature %d: %w", path, l.Name, fid, err)
		}
		ft := feature{fid: fid, geom: g, vals: make([]any, len(fields))}
		for i, w := range want {
			if w >= 0 {
				ft.vals[i] = raw[w]
			}
		}
		if err := fn(ft); err != nil {
			return fmt.Errorf("gpkg: %s: layer %q: feature %d: %w", path, l.Name, fid, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("gpkg: %s: layer %q: %w", path, l.Name, err)
	}
	return nil
}

func findField(fields []string, name string) string {
	for _, c := range fields {
		if c == name {
			return c
		}
	}
	for _, c := range fields {
		if strings.EqualFold(c, name) {
			return c
		}
	}
	return ""
}

// project converts every vertex of g (in place where it can) and checks it
// is a lon/lat.
func project(g orb.Geometry, tr func(x, y float64) (float64, float64, error)) (orb.Geometry, error) {
	if p, ok := g.(orb.Point); ok {
		if err := projectPoint(&p, tr); err != nil {
			return nil, err
		}
		return p, nil
	}
	return g, projectInPlace(g, tr)
}

func projectPoint(p *orb.Point, tr func(x, y float64) (float64, float64, error)) error {
	lon, lat, err := tr(p[0], p[1])
	if err != nil {
		return fmt.Errorf("transforming (%v, %v): %w", p[0], p[1], err)
	}
	if !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90) {
		return fmt.Errorf("vertex (%v, %v) gives (%v, %v), not a lon/lat: is the declared CRS right?", p[0], p[1], lon, lat)
	}
	p[0], p[1] = lon, lat
	return nil
}

func projectInPlace(g orb.Geometry, tr func(x, y float64) (float64, float64, error)) error {
	ring := func(r []orb.Point) error {
		for i := range r {
			if err := projectPoint(&r[i], tr); err != nil {
				return err
			}
		}
		return nil
	}
	switch g := g.(type) {
	case orb.MultiPoint:
		return ring(g)
	case orb.LineString:
		return ring(g)
	case orb.MultiLineString:
		for _, l := range g {
			if err := ring(l); err != nil {
				return err
			}
		}
	case orb.Polygon:
		for _, r := range g {
			if err := ring(r); err != nil {
				return err
			}
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				if err := ring(r); err != nil {
					return err
				}
			}
		}
	default:
		return fmt.Errorf("unsupported geometry %s", g.GeoJSONType())
	}
	return nil
}

// number reads a population value from an SQLite column.
func number(v any) (float64, error) {
	var x float64
	switch v := v.(type) {
	case nil:
		return 0, errors.New("is NULL")
	case int64:
		x = float64(v)
	case float64:
		x = v
	case []byte:
		return 0, fmt.Errorf("value %q is not a number", truncate(string(v)))
	case string:
		return 0, fmt.Errorf("value %q is not a number", truncate(v))
	default:
		return 0, fmt.Errorf("value of type %T is not a number", v)
	}
	switch {
	case math.IsNaN(x):
		return 0, errors.New("value is NaN")
	case math.IsInf(x, 0):
		return 0, fmt.Errorf("value %v is infinite", x)
	case x < 0:
		return 0, fmt.Errorf("value %v is negative", x)
	}
	return x, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// text renders an id or name column as a string.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

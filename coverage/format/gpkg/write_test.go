package gpkg

import (
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func writeFixture(t testing.TB) (*fixture, string) {
	t.Helper()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "walkshed.gpkg")
	if err := Write(path, f.r, f.opt); err != nil {
		t.Fatal(err)
	}
	return f, path
}

// expected holds the geometry each layer's features must carry, in fid order.
func (f *fixture) expected() map[string][]orb.Geometry {
	e := map[string][]orb.Geometry{}
	for _, s := range f.r.Stations {
		e["stations"] = append(e["stations"], s.Pos)
	}
	for _, c := range f.r.Cells {
		e["cells"] = append(e["cells"], orb.Polygon{coverage.CellRing(c.H3)})
	}
	for _, g := range f.r.Gaps {
		e["gaps"] = append(e["gaps"], g.Outline)
	}
	e["areas"] = []orb.Geometry{f.areaGeom, f.areaGeom} // the parent shows its one area
	for _, p := range f.opt.Proposals {
		e["proposals"] = append(e["proposals"], p.Pos)
	}
	return e
}

func TestWriteHeaderAndContents(t *testing.T) {
	f, path := writeFixture(t)
	db := openDB(t, path)
	var appID, userVersion int64
	if err := db.QueryRow("PRAGMA application_id").Scan(&appID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA user_version").Scan(&userVersion); err != nil {
		t.Fatal(err)
	}
	if appID != 0x47504B47 || userVersion != 10400 {
		t.Errorf("application_id %#x user_version %d, want 0x47504B47 10400", appID, userVersion)
	}
	// The 'GPKG' bytes sit at offset 68 of the file header.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw[68:72]) != "GPKG" {
		t.Errorf("header bytes 68..72 = %q, want GPKG", raw[68:72])
	}

	kinds := map[string]string{}
	rows, err := db.Query("SELECT table_name, data_type, srs_id FROM gpkg_contents")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, kind string
		var srs sql.NullInt64
		if err := rows.Scan(&name, &kind, &srs); err != nil {
			t.Fatal(err)
		}
		kinds[name] = kind
		if kind == "features" && srs.Int64 != 4326 {
			t.Errorf("%s srs_id %v, want 4326", name, srs)
		}
	}
	rows.Close()
	want := map[string]string{"stations": "features", "cells": "features", "gaps": "features", "areas": "features",
		"proposals": "features", "run": "attributes", "layer_styles": "attributes"}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("gpkg_contents %s = %q, want %q", k, kinds[k], v)
		}
	}
	if len(kinds) != len(want) {
		t.Errorf("gpkg_contents has %v, want %v", kinds, want)
	}

	for layer, geoms := range f.expected() {
		t.Run(layer, func(t *testing.T) {
			checkLayer(t, db, layer, geoms)
		})
	}
}

// checkLayer compares every stored geometry with the expected one (WKB
// round trip), the contents extent with the union of their bounds, the blob
// envelope and the R-tree rows with each geometry's bound.
func checkLayer(t *testing.T, db *sql.DB, layer string, want []orb.Geometry) {
	var gtype string
	var srs int
	if err := db.QueryRow("SELECT geometry_type_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ? AND column_name = 'geom'", layer).Scan(&gtype, &srs); err != nil {
		t.Fatal(err)
	}
	var ext string
	if err := db.QueryRow("SELECT extension_name FROM gpkg_extensions WHERE table_name = ? AND column_name = 'geom' AND scope = 'write-only'", layer).Scan(&ext); err != nil || ext != "gpkg_rtree_index" {
		t.Errorf("rtree extension row: %q %v", ext, err)
	}
	rows, err := db.Query(`SELECT fid, geom FROM "` + layer + `" ORDER BY fid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all orb.Bound
	n := 0
	for rows.Next() {
		var fid int64
		var blob []byte
		if err := rows.Scan(&fid, &blob); err != nil {
			t.Fatal(err)
		}
		w := want[n]
		n++
		if fid != int64(n) {
			t.Errorf("fid %d at row %d", fid, n)
		}
		g, gsrs, err := decodeGeometry(blob)
		if err != nil {
			t.Fatalf("fid %d: %v", fid, err)
		}
		if gsrs != 4326 || !orb.Equal(g, w) {
			t.Errorf("fid %d: srs %d, geometry %v, want %v", fid, gsrs, g, w)
		}
		if strings.ToUpper(g.GeoJSONType()) != gtype {
			t.Errorf("fid %d: %s in a %s column", fid, g.GeoJSONType(), gtype)
		}
		b := w.Bound()
		if n == 1 {
			all = b
		} else {
			all = all.Union(b)
		}
		// Envelope in the header: [minx, maxx, miny, maxy], little-endian.
		env := [4]float64{}
		for i := range env {
			env[i] = math.Float64frombits(leUint64(blob[8+8*i:]))
		}
		if env != [4]float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]} {
			t.Errorf("fid %d: envelope %v, bound %v", fid, env, b)
		}
		var r [4]float64
		if err := db.QueryRow(`SELECT minx, maxx, miny, maxy FROM "rtree_`+layer+`_geom" WHERE id = ?`, fid).Scan(&r[0], &r[1], &r[2], &r[3]); err != nil {
			t.Fatalf("fid %d: r-tree row: %v", fid, err)
		}
		// SQLite's R-tree stores float32, rounded outwards.
		if !(r[0] <= b.Min[0] && r[1] >= b.Max[0] && r[2] <= b.Min[1] && r[3] >= b.Max[1]) ||
			b.Min[0]-r[0] > 1e-4 || r[1]-b.Max[0] > 1e-4 || b.Min[1]-r[2] > 1e-4 || r[3]-b.Max[1] > 1e-4 {
			t.Errorf("fid %d: r-tree %v, bound %v", fid, r, b)
		}
	}
	if n != len(want) {
		t.Fatalf("%d features, want %d", n, len(want))
	}
	var cnt int
	db.QueryRow(`SELECT count(*) FROM "rtree_` + layer + `_geom"`).Scan(&cnt)
	if cnt != n {
		t.Errorf("r-tree has %d rows, layer %d", cnt, n)
	}
	var e [4]float64
	if err := db.QueryRow("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", layer).Scan(&e[0], &e[1], &e[2], &e[3]); err != nil {
		t.Fatal(err)
	}
	if e != [4]float64{all.Min[0], all.Min[1], all.Max[0], all.Max[1]} {
		t.Errorf("extent %v, want %v", e, all)
	}
	var trig int
	db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_` + layer + `_geom_%'`).Scan(&trig)
	if trig != 6 {
		t.Errorf("%d r-tree triggers, want 6", trig)
	}
}

func leUint64(b []byte) uint64 {
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

func TestWriteAttributes(t *testing.T) {
	f, path := writeFixture(t)
	db := openDB(t, path)
	r := f.r
	rows, err := db.Query(`SELECT h3, lon, lat, population, minutes, nearest_station, covered, snap_m, stations_in_reach FROM cells ORDER BY fid`)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for rows.Next() {
		var h string
		var lon, lat, pop float64
		var minutes, snap sql.NullFloat64
		var nearest sql.NullString
		var covered, inReach int64
		if err := rows.Scan(&h, &lon, &lat, &pop, &minutes, &nearest, &covered, &snap, &inReach); err != nil {
			t.Fatal(err)
		}
		c := r.Cells[i]
		if h != c.H3.String() || lon != c.Pos[0] || lat != c.Pos[1] || pop != c.Population {
			t.Errorf("cell %d: %s %v %v %v", i, h, lon, lat, pop)
		}
		if f.unreach[i] {
			if minutes.Valid || nearest.Valid || covered != 0 {
				t.Errorf("cell %d unreached: minutes %v nearest %v covered %d", i, minutes, nearest, covered)
			}
		} else {
			// Independent: crow minutes from the station positions.
			s := r.Stations[f.nearest[i]]
			m := float64(r.Settings.SpeedKmh.Walk(coverage.Distance(c.Pos, s.Pos)))
			if !minutes.Valid || math.Abs(minutes.Float64-m) > 1e-9 || nearest.String != s.ID {
				t.Errorf("cell %d: minutes %v nearest %v, want %v %s", i, minutes, nearest, m, s.ID)
			}
			if want := m <= 15; (covered == 1) != want {
				t.Errorf("cell %d: covered %d at %v min", i, covered, m)
			}
		}
		if i%5 == 0 && snap.Valid || i%5 != 0 && snap.Float64 != float64(i)*3.25 {
			t.Errorf("cell %d: snap %v", i, snap)
		}
		if inReach != int64(r.InReach[i]) {
			t.Errorf("cell %d: in reach %d", i, inReach)
		}
		i++
	}
	rows.Close()
	if i != len(r.Cells) {
		t.Fatalf("%d cells, want %d", i, len(r.Cells))
	}

	// Stations: counts recomputed from the fixture's independent nearest.
	wantCells := map[string]int64{}
	wantPop := map[string]float64{}
	for i, s := range f.nearest {
		if s >= 0 {
			wantCells[r.Stations[s].ID]++
			wantPop[r.Stations[s].ID] += r.Cells[i].Population
		}
	}
	srows, err := db.Query(`SELECT id, name, tier, cells_nearest, population_nearest FROM stations ORDER BY fid`)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for srows.Next() {
		var id, name, tier string
		var n int64
		var p float64
		if err := srows.Scan(&id, &name, &tier, &n, &p); err != nil {
			t.Fatal(err)
		}
		s := r.Stations[k]
		if id != s.ID || name != s.Name || tier != s.Tier || n != wantCells[id] || p != wantPop[id] {
			t.Errorf("station %d: %s %s %s %d %v; want %d %v", k, id, name, tier, n, p, wantCells[id], wantPop[id])
		}
		k++
	}
	srows.Close()

	var gid, gcells int64
	var gpop, glon, glat float64
	var gmax sql.NullFloat64
	if err := db.QueryRow(`SELECT id, population, cells, lon, lat, max_minutes FROM gaps`).Scan(&gid, &gpop, &gcells, &glon, &glat, &gmax); err != nil {
		t.Fatal(err)
	}
	var ringPop float64
	for _, i := range f.ring {
		ringPop += r.Cells[i].Population
	}
	if gid != 1 || gpop != ringPop || gcells != 6 || gmax.Valid {
		t.Errorf("gap: %d %v %d %v", gid, gpop, gcells, gmax)
	}

	var share float64
	var level, parent string
	if err := db.QueryRow(`SELECT level, parent, share_covered FROM areas WHERE name = 'Huangpu'`).Scan(&level, &parent, &share); err != nil {
		t.Fatal(err)
	}
	if level != "area" || parent != "Shanghai" || share != 0.6 {
		t.Errorf("area: %s %s %v", level, parent, share)
	}
	var rank int64
	var ph, site string
	var added float64
	if err := db.QueryRow(`SELECT rank, h3, site_id, added_population FROM proposals WHERE fid = 2`).Scan(&rank, &ph, &site, &added); err != nil {
		t.Fatal(err)
	}
	if p := f.opt.Proposals[1]; rank != 2 || ph != p.H3 || site != "c2" || added != 100 {
		t.Errorf("proposal 2: %d %s %s %v", rank, ph, site, added)
	}

	run := map[string]string{}
	rrows, err := db.Query(`SELECT key, value FROM run`)
	if err != nil {
		t.Fatal(err)
	}
	for rrows.Next() {
		var k, v string
		rrows.Scan(&k, &v)
		run[k] = v
	}
	rrows.Close()
	for k, v := range map[string]string{"version": "test", "stations_file_bytes": "1234", "minutes": "15", "speed_kmh": "4", "radius_m": "1000", "res": "9", "mode": "crow", "created": "2025-03-01T08:30:00.000Z"} {
		if run[k] != v {
			t.Errorf("run %s = %q, want %q", k, run[k], v)
		}
	}
}

func TestWriteStyles(t *testing.T) {
	_, path := writeFixture(t)
	db := openDB(t, path)
	rows, err := db.Query(`SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault, CAST(update_time AS TEXT) FROM layer_styles`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	qml := map[string]string{}
	for rows.Next() {
		var table, col, name, q, when string
		var def int
		if err := rows.Scan(&table, &col, &name, &q, &def, &when); err != nil {
			t.Fatal(err)
		}
		if col != "geom" || def != 1 || len(name) > 30 || when != "2025-03-01T08:30:00.000Z" {
			t.Errorf("%s: column %s default %d name %q time %s", table, col, def, name, when)
		}
		if err := xml.Unmarshal([]byte(strings.SplitN(q, "\n", 2)[1]), new(struct{ XMLName xml.Name })); err != nil {
			t.Errorf("%s: QML is not XML: %v", table, err)
		}
		qml[table] = q
	}
	if len(qml) != 5 {
		t.Fatalf("styles for %d layers, want 5", len(qml))
	}
	// The cells style breaks at the 15-minute threshold.
	var doc struct {
		Renderer struct {
			Type   string `xml:"type,attr"`
			Attr   string `xml:"attr,attr"`
			Ranges []struct {
				Lower string `xml:"lower,attr"`
				Upper string `xml:"upper,attr"`
				Label string `xml:"label,attr"`
			} `xml:"ranges>range"`
			Symbols []struct {
				Props []struct {
					K string `xml:"k,attr"`
					V string `xml:"v,attr"`
				} `xml:"layer>prop"`
			} `xml:"symbols>symbol"`
		} `xml:"renderer-v2"`
	}
	if err := xml.Unmarshal([]byte(strings.SplitN(qml["cells"], "\n", 2)[1]), &doc); err != nil {
		t.Fatal(err)
	}
	rd := doc.Renderer
	if rd.Type != "graduatedSymbol" || !strings.Contains(rd.Attr, `"minutes"`) {
		t.Fatalf("cells renderer %s on %s", rd.Type, rd.Attr)
	}
	color := func(i int) [3]int {
		for _, p := range rd.Symbols[i].Props {
			if p.K == "color" {
				var c [3]int
				for j, s := range strings.Split(p.V, ",")[:3] {
					c[j], _ = strconv.Atoi(s)
				}
				return c
			}
		}
		t.Fatalf("symbol %d has no colour", i)
		return [3]int{}
	}
	breakAt := -1
	for i, r := range rd.Ranges {
		if r.Upper == "15" {
			breakAt = i
		}
	}
	if breakAt < 0 || breakAt+1 >= len(rd.Ranges) || rd.Ranges[breakAt+1].Lower != "15" {
		t.Fatalf("no range break at 15 minutes: %+v", rd.Ranges)
	}
	for i := range rd.Ranges {
		c := color(i)
		switch lo, _ := strconv.ParseFloat(rd.Ranges[i].Lower, 64); {
		case lo < 0: // NULL minutes: grey
			if c[0] != c[1] || c[1] != c[2] {
				t.Errorf("no-reach colour %v is not grey", c)
			}
		case i <= breakAt: // greens
			if !(c[1] > c[0] && c[1] > c[2]) {
				t.Errorf("range %d (covered) colour %v is not green", i, c)
			}
		default: // oranges and reds
			if !(c[0] > c[1] && c[0] > c[2]) {
				t.Errorf("range %d (beyond) colour %v is not red/orange", i, c)
			}
		}
	}
	if !strings.Contains(qml["proposals"], `fieldName="rank"`) || !strings.Contains(qml["proposals"], `labelsEnabled="1"`) {
		t.Error("proposals are not labelled by rank")
	}
	if !strings.Contains(qml["areas"], `<prop k="style" v="no"/>`) {
		t.Error("areas are not outline-only")
	}
}

func TestWriteVerifiedByGDAL(t *testing.T) {
	needTool(t, "ogrinfo")
	needTool(t, "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")
	f, path := writeFixture(t)
	script := filepath.Join(moduleRoot(t), "..", "shared", "tools", "verify_gpkg.sh")
	needTool(t, script)
	n := strconv.Itoa
	// GDAL before 3.8 knows GeoPackage up to 1.3 and warns that a 1.4 file
	// "may only be partially supported"; verify_gpkg.sh counts any warning as
	// a failure. So the script runs with that one warning switched off, and
	// a plain ogrinfo run must show no warning or error but that one.
	plain, _ := exec.Command("ogrinfo", "-ro", "-al", "-so", path).CombinedOutput()
	for _, line := range strings.Split(string(plain), "\n") {
		if (strings.HasPrefix(line, "Warning") || strings.HasPrefix(line, "ERROR")) &&
			!strings.Contains(line, "(10400, v1.4.0)") {
			t.Errorf("ogrinfo: %s", line)
		}
	}
	cmd := exec.Command("sh", script, path,
		"stations:Point:"+n(len(f.r.Stations))+":4326", "cells:Polygon:"+n(len(f.r.Cells))+":4326",
		"gaps:Polygon:1:4326", "areas:Multi Polygon:2:4326", "proposals:Point:2:4326")
	cmd.Env = append(os.Environ(), "GPKG_WARN_UNRECOGNIZED_APPLICATION_ID=NO")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK: ") {
		t.Fatalf("verify_gpkg.sh: %v\n%s", err, out)
	}
}

func TestWriteOpensInQGIS(t *testing.T) {
	needQGIS(t)
	_, path := writeFixture(t)
	script := filepath.Join(moduleRoot(t), "..", "shared", "tools", "qgis_check_gpkg.py")
	needTool(t, script)
	png := filepath.Join(t.TempDir(), "map.png")
	out, err := exec.Command("/usr/bin/python3", script, path, png, "--require-style", "--layers=stations,cells,gaps,areas,proposals").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\nOK") {
		t.Fatalf("qgis_check_gpkg.py: %v\n%s", err, out)
	}
	for _, want := range []string{"cells: Polygon", "renderer=graduatedSymbol", "default_style=layer_styles"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("QGIS output lacks %q:\n%s", want, out)
		}
	}
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Errorf("no rendered map: %v", err)
	}
	if keep := os.Getenv("GPKG_KEEP_PNG"); keep != "" {
		b, _ := os.ReadFile(png)
		os.WriteFile(keep, b, 0o644)
	}
}

// A write that fails midway leaves the previous file as it was, and no
// temporary file behind.
func TestWriteFailureKeepsPrevious(t *testing.T) {
	f, path := writeFixture(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("injected failure")
	for _, stage := range []string{"stations", "cells", "gaps", "proposals"} {
		failHook = func(s string) error {
			if s == stage {
				return boom
			}
			return nil
		}
		f.r.Cells[0].Population++ // a different result, were it written
		err := Write(path, f.r, f.opt)
		failHook = nil
		if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "gpkg: writing "+path) {
			t.Fatalf("stage %s: error %v", stage, err)
		}
		after, err := os.ReadFile(path)
		if err != nil || string(after) != string(before) {
			t.Fatalf("stage %s: previous file changed (%v)", stage, err)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Fatalf("stage %s: leftovers %v", stage, entries)
		}
	}
	ls, err := Layers(path)
	if err != nil || len(ls) != 5 {
		t.Fatalf("previous file no longer readable: %v %v", ls, err)
	}
	db := openDB(t, path)
	var ok string
	if err := db.QueryRowContext(context.Background(), "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %s %v", ok, err)
	}
}

func TestWriteRejectsMismatchedInputs(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "walkshed.gpkg")
	cases := map[string]func(r *coverage.Result, o *WriteOptions){
		"short access": func(r *coverage.Result, o *WriteOptions) { r.Access = r.Access[1:] },
		"short snap":   func(r *coverage.Result, o *WriteOptions) { o.Snap = o.Snap[1:] },
		"short reach":  func(r *coverage.Result, o *WriteOptions) { r.InReach = r.InReach[1:] },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			r := *f.r
			o := f.opt
			mutate(&r, &o)
			if err := Write(path, &r, o); err == nil || !strings.HasPrefix(err.Error(), "gpkg: ") {
				t.Fatalf("error %v", err)
			}
		})
	}
	if err := Write(filepath.Join(dir, "no", "such", "dir.gpkg"), f.r, f.opt); err == nil {
		t.Fatal("wrote into a missing directory")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("leftovers %v", entries)
	}
}

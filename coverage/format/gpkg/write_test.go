package gpkg

import (
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	if appID != 0x47504B47 || userVersion != 10300 {
		t.Errorf("application_id %#x user_version %d, want 0x47504B47 10300", appID, userVersion)
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
	// GDAL 3.6 (Debian 12) knows GeoPackage up to 1.3: a plain ogrinfo run
	// must print no warning and no error, and verify_gpkg.sh counts any as
	// a failure.
	plain, _ := exec.Command("ogrinfo", "-ro", "-al", "-so", path).CombinedOutput()
	for _, line := range strings.Split(string(plain), "\n") {
		if strings.HasPrefix(line, "Warning") || strings.HasPrefix(line, "ERROR") {
			t.Errorf("ogrinfo: %s", line)
		}
	}
	cmd := exec.Command("sh", script, path,
		"stations:Point:"+n(len(f.r.Stations))+":4326", "cells:Polygon:"+n(len(f.r.Cells))+":4326",
		"gaps:Polygon:1:4326", "areas:Multi Polygon:2:4326", "proposals:Point:2:4326")
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

// SQLite's R-tree module rounds each bound outwards to float32 by its own
// rule; the writer packs the index itself and must store the same boxes an
// INSERT into the virtual table stores.
func TestRtreeRoundingMatchesSQLite(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	vals := []float64{0, 1, -1, 0.1, -0.1, 0.5, 121.4737, 31.2304, -51.2, -30.05, 1e-40, -1e-40,
		math.MaxFloat32, -math.MaxFloat32, 16777217, -16777217, math.SmallestNonzeroFloat64}
	for range 3000 {
		vals = append(vals, (rng.Float64()*2-1)*math.Pow(10, float64(rng.IntN(14)-7)))
	}
	db := openDB(t, filepath.Join(t.TempDir(), "r.db"))
	if _, err := db.Exec("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)"); err != nil {
		t.Fatal(err)
	}
	inTx(t, db, func(tx *sql.Tx) {
		for i, v := range vals {
			if _, err := tx.Exec("INSERT INTO r VALUES (?, ?, ?, ?, ?)", i, v, v, v, v); err != nil {
				t.Fatal(err)
			}
		}
	})
	rows, err := db.Query("SELECT id, minx, maxx, miny, maxy FROM r ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int
		var b [4]float64
		if err := rows.Scan(&id, &b[0], &b[1], &b[2], &b[3]); err != nil {
			t.Fatal(err)
		}
		v := vals[id]
		down, up := float64(rtreeDown(v)), float64(rtreeUp(v))
		if b != [4]float64{down, up, down, up} {
			t.Errorf("%v: SQLite stores %v, the writer [%v %v]", v, b, down, up)
		}
		n++
	}
	if n != len(vals) {
		t.Fatalf("%d rows, want %d", n, len(vals))
	}
}

// inTx runs f in one transaction on db, committed after f.
func inTx(t *testing.T, db *sql.DB, f func(*sql.Tx)) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	f(tx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// rtreeDump lists table's entries in id order.
func rtreeDump(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query("SELECT id, minx, maxx, miny, maxy FROM " + quoteID(table) + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		var b [4]float64
		if err := rows.Scan(&id, &b[0], &b[1], &b[2], &b[3]); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(id, b))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rtreeWindow lists the ids of table's boxes that meet the window, through
// the index.
func rtreeWindow(t *testing.T, db *sql.DB, table string, w orb.Bound) []int64 {
	t.Helper()
	rows, err := db.Query("SELECT id FROM "+quoteID(table)+" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ? ORDER BY id",
		w.Max[0], w.Min[0], w.Max[1], w.Min[1])
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func rtreeCheck(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	var s string
	if err := db.QueryRow("SELECT rtreecheck(?)", table).Scan(&s); err != nil || s != "ok" {
		t.Fatalf("rtreecheck(%s): %q %v", table, s, err)
	}
}

// The packed R-tree is a valid SQLite R*-tree (rtreecheck), holds exactly
// the boxes SQLite stores for the same INSERTs, answers window queries as
// SQLite's own tree and a brute-force scan do, has the least height its
// node size allows, and stays valid when SQLite inserts into, updates and
// deletes from it afterwards (as GDAL and QGIS do through the triggers).
// Smaller nodes (SQLite reads their size from the root's length when it
// opens the table, and refuses blobs under 448 bytes, 18 cells) give deep
// trees from fewer features.
func TestRtreePackedMatchesSQLite(t *testing.T) {
	cases := []struct {
		name     string
		n        int
		capacity int // cells a node; 0: SQLite's own choice for the page size (51)
	}{
		{"empty", 0, 0},
		{"one feature", 1, 0},
		{"one full leaf", 51, 0},
		{"two leaves", 52, 0},
		{"three levels", 2700, 0},
		{"four levels of 19", 7000, 19},
		{"nodes of 20", 401, 20},
		{"full levels of 19", 361, 19},
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci), 99))
			box := func() orb.Bound {
				p := orb.Point{121 + rng.Float64(), 31 + rng.Float64()}
				if rng.IntN(4) == 0 {
					return orb.Bound{Min: p, Max: p} // a point
				}
				return orb.Bound{Min: p, Max: orb.Point{p[0] + rng.Float64()*0.01, p[1] + rng.Float64()*0.01}}
			}
			ref := map[int64]orb.Bound{}
			var cells []rtreeCell
			id := int64(0)
			for len(cells) < tc.n {
				id += 1 + int64(rng.IntN(3)) // features without geometry leave gaps
				b := box()
				ref[id] = b
				cells = append(cells, rtreeCell{id: id, box: boxOf(b)})
			}
			path := filepath.Join(t.TempDir(), "r.gpkg")
			err := create(path, "2025-01-01T00:00:00.000Z", func(w *writer) error {
				for _, q := range []string{
					"CREATE VIRTUAL TABLE t USING rtree(id, minx, maxx, miny, maxy)",
					"CREATE VIRTUAL TABLE ref USING rtree(id, minx, maxx, miny, maxy)",
				} {
					if err := w.exec(q); err != nil {
						return err
					}
				}
				if tc.capacity > 0 {
					if err := w.exec("UPDATE t_node SET data = zeroblob(?) WHERE nodeno = 1", 4+tc.capacity*rtreeCellBytes); err != nil {
						return err
					}
				}
				for _, id := range slices.Sorted(maps.Keys(ref)) {
					b := ref[id]
					if err := w.exec("INSERT INTO ref VALUES (?, ?, ?, ?, ?)", id, b.Min[0], b.Max[0], b.Min[1], b.Max[1]); err != nil {
						return err
					}
				}
				return w.rtree("t", cells)
			})
			if err != nil {
				t.Fatal(err)
			}
			db := openDB(t, path) // a new connection reads the node size afresh

			capacity := tc.capacity
			if capacity == 0 {
				capacity = 51
			}
			height, nodes := 0, tc.n
			for nodes > capacity {
				nodes = (nodes + capacity - 1) / capacity
				height++
			}
			var root []byte
			if err := db.QueryRow("SELECT data FROM t_node WHERE nodeno = 1").Scan(&root); err != nil {
				t.Fatal(err)
			}
			if len(root) != 4+capacity*rtreeCellBytes || int(root[0])<<8|int(root[1]) != height {
				t.Fatalf("root of %d bytes at depth %d, want %d bytes, depth %d", len(root), int(root[0])<<8|int(root[1]), 4+capacity*rtreeCellBytes, height)
			}

			compare := func(stage string) {
				t.Helper()
				rtreeCheck(t, db, "t")
				got, want := rtreeDump(t, db, "t"), rtreeDump(t, db, "ref")
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("%s: %d entries differ from SQLite's %d", stage, len(got), len(want))
				}
				for range 40 {
					w := box().Pad(rng.Float64() * 0.2)
					got := rtreeWindow(t, db, "t", w)
					var brute []int64
					for id, b := range ref {
						r := boxOf(b)
						if float64(r.minX) <= w.Max[0] && float64(r.maxX) >= w.Min[0] && float64(r.minY) <= w.Max[1] && float64(r.maxY) >= w.Min[1] {
							brute = append(brute, id)
						}
					}
					slices.Sort(brute)
					if !slices.Equal(got, brute) || !slices.Equal(got, rtreeWindow(t, db, "ref", w)) {
						t.Fatalf("%s: window %v finds %v, want %v", stage, w, got, brute)
					}
				}
			}
			compare("packed")

			// Edits through SQLite: delete a third, move some, add new ones.
			inTx(t, db, func(tx *sql.Tx) {
				both := func(q string, args ...any) {
					t.Helper()
					for _, table := range []string{"t", "ref"} {
						if _, err := tx.Exec(strings.ReplaceAll(q, "%t", table), args...); err != nil {
							t.Fatal(err)
						}
					}
				}
				ids := slices.Sorted(maps.Keys(ref))
				for _, id := range ids {
					switch rng.IntN(3) {
					case 0:
						both("DELETE FROM %t WHERE id = ?", id)
						delete(ref, id)
					case 1:
						b := box()
						both("UPDATE %t SET minx = ?, maxx = ?, miny = ?, maxy = ? WHERE id = ?", b.Min[0], b.Max[0], b.Min[1], b.Max[1], id)
						ref[id] = b
					}
				}
				for k := range tc.n/2 + 3 {
					id := int64(1_000_000 + k)
					b := box()
					both("INSERT INTO %t VALUES (?, ?, ?, ?, ?)", id, b.Min[0], b.Max[0], b.Min[1], b.Max[1])
					ref[id] = b
				}
			})
			rtreeCheck(t, db, "ref")
			compare("edited")
		})
	}
}

// packRtree's nodes hold between 1 and capacity cells, every id once in the
// leaves, and every branch cell the exact union of its child's boxes.
func TestPackRtreeStructure(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, tc := range []struct{ n, capacity int }{{1, 4}, {4, 4}, {5, 4}, {17, 4}, {100, 3}, {1000, 51}, {5000, 7}} {
		cells := make([]rtreeCell, tc.n)
		want := map[int64]box32{}
		for i := range cells {
			x, y := rng.Float64()*10, rng.Float64()*10
			b := boxOf(orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + rng.Float64(), y + rng.Float64()}})
			cells[i] = rtreeCell{id: int64(i*3 + 1), box: b}
			want[cells[i].id] = b
		}
		nodes, depth := packRtree(cells, tc.capacity)
		byNo := map[int64]rtreeNode{}
		for _, n := range nodes {
			if len(n.cells) == 0 || len(n.cells) > tc.capacity {
				t.Fatalf("n=%d: node %d has %d cells", tc.n, n.no, len(n.cells))
			}
			byNo[n.no] = n
		}
		if len(byNo) != len(nodes) || byNo[1].parent != 0 || len(nodes) == 0 {
			t.Fatalf("n=%d: %d nodes, %d numbers, root parent %d", tc.n, len(nodes), len(byNo), byNo[1].parent)
		}
		seen := map[int64]bool{}
		// walk checks the subtree of node no at level (0 = leaves) and
		// returns its box.
		var walk func(no int64, level int) box32
		walk = func(no int64, level int) box32 {
			n, ok := byNo[no]
			if !ok || n.leaf != (level == 0) {
				t.Fatalf("n=%d: node %d missing or at the wrong level", tc.n, no)
			}
			var u box32
			for k, c := range n.cells {
				b := c.box
				if level == 0 {
					if seen[c.id] || want[c.id] != c.box {
						t.Fatalf("n=%d: id %d twice or with box %v", tc.n, c.id, c.box)
					}
					seen[c.id] = true
				} else {
					if byNo[c.id].parent != no {
						t.Fatalf("n=%d: node %d's parent is %d, not %d", tc.n, c.id, byNo[c.id].parent, no)
					}
					if b = walk(c.id, level-1); b != c.box {
						t.Fatalf("n=%d: branch box %v, children's union %v", tc.n, c.box, b)
					}
				}
				if k == 0 {
					u = b
				} else {
					u = u.union(b)
				}
			}
			return u
		}
		walk(1, depth)
		if len(seen) != tc.n {
			t.Fatalf("n=%d: %d ids in the leaves", tc.n, len(seen))
		}
	}
}

// A written layer large enough for a three-level R-tree: the index is
// valid, holds exactly the boxes SQLite computes from each stored
// geometry, and finds what a scan finds.
func TestWriteLargeLayerIndex(t *testing.T) {
	r := bigResult(t, 30) // 2,791 cells
	path := filepath.Join(t.TempDir(), "walkshed.gpkg")
	if err := Write(path, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	for _, layer := range []string{"stations", "cells"} {
		rt := "rtree_" + layer + "_geom"
		rtreeCheck(t, db, rt)
		rows, err := db.Query(`SELECT fid, geom FROM "` + layer + `" ORDER BY fid`)
		if err != nil {
			t.Fatal(err)
		}
		ref := openDB(t, filepath.Join(t.TempDir(), "ref.db"))
		if _, err := ref.Exec("CREATE VIRTUAL TABLE ref USING rtree(id, minx, maxx, miny, maxy)"); err != nil {
			t.Fatal(err)
		}
		n := 0
		inTx(t, ref, func(tx *sql.Tx) {
			for rows.Next() {
				var fid int64
				var blob []byte
				if err := rows.Scan(&fid, &blob); err != nil {
					t.Fatal(err)
				}
				g, _, err := decodeGeometry(blob)
				if err != nil {
					t.Fatal(err)
				}
				b := g.Bound()
				if _, err := tx.Exec("INSERT INTO ref VALUES (?, ?, ?, ?, ?)", fid, b.Min[0], b.Max[0], b.Min[1], b.Max[1]); err != nil {
					t.Fatal(err)
				}
				n++
			}
		})
		rows.Close()
		if want := map[string]int{"stations": len(r.Stations), "cells": len(r.Cells)}[layer]; n != want {
			t.Fatalf("%s: %d features, want %d", layer, n, want)
		}
		got, want := rtreeDump(t, db, rt), rtreeDump(t, ref, "ref")
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: the index's %d entries differ from SQLite's %d", layer, len(got), len(want))
		}
		all := r.Cells[0].Pos.Bound()
		for _, c := range r.Cells {
			all = all.Extend(c.Pos)
		}
		rng := rand.New(rand.NewPCG(1, uint64(len(layer))))
		for range 30 {
			p := orb.Point{all.Min[0] + rng.Float64()*(all.Max[0]-all.Min[0]), all.Min[1] + rng.Float64()*(all.Max[1]-all.Min[1])}
			w := p.Bound().Pad(rng.Float64() * 0.01)
			if got, want := rtreeWindow(t, db, rt, w), rtreeWindow(t, ref, "ref", w); !slices.Equal(got, want) {
				t.Fatalf("%s: window %v finds %d features, SQLite's own index %d", layer, w, len(got), len(want))
			}
		}
	}
	var depth string
	if err := db.QueryRow("SELECT hex(substr(data, 1, 2)) FROM rtree_cells_geom_node WHERE nodeno = 1").Scan(&depth); err != nil || depth != "0002" {
		t.Errorf("cells r-tree depth %s (%v), want 0002 for %d cells", depth, err, len(r.Cells))
	}
}

// pointsLayer has n features: feature i carries k = 7i and s = "f<i>",
// and the point (i/100, i%100) except every 13th, which has none.
func pointsLayer(n int) layer {
	return layer{
		name: "pts", geomType: "POINT", qml: stationsQML(), description: "test points",
		cols: []column{{"k", "INTEGER"}, {"s", "TEXT"}},
		n:    n,
		row: func(i int, a []any) orb.Geometry {
			a[0], a[1] = int64(7*i), "f"+strconv.Itoa(i)
			if i%13 == 0 {
				return nil
			}
			return orb.Point{float64(i / 100), float64(i % 100)}
		},
	}
}

// Several encoding goroutines, more batches than they hold at once: every
// row still lands with its own fid, attributes and geometry, in order.
func TestWriteLayerWorkersKeepOrder(t *testing.T) {
	const n = 4*maxRowsPerInsert*3 + 17 // more batches than 4 workers × 3 ahead, and a short last one
	for _, workers := range []int{1, 4} {
		path := filepath.Join(t.TempDir(), "pts.gpkg")
		err := create(path, "2025-01-01T00:00:00.000Z", func(w *writer) error {
			w.workers = workers
			if err := w.core(); err != nil {
				return err
			}
			return w.layer(pointsLayer(n))
		})
		if err != nil {
			t.Fatal(err)
		}
		db := openDB(t, path)
		rows, err := db.Query(`SELECT fid, k, s, geom FROM pts ORDER BY fid`)
		if err != nil {
			t.Fatal(err)
		}
		i, withGeom := 0, 0
		for rows.Next() {
			var fid, k int64
			var s string
			var blob []byte
			if err := rows.Scan(&fid, &k, &s, &blob); err != nil {
				t.Fatal(err)
			}
			if fid != int64(i+1) || k != int64(7*i) || s != "f"+strconv.Itoa(i) {
				t.Fatalf("workers %d, row %d: fid %d k %d s %q", workers, i, fid, k, s)
			}
			if i%13 == 0 {
				if blob != nil {
					t.Fatalf("workers %d, fid %d: a geometry where there is none", workers, fid)
				}
			} else {
				g, _, err := decodeGeometry(blob)
				if want := (orb.Point{float64(i / 100), float64(i % 100)}); err != nil || g != want {
					t.Fatalf("workers %d, fid %d: %v %v, want %v", workers, fid, g, err, want)
				}
				withGeom++
			}
			i++
		}
		rows.Close()
		if i != n {
			t.Fatalf("workers %d: %d rows, want %d", workers, i, n)
		}
		var cnt int
		if err := db.QueryRow(`SELECT count(*) FROM rtree_pts_geom`).Scan(&cnt); err != nil || cnt != withGeom {
			t.Fatalf("workers %d: %d r-tree rows (%v), want %d", workers, cnt, err, withGeom)
		}
		rtreeCheck(t, db, "rtree_pts_geom")
		var e [4]float64
		if err := db.QueryRow("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'pts'").Scan(&e[0], &e[1], &e[2], &e[3]); err != nil {
			t.Fatal(err)
		}
		// x runs over i/100 and y over i%100 for the i with a point.
		if want := [4]float64{0, 0, float64((n - 1) / 100), 99}; e != want {
			t.Errorf("workers %d: extent %v, want %v", workers, e, want)
		}
	}
}

// A row the database refuses stops the layer with an error naming its
// batch of features, and the encoding goroutines stop with it (the call
// returns rather than waiting on them).
func TestWriteLayerInsertError(t *testing.T) {
	const bad = 5*maxRowsPerInsert + 3
	l := pointsLayer(20 * maxRowsPerInsert)
	row := l.row
	l.row = func(i int, a []any) orb.Geometry {
		g := row(i, a)
		if i == bad {
			a[0] = 7 // an int, which the driver does not take
		}
		return g
	}
	for _, workers := range []int{1, 3} {
		path := filepath.Join(t.TempDir(), "pts.gpkg")
		err := create(path, "2025-01-01T00:00:00.000Z", func(w *writer) error {
			w.workers = workers
			if err := w.core(); err != nil {
				return err
			}
			return w.layer(l)
		})
		lo := bad/maxRowsPerInsert*maxRowsPerInsert + 1
		want := fmt.Sprintf("features %d to %d: ", lo, lo+maxRowsPerInsert-1)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("workers %d: error %v, want one naming %q", workers, err, want)
		}
	}
}

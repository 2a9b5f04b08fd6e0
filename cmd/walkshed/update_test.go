package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
	"github.com/walkshed/walkshed/coverage/testenv"
)

// sqlDump runs a query on a GeoPackage and returns its rows as strings
// (floats with their bits, blobs in hex), for exact comparisons.
func sqlDump(t *testing.T, path, q string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return testenv.Rows(t, db, q)
}

// layerQueries read the result layers of walkshed.gpkg in a form that a
// fresh analysis of the same stations must match exactly: every column of
// the cells, gaps and areas (fids included), and the stations in fid order
// without their fids (closing deletes a row, opening adds one).
var layerQueries = map[string]string{
	"cells":    `SELECT * FROM cells ORDER BY fid`,
	"stations": `SELECT id, name, tier, cells_nearest, population_nearest, geom FROM stations ORDER BY fid`,
	"gaps":     `SELECT * FROM gaps ORDER BY fid`,
	"areas":    `SELECT * FROM areas ORDER BY fid`,
	"extents":  `SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name`,
}

func sameLayers(t *testing.T, got, want string, layers ...string) {
	t.Helper()
	for _, l := range layers {
		a, b := sqlDump(t, got, layerQueries[l]), sqlDump(t, want, layerQueries[l])
		if len(a) == 0 {
			t.Errorf("%s: layer %s is empty", got, l)
		}
		if len(a) != len(b) {
			t.Errorf("layer %s: %d rows after the update, %d in a fresh analysis", l, len(a), len(b))
			continue
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("layer %s row %d after the update:\n%s\na fresh analysis:\n%s", l, i+1, a[i], b[i])
				break
			}
		}
	}
}

// summaryWithout reads summary.json without the keys that name the time.
func summaryWithout(t *testing.T, path string) map[string]any {
	t.Helper()
	m := demoJSON(t, path)
	delete(m, "created")
	return m
}

// finalStations writes the station list the events lead to, as the update
// defines it: the stations in order without the closed ones, then the
// opened ones in date order (events of one date in file order).
func finalStations(t *testing.T, path string, stations, events []map[string]string) {
	t.Helper()
	type st struct{ id, name, tier, lon, lat string }
	var list []st
	for _, s := range stations {
		list = append(list, st{s["id"], s["name"], s["tier"], s["lon"], s["lat"]})
	}
	sorted := append([]map[string]string{}, events...)
	for i := 1; i < len(sorted); i++ { // insertion sort: stable
		for j := i; j > 0 && sorted[j]["date"] < sorted[j-1]["date"]; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, e := range sorted {
		switch e["action"] {
		case "open":
			list = append(list, st{e["id"], e["name"], e["tier"], e["lon"], e["lat"]})
		case "close":
			for i := range list {
				if list[i].id == e["id"] {
					list = append(list[:i], list[i+1:]...)
					break
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("id,name,tier,lon,lat\n")
	for _, s := range list {
		fmt.Fprintf(&b, "%s,%q,%s,%s,%s\n", s.id, s.name, s.tier, s.lon, s.lat)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUpdateInPlaceMatchesFreshAnalysis updates walkshed.gpkg in place and
// compares it, layer by layer, with a fresh analysis of the station list
// the events lead to (built here from the inputs): straight line on the
// small study, along the streets on the demo.
func TestUpdateInPlaceMatchesFreshAnalysis(t *testing.T) {
	demo := filepath.Join("..", "..", "data", "demo")
	cases := []struct {
		name     string
		study    []string
		stations string
		events   string
	}{
		{"straight line", []string{"--population", small("population.csv"), "--areas", small("areas.geojson")}, small("stations.csv"),
			// Out of date order on purpose: the 2026-02-01 opening comes last.
			"date,action,id,lon,lat,name\n2026-03-01,open,D,10.7890,59.9250,Øst\n2026-03-01,close,C,,,\n2026-02-01,open,E,10.7300,59.9290,Nord\n"},
		{"network", []string{"--network", filepath.Join(demo, "streets.osm.gz"), "--population", filepath.Join(demo, "population.csv"),
			"--areas", filepath.Join(demo, "areas.geojson")}, filepath.Join(demo, "stations.csv"), string(mustRead(t, filepath.Join(demo, "events.csv")))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			res, fresh := filepath.Join(dir, "res"), filepath.Join(dir, "fresh")
			args := append([]string{"analyze", "--stations", tc.stations, "--out", res, "--quiet"}, tc.study...)
			if code, _, stderr := walkshed(t, args...); code != 0 {
				t.Fatal(stderr)
			}
			if _, err := os.Stat(filepath.Join(res, "walkshed-state.json")); err == nil {
				t.Error("analyze wrote walkshed-state.json beside walkshed.gpkg")
			}
			events := filepath.Join(dir, "events.csv")
			os.WriteFile(events, []byte(tc.events), 0o644)
			cellsBefore := sqlDump(t, filepath.Join(res, "walkshed.gpkg"), layerQueries["cells"])
			code, stdout, stderr := walkshed(t, "update", "--from", res, "--events", events, "--quiet")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			evs := readCSV(t, events)
			if !strings.Contains(stdout, fmt.Sprintf("applied %d events", len(evs))) || !strings.Contains(stdout, "in place") {
				t.Errorf("summary: %s", stdout)
			}
			final := filepath.Join(dir, "final.csv")
			finalStations(t, final, readCSV(t, tc.stations), evs)
			args = append([]string{"analyze", "--stations", final, "--out", fresh, "--quiet"}, tc.study...)
			if code, _, stderr := walkshed(t, args...); code != 0 {
				t.Fatal(stderr)
			}
			got, want := filepath.Join(res, "walkshed.gpkg"), filepath.Join(fresh, "walkshed.gpkg")
			sameLayers(t, got, want, "cells", "stations", "gaps", "areas", "extents")
			if a, b := summaryWithout(t, filepath.Join(res, "summary.json")), summaryWithout(t, filepath.Join(fresh, "summary.json")); !reflect.DeepEqual(a, b) {
				t.Errorf("summary.json after the update:\n%v\na fresh analysis:\n%v", a, b)
			}
			// The events table lists each event, in date order.
			rows := sqlDump(t, got, `SELECT "date" FROM events ORDER BY fid`)
			if len(rows) != len(evs) {
				t.Errorf("events table: %v", rows)
			}
			for i := 1; i < len(rows); i++ {
				if rows[i] < rows[i-1] {
					t.Errorf("events table out of date order: %v", rows)
				}
			}
			// The events changed cells: a comparison of unchanged files
			// would prove nothing.
			if reflect.DeepEqual(sqlDump(t, got, layerQueries["cells"]), cellsBefore) {
				t.Error("the events changed no cell")
			}
		})
	}
}

// TestUpdateToAnotherFolder writes the updated result into --out with every
// export, leaving --from as it was; the exports equal a fresh analysis's,
// and timeline.csv and changes.csv follow the events.
func TestUpdateToAnotherFolder(t *testing.T) {
	dir := t.TempDir()
	first, updated, fresh := filepath.Join(dir, "first"), filepath.Join(dir, "updated"), filepath.Join(dir, "fresh")
	if code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"),
		"--areas", small("areas.geojson"), "--out", first, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	original := map[string][]byte{}
	entries, _ := os.ReadDir(first)
	for _, e := range entries {
		original[e.Name()] = mustRead(t, filepath.Join(first, e.Name()))
	}
	events := filepath.Join(dir, "events.csv")
	os.WriteFile(events, []byte("date,action,id,lon,lat,name\n"+
		"2026-03-01,open,D,10.7890,59.9250,Øst\n"+
		"2026-03-01,close,C,,,\n"+
		"2026-02-01,open,E,10.7300,59.9290,Nord\n"), 0o644)
	code, stdout, stderr := walkshed(t, "update", "--from", first, "--events", events, "--out", updated, "--format", "csv,geojson,gpkg", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "out of date order") {
		t.Errorf("no note about the sorting: %q", stderr)
	}
	if !strings.Contains(stdout, "applied 3 events") {
		t.Errorf("summary: %s", stdout)
	}
	for name, body := range original {
		if !bytes.Equal(mustRead(t, filepath.Join(first, name)), body) {
			t.Errorf("--from %s changed", name)
		}
	}
	// The final station list: A, B (C closed), then E, D in date order.
	final := filepath.Join(dir, "final.csv")
	os.WriteFile(final, []byte("id,name,tier,lon,lat\n"+
		"A,Nordre,subdistrict,10.7500,59.9200\n"+
		"B,Søndre,subdistrict,10.7700,59.9050\n"+
		"E,Nord,,10.7300,59.9290\n"+
		"D,Øst,,10.7890,59.9250\n"), 0o644)
	if code, _, stderr := walkshed(t, "analyze", "--stations", final, "--population", small("population.csv"),
		"--areas", small("areas.geojson"), "--out", fresh, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	for _, name := range []string{"cells.csv", "areas.csv", "gaps.geojson"} {
		a, b := mustRead(t, filepath.Join(updated, name)), mustRead(t, filepath.Join(fresh, name))
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s after update differs from a fresh analysis", name)
		}
	}
	sameLayers(t, filepath.Join(updated, "walkshed.gpkg"), filepath.Join(fresh, "walkshed.gpkg"), "cells", "stations", "gaps", "areas")
	// timeline.csv: two dates; the first adds E, the second D and drops C.
	tl := readCSV(t, filepath.Join(updated, "timeline.csv"))
	if len(tl) != 2 || tl[0]["date"] != "2026-02-01" || tl[0]["stations"] != "4" || tl[1]["stations"] != "4" {
		t.Fatalf("timeline: %v", tl)
	}
	var covered float64
	for _, c := range readCSV(t, filepath.Join(fresh, "cells.csv")) {
		if c["covered"] == "1" {
			covered += num(t, c["population"])
		}
	}
	if got := num(t, tl[1]["population_covered"]); got != covered {
		t.Errorf("timeline ends at %v covered, a fresh analysis covers %v", got, covered)
	}
	ch := readCSV(t, filepath.Join(updated, "changes.csv"))
	if len(ch) == 0 || ch[0]["station_id"] != "E" {
		t.Errorf("changes: %v", ch)
	}
	// --gpkg names the file itself.
	ev2 := filepath.Join(dir, "events2.csv")
	os.WriteFile(ev2, []byte("date,action,id,lon,lat\n2026-04-01,close,E,,\n"), 0o644)
	if code, _, stderr := walkshed(t, "update", "--gpkg", filepath.Join(updated, "walkshed.gpkg"), "--events", ev2, "--quiet"); code != 0 {
		t.Fatalf("--gpkg: exit %d: %s", code, stderr)
	}
	if got := sqlDump(t, filepath.Join(updated, "walkshed.gpkg"), `SELECT id FROM stations ORDER BY fid`); strings.Join(got, ",") != "A,B,D" {
		t.Errorf("stations after closing E: %v", got)
	}
}

// TestUpdateKeepsWhatTheUserAdded updates a file to which a user added a
// table and a layer, and whose default cells style they changed: all of it
// is there afterwards, unchanged.
func TestUpdateKeepsWhatTheUserAdded(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "res")
	if code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"), "--out", res, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	path := filepath.Join(res, "walkshed.gpkg")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE site_visits (id INTEGER PRIMARY KEY, station TEXT, visited TEXT, note TEXT)`,
		`INSERT INTO site_visits (station, visited, note) VALUES ('A', '2026-01-10', 'roof leaks'), ('B', '2026-01-11', NULL)`,
		`INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES ('site_visits', 'attributes', 'site_visits', 'field visits')`,
		`UPDATE layer_styles SET styleQML = replace(styleQML, '<qgis', '<qgis planner="edited"'), styleName = 'my cells' WHERE f_table_name = 'cells'`,
		`INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui) VALUES ('', '', 'gaps', 'geom', 'print', '<qgis/>', '', 0, 'for printing', '', NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	keep := []string{`SELECT * FROM site_visits ORDER BY id`, `SELECT * FROM layer_styles ORDER BY id`,
		`SELECT * FROM gpkg_contents WHERE table_name IN ('site_visits', 'layer_styles')`}
	var before [][]string
	for _, q := range keep {
		before = append(before, sqlDump(t, path, q))
	}
	if !strings.Contains(strings.Join(before[1], "\n"), "my cells") {
		t.Fatal("the style edit did not take")
	}
	events := filepath.Join(dir, "events.csv")
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-01-01,open,N,10.7890,59.9250\n2026-01-02,close,A,,\n"), 0o644)
	if code, _, stderr := walkshed(t, "update", "--from", res, "--events", events, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	for i, q := range keep {
		if after := sqlDump(t, path, q); !reflect.DeepEqual(after, before[i]) {
			t.Errorf("%s changed:\n%v\nwas\n%v", q, after, before[i])
		}
	}
	if got := sqlDump(t, path, `SELECT id FROM stations ORDER BY fid`); strings.Join(got, ",") != "B,C,N" {
		t.Errorf("stations %v", got)
	}
}

func TestUpdateBadEventsLeaveResultIntact(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "res")
	if code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"), "--out", res, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	snapshot := func() map[string]string {
		m := map[string]string{}
		entries, _ := os.ReadDir(res)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(res, e.Name()))
			m[e.Name()] = string(b)
		}
		return m
	}
	before := snapshot()
	if _, ok := before["walkshed.gpkg"]; !ok {
		t.Fatal("no walkshed.gpkg")
	}
	cases := []struct{ name, body, want string }{
		{"close unknown id", "date,action,id,lon,lat\n2026-01-01,open,N1,10.75,59.91\n2026-01-02,close,ZZ,,\n", `events.csv:3: no open station has id "ZZ"`},
		{"open existing id", "date,action,id,lon,lat\n2026-01-01,open,A,10.75,59.91\n", `events.csv:2: station "A" is already open`},
		{"close at another place", "date,action,id,lon,lat\n2026-01-01,close,A,10.80,59.91\n", `events.csv:2: station "A" is at 10.7500000,59.9200000`},
		{"unknown action", "date,action,id,lon,lat\n2026-01-01,move,A,10.75,59.91\n", `events.csv:2: unknown action "move"`},
		{"bad date", "date,action,id,lon,lat\n1 March,open,N,10.75,59.91\n", `events.csv:2: date "1 March"`},
		{"open without position", "date,action,id,lon,lat\n2026-01-01,open,N,,\n", `events.csv:2: opening station "N" needs lon and lat`},
	}
	for _, tc := range cases {
		for _, out := range []string{"", res} {
			t.Run(fmt.Sprintf("%s out=%q", tc.name, out), func(t *testing.T) {
				ev := filepath.Join(t.TempDir(), "events.csv")
				os.WriteFile(ev, []byte(tc.body), 0o644)
				args := []string{"update", "--from", res, "--events", ev, "--quiet"}
				if out != "" {
					args = append(args, "--out", out)
				}
				code, _, stderr := walkshed(t, args...)
				if code != 1 || !strings.Contains(stderr, tc.want) {
					t.Fatalf("exit %d, stderr %q, want %q", code, stderr, tc.want)
				}
				if after := snapshot(); !reflect.DeepEqual(after, before) {
					names := []string{}
					for n := range after {
						names = append(names, n)
					}
					t.Fatalf("the result folder changed after a failed update (files %v)", names)
				}
			})
		}
	}
	// A folder that is not a result.
	code, _, stderr := walkshed(t, "update", "--from", dir, "--events", small("stations.csv"), "--out", filepath.Join(dir, "x"))
	if code != 1 || !strings.Contains(stderr, "is not a walkshed result") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestUpdateRefusesForeignGeoPackage refuses, naming it, a GeoPackage that
// walkshed did not write, and leaves it as it was.
func TestUpdateRefusesForeignGeoPackage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parks.gpkg")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`PRAGMA application_id = 1196444487`,
		`CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)`,
		`CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER)`,
		`CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL)`,
		`CREATE TABLE parks (fid INTEGER PRIMARY KEY, geom POINT, name TEXT)`,
		`INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('parks', 'features', 'parks', 4326)`,
		`INSERT INTO gpkg_geometry_columns VALUES ('parks', 'geom', 'POINT', 4326, 0, 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	before := mustRead(t, path)
	events := filepath.Join(dir, "events.csv")
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-01-01,open,N,10.75,59.91\n"), 0o644)
	for _, args := range [][]string{{"--gpkg", path}, {"--gpkg", path, "--out", filepath.Join(dir, "out")}} {
		code, _, stderr := walkshed(t, append(append([]string{"update"}, args...), "--events", events, "--quiet")...)
		if code != 1 || !strings.Contains(stderr, path+" is not a walkshed result") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
		if !bytes.Equal(mustRead(t, path), before) {
			t.Errorf("%v: the GeoPackage changed", args)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "out")); len(entries) != 0 {
		t.Errorf("left behind in --out: %v", entries)
	}
}

// TestUpdateMigratesStateFile updates folders written by the walkshed that
// kept its state in walkshed-state.json: without a GeoPackage (a new one is
// written) and with one (the store is added to it, so tables a user added
// stay), along the streets. Each ends as a fresh analysis of the final
// stations would, and the state file is gone.
func TestUpdateMigratesStateFile(t *testing.T) {
	demo := filepath.Join("..", "..", "data", "demo")
	study := []string{"--network", filepath.Join(demo, "streets.osm.gz"), "--stations", filepath.Join(demo, "stations.csv"),
		"--population", filepath.Join(demo, "population.csv"), "--areas", filepath.Join(demo, "areas.geojson"), "--quiet"}
	dir := t.TempDir()
	// The state file: analyze without a GeoPackage still writes one.
	csvOnly := filepath.Join(dir, "csv-only")
	if code, _, stderr := walkshed(t, append([]string{"analyze", "--format", "csv", "--out", csvOnly}, study...)...); code != 0 {
		t.Fatal(stderr)
	}
	state := mustRead(t, filepath.Join(csvOnly, "walkshed-state.json"))
	// A folder with an old GeoPackage: the store's tables and facts removed,
	// a user's table added.
	withGpkg := filepath.Join(dir, "with-gpkg")
	if code, _, stderr := walkshed(t, append([]string{"analyze", "--format", "gpkg", "--out", withGpkg}, study...)...); code != 0 {
		t.Fatal(stderr)
	}
	db, err := sql.Open("sqlite", filepath.Join(withGpkg, "walkshed.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE walkshed_cells`, `DROP TABLE walkshed_cell_state`, `DROP TABLE walkshed_gaps`, `DROP TABLE walkshed_areas`, `DROP TABLE IF EXISTS walkshed_cell_areas`,
		`DELETE FROM run WHERE key LIKE 'store_%' OR key LIKE 'network_%' OR key = 'population_input'`,
		`CREATE TABLE notes (body TEXT)`, `INSERT INTO notes VALUES ('kept')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	os.WriteFile(filepath.Join(withGpkg, "walkshed-state.json"), state, 0o644)

	final := filepath.Join(dir, "final.csv")
	finalStations(t, final, readCSV(t, filepath.Join(demo, "stations.csv")), readCSV(t, filepath.Join(demo, "events.csv")))
	fresh := filepath.Join(dir, "fresh")
	args := []string{"analyze", "--out", fresh, "--network", filepath.Join(demo, "streets.osm.gz"), "--stations", final,
		"--population", filepath.Join(demo, "population.csv"), "--areas", filepath.Join(demo, "areas.geojson"), "--quiet"}
	if code, _, stderr := walkshed(t, args...); code != 0 {
		t.Fatal(stderr)
	}
	for _, res := range []string{csvOnly, withGpkg} {
		code, _, stderr := walkshed(t, "update", "--from", res, "--events", filepath.Join(demo, "events.csv"), "--quiet")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", res, code, stderr)
		}
		sameLayers(t, filepath.Join(res, "walkshed.gpkg"), filepath.Join(fresh, "walkshed.gpkg"), "cells", "stations", "gaps", "areas")
		if _, err := os.Stat(filepath.Join(res, "walkshed-state.json")); err == nil {
			t.Errorf("%s: walkshed-state.json is still there", res)
		}
		// A second update continues from the store.
		ev := filepath.Join(dir, "more.csv")
		os.WriteFile(ev, []byte("date,action,id,lon,lat\n2026-01-01,close,new-park-1,,\n"), 0o644)
		if code, _, stderr := walkshed(t, "update", "--from", res, "--events", ev, "--quiet"); code != 0 {
			t.Fatalf("%s: second update: exit %d: %s", res, code, stderr)
		}
	}
	if got := sqlDump(t, filepath.Join(withGpkg, "walkshed.gpkg"), `SELECT body FROM notes`); len(got) != 1 || got[0] != "kept" {
		t.Errorf("the user's table after the migration: %v", got)
	}
}

// TestUpdateReadsEventsInTheStoredDatum analyzes stations given in GCJ-02
// (--crs gcj02), then closes a station and opens it again at its own
// GCJ-02 coordinates: no cell changes. Read as WGS-84 (update --crs
// wgs84), the same events move the station some 500 m and cells change.
func TestUpdateReadsEventsInTheStoredDatum(t *testing.T) {
	dir := t.TempDir()
	wgs := []orb.Point{{121.4737, 31.2304}, {121.4900, 31.2400}, {121.4550, 31.2200}}
	var st strings.Builder
	st.WriteString("id,lon,lat\n")
	gcj := make([]string, len(wgs))
	for i, p := range wgs {
		g := crs.WGS84ToGCJ02(p)
		gcj[i] = fmt.Sprintf("%.7f,%.7f", g[0], g[1])
		fmt.Fprintf(&st, "S%d,%s\n", i+1, gcj[i])
	}
	stations := filepath.Join(dir, "stations.csv")
	os.WriteFile(stations, []byte(st.String()), 0o644)
	c0, err := coverage.CellOf(wgs[0], 9)
	if err != nil {
		t.Fatal(err)
	}
	var pop strings.Builder
	pop.WriteString("h3,population\n")
	for _, c := range h3.GridDisk(c0, 10) {
		pop.WriteString(c.String() + ",100\n")
	}
	population := filepath.Join(dir, "population.csv")
	os.WriteFile(population, []byte(pop.String()), 0o644)
	res := filepath.Join(dir, "res")
	if code, _, stderr := walkshed(t, "analyze", "--stations", stations, "--crs", "gcj02", "--population", population, "--format", "gpkg", "--out", res, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	copyDir(t, res, filepath.Join(dir, "copy"))
	events := filepath.Join(dir, "events.csv")
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-01-01,close,S2,"+gcj[1]+"\n2026-01-02,open,S2,"+gcj[1]+"\n"), 0o644)
	path := filepath.Join(res, "walkshed.gpkg")
	cells := layerQueries["cells"]
	before := sqlDump(t, path, cells)
	if code, _, stderr := walkshed(t, "update", "--from", res, "--events", events, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	if after := sqlDump(t, path, cells); !reflect.DeepEqual(after, before) {
		t.Error("closing a station and opening it where it stood changed cells")
	}
	if got := sqlDump(t, path, `SELECT id FROM stations ORDER BY fid`); strings.Join(got, ",") != "S1,S3,S2" {
		t.Errorf("stations %v, want S2 last", got)
	}
	// Read as WGS-84, the closing's position is 500 m off the station's.
	code, _, stderr := walkshed(t, "update", "--from", filepath.Join(dir, "copy"), "--events", events, "--crs", "wgs84", "--quiet")
	if code != 1 || !strings.Contains(stderr, `station "S2" is at`) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-01-01,close,S2,,\n2026-01-02,open,S2,"+gcj[1]+"\n"), 0o644)
	if code, _, stderr := walkshed(t, "update", "--from", filepath.Join(dir, "copy"), "--events", events, "--crs", "wgs84", "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	if after := sqlDump(t, filepath.Join(dir, "copy", "walkshed.gpkg"), cells); reflect.DeepEqual(after, before) {
		t.Error("the station moved by the GCJ-02 offset and no cell changed")
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(to, e.Name()), mustRead(t, filepath.Join(from, e.Name())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sha256Of(t *testing.T, path string) string {
	t.Helper()
	s := sha256.Sum256(mustRead(t, path))
	return hex.EncodeToString(s[:])
}

// TestUpdateFindsTheStreetFile follows a street file that moved (--network,
// checked by content) and refuses one with other content, naming both
// hashes; without --network, a moved file is reported and the result left
// as it was.
func TestUpdateFindsTheStreetFile(t *testing.T) {
	demo := filepath.Join("..", "..", "data", "demo")
	dir := t.TempDir()
	orig := filepath.Join(dir, "a", "streets.osm.gz")
	os.MkdirAll(filepath.Dir(orig), 0o755)
	os.WriteFile(orig, mustRead(t, filepath.Join(demo, "streets.osm.gz")), 0o644)
	res := filepath.Join(dir, "res")
	if code, _, stderr := walkshed(t, "analyze", "--network", orig, "--stations", filepath.Join(demo, "stations.csv"),
		"--population", filepath.Join(demo, "population.csv"), "--format", "gpkg", "--out", res, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	gp := filepath.Join(res, "walkshed.gpkg")
	if got := sqlDump(t, gp, `SELECT value FROM run WHERE key = 'network_sha256'`); len(got) != 1 || got[0] != sha256Of(t, orig) {
		t.Fatalf("stored hash %v, the file's %s", got, sha256Of(t, orig))
	}
	moved := filepath.Join(dir, "b", "streets.osm.gz")
	os.MkdirAll(filepath.Dir(moved), 0o755)
	if err := os.Rename(orig, moved); err != nil {
		t.Fatal(err)
	}
	// The same streets, compressed again: same OSM content, other bytes.
	other := filepath.Join(dir, "other.osm.gz")
	zr, err := gzip.NewReader(bytes.NewReader(mustRead(t, moved)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	io.Copy(zw, zr)
	zw.Close()
	os.WriteFile(other, buf.Bytes(), 0o644)

	events := filepath.Join(dir, "events.csv")
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-01-01,close,way/99876487,,\n"), 0o644)
	before := mustRead(t, gp)
	code, _, stderr := walkshed(t, "update", "--from", res, "--events", events, "--quiet")
	if code != 1 || !strings.Contains(stderr, orig) || !strings.Contains(stderr, "--network") {
		t.Errorf("moved file: exit %d: %s", code, stderr)
	}
	code, _, stderr = walkshed(t, "update", "--from", res, "--events", events, "--network", other, "--quiet")
	if code != 1 || !strings.Contains(stderr, sha256Of(t, other)) || !strings.Contains(stderr, sha256Of(t, moved)) {
		t.Errorf("other file: exit %d: %s", code, stderr)
	}
	if !bytes.Equal(mustRead(t, gp), before) {
		t.Fatal("a refused update changed walkshed.gpkg")
	}
	if code, _, stderr := walkshed(t, "update", "--from", res, "--events", events, "--network", moved, "--quiet"); code != 0 {
		t.Fatalf("moved file with --network: exit %d: %s", code, stderr)
	}
	// The new place is remembered.
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-01-02,close,way/99876490,,\n"), 0o644)
	if code, _, stderr := walkshed(t, "update", "--from", res, "--events", events, "--quiet"); code != 0 {
		t.Fatalf("after the move: exit %d: %s", code, stderr)
	}
}

// TestUpdateWarnsOfEarlierEvents names, on stderr, the events dated before
// the last one applied to the result, and applies them.
func TestUpdateWarnsOfEarlierEvents(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "res")
	if code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"), "--format", "gpkg", "--out", res, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	events := filepath.Join(dir, "events.csv")
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-03-01,open,N1,10.75,59.91\n"), 0o644)
	if code, _, stderr := walkshed(t, "update", "--from", res, "--events", events, "--quiet"); code != 0 || strings.Contains(stderr, "warning") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-02-01,open,N2,10.76,59.91\n2026-03-01,open,N3,10.77,59.91\n"), 0o644)
	code, _, stderr := walkshed(t, "update", "--from", res, "--events", events, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: "+events+":2: 2026-02-01 open N2 is dated before the last event already applied (2026-03-01)") || strings.Contains(stderr, "N3") {
		t.Errorf("stderr: %q", stderr)
	}
	if got := sqlDump(t, filepath.Join(res, "walkshed.gpkg"), `SELECT station_id FROM events ORDER BY fid`); strings.Join(got, ",") != "N1,N2,N3" {
		t.Errorf("events table: %v", got)
	}
}

// TestUpdateSurvivesKill runs the built command's update on copies of a
// result and kills it (SIGKILL) at random moments, half of them once the
// transaction has begun writing (its journal exists). Each time, GDAL's
// validator must pass and the file must hold the result before the update
// or after it, never a mix.
func TestUpdateSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs it repeatedly")
	}
	verify := testenv.SharedTool(t, "verify_gpkg.sh")
	testenv.Command(t, "ogrinfo", testenv.GIS)
	testenv.Command(t, "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py", testenv.GIS)
	dir := t.TempDir()
	bin := filepath.Join(dir, "walkshed")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if code, _, stderr := walkshed(t, "synth", "--out", dir, "--area-km2", "60", "--people", "400000", "--stations", "120", "--seed", "3"); code != 0 {
		t.Fatal(stderr)
	}
	orig := filepath.Join(dir, "orig")
	if code, _, stderr := walkshed(t, "analyze", "--stations", filepath.Join(dir, "stations.csv"), "--population", filepath.Join(dir, "population.csv"),
		"--res", "10", "--format", "gpkg", "--out", orig, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	var sum struct{ Gaps []struct{ Lon, Lat float64 } }
	if err := json.Unmarshal(mustRead(t, filepath.Join(orig, "summary.json")), &sum); err != nil || len(sum.Gaps) < 5 {
		t.Fatalf("summary: %v, %d gaps", err, len(sum.Gaps))
	}
	var ev strings.Builder
	ev.WriteString("date,action,id,lon,lat\n")
	for k, g := range sum.Gaps[:5] {
		fmt.Fprintf(&ev, "2026-01-01,open,N%d,%.7f,%.7f\n", k, g.Lon, g.Lat)
	}
	for k := range 5 {
		fmt.Fprintf(&ev, "2026-01-02,close,S%05d,,\n", 1+k*20)
	}
	events := filepath.Join(dir, "events.csv")
	os.WriteFile(events, []byte(ev.String()), 0o644)
	state := func(path string) string {
		var b strings.Builder
		for _, q := range []string{layerQueries["cells"], layerQueries["stations"], `SELECT * FROM gaps ORDER BY fid`,
			`SELECT * FROM walkshed_cell_state ORDER BY chunk`, `SELECT * FROM rtree_stations_geom ORDER BY id`,
			`SELECT key, value FROM run WHERE key LIKE 'population%'`} {
			b.WriteString(strings.Join(sqlDump(t, path, q), "\n"))
		}
		return b.String()
	}
	gp := func(d string) string { return filepath.Join(d, "walkshed.gpkg") }
	before := state(gp(orig))
	after := filepath.Join(dir, "after")
	copyDir(t, orig, after)
	t0 := time.Now()
	if out, err := exec.Command(bin, "update", "--from", after, "--events", events, "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("update: %v\n%s", err, out)
	}
	full := time.Since(t0)
	want := state(gp(after))
	if want == before {
		t.Fatal("the update changed nothing: a kill could not tell")
	}
	rng := rand.New(rand.NewPCG(2026, 1))
	outcomes := map[string]int{}
	for run := range 14 {
		work := filepath.Join(dir, fmt.Sprint("run", run))
		copyDir(t, orig, work)
		cmd := exec.Command(bin, "update", "--from", work, "--events", events, "--quiet")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if run%2 == 0 {
			time.Sleep(time.Duration(rng.Int64N(int64(full + full/4))))
		} else {
			// Once the journal exists, the transaction is writing.
			for deadline := time.Now().Add(5 * full); time.Now().Before(deadline); time.Sleep(50 * time.Microsecond) {
				if _, err := os.Stat(gp(work) + "-journal"); err == nil {
					break
				}
			}
			time.Sleep(time.Duration(rng.Int64N(int64(full / 3))))
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		_, jerr := os.Stat(gp(work) + "-journal")
		vc := exec.Command("sh", verify, gp(work))
		out, err := vc.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK: ") {
			t.Fatalf("run %d: verify_gpkg.sh: %v\n%s", run, err, out)
		}
		switch got := state(gp(work)); {
		case got == before && jerr == nil:
			outcomes["before, journal rolled back"]++
		case got == before:
			outcomes["before"]++
		case got == want:
			outcomes["after"]++
		default:
			t.Fatalf("run %d: the file holds neither the result before the update nor after it", run)
		}
		os.RemoveAll(work)
	}
	t.Logf("update takes %v; outcomes of the kills: %v", full, outcomes)
	if outcomes["before, journal rolled back"] == 0 {
		t.Error("no kill landed inside the transaction")
	}
}

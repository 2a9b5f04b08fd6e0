package gpkg

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/testenv"
)

// storeStudy is a small random straight-line study: the populated res-9
// cells within 7 rings of a point in Shanghai, six stations, and three
// areas (two with a parent).
func storeStudy(t testing.TB, seed uint64) coverage.Study {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	c0 := mustCell(t, orb.Point{121.4737, 31.2304})
	ids := h3.GridDisk(c0, 7)
	slices.Sort(ids)
	st := coverage.Study{Settings: coverage.DefaultSettings}
	for _, c := range ids {
		st.Cells = append(st.Cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: float64(1 + rng.IntN(500))})
		st.InputPopulation += st.Cells[len(st.Cells)-1].Population
	}
	for k := range 6 {
		st.Stations = append(st.Stations, coverage.Station{ID: fmt.Sprintf("S%d", k+1), Name: fmt.Sprintf("Station %d", k+1), Tier: "subdistrict", Pos: randomPoint(rng)})
	}
	box := func(x0, y0, x1, y1 float64) orb.MultiPolygon {
		return orb.MultiPolygon{orb.Bound{Min: orb.Point{x0, y0}, Max: orb.Point{x1, y1}}.ToPolygon()}
	}
	st.Areas = []coverage.Area{
		{Name: "West", Parent: "City", Geom: box(121.44, 31.20, 121.4737, 31.26)},
		{Name: "East", Parent: "City", Geom: box(121.4737, 31.20, 121.51, 31.26)},
		{Name: "Centre", Geom: box(121.465, 31.225, 121.485, 31.235)},
	}
	return st
}

// randomPoint is a point within about 2 km of the study's centre.
func randomPoint(rng *rand.Rand) orb.Point {
	return orb.Point{121.4737 + (rng.Float64()-0.5)*0.044, 31.2304 + (rng.Float64()-0.5)*0.038}
}

func analyze(t testing.TB, st coverage.Study) *coverage.Result {
	t.Helper()
	r, err := coverage.Analyze(context.Background(), st, coverage.NewCrow(st.Cells, st.Settings.SpeedKmh), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var storeOpt = WriteOptions{
	CRS:     "gcj02",
	Network: &NetworkFacts{Path: "/data/streets.osm.pbf", Bytes: 12345, SHA256: strings.Repeat("ab", 32), MaxSnapM: 300, MinComponent: 50},
	Run:     []KeyValue{{"version", "test"}},
}

func writeStudy(t testing.TB, r *coverage.Result, path string) {
	t.Helper()
	if err := Write(path, r, storeOpt); err != nil {
		t.Fatal(err)
	}
}

// TestStoreRoundTrip reads back a written result: every figure equals the
// analysis in memory to the bit, and the gaps read back are those a gap
// search over the read times finds.
func TestStoreRoundTrip(t *testing.T) {
	r := analyze(t, storeStudy(t, 1))
	path := filepath.Join(t.TempDir(), "walkshed.gpkg")
	writeStudy(t, r, path)
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.Result
	if got.Settings != r.Settings || got.Mode != r.Mode || got.Bound != r.Bound || got.InputPopulation != r.InputPopulation {
		t.Errorf("settings %+v %s %v %v, want %+v %s %v %v", got.Settings, got.Mode, got.Bound, got.InputPopulation, r.Settings, r.Mode, r.Bound, r.InputPopulation)
	}
	if !reflect.DeepEqual(got.Stations, r.Stations) {
		t.Errorf("stations %+v, want %+v", got.Stations, r.Stations)
	}
	if !reflect.DeepEqual(got.Cells, r.Cells) || !reflect.DeepEqual(got.InReach, r.InReach) {
		t.Error("cells or stations in reach differ")
	}
	for i := range r.Access {
		if math.Float64bits(float64(got.Access[i].Minutes)) != math.Float64bits(float64(r.Access[i].Minutes)) || got.Access[i].Station != r.Access[i].Station {
			t.Fatalf("cell %d: %+v, want %+v", i, got.Access[i], r.Access[i])
		}
	}
	if len(r.Gaps) < 2 || !reflect.DeepEqual(got.Gaps, r.Gaps) {
		t.Errorf("%d gaps read, %d written (or equal but fewer than 2: a weak test)", len(got.Gaps), len(r.Gaps))
	}
	if found := coverage.FindGaps(got); !reflect.DeepEqual(found, got.Gaps) {
		t.Error("the gaps read differ from a search over the times read")
	}
	if !reflect.DeepEqual(got.Areas, r.Areas) || len(r.Areas) != 4 {
		t.Errorf("areas %+v, want %+v", got.Areas, r.Areas)
	}
	if s.CRS != "gcj02" || !reflect.DeepEqual(s.Network, storeOpt.Network) || !s.LastEvent.IsZero() {
		t.Errorf("facts: crs %q network %+v last event %v", s.CRS, s.Network, s.LastEvent)
	}
	if in := got.CellAreas(); in == nil || !reflect.DeepEqual(in, r.CellAreas()) {
		t.Error("the cells' areas read differ from those written")
	}
}

// TestStoreKeepsCellAreas: the area of each cell is read from the file, not
// found again: a file whose stored assignment puts every cell in the first
// area summarises them so, and one without the assignment finds the areas
// from the polygons as the analysis did.
func TestStoreKeepsCellAreas(t *testing.T) {
	r := analyze(t, storeStudy(t, 2))
	path := filepath.Join(t.TempDir(), "walkshed.gpkg")
	writeStudy(t, r, path)
	db := openDB(t, path)
	all := make([]byte, 4*len(r.Cells)) // every cell in area 0 ("West")
	if _, err := db.Exec(`UPDATE walkshed_cell_areas SET data = ? WHERE id = 1`, all); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, c := range r.Cells {
		total += c.Population
	}
	for _, a := range s.Result.Areas {
		if a.Level == "area" && a.Name == "West" && a.Population != total {
			t.Errorf("West holds %v people, want all %v (the stored assignment unused)", a.Population, total)
		}
		if a.Level == "area" && a.Name != "West" && a.Population != 0 {
			t.Errorf("%s holds %v people, want 0", a.Name, a.Population)
		}
	}
	s.Close()
	db = openDB(t, path)
	if _, err := db.Exec(`DROP TABLE walkshed_cell_areas`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !reflect.DeepEqual(s.Result.Areas, r.Areas) {
		t.Error("without the stored assignment the areas differ from the analysis")
	}
}

// sqlRows runs q and returns its rows as strings (blobs as hex), for exact
// comparisons between files.
func sqlRows(t testing.TB, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	return testenv.Rows(t, db, q, args...)
}

func sameRows(t testing.TB, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: row %d\n got %s\nwant %s", what, i+1, got[i], want[i])
			return
		}
	}
}

// compareStores checks that the updated file a holds what a fresh write b
// holds, layer by layer: cells rows and fids, stations in fid order (fids
// differ: closing deletes a row, opening adds one), gaps and areas, extents,
// the R-tree entries of the stations and gaps, and the stored state.
func compareStores(t *testing.T, a, b string) {
	t.Helper()
	da, db := openDB(t, a), openDB(t, b)
	cells := `SELECT fid, h3, lon, lat, population, minutes, nearest_station, covered, stations_in_reach, geom FROM cells ORDER BY fid`
	sameRows(t, "cells", sqlRows(t, da, cells), sqlRows(t, db, cells))
	stations := `SELECT id, name, tier, cells_nearest, population_nearest, geom FROM stations ORDER BY fid`
	sameRows(t, "stations", sqlRows(t, da, stations), sqlRows(t, db, stations))
	for _, l := range []string{"gaps", "areas"} {
		q := `SELECT * FROM ` + l + ` ORDER BY fid`
		sameRows(t, l, sqlRows(t, da, q), sqlRows(t, db, q))
	}
	ext := `SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name`
	sameRows(t, "extents", sqlRows(t, da, ext), sqlRows(t, db, ext))
	for _, l := range []string{"stations", "gaps", "areas"} {
		checkRTree(t, da, l)
	}
	if ok := sqlRows(t, da, `PRAGMA integrity_check`); len(ok) != 1 || ok[0] != "ok" {
		t.Errorf("integrity_check: %v", ok)
	}

	sa, err := OpenStore(a)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, err := OpenStore(b)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ra, rb := sa.Result, sb.Result
	if !reflect.DeepEqual(ra.Stations, rb.Stations) || !reflect.DeepEqual(ra.InReach, rb.InReach) || !reflect.DeepEqual(ra.Gaps, rb.Gaps) || !reflect.DeepEqual(ra.Areas, rb.Areas) {
		t.Error("stored stations, stations in reach, gaps or areas differ")
	}
	for i := range ra.Access {
		if math.Float64bits(float64(ra.Access[i].Minutes)) != math.Float64bits(float64(rb.Access[i].Minutes)) || ra.Access[i].Station != rb.Access[i].Station {
			t.Fatalf("stored cell %d: %+v, fresh %+v", i, ra.Access[i], rb.Access[i])
		}
	}
}

// checkRTree checks that a layer's R-tree holds one entry per feature with
// a geometry, each containing the geometry's envelope and tight to within
// the float32 precision the R-tree keeps.
func checkRTree(t *testing.T, db *sql.DB, layer string) {
	t.Helper()
	rows, err := db.Query(`SELECT l.fid, l.geom, r.minx, r.maxx, r.miny, r.maxy FROM ` + layer + ` l LEFT JOIN rtree_` + layer + `_geom r ON r.id = l.fid WHERE l.geom IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var fid int64
		var blob []byte
		var e [4]sql.NullFloat64
		if err := rows.Scan(&fid, &blob, &e[0], &e[1], &e[2], &e[3]); err != nil {
			t.Fatal(err)
		}
		n++
		g, _, err := decodeGeometry(blob)
		if err != nil {
			t.Fatalf("%s feature %d: %v", layer, fid, err)
		}
		b := g.Bound()
		want := [4]float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]}
		for k, v := range e {
			d := v.Float64 - want[k]
			if k%2 == 0 {
				d = -d
			}
			if !v.Valid || d < 0 || d > 2e-5 {
				t.Fatalf("%s feature %d: r-tree entry %v, envelope %v", layer, fid, e, want)
			}
		}
	}
	var entries int
	db.QueryRow(`SELECT count(*) FROM rtree_` + layer + `_geom`).Scan(&entries)
	if entries != n {
		t.Errorf("%s: %d r-tree entries for %d features with a geometry", layer, entries, n)
	}
}

// TestStoreCommitEqualsFreshWrite applies rounds of random events to a
// stored result, each round through OpenStore, coverage.Update and Commit,
// and compares the file with a fresh analysis of the station list the
// events lead to (kept here: closings drop a station, openings append it),
// written anew.
func TestStoreCommitEqualsFreshWrite(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			study := storeStudy(t, seed)
			dir := t.TempDir()
			path := filepath.Join(dir, "walkshed.gpkg")
			if seed%2 == 1 {
				// Chunks of 16 cells: the study spans 11, and the file
				// keeps its chunk size when the writer's changes.
				storeChunk = 16
			}
			writeStudy(t, analyze(t, study), path)
			storeChunk = 2048
			stations := slices.Clone(study.Stations)
			applied := 0
			for round := range 3 {
				var evs []coverage.Event
				date := time.Date(2026, time.Month(1+round), 1, 0, 0, 0, 0, time.UTC)
				for k := range 1 + rng.IntN(5) {
					ev := coverage.Event{Date: date, Source: fmt.Sprintf("round %d event %d", round, k)}
					switch x := rng.IntN(3); {
					case x == 0 && len(stations) > 1:
						j := rng.IntN(len(stations))
						ev.Action, ev.Station = coverage.Close, coverage.Station{ID: stations[j].ID}
						stations = slices.Delete(stations, j, j+1)
					case x == 1 && len(stations) > 1:
						// Close a station and open it again where it stood.
						j := rng.IntN(len(stations))
						s := stations[j]
						evs = append(evs, coverage.Event{Date: date, Action: coverage.Close, Station: coverage.Station{ID: s.ID}, Source: ev.Source + " close"})
						stations = append(slices.Delete(stations, j, j+1), s)
						ev.Action, ev.Station = coverage.Open, s
					default:
						s := coverage.Station{ID: fmt.Sprintf("N%d-%d", round, k), Name: "new", Pos: randomPoint(rng)}
						ev.Action, ev.Station = coverage.Open, s
						stations = append(stations, s)
					}
					evs = append(evs, ev)
				}
				s, err := OpenStore(path)
				if err != nil {
					t.Fatal(err)
				}
				changes, err := coverage.Update(context.Background(), s.Result, coverage.NewCrow(s.Result.Cells, s.Result.Settings.SpeedKmh), evs)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Commit(changes, []KeyValue{{"round", fmt.Sprint(round)}}); err != nil {
					t.Fatal(err)
				}
				applied += len(evs)
				fresh := study
				fresh.Stations = slices.Clone(stations)
				freshPath := filepath.Join(dir, fmt.Sprintf("fresh%d.gpkg", round))
				writeStudy(t, analyze(t, fresh), freshPath)
				compareStores(t, path, freshPath)

				db := openDB(t, path)
				if got := sqlRows(t, db, `SELECT count(*), max("date") FROM events`); got[0] != fmt.Sprintf("%d|%s", applied, date.Format("2006-01-02")) {
					t.Errorf("events table: %s, want %d events up to %s", got[0], applied, date.Format("2006-01-02"))
				}
				last := changes[len(changes)-1]
				row := sqlRows(t, db, `SELECT action, station_id, people_gained, people_lost FROM events ORDER BY fid DESC LIMIT 1`)[0]
				want := fmt.Sprintf("%s|%s|%v(%x)|%v(%x)", last.Event.Action, last.Event.Station.ID, last.Gained, math.Float64bits(last.Gained), last.Lost, math.Float64bits(last.Lost))
				if row != want {
					t.Errorf("last event row %s, want %s", row, want)
				}
				if got := sqlRows(t, db, `SELECT value FROM run WHERE key = 'round'`); len(got) != 1 || got[0] != fmt.Sprint(round) {
					t.Errorf("run round = %v", got)
				}
				if t.Failed() {
					t.FailNow()
				}
			}
		})
	}
}

// TestStoreCloseWithoutCommit leaves the file as it was, byte for byte.
func TestStoreCloseWithoutCommit(t *testing.T) {
	r := analyze(t, storeStudy(t, 2))
	path := filepath.Join(t.TempDir(), "walkshed.gpkg")
	writeStudy(t, r, path)
	before, _ := os.ReadFile(path)
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := []coverage.Event{{Action: coverage.Open, Station: coverage.Station{ID: "X", Pos: r.Cells[0].Pos}}}
	if _, err := coverage.Update(context.Background(), s.Result, coverage.NewCrow(s.Result.Cells, 4), evs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the file changed without a commit")
	}
	if _, err := os.Stat(path + "-journal"); err == nil {
		t.Error("a journal was left behind")
	}
	if _, err := s.Commit(nil, nil); err == nil {
		t.Error("a closed store committed")
	}
}

// TestOpenStoreErrors spoils a store in each way and expects an error
// naming the problem, and no panic.
func TestOpenStoreErrors(t *testing.T) {
	r := analyze(t, storeStudy(t, 3))
	cases := []struct {
		name string
		sql  []string
		want string
		is   error
	}{
		{"not a store", []string{`DROP TABLE walkshed_cells`}, "is not a walkshed result store: it has no walkshed_cells table", ErrNotStore},
		{"partial store", []string{`DROP TABLE walkshed_gaps`}, "lacks its walkshed_gaps table", nil},
		{"newer version", []string{`UPDATE run SET value = '2' WHERE key = 'store_version'`}, "result store version 2", nil},
		{"station deleted", []string{`DROP TRIGGER rtree_stations_geom_delete`, `DELETE FROM stations WHERE fid = (SELECT min(fid) FROM stations)`}, "no longer holds; the layer was edited", nil},
		{"station not a point", []string{`DROP TRIGGER rtree_stations_geom_update3`, `DROP TRIGGER rtree_stations_geom_update4`, `DROP TRIGGER rtree_stations_geom_update1`, `DROP TRIGGER rtree_stations_geom_update2`, `UPDATE stations SET geom = x'00' WHERE fid = 2`}, "feature 2 is not a station", nil},
		{"short chunk", []string{`UPDATE walkshed_cell_state SET data = substr(data, 1, 16)`}, "walkshed_cell_state: chunk 0 (16 bytes)", nil},
		{"missing chunk", []string{`DELETE FROM walkshed_cells`}, "walkshed_cells: 0 chunks for", nil},
		{"negative time", []string{`UPDATE walkshed_cell_state SET data = x'000000000000F0BF0100000000000000' || substr(data, 17)`}, "walking time -1 minutes", nil},
		{"gap cell out of range", []string{`UPDATE walkshed_gaps SET cells = x'FFFFFF7F' WHERE id = 1`}, "gap 1: cell index", nil},
		{"bad setting", []string{`UPDATE run SET value = 'fast' WHERE key = 'speed_kmh'`}, `speed_kmh "fast" is not a number`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "walkshed.gpkg")
			writeStudy(t, r, path)
			db := openDB(t, path)
			for _, q := range tc.sql {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()
			s, err := OpenStore(path)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q, want %q and the file's name", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
	if _, err := OpenStore(filepath.Join(t.TempDir(), "none.gpkg")); err == nil {
		t.Error("opened a missing file")
	}
}

// TestMigrateStore adds the store to a GeoPackage written without one
// (as walkshed wrote before it kept its result's store in the file): the
// store read back is the result given, and the file keeps its other
// tables. A GeoPackage holding another result is refused, unchanged.
func TestMigrateStore(t *testing.T) {
	r := analyze(t, storeStudy(t, 4))
	path := filepath.Join(t.TempDir(), "walkshed.gpkg")
	writeStudy(t, r, path)
	db := openDB(t, path)
	for _, q := range []string{
		`DROP TABLE walkshed_cells`, `DROP TABLE walkshed_cell_state`, `DROP TABLE walkshed_gaps`, `DROP TABLE walkshed_areas`, `DROP TABLE IF EXISTS walkshed_cell_areas`,
		`DELETE FROM run WHERE key LIKE 'store_%' OR key IN ('population_input', 'crs')`,
		`INSERT INTO run (key, value) VALUES ('crs', 'bd09')`,
		`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`, `INSERT INTO notes VALUES (1, 'kept')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if _, err := OpenStore(path); !errors.Is(err, ErrNotStore) {
		t.Fatalf("error %v, want ErrNotStore", err)
	}
	other := analyze(t, storeStudy(t, 5))
	other.Cells, other.Access, other.InReach = other.Cells[1:], other.Access[1:], other.InReach[1:]
	before, _ := os.ReadFile(path)
	if s, err := MigrateStore(path, other, WriteOptions{}); err == nil || !strings.Contains(err.Error(), "layer cells has") {
		t.Fatalf("migrated onto another result's file: %v", err)
	} else if s != nil {
		t.Fatal("a store returned with the error")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a refused migration changed the file")
	}
	s, err := MigrateStore(path, r, WriteOptions{Network: storeOpt.Network})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(nil, nil); err != nil {
		t.Fatal(err)
	}
	s, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !reflect.DeepEqual(s.Result.Cells, r.Cells) || !reflect.DeepEqual(s.Result.Access, r.Access) || !reflect.DeepEqual(s.Result.Gaps, r.Gaps) ||
		!reflect.DeepEqual(s.Result.Stations, r.Stations) || s.Result.InputPopulation != r.InputPopulation {
		t.Error("the migrated store differs from the result")
	}
	if s.CRS != "bd09" || !reflect.DeepEqual(s.Network, storeOpt.Network) {
		t.Errorf("crs %q (the run table said bd09), network %+v", s.CRS, s.Network)
	}
	if got := sqlRows(t, openDB(t, path), `SELECT body FROM notes`); len(got) != 1 || got[0] != "kept" {
		t.Errorf("notes: %v", got)
	}
}

// TestSpatialFunctions checks the ST_* functions the R-tree triggers call
// against envelopes computed here.
func TestSpatialFunctions(t *testing.T) {
	registerSpatialFunctions()
	db := openDB(t, filepath.Join(t.TempDir(), "f.sqlite"))
	enc := newEncoder()
	poly := orb.Polygon{{{1, 2}, {4, 2}, {4, 7}, {1, 7}, {1, 2}}}
	blob, _, err := enc.encode(poly, srsWGS84)
	if err != nil {
		t.Fatal(err)
	}
	noEnv := slices.Clone(blob)
	noEnv[3] &^= 7 << 1 // no envelope: the geometry must be decoded
	noEnv = append(noEnv[:8], noEnv[40:]...)
	empty := []byte{'G', 'P', 0, flagLittleEndian | flagEmpty, 0xE6, 0x10, 0, 0}
	for _, tc := range []struct {
		name string
		blob any
		want string
	}{
		{"with envelope", slices.Clone(blob), "1(3ff0000000000000)|4(4010000000000000)|2(4000000000000000)|7(401c000000000000)|0"},
		{"without envelope", noEnv, "1(3ff0000000000000)|4(4010000000000000)|2(4000000000000000)|7(401c000000000000)|0"},
		{"empty", empty, "<nil>|<nil>|<nil>|<nil>|1"},
		{"not a geometry", []byte("hello"), "<nil>|<nil>|<nil>|<nil>|<nil>"},
		{"null", nil, "<nil>|<nil>|<nil>|<nil>|<nil>"},
	} {
		got := sqlRows(t, db, `SELECT ST_MinX(?1), ST_MaxX(?1), ST_MinY(?1), ST_MaxY(?1), ST_IsEmpty(?1)`, tc.blob)
		if got[0] != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got[0], tc.want)
		}
	}
}

// FuzzStoreChunks replaces a state chunk and a gap's cell list with
// arbitrary bytes: opening must fail cleanly or read a consistent result.
func FuzzStoreChunks(f *testing.F) {
	r := analyze(f, storeStudy(f, 6))
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.gpkg")
	writeStudy(f, r, seed)
	f.Add([]byte{}, []byte{1, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{0xff}, storeStateSize*len(r.Cells)), []byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, state, gap []byte) {
		path := filepath.Join(t.TempDir(), "f.gpkg")
		b, _ := os.ReadFile(seed)
		os.WriteFile(path, b, 0o644)
		db := openDB(t, path)
		db.Exec(`UPDATE walkshed_cell_state SET data = ? WHERE chunk = 0`, state)
		db.Exec(`UPDATE walkshed_gaps SET cells = ? WHERE id = 1`, gap)
		db.Close()
		s, err := OpenStore(path)
		if err != nil {
			return
		}
		defer s.Close()
		for _, a := range s.Result.Access {
			if a.Station >= int32(len(s.Result.Stations)) || (a.Minutes.Reached() && a.Station < 0) {
				t.Fatalf("inconsistent access %+v", a)
			}
		}
		for _, g := range s.Result.Gaps {
			for _, c := range g.Cells {
				if c < 0 || int(c) >= len(s.Result.Cells) {
					t.Fatalf("gap cell %d", c)
				}
			}
		}
	})
}

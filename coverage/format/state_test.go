package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
)

// handState is a small result made by hand: three cells, one of them
// unreached, with times that need all seventeen significant digits.
func handState(t *testing.T) *coverage.Result {
	t.Helper()
	var cells []coverage.Cell
	for i, s := range []string{"89309959d0bffff", "89309959d0fffff", "89309959d47ffff"} {
		c, err := coverage.ParseCell(s)
		if err != nil {
			t.Fatal(err)
		}
		cells = append(cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: []float64{120, 0.30000000000000004, 7.25}[i]})
	}
	return &coverage.Result{
		Settings: coverage.Settings{Res: 9, Minutes: 15, SpeedKmh: 4},
		Mode:     "crow",
		Bound:    coverage.Unreached,
		Stations: []coverage.Station{
			{ID: "A", Name: "Hall", Tier: "district", Pos: orb.Point{121.4737, 31.2304}},
			{ID: "B", Pos: orb.Point{121.5, 31.25}},
		},
		Cells:           cells,
		Access:          []coverage.Access{{Minutes: 12.345678901234567, Station: 0}, coverage.NoAccess, {Minutes: 15.000000000000002, Station: 1}},
		InReach:         []int32{1, 0, 0},
		InputPopulation: 130.5,
		Created:         time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC),
	}
}

// TestWriteStateBytes compares the writer's output for the hand-made result
// with the file written out by hand: every time and population at full
// precision, null for the unreached cell, its station -1.
func TestWriteStateBytes(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteState(&buf, handState(t), "v0.9.1", nil); err != nil {
		t.Fatal(err)
	}
	want := `{"format":"walkshed-state","version":1,"walkshed":"v0.9.1","created":"2025-03-01T08:30:00Z",` +
		`"mode":"crow","res":9,"minutes":15,"speed_kmh":4,"input_population":130.5,` +
		`"stations":[{"id":"A","name":"Hall","tier":"district","lon":121.4737,"lat":31.2304},{"id":"B","lon":121.5,"lat":31.25}],` +
		`"cells":{"h3":["89309959d0bffff","89309959d0fffff","89309959d47ffff"],"population":[120,0.30000000000000004,7.25],` +
		`"minutes":[12.345678901234567,null,15.000000000000002],"station":[0,-1,1],"in_reach":[1,0,0]}}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("state file\n got %s\nwant %s", got, want)
	}
}

// TestWriteStateNetworkAndAreas writes a network result with an area and
// checks the file's members one by one, then reads it back: the bound comes
// from the network member and the area summaries are recomputed from the
// stored times (counted here by hand).
func TestWriteStateNetworkAndAreas(t *testing.T) {
	r := handState(t)
	r.Mode, r.Bound = "network", 22.5
	area := orb.MultiPolygon{{{{121.46, 31.225}, {121.473, 31.225}, {121.473, 31.235}, {121.46, 31.235}, {121.46, 31.225}}}}
	r.Finish([]coverage.Area{{Name: "West, old town", Parent: "Huangpu", Geom: area}})
	net := &NetworkState{Path: "city.osm.pbf", Bytes: 123456789, ModTime: "2025-02-01T00:00:00Z", MaxSnapM: 250, MinComponent: 100, BoundMinutes: 22.5}
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := WriteState(&buf, r, "v1", net); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, StateFile), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := string(doc["network"]); got != `{"path":"city.osm.pbf","bytes":123456789,"mod_time":"2025-02-01T00:00:00Z","max_snap_m":250,"min_component":100,"bound_minutes":22.5}` {
		t.Errorf("network member %s", got)
	}
	if got := string(doc["mode"]); got != `"network"` {
		t.Errorf("mode member %s", got)
	}
	var areas struct {
		Type     string
		Features []struct {
			Type       string
			Properties map[string]any
			Geometry   struct {
				Type        string
				Coordinates [][][][2]float64
			}
		}
	}
	if err := json.Unmarshal(doc["areas"], &areas); err != nil {
		t.Fatal(err)
	}
	if areas.Type != "FeatureCollection" || len(areas.Features) != 1 {
		t.Fatalf("areas member %s", doc["areas"])
	}
	f := areas.Features[0]
	if f.Properties["name"] != "West, old town" || f.Properties["parent"] != "Huangpu" || len(f.Properties) != 2 || f.Geometry.Type != "MultiPolygon" {
		t.Errorf("area feature %+v", f)
	}
	if fmt.Sprint(f.Geometry.Coordinates) != "[[[[121.46 31.225] [121.473 31.225] [121.473 31.235] [121.46 31.235] [121.46 31.225]]]]" {
		t.Errorf("area coordinates %v", f.Geometry.Coordinates)
	}

	got, st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bound != 22.5 || got.Mode != "network" || !reflect.DeepEqual(st.Network, net) || st.Walkshed != "v1" {
		t.Errorf("bound %v, mode %q, network %+v, version %q", got.Bound, got.Mode, st.Network, st.Walkshed)
	}
	// The area holds the centres of the first and third cells (lon
	// 121.4715 and 121.4704, lat 31.231 and 31.228); the second (lon
	// 121.4748) is east of it. Only the first is covered (12.3 min; the
	// third takes 15.000000000000002 > 15). Station A (121.4737) is east of
	// the area too.
	wantAreas := []struct {
		level, name, parent string
		pop, covered        float64
		cells, stations     int
	}{
		{"area", "West, old town", "Huangpu", 127.25, 120, 2, 0},
		{"parent", "Huangpu", "", 127.25, 120, 2, 0},
	}
	if len(got.Areas) != len(wantAreas) {
		t.Fatalf("%d area summaries, want %d", len(got.Areas), len(wantAreas))
	}
	for i, w := range wantAreas {
		a := got.Areas[i]
		if a.Level != w.level || a.Name != w.name || a.Parent != w.parent || a.Population != w.pop || a.CoveredPopulation != w.covered || a.Cells != w.cells || a.Stations != w.stations {
			t.Errorf("area %d: %+v, want %+v", i, a, w)
		}
	}
	if !orb.Equal(got.Areas[0].Geom, area) {
		t.Errorf("area geometry %v", got.Areas[0].Geom)
	}
	sameResult(t, r, got)
}

// TestStateRoundTripRandom builds state files from random values, checks
// that ReadState returns exactly those values, then that writing the result
// and reading it again gives the same result and settings.
func TestStateRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 2026))
	for k := range 40 {
		doc, want := randomState(t, rng)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, StateFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, s, err := ReadState(dir)
		if err != nil {
			t.Fatalf("state %d: %v", k, err)
		}
		if r.Settings != want.Settings || r.Mode != want.Mode || !sameBits(float64(r.Bound), float64(want.Bound)) ||
			!sameBits(r.InputPopulation, want.InputPopulation) || !r.Created.Equal(want.Created) {
			t.Fatalf("state %d: settings %+v mode %q bound %v input %v created %v, want %+v %q %v %v %v", k,
				r.Settings, r.Mode, r.Bound, r.InputPopulation, r.Created, want.Settings, want.Mode, want.Bound, want.InputPopulation, want.Created)
		}
		if !slices.Equal(r.Stations, want.Stations) {
			t.Fatalf("state %d: stations %+v, want %+v", k, r.Stations, want.Stations)
		}
		if len(r.Cells) != len(want.Cells) || !slices.Equal(r.InReach, want.InReach) {
			t.Fatalf("state %d: %d cells, in reach %v; want %d, %v", k, len(r.Cells), r.InReach, len(want.Cells), want.InReach)
		}
		for i := range want.Cells {
			if r.Cells[i].H3 != want.Cells[i].H3 || r.Cells[i].Pos != want.Cells[i].Pos || !sameBits(r.Cells[i].Population, want.Cells[i].Population) ||
				!sameBits(float64(r.Access[i].Minutes), float64(want.Access[i].Minutes)) || r.Access[i].Station != want.Access[i].Station {
				t.Fatalf("state %d cell %d: %+v %+v, want %+v %+v", k, i, r.Cells[i], r.Access[i], want.Cells[i], want.Access[i])
			}
		}
		roundTrip(t, r, s)
	}
}

// randomState returns a state file's content as a JSON-ready map, and the
// result it describes (without gaps and areas).
func randomState(t *testing.T, rng *rand.Rand) (map[string]any, *coverage.Result) {
	t.Helper()
	set := coverage.Settings{Res: 7 + rng.IntN(6), Minutes: coverage.Minutes(1 + rng.Float64()*30), SpeedKmh: coverage.Speed(0.5 + rng.Float64()*10)}
	want := &coverage.Result{Settings: set, Mode: []string{"crow", "network"}[rng.IntN(2)], Bound: coverage.Unreached,
		InputPopulation: rng.Float64() * 1e6}
	doc := map[string]any{"format": "walkshed-state", "version": 1, "walkshed": fmt.Sprintf("v%d", rng.IntN(100)),
		"mode": want.Mode, "res": set.Res, "minutes": float64(set.Minutes), "speed_kmh": float64(set.SpeedKmh),
		"input_population": want.InputPopulation}
	if rng.IntN(3) > 0 {
		want.Created = time.Date(2000+rng.IntN(50), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), 0,
			time.FixedZone("", 3600*(rng.IntN(25)-12)))
		doc["created"] = want.Created.Format(time.RFC3339)
	}
	if want.Mode == "network" {
		want.Bound = coverage.Minutes(set.Minutes * 1.5)
		doc["network"] = map[string]any{"path": "g.osm.pbf", "bytes": rng.Int64N(1 << 40), "mod_time": "2025-01-02T03:04:05Z",
			"max_snap_m": rng.Float64() * 500, "min_component": rng.IntN(1000), "bound_minutes": float64(want.Bound)}
	}
	var stations []map[string]any
	for i := range rng.IntN(6) {
		s := coverage.Station{ID: fmt.Sprintf("s,%d\"", i), Pos: orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90}}
		m := map[string]any{"id": s.ID, "lon": s.Pos[0], "lat": s.Pos[1]}
		if rng.IntN(2) == 0 {
			s.Name, s.Tier = "Station\n"+s.ID, "t"
			m["name"], m["tier"] = s.Name, s.Tier
		}
		want.Stations = append(want.Stations, s)
		stations = append(stations, m)
	}
	doc["stations"] = stations
	// Cells around a random point, in H3 order.
	c0 := h3.LatLngToCell(h3.LatLng{Lat: rng.Float64()*160 - 80, Lng: rng.Float64()*360 - 180}, set.Res)
	disk := h3.GridDisk(c0, rng.IntN(4))
	sort.Slice(disk, func(i, j int) bool { return disk[i] < disk[j] })
	disk = disk[:rng.IntN(len(disk)+1)]
	var hs []string
	var pops []float64
	var mins []*float64
	var sts []int32
	var inReach []int32
	for _, c := range disk {
		pop := []float64{0, rng.Float64() * 1000, float64(rng.IntN(5000)), math.Copysign(0, -1)}[rng.IntN(4)]
		want.Cells = append(want.Cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: pop})
		a := coverage.NoAccess
		st := int32(rng.IntN(len(want.Stations) + 1)) // any station when unreached: it is ignored
		if len(want.Stations) > 0 && rng.IntN(4) > 0 {
			a = coverage.Access{Minutes: coverage.Minutes([]float64{rng.Float64() * 40, float64(set.Minutes), math.Nextafter(float64(set.Minutes), 99), 0}[rng.IntN(4)]),
				Station: int32(rng.IntN(len(want.Stations)))}
			st = a.Station
			v := float64(a.Minutes)
			mins = append(mins, &v)
		} else {
			mins = append(mins, nil)
		}
		want.Access = append(want.Access, a)
		hs = append(hs, c.String())
		pops = append(pops, pop)
		sts = append(sts, st)
		inReach = append(inReach, int32(rng.IntN(4)))
	}
	cells := map[string]any{"h3": hs, "population": pops, "minutes": mins, "station": sts}
	if hs == nil {
		cells = map[string]any{"h3": []string{}, "population": []float64{}, "minutes": []*float64{}, "station": []int32{}}
	}
	if rng.IntN(2) == 0 && len(hs) > 0 {
		cells["in_reach"] = inReach
		want.InReach = inReach
	}
	doc["cells"] = cells
	return doc, want
}

// roundTrip writes r (read from a state file, s its content) with WriteState,
// reads that back and checks it is the same result and settings.
func roundTrip(t *testing.T, r *coverage.Result, s *State) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteState(&buf, r, s.Walkshed, s.Network); err != nil {
		t.Fatalf("writing an accepted state: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, StateFile), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r2, s2, err := ReadState(dir)
	if err != nil {
		t.Fatalf("reading back a written state: %v\n%s", err, buf.Bytes())
	}
	if s2.Format != s.Format || s2.Version != s.Version || s2.Walkshed != s.Walkshed || s2.Mode != s.Mode || s2.Res != s.Res ||
		!sameBits(s2.Minutes, s.Minutes) || !sameBits(s2.SpeedKmh, s.SpeedKmh) || !sameBits(s2.InputPopulation, s.InputPopulation) ||
		!reflect.DeepEqual(s2.Network, s.Network) {
		t.Fatalf("settings changed by a round trip:\n got %+v\nwant %+v", s2, s)
	}
	sameResult(t, r, r2)
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// sameResult compares two results member by member, floating-point values
// bit for bit. The creation time is stored to the second.
func sameResult(t *testing.T, a, b *coverage.Result) {
	t.Helper()
	if a.Settings != b.Settings || a.Mode != b.Mode || !sameBits(float64(a.Bound), float64(b.Bound)) || !sameBits(a.InputPopulation, b.InputPopulation) {
		t.Fatalf("settings %+v %q bound %v input %v, then %+v %q %v %v", a.Settings, a.Mode, a.Bound, a.InputPopulation, b.Settings, b.Mode, b.Bound, b.InputPopulation)
	}
	if ca, cb := a.Created.Truncate(time.Second), b.Created; !ca.Equal(cb) || ca.Format(time.RFC3339) != cb.Format(time.RFC3339) {
		t.Fatalf("created %v, then %v", a.Created, b.Created)
	}
	if len(a.Stations) != len(b.Stations) {
		t.Fatalf("%d stations, then %d", len(a.Stations), len(b.Stations))
	}
	for i, s := range a.Stations {
		u := b.Stations[i]
		if s.ID != u.ID || s.Name != u.Name || s.Tier != u.Tier || !sameBits(s.Pos[0], u.Pos[0]) || !sameBits(s.Pos[1], u.Pos[1]) {
			t.Fatalf("station %d: %+v, then %+v", i, s, u)
		}
	}
	if len(a.Cells) != len(b.Cells) || len(a.Access) != len(b.Access) {
		t.Fatalf("%d cells, then %d", len(a.Cells), len(b.Cells))
	}
	for i, c := range a.Cells {
		d := b.Cells[i]
		if c.H3 != d.H3 || c.Pos != d.Pos || !sameBits(c.Population, d.Population) {
			t.Fatalf("cell %d: %+v, then %+v", i, c, d)
		}
		if x, y := a.Access[i], b.Access[i]; !sameBits(float64(x.Minutes), float64(y.Minutes)) || x.Station != y.Station {
			t.Fatalf("cell %d: %v min from station %d, then %v min from %d", i, x.Minutes, x.Station, y.Minutes, y.Station)
		}
	}
	if !slices.Equal(a.InReach, b.InReach) {
		t.Fatalf("in reach %v, then %v", a.InReach, b.InReach)
	}
	if !reflect.DeepEqual(a.Gaps, b.Gaps) {
		t.Fatalf("gaps %+v, then %+v", a.Gaps, b.Gaps)
	}
	if !reflect.DeepEqual(a.Areas, b.Areas) {
		t.Fatalf("areas %+v, then %+v", a.Areas, b.Areas)
	}
}

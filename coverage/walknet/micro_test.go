package walknet

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"
	"github.com/walkshed/walkshed/coverage"
)

// u is 0.001 degree of a great circle in metres, the unit of the hand-made
// networks in testdata.
const u = float64(coverage.EarthRadius) * math.Pi / 180 / 1000

const testSpeed coverage.Speed = 4

func loadTestdata(t *testing.T, name string, opt Options, edit func(string) string) *Graph {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if edit != nil {
		s = edit(s)
	}
	g, err := LoadReader(context.Background(), strings.NewReader(s), name, opt)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func cellsAt(pts ...orb.Point) []coverage.Cell {
	cells := make([]coverage.Cell, len(pts))
	for i, p := range pts {
		cells[i] = coverage.Cell{Pos: p, Population: 1}
	}
	return cells
}

// nearestMeters runs Nearest and returns each cell's walking distance in
// metres (+Inf when unreached) and station.
func nearestMeters(t *testing.T, r *Reach, stations []orb.Point) ([]float64, []int32) {
	t.Helper()
	out := make([]coverage.Access, len(r.cellSnap))
	if err := r.Nearest(context.Background(), stations, nil, out); err != nil {
		t.Fatal(err)
	}
	m := make([]float64, len(out))
	s := make([]int32, len(out))
	for i, a := range out {
		m[i] = float64(a.Minutes) * testSpeed.MetersPerMinute()
		s[i] = a.Station
	}
	return m, s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func walkableTags(kv ...string) osm.Tags {
	var ts osm.Tags
	for i := 0; i < len(kv); i += 2 {
		ts = append(ts, osm.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return ts
}

// walkableCases are the walking filter's cases, by hand; TestPBFFilter
// runs them through the PBF reader too.
var walkableCases = []struct {
	name string
	tags osm.Tags
	want bool
}{
	{"residential", walkableTags("highway", "residential"), true},
	{"footway", walkableTags("highway", "footway"), true},
	{"empty highway value", walkableTags("highway", ""), true},
	{"no highway", walkableTags("waterway", "river"), false},
	{"ferry", walkableTags("route", "ferry"), false},
	{"area=yes", walkableTags("highway", "pedestrian", "area", "yes"), false},
	{"area=no", walkableTags("highway", "pedestrian", "area", "no"), true},
	{"access=private", walkableTags("highway", "service", "access", "private"), false},
	{"access=permissive", walkableTags("highway", "service", "access", "permissive"), true},
	{"access substring", walkableTags("highway", "track", "access", "agricultural;private"), false},
	{"abandoned", walkableTags("highway", "abandoned"), false},
	{"bus_guideway", walkableTags("highway", "bus_guideway"), false},
	{"construction", walkableTags("highway", "construction"), false},
	{"cycleway", walkableTags("highway", "cycleway"), false},
	{"motorway", walkableTags("highway", "motorway"), false},
	{"motorway_link", walkableTags("highway", "motorway_link"), false},
	{"motorroad substring", walkableTags("highway", "motorroad"), false},
	{"planned", walkableTags("highway", "planned"), false},
	{"platform", walkableTags("highway", "platform"), false},
	{"proposed", walkableTags("highway", "proposed"), false},
	{"raceway", walkableTags("highway", "raceway"), false},
	{"trunk is walkable", walkableTags("highway", "trunk"), true},
	{"foot=no", walkableTags("highway", "primary", "foot", "no"), false},
	{"foot=yes", walkableTags("highway", "primary", "foot", "yes"), true},
	{"foot substring", walkableTags("highway", "primary", "foot", "unknown"), false},
	{"service=private", walkableTags("highway", "service", "service", "private"), false},
	{"service=driveway", walkableTags("highway", "service", "service", "driveway"), true},
	{"case-sensitive", walkableTags("highway", "Cycleway"), true},
	{"last value of a repeated key", walkableTags("highway", "cycleway", "highway", "footway"), true},
	{"tags in any order", walkableTags("foot", "no", "name", "x", "highway", "path"), false},
}

func TestWalkable(t *testing.T) {
	for _, c := range walkableCases {
		if got := Walkable(c.tags); got != c.want {
			t.Errorf("%s: Walkable(%v) = %v, want %v", c.name, c.tags, got, c.want)
		}
	}
}

// TestFilterShortcut checks each clause of the filter on a real graph: the
// square of way 20 is a shortcut (7u) around the detour (9u) only when it
// is walkable.
func TestFilterShortcut(t *testing.T) {
	cases := []struct {
		name     string
		tags     string
		walkable bool
	}{
		{"footway", `<tag k="highway" v="footway"/>`, true},
		{"foot=no", `<tag k="highway" v="primary"/><tag k="foot" v="no"/>`, false},
		{"motorway", `<tag k="highway" v="motorway"/>`, false},
		{"cycleway", `<tag k="highway" v="cycleway"/>`, false},
		{"service=private", `<tag k="highway" v="service"/><tag k="service" v="private"/>`, false},
		{"service=parking_aisle", `<tag k="highway" v="service"/><tag k="service" v="parking_aisle"/>`, true},
		{"area=yes square", `<tag k="highway" v="pedestrian"/><tag k="area" v="yes"/>`, false},
		{"access=private", `<tag k="highway" v="residential"/><tag k="access" v="private"/>`, false},
		{"construction", `<tag k="highway" v="construction"/>`, false},
		{"no highway tag", `<tag k="building" v="yes"/>`, false},
	}
	station := orb.Point{-0.0005, 0.001}
	cell := orb.Point{0.0045, 0.001}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := loadTestdata(t, "shortcut.osm", Options{MinComponent: 1}, func(s string) string {
				return strings.Replace(s, "<!--TAGS-->", c.tags, 1)
			})
			wantWays := 1
			want := 9 * u
			if c.walkable {
				wantWays, want = 2, 7*u
			}
			if st := g.Stats(); st.WaysWalkable != wantWays || st.WaysKept != wantWays {
				t.Errorf("walkable ways %d, kept %d; want %d", st.WaysWalkable, st.WaysKept, wantWays)
			}
			r, err := NewReach(context.Background(), g, cellsAt(cell), testSpeed, 60, Options{})
			if err != nil {
				t.Fatal(err)
			}
			m, s := nearestMeters(t, r, []orb.Point{station})
			if !near(m[0], want, 1e-4) || s[0] != 0 {
				t.Errorf("walk %.6f m (station %d), want %.6f m", m[0], s[0], want)
			}
		})
	}
}

func TestSameEdge(t *testing.T) {
	g := loadTestdata(t, "line.osm", Options{MinComponent: 1}, nil)
	station := orb.Point{0.002, 0.0005}
	cell := orb.Point{0.005, -0.0003}
	r, err := NewReach(context.Background(), g, cellsAt(cell), testSpeed, 60, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := 3.8 * u
	m, _ := nearestMeters(t, r, []orb.Point{station})
	if !near(m[0], want, 1e-6) {
		t.Errorf("Nearest: %.6f m, want %.6f m (0.5u + 3u + 0.3u)", m[0], want)
	}
	// The same from the station as a single source, both ways round.
	var got []float64
	err = r.Within(context.Background(), station, 60, func(c int32, mins coverage.Minutes) {
		got = append(got, float64(mins)*testSpeed.MetersPerMinute())
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !near(got[0], want, 1e-6) {
		t.Errorf("Within: %v, want [%.6f]", got, want)
	}
	// A limit just short of the walk reaches nothing.
	got = got[:0]
	_ = r.Within(context.Background(), station, testSpeed.Walk(coverage.Meters(want-0.01)), func(int32, coverage.Minutes) { got = append(got, 0) })
	if len(got) != 0 {
		t.Errorf("Within below the walk reported %d cells", len(got))
	}
}

func TestRiverDetour(t *testing.T) {
	g := loadTestdata(t, "river.osm", Options{MinComponent: 1}, nil)
	if st := g.Stats(); st.Nodes != 6 || st.Edges != 5 || st.WaysRead != 5 || st.WaysWalkable != 3 {
		t.Errorf("stats %+v, want 6 nodes, 5 edges, 5 ways read, 3 walkable", st)
	}
	station := orb.Point{0.002, -0.0002}
	cell := orb.Point{0.002, 0.0022}
	r, err := NewReach(context.Background(), g, cellsAt(cell), testSpeed, 60, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := nearestMeters(t, r, []orb.Point{station})
	if want := 8.4 * u; !near(m[0], want, 1e-3) {
		t.Errorf("walk %.6f m, want %.6f m", m[0], want)
	}
	if crow := float64(coverage.Distance(station, cell)); m[0] < 3*crow {
		t.Errorf("walk %.1f m is not a detour around the river (straight line %.1f m)", m[0], crow)
	}
	// A 10-minute bound (667 m at 4 km/h) leaves the cell (934 m) unreached.
	r15, err := NewReach(context.Background(), g, cellsAt(cell), testSpeed, 10, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := []coverage.Access{{}}
	if err := r15.Nearest(context.Background(), []orb.Point{station}, nil, out); err != nil {
		t.Fatal(err)
	}
	if out[0] != coverage.NoAccess {
		t.Errorf("bound 10 min: %+v, want no access", out[0])
	}
}

func TestFragment(t *testing.T) {
	station := orb.Point{0.004, -0.0001}
	cell := orb.Point{0.001, 0.0085}
	far := Options{MinComponent: 5, MaxSnap: 1000}

	g := loadTestdata(t, "fragment.osm", far, nil)
	if st := g.Stats(); st.Components != 2 || st.ComponentsDropped != 1 || st.NodesDropped != 3 || st.Nodes != 6 {
		t.Errorf("stats %+v, want 2 components, 1 dropped (3 nodes), 6 nodes left", st)
	}
	r, err := NewReach(context.Background(), g, cellsAt(cell), testSpeed, 60, far)
	if err != nil {
		t.Fatal(err)
	}
	if leg, ok := r.CellSnap(0); !ok || !near(float64(leg), 8.5*u, 1e-6) {
		t.Errorf("cell snap %v %v, want %.6f", leg, ok, 8.5*u)
	}
	m, _ := nearestMeters(t, r, []orb.Point{station})
	if want := 11.6 * u; !near(m[0], want, 1e-6) {
		t.Errorf("walk %.6f m, want %.6f m", m[0], want)
	}

	// Kept, the fragment attracts the cell and strands it.
	g = loadTestdata(t, "fragment.osm", Options{MinComponent: 1}, nil)
	if st := g.Stats(); st.ComponentsDropped != 0 || st.Nodes != 9 {
		t.Errorf("stats %+v, want nothing dropped, 9 nodes", st)
	}
	r, err = NewReach(context.Background(), g, cellsAt(cell), testSpeed, 60, Options{MaxSnap: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if leg, ok := r.CellSnap(0); !ok || !near(float64(leg), 1.5*u, 1e-6) {
		t.Errorf("cell snap %v %v, want %.6f", leg, ok, 1.5*u)
	}
	m, s := nearestMeters(t, r, []orb.Point{station})
	if !math.IsInf(m[0], 1) || s[0] != -1 {
		t.Errorf("walk %v station %d, want unreached", m[0], s[0])
	}

	// With the default MinComponent of 50 nothing is left.
	if _, err := LoadReader(context.Background(), strings.NewReader(readFile(t, "fragment.osm")), "fragment.osm", Options{}); err == nil || !strings.Contains(err.Error(), "fragment.osm") {
		t.Errorf("default MinComponent: error %v, want one naming the file", err)
	}
}

func readFile(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMaxSnap(t *testing.T) {
	g := loadTestdata(t, "line.osm", Options{MinComponent: 1}, nil)
	station := orb.Point{0.002, 0}
	beyond := orb.Point{0.013, 0}                             // 3u = 333.6 m east of node 2
	exact := orb.Point{0.012, 0}                              // 2u east of node 2: snaps to the node exactly
	legExact := coverage.Distance(exact, orb.Point{0.010, 0}) // the leg, bit for bit
	cells := cellsAt(beyond, exact)

	r, err := NewReach(context.Background(), g, cells, testSpeed, 60, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.CellSnap(0); ok {
		t.Error("a cell 333 m from the network snapped with the default 300 m")
	}
	if leg, ok := r.Snap(beyond); ok || !near(float64(leg), 3*u, 1e-6) {
		t.Errorf("Snap(beyond) = %v %v, want %.6f false", leg, ok, 3*u)
	}
	st := r.Stats()
	if st["unreachable_cells"] != 1 || st["cells_snapped"] != 1 {
		t.Errorf("stats %v, want 1 unreachable, 1 snapped", st)
	}
	m, _ := nearestMeters(t, r, []orb.Point{station, beyond})
	if !math.IsInf(m[0], 1) || !near(m[1], 10*u, 1e-6) {
		t.Errorf("walks %v, want [+Inf %.6f]", m, 10*u)
	}
	if r.UnsnappedStations() != 1 || r.Stats()["stations_unsnapped"] != 1 {
		t.Errorf("unsnapped stations %d, want 1", r.UnsnappedStations())
	}

	// A leg of exactly MaxSnap is reachable; a hair less is not.
	r, err = NewReach(context.Background(), g, cells, testSpeed, 60, Options{MaxSnap: legExact})
	if err != nil {
		t.Fatal(err)
	}
	if leg, ok := r.CellSnap(1); !ok || leg != legExact {
		t.Errorf("leg of exactly MaxSnap: %v %v, want %v true", leg, ok, legExact)
	}
	r, err = NewReach(context.Background(), g, cells, testSpeed, 60, Options{MaxSnap: coverage.Meters(math.Nextafter(float64(legExact), 0))})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.CellSnap(1); ok {
		t.Error("a leg a hair over MaxSnap snapped")
	}
}

func TestTie(t *testing.T) {
	g := loadTestdata(t, "tie.osm", Options{MinComponent: 1}, nil)
	const a, b = 0.00390625, 0.0009765625 // 2^-8, 2^-10
	west := orb.Point{-a - b, 0}
	east := orb.Point{a + b, 0}
	cell := orb.Point{0, 0.000244140625}
	r, err := NewReach(context.Background(), g, cellsAt(cell), testSpeed, 60, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := float64(coverage.Distance(west, orb.Point{-a, 0})) + float64(coverage.Distance(orb.Point{-a, 0}, orb.Point{0, 0})) + float64(coverage.Distance(orb.Point{0, 0}, cell))
	for _, order := range [][]orb.Point{{west, east}, {east, west}} {
		m, s := nearestMeters(t, r, order)
		if s[0] != 0 || !near(m[0], want, 1e-6) {
			t.Errorf("stations %v: station %d at %.6f m, want station 0 at %.6f m", order, s[0], m[0], want)
		}
	}
	// A station a millimetre nearer wins although listed second.
	closer := orb.Point{a + b - 1e-8, 0}
	if _, s := nearestMeters(t, r, []orb.Point{west, closer}); s[0] != 1 {
		t.Errorf("nearer second station: got station %d, want 1", s[0])
	}
}

// TestTieDecidedAtANode: the tie between two stations is met inside the
// search (at node 2 of tie_zero.osm), where the station listed second gets
// there first; the one listed first must still win it, in either order and
// with a station listed twice. The walk is worked out from the legs.
func TestTieDecidedAtANode(t *testing.T) {
	g := loadTestdata(t, "tie_zero.osm", Options{MinComponent: 1}, nil)
	if st := g.Stats(); st.Nodes != 5 || st.Edges != 4 {
		t.Fatalf("stats %+v, want 5 nodes and 4 edges", st)
	}
	const a, b = 0.00390625, 0.0009765625 // 2^-8, 2^-10
	west := orb.Point{-a - b, 0}
	east := orb.Point{a + b, 0}
	cells := []orb.Point{{0, a / 2}, {0, a}}
	r, err := NewReach(context.Background(), g, cellsAt(cells...), testSpeed, 60, Options{})
	if err != nil {
		t.Fatal(err)
	}
	toNode2 := float64(coverage.Distance(west, orb.Point{-a, 0})) + float64(coverage.Distance(orb.Point{-a, 0}, orb.Point{0, 0}))
	if mirror := float64(coverage.Distance(east, orb.Point{a, 0})) + float64(coverage.Distance(orb.Point{a, 0}, orb.Point{0, 0})); mirror != toNode2 {
		t.Fatalf("the walks to node 2 differ: %v and %v m", toNode2, mirror)
	}
	cases := []struct {
		name     string
		stations []orb.Point
		want     int32
	}{
		{"east first", []orb.Point{east, west}, 0},
		{"west first", []orb.Point{west, east}, 0},
		{"east twice after west", []orb.Point{west, east, east}, 0},
		{"west between", []orb.Point{east, west, east}, 0},
	}
	for _, tc := range cases {
		m, s := nearestMeters(t, r, tc.stations)
		for i, c := range cells {
			want := toNode2 + float64(coverage.Distance(orb.Point{0, 0}, c))
			if s[i] != tc.want || !near(m[i], want, 1e-6) {
				t.Errorf("%s: cell %d: station %d at %.6f m, want station %d at %.6f m", tc.name, i, s[i], m[i], tc.want, want)
			}
		}
	}
}

// TestBoundIsInclusive: a cell whose walking time is exactly the bound
// gets that time; with a bound a hair shorter, or a Within limit a hair
// shorter, it is unreached. The walk (8.4u on river.osm) is the one
// TestRiverDetour checks by hand.
func TestBoundIsInclusive(t *testing.T) {
	g := loadTestdata(t, "river.osm", Options{MinComponent: 1}, nil)
	station := orb.Point{0.002, -0.0002}
	cell := cellsAt(orb.Point{0.002, 0.0022})
	ctx := context.Background()
	r, err := NewReach(ctx, g, cell, testSpeed, 60, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := []coverage.Access{{}}
	if err := r.Nearest(ctx, []orb.Point{station}, nil, out); err != nil {
		t.Fatal(err)
	}
	exact := out[0].Minutes
	if want := testSpeed.Walk(coverage.Meters(8.4 * u)); out[0].Station != 0 || math.Abs(float64(exact-want)) > 1e-6 {
		t.Fatalf("walk %v min, want %v min", exact, want)
	}
	below := coverage.Minutes(math.Nextafter(float64(exact), 0))
	for _, tc := range []struct {
		bound coverage.Minutes
		want  coverage.Access
	}{
		{exact, coverage.Access{Minutes: exact, Station: 0}},
		{below, coverage.NoAccess},
	} {
		r, err := NewReach(ctx, g, cell, testSpeed, tc.bound, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Nearest(ctx, []orb.Point{station}, nil, out); err != nil {
			t.Fatal(err)
		}
		if out[0] != tc.want {
			t.Errorf("bound %v min: %+v, want %+v", tc.bound, out[0], tc.want)
		}
		// Within stops at its limit and at the bound, whichever is shorter.
		for _, limit := range []coverage.Minutes{exact, 60} {
			var got []coverage.Minutes
			if err := r.Within(ctx, station, limit, func(_ int32, m coverage.Minutes) { got = append(got, m) }); err != nil {
				t.Fatal(err)
			}
			reach := tc.want.Minutes.Reached()
			if (len(got) == 1) != reach || len(got) > 1 || (reach && got[0] != exact) {
				t.Errorf("bound %v min, Within %v min: %v, want the cell at %v min: %v", tc.bound, limit, got, exact, reach)
			}
		}
		var got []coverage.Minutes
		_ = r.Within(ctx, station, below, func(_ int32, m coverage.Minutes) { got = append(got, m) })
		if len(got) != 0 {
			t.Errorf("bound %v min, Within %v min: %v, want nothing", tc.bound, below, got)
		}
	}
}

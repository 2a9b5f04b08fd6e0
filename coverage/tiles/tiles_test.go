package tiles

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
)

// fixture is a small crow-fly study: a disk of res-9 cells around a point
// in Porto Alegre with random populations and a few stations.
func fixture(t testing.TB, seed uint64, radius int, stations int) (*coverage.Result, coverage.Reach) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	centre := h3.LatLngToCell(h3.LatLng{Lat: -30.03, Lng: -51.2}, 9)
	disk := h3.GridDisk(centre, radius)
	slices.Sort(disk)
	cells := make([]coverage.Cell, len(disk))
	for i, c := range disk {
		cells[i] = coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: float64(1 + rng.IntN(200))}
	}
	var st []coverage.Station
	for k := range stations {
		c := cells[rng.IntN(len(cells))]
		st = append(st, coverage.Station{ID: fmt.Sprintf("s%d", k), Name: fmt.Sprintf("Station %d", k), Tier: []string{"district", "local"}[k%2],
			Pos: orb.Point{c.Pos[0] + (rng.Float64()-0.5)*0.002, c.Pos[1] + (rng.Float64()-0.5)*0.002}})
	}
	reach := coverage.NewCrow(cells, 4)
	r, err := coverage.Analyze(context.Background(), coverage.Study{Settings: coverage.Settings{Res: 9, Minutes: 10, SpeedKmh: 4}, Stations: st, Cells: cells}, reach, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, reach
}

// mercator is the Web Mercator position of p in tile units at zoom z,
// written out here from the projection's formula.
func mercator(p orb.Point, z int) (x, y float64) {
	n := math.Exp2(float64(z))
	lat := p[1] * math.Pi / 180
	x = (p[0] + 180) / 360 * n
	y = (1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2 * n
	return x, y
}

// ringTouchesBox reports whether the polygon ring (tile units) meets the
// open box (lo, hi)² (touching its edge is not meeting): a vertex inside, a box corner inside the ring, or an edge
// crossing a box side.
func ringTouchesBox(r [][2]float64, lo, hi float64) bool {
	in := func(p [2]float64) bool { return p[0] > lo && p[0] < hi && p[1] > lo && p[1] < hi }
	for _, p := range r {
		if in(p) {
			return true
		}
	}
	inside := func(q [2]float64) bool {
		c := false
		for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
			a, b := r[i], r[j]
			if (a[1] > q[1]) != (b[1] > q[1]) && q[0] < (b[0]-a[0])*(q[1]-a[1])/(b[1]-a[1])+a[0] {
				c = !c
			}
		}
		return c
	}
	corners := [][2]float64{{lo, lo}, {lo, hi}, {hi, lo}, {hi, hi}}
	for _, c := range corners {
		if inside(c) {
			return true
		}
	}
	cross := func(p1, p2, p3, p4 [2]float64) bool {
		d := func(a, b, c [2]float64) float64 { return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0]) }
		return d(p1, p2, p3)*d(p1, p2, p4) < 0 && d(p3, p4, p1)*d(p3, p4, p2) < 0
	}
	sides := [4][2][2]float64{{{lo, lo}, {hi, lo}}, {{hi, lo}, {hi, hi}}, {{hi, hi}, {lo, hi}}, {{lo, hi}, {lo, lo}}}
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		for _, sd := range sides {
			if cross(a, b, sd[0], sd[1]) {
				return true
			}
		}
	}
	return false
}

// bruteCells lists, from every cell of resolution res over the study (by
// H3 alone, no index), those whose hexagon meets tile t with its buffer,
// with the expected population, covered share and mean minutes.
type want struct {
	pop, share, minutes float64
	reached             bool
	must                bool // clearly inside: must be drawn
}

func bruteCells(r *coverage.Result, t maptile.Tile, res int) map[string]want {
	type sums struct{ pop, cov, mp, rp float64 }
	by := map[h3.Cell]*sums{}
	for i, c := range r.Cells {
		p := c.H3
		if res < c.H3.Resolution() {
			p = c.H3.Parent(res)
		}
		s := by[p]
		if s == nil {
			s = &sums{}
			by[p] = s
		}
		s.pop += c.Population
		m := r.Access[i].Minutes
		if m.Reached() && m <= r.Settings.Minutes {
			s.cov += c.Population
		}
		if m.Reached() {
			s.mp += float64(m) * c.Population
			s.rp += c.Population
		}
	}
	out := map[string]want{}
	for c, s := range by {
		var ring [][2]float64
		for _, ll := range h3.CellToBoundary(c) {
			x, y := mercator(orb.Point{ll.Lng, ll.Lat}, int(t.Z))
			ring = append(ring, [2]float64{(x - float64(t.X)) * Extent, (y - float64(t.Y)) * Extent})
		}
		// Within a tile unit of the edge the projection's integer
		// coordinates decide; such cells may be drawn or not.
		const eps = 1.0
		if !ringTouchesBox(ring, -Buffer-eps, Extent+Buffer+eps) {
			continue
		}
		w := want{pop: s.pop, share: s.cov / s.pop, reached: s.rp > 0, must: ringTouchesBox(ring, -Buffer+eps, Extent+Buffer-eps)}
		if s.rp > 0 {
			w.minutes = s.mp / s.rp
		}
		out[c.String()] = w
	}
	return out
}

func decode(t testing.TB, b []byte) *mvt.Layer {
	t.Helper()
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 {
		t.Fatalf("%d layers in a tile, want 1", len(ls))
	}
	return ls[0]
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case int:
		return float64(x)
	}
	return math.NaN()
}

// tilesOver lists the tiles of zoom z over the result's cells.
func tilesOver(r *coverage.Result, z int) []maptile.Tile {
	set := map[maptile.Tile]bool{}
	for _, c := range r.Cells {
		set[maptile.At(c.Pos, maptile.Zoom(z))] = true
	}
	var out []maptile.Tile
	for t := range set {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Quadkey() < out[j].Quadkey() })
	return out
}

// checkCells compares a cells tile with the brute force.
func checkCells(t *testing.T, r *coverage.Result, src *Source, tile maptile.Tile) {
	t.Helper()
	b, err := src.Tile(Cells, uint32(tile.Z), tile.X, tile.Y)
	if err != nil {
		t.Fatal(err)
	}
	res := ResForZoom(int(tile.Z), 9)
	exp := bruteCells(r, tile, res)
	got := map[string]bool{}
	for _, f := range decode(t, b).Features {
		id := f.Properties["h3"].(string)
		got[id] = true
		w, ok := exp[id]
		if !ok {
			t.Errorf("tile %v: cell %s drawn but does not meet the tile", tile, id)
			continue
		}
		if p := num(f.Properties["population"]); p != w.pop {
			t.Errorf("tile %v cell %s: population %v, want %v", tile, id, p, w.pop)
		}
		m, has := f.Properties["minutes"]
		if has != w.reached || has && math.Abs(num(m)-w.minutes) > 0.005+1e-9 {
			t.Errorf("tile %v cell %s: minutes %v (present %v), want %v (reached %v)", tile, id, m, has, w.minutes, w.reached)
		}
		if res == 9 {
			if c := num(f.Properties["covered"]); c != w.share {
				t.Errorf("tile %v cell %s: covered %v, want %v", tile, id, c, w.share)
			}
		} else if s := num(f.Properties["share"]); math.Abs(s-w.share) > 0.00005+1e-9 {
			t.Errorf("tile %v cell %s: share %v, want %v", tile, id, s, w.share)
		}
		if g, ok := f.Geometry.(orb.Polygon); !ok || shoelace(g[0]) <= 0 {
			t.Errorf("tile %v cell %s: outer ring not wound as vector tiles want (%v)", tile, id, f.Geometry)
		}
	}
	for id, w := range exp {
		if w.must && !got[id] {
			t.Errorf("tile %v: cell %s meets the tile but is not drawn", tile, id)
		}
	}
}

func TestCellTilesMatchBruteForce(t *testing.T) {
	r, _ := fixture(t, 1, 14, 4)
	src, err := New(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range []int{3, 7, 9, 11, 12, 14, 16, 18} {
		for _, tile := range tilesOver(r, z) {
			checkCells(t, r, src, tile)
		}
	}
}

func TestResForZoom(t *testing.T) {
	for _, c := range []struct{ z, res, want int }{
		{0, 9, 1}, {6, 9, 5}, {8, 9, 6}, {9, 9, 7}, {10, 9, 8}, {11, 9, 9}, {14, 9, 9}, {13, 11, 10}, {22, 12, 12}, {10, 7, 7}, {-14, 9, 0},
	} {
		if got := ResForZoom(c.z, c.res); got != c.want {
			t.Errorf("ResForZoom(%d, %d) = %d, want %d", c.z, c.res, got, c.want)
		}
	}
}

// TestChangedKeepsTilesFresh applies random openings and closings and,
// after each, checks every tile the source had cached against a new
// source made from the result as it now stands.
func TestChangedKeepsTilesFresh(t *testing.T) {
	r, reach := fixture(t, 2, 12, 5)
	src, err := New(r, Options{Tiers: []string{"district", "local"}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	zooms := []int{5, 9, 10, 11, 12, 13, 15}
	type tk struct {
		layer string
		tile  maptile.Tile
	}
	var all []tk
	for _, z := range zooms {
		for _, tile := range tilesOver(r, z) {
			for _, l := range Layers {
				all = append(all, tk{l, tile})
			}
		}
	}
	for step := range 12 {
		for _, k := range all { // fill the cache
			if _, err := src.Tile(k.layer, uint32(k.tile.Z), k.tile.X, k.tile.Y); err != nil {
				t.Fatal(err)
			}
		}
		before := slices.Clone(r.Access)
		var ev coverage.Event
		var at orb.Point
		if step%3 == 2 && len(r.Stations) > 1 {
			s := r.Stations[rng.IntN(len(r.Stations))]
			ev = coverage.Event{Action: coverage.Close, Station: coverage.Station{ID: s.ID}}
			at = s.Pos
		} else {
			c := r.Cells[rng.IntN(len(r.Cells))]
			at = c.Pos
			ev = coverage.Event{Action: coverage.Open, Station: coverage.Station{ID: fmt.Sprintf("n%d", step), Tier: "local", Pos: at}}
		}
		if _, err := coverage.Update(context.Background(), r, reach, []coverage.Event{ev}); err != nil {
			t.Fatal(err)
		}
		var changed []int32
		for i := range before {
			if before[i].Minutes != r.Access[i].Minutes {
				changed = append(changed, int32(i))
			}
		}
		if len(changed) == 0 {
			t.Fatalf("step %d: the edit changed no cell; the test needs edits that do", step)
		}
		src.Changed(changed, []orb.Point{at})
		fresh, err := New(r, Options{Tiers: []string{"district", "local"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range all {
			a, err1 := src.Tile(k.layer, uint32(k.tile.Z), k.tile.X, k.tile.Y)
			b, err2 := fresh.Tile(k.layer, uint32(k.tile.Z), k.tile.X, k.tile.Y)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if fa, fb := featureSet(t, a), featureSet(t, b); !slices.Equal(fa, fb) {
				t.Fatalf("step %d: %s tile %v kept stale content after the edit:\n got %v\nwant %v", step, k.layer, k.tile, fa, fb)
			}
		}
	}
}

// featureSet is a tile's features as sorted strings of geometry type and
// properties.
func featureSet(t testing.TB, b []byte) []string {
	var out []string
	for _, f := range decode(t, b).Features {
		keys := make([]string, 0, len(f.Properties))
		for k := range f.Properties {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		s := f.Geometry.GeoJSONType()
		for _, k := range keys {
			s += fmt.Sprintf(" %s=%v", k, f.Properties[k])
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func TestStationsGapsAndAreasTiles(t *testing.T) {
	r, _ := fixture(t, 4, 14, 25)
	r.Areas = nil
	src, err := New(r, Options{Tiers: []string{"district", "local"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Gaps) < 2 {
		t.Fatalf("the fixture has %d gaps; the test needs several", len(r.Gaps))
	}
	for _, z := range []int{8, 12, 14} {
		for _, tile := range tilesOver(r, z) {
			sel := tile.Bound(float64(Buffer) / Extent)
			// Stations: exactly those inside the buffered tile, with
			// their tier's level.
			var want []string
			for _, s := range r.Stations {
				if sel.Contains(s.Pos) {
					want = append(want, fmt.Sprintf("%s/%s/%d", s.ID, s.Tier, map[string]int{"district": 0, "local": 1}[s.Tier]))
				}
			}
			b, _ := src.Tile(Stations, uint32(tile.Z), tile.X, tile.Y)
			var got []string
			for _, f := range decode(t, b).Features {
				got = append(got, fmt.Sprintf("%s/%s/%d", f.Properties["id"], f.Properties["tier"], int(num(f.Properties["level"]))))
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("stations tile %v: %v, want %v", tile, got, want)
			}
			// Gap labels: one per gap whose point is inside, with its
			// rank and population.
			var wantG []string
			for _, g := range r.Gaps {
				if sel.Contains(g.Point) {
					wantG = append(wantG, fmt.Sprintf("%d:%v", g.ID, math.Round(g.Population)))
				}
			}
			b, _ = src.Tile(Gaps, uint32(tile.Z), tile.X, tile.Y)
			var gotG []string
			outlines := 0
			for _, f := range decode(t, b).Features {
				switch f.Properties["kind"] {
				case "label":
					gotG = append(gotG, fmt.Sprintf("%d:%v", int(num(f.Properties["rank"])), num(f.Properties["population"])))
				case "outline":
					outlines++
					if p, ok := f.Geometry.(orb.Polygon); ok && shoelace(p[0]) <= 0 {
						t.Errorf("gaps tile %v: outline not wound as vector tiles want", tile)
					}
				}
			}
			slices.Sort(wantG)
			slices.Sort(gotG)
			if !slices.Equal(gotG, wantG) {
				t.Errorf("gaps tile %v: labels %v, want %v", tile, gotG, wantG)
			}
			if len(gotG) > outlines {
				t.Errorf("gaps tile %v: %d labels but %d outlines", tile, len(gotG), outlines)
			}
		}
	}
}

func TestStreetsTiles(t *testing.T) {
	r, _ := fixture(t, 5, 3, 1)
	// One 5 km street east-west through a zoom-16 tile whose corners it
	// never touches, and a short one far away.
	mid := orb.Point{-51.2, -30.03}
	long := [2]orb.Point{{mid[0] - 0.026, mid[1]}, {mid[0] + 0.026, mid[1]}}
	short := [2]orb.Point{{-51.0, -30.2}, {-51.0005, -30.2}}
	src, err := New(r, Options{Streets: [][2]orb.Point{long, short}})
	if err != nil {
		t.Fatal(err)
	}
	count := func(tile maptile.Tile) int {
		b, err := src.Tile(Streets, uint32(tile.Z), tile.X, tile.Y)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range decode(t, b).Features {
			if ml, ok := f.Geometry.(orb.MultiLineString); ok {
				n += len(ml)
			} else if _, ok := f.Geometry.(orb.LineString); ok {
				n++
			}
		}
		return n
	}
	for _, z := range []maptile.Zoom{StreetsMinZoom, 14, 16, 18, 20} {
		if n := count(maptile.At(mid, z)); n == 0 {
			t.Errorf("zoom %d: the street through the tile is not drawn", z)
		}
		// A tile north of the street, beyond the buffer, has none.
		north := maptile.At(mid, z)
		north.Y -= 3
		if n := count(north); n != 0 {
			t.Errorf("zoom %d: %d street lines in a tile the street does not cross", z, n)
		}
	}
	if n := count(maptile.At(mid, StreetsMinZoom-1)); n != 0 {
		t.Errorf("zoom %d: %d street lines below the streets' zoom", StreetsMinZoom-1, n)
	}
}

func TestTileRefusals(t *testing.T) {
	r, _ := fixture(t, 6, 2, 1)
	src, err := New(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		layer   string
		z, x, y uint32
		want    error
	}{
		{"roads", 10, 0, 0, ErrUnknownLayer},
		{Cells, MaxZoom + 1, 0, 0, ErrOutOfRange},
		{Cells, 3, 8, 0, ErrOutOfRange},
		{Cells, 3, 0, 8, ErrOutOfRange},
	} {
		if _, err := src.Tile(c.layer, c.z, c.x, c.y); !errors.Is(err, c.want) {
			t.Errorf("Tile(%s, %d, %d, %d) = %v, want %v", c.layer, c.z, c.x, c.y, err, c.want)
		}
	}
	if _, err := src.Tile(Cells, 3, 7, 7); err != nil {
		t.Errorf("the last tile of zoom 3: %v", err)
	}
}

package coverage

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
)

func mustCell(t *testing.T, p orb.Point, res int) h3.Cell {
	t.Helper()
	c, err := CellOf(p, res)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sphereArea is orb's spherical area rescaled from its Earth radius
// (6,378,137 m) to H3's authalic radius (6,371,007.18 m).
func sphereArea(p orb.Polygon) float64 {
	k := 6371007.180918475 / 6378137.0
	return geo.Area(p) * k * k
}

func cellAreaSum(cells []h3.Cell) float64 {
	var a float64
	for _, c := range cells {
		a += h3.CellAreaM2(c)
	}
	return a
}

func TestDissolveRingWithHole(t *testing.T) {
	for _, at := range []orb.Point{{121.47, 31.23}, {-51.2, -30.0}, {10, 60}, {179.999, 0.5}} {
		centre := mustCell(t, at, 9)
		ring := slices.DeleteFunc(centre.GridDisk(1), func(c h3.Cell) bool { return c == centre })
		poly := Dissolve(ring)
		if len(poly) != 2 {
			t.Fatalf("%v: %d rings, want outer + 1 hole", at, len(poly))
		}
		// Outer ring: 18 edges of the 6 outer cells = 18 vertices; the hole is
		// the centre hexagon (6 vertices).
		if n := len(poly[0]) - 1; n != 18 {
			t.Errorf("%v: outer ring has %d vertices, want 18", at, n)
		}
		if n := len(poly[1]) - 1; n != 6 {
			t.Errorf("%v: hole has %d vertices, want 6", at, n)
		}
		if lonLatArea(poly[0]) <= 0 || lonLatArea(poly[1]) >= 0 {
			t.Errorf("%v: outer ring must be counter-clockwise and the hole clockwise", at)
		}
		// The dissolved area (outer minus hole, on the sphere) equals the sum
		// of H3's own cell areas.
		got := sphereArea(poly)
		want := cellAreaSum(ring)
		if math.Abs(got-want)/want > 0.0002 {
			t.Errorf("%v: area %.0f m², cells sum to %.0f m²", at, got, want)
		}
		// The centre lies in the hole, a ring cell's centre inside the polygon.
		if planar.PolygonContains(unwrapPoly(poly, at), unwrapPt(CellCenter(centre), at)) {
			t.Errorf("%v: the hole's centre is inside the outline", at)
		}
		if !planar.PolygonContains(unwrapPoly(poly, at), unwrapPt(CellCenter(ring[0]), at)) {
			t.Errorf("%v: a member's centre is outside the outline", at)
		}
	}
}

func unwrapPt(p, ref orb.Point) orb.Point { return orb.Point{ref[0] + wrapLon(p[0]-ref[0]), p[1]} }

func unwrapPoly(poly orb.Polygon, ref orb.Point) orb.Polygon {
	out := make(orb.Polygon, len(poly))
	for i, r := range poly {
		for _, p := range r {
			out[i] = append(out[i], unwrapPt(p, ref))
		}
	}
	return out
}

func TestDissolveSingleCellIsItsHexagon(t *testing.T) {
	c := mustCell(t, orb.Point{2.35, 48.85}, 10)
	poly := Dissolve([]h3.Cell{c})
	if len(poly) != 1 || len(poly[0]) != 7 {
		t.Fatalf("got %d rings, %d vertices", len(poly), len(poly[0]))
	}
	hex := CellRing(c)
	for _, p := range poly[0] {
		found := false
		for _, q := range hex {
			if math.Abs(p[0]-q[0]) < 1e-12 && math.Abs(p[1]-q[1]) < 1e-12 {
				found = true
			}
		}
		if !found {
			t.Fatalf("outline vertex %v is not a vertex of the cell", p)
		}
	}
}

func TestDissolveLargeBlobArea(t *testing.T) {
	centre := mustCell(t, orb.Point{-51.2, -30.03}, 9)
	disk := centre.GridDisk(6) // 127 cells
	poly := Dissolve(disk)
	if len(poly) != 1 {
		t.Fatalf("a disk has no holes, got %d rings", len(poly))
	}
	if got, want := sphereArea(poly), cellAreaSum(disk); math.Abs(got-want)/want > 0.0002 {
		t.Fatalf("area %.0f, cells %.0f", got, want)
	}
}

// resultFrom builds a result over the given cells with hand-set access.
func resultFrom(cells []Cell, minutes []Minutes) *Result {
	r := &Result{Settings: DefaultSettings, Cells: cells, Access: make([]Access, len(cells))}
	for i, m := range minutes {
		r.Access[i] = Access{Minutes: m, Station: 0}
		if !m.Reached() {
			r.Access[i].Station = -1
		}
	}
	r.Stations = []Station{{ID: "s"}}
	return r
}

func TestFindGapsComponentsAndRanking(t *testing.T) {
	// Two uncovered groups separated by covered cells, on a line of cells:
	// a ring-1 disk around A (7 cells, 10 people each) uncovered; a far single
	// cell B with 100 people uncovered; everything else covered.
	a := mustCell(t, orb.Point{121.47, 31.23}, 9)
	diskA := a.GridDisk(1)
	b := mustCell(t, orb.Point{121.52, 31.23}, 9)
	covered := slices.DeleteFunc(a.GridDisk(2), func(c h3.Cell) bool { return slices.Contains(diskA, c) })
	var cells []Cell
	var minutes []Minutes
	add := func(c h3.Cell, pop float64, m Minutes) {
		cells = append(cells, Cell{H3: c, Pos: CellCenter(c), Population: pop})
		minutes = append(minutes, m)
	}
	for _, c := range diskA {
		add(c, 10, 20)
	}
	for _, c := range covered {
		add(c, 5, 3)
	}
	add(b, 100, Unreached)
	// Sort by H3 as the pipeline does, keeping minutes aligned.
	idx := make([]int, len(cells))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		if cells[i].H3 < cells[j].H3 {
			return -1
		}
		return 1
	})
	sc, sm := make([]Cell, len(cells)), make([]Minutes, len(cells))
	for k, i := range idx {
		sc[k], sm[k] = cells[i], minutes[i]
	}
	r := resultFrom(sc, sm)
	gaps := FindGaps(r)
	if len(gaps) != 2 {
		t.Fatalf("%d gaps, want 2", len(gaps))
	}
	if gaps[0].ID != 1 || gaps[0].Population != 100 || len(gaps[0].Cells) != 1 || gaps[0].MaxMinutes.Reached() {
		t.Errorf("gap 1 = %+v, want the unreached cell B with 100 people", gaps[0])
	}
	if gaps[1].Population != 70 || len(gaps[1].Cells) != 7 || gaps[1].MaxMinutes != 20 {
		t.Errorf("gap 2 = pop %v cells %d max %v, want 70, 7, 20", gaps[1].Population, len(gaps[1].Cells), gaps[1].MaxMinutes)
	}
	if gaps[1].Point != CellCenter(a) {
		t.Errorf("gap 2 point %v, want the centre cell %v", gaps[1].Point, CellCenter(a))
	}
	tot := r.Totals()
	if tot.Population != 70+12*5+100 || tot.CoveredPopulation != 60 || tot.UnreachedCells != 1 {
		t.Errorf("totals %+v", tot)
	}
}

func TestAggregatePointsCellsPolygons(t *testing.T) {
	res := 9
	c := mustCell(t, orb.Point{121.47, 31.23}, res)
	fine := mustCell(t, CellCenter(c), 11) // a child of c
	coarse := c.Parent(8)
	pop := Population{
		Points: []PopPoint{{Pos: CellCenter(c), Population: 3}, {Pos: CellCenter(c), Population: 4}},
		Cells:  []PopCell{{H3: fine, Population: 10}, {H3: coarse, Population: 70}},
		Polygons: []PopPolygon{
			{Geom: orb.MultiPolygon{{CellRing(c)}}, Population: 1000},
		},
	}
	cells, err := Aggregate(pop, res)
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	got := map[h3.Cell]float64{}
	for _, x := range cells {
		total += x.Population
		got[x.H3] = x.Population
	}
	if math.Abs(total-pop.Total()) > 1e-6 {
		t.Fatalf("total %v, want %v", total, pop.Total())
	}
	// c gets 7 from points, 10 from the fine cell, 10 as one of coarse's 7
	// children, and the whole polygon (its own hexagon) up to slivers.
	if want := 7 + 10 + 10 + 1000.0; math.Abs(got[c]-want) > 1e-3 {
		t.Fatalf("cell c has %v, want %v", got[c], want)
	}
	for _, k := range coarse.Children(res) {
		if k != c && math.Abs(got[k]-10) > 1e-3 {
			t.Fatalf("child %v has %v, want 10", k, got[k])
		}
	}
}

func TestAggregatePolygonAreaShares(t *testing.T) {
	// A 1.2 km × 0.8 km rectangle over res-9 cells: each cell's share must
	// match the fraction of a fine sample grid of the rectangle that falls in
	// the cell (an independent area estimate).
	min, max := orb.Point{-51.2200, -30.0400}, orb.Point{-51.2076, -30.0328}
	rect := orb.Ring{min, {max[0], min[1]}, max, {min[0], max[1]}, min}
	cells, err := Aggregate(Population{Polygons: []PopPolygon{{Geom: orb.MultiPolygon{{rect}}, Population: 1e6}}}, 9)
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	counts := map[h3.Cell]float64{}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			p := orb.Point{min[0] + (float64(i)+0.5)/n*(max[0]-min[0]), min[1] + (float64(j)+0.5)/n*(max[1]-min[1])}
			counts[mustCell(t, p, 9)]++
		}
	}
	var total float64
	for _, c := range cells {
		total += c.Population
		want := counts[c.H3] / (n * n) * 1e6
		if math.Abs(c.Population-want) > 0.01*1e6/float64(len(cells))+200 {
			t.Errorf("cell %v: %.0f people, sample estimate %.0f", c.H3, c.Population, want)
		}
	}
	if math.Abs(total-1e6) > 1e-6 {
		t.Fatalf("total %v", total)
	}
	if len(cells) != len(counts) {
		t.Errorf("%d cells got people, the sample touches %d", len(cells), len(counts))
	}
}

// bruteGaps groups the uncovered populated cells of r by union-find over
// H3 neighbours (GridDisk of radius 1), ranked as the gaps are: by
// population, then by lowest cell index. Each gap is its cells, people and
// worst time.
func bruteGaps(r *Result) []Gap {
	n := len(r.Cells)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	open := func(i int) bool { return !r.Covered(i) && r.Cells[i].Population > 0 }
	for i := range r.Cells {
		if !open(i) {
			continue
		}
		for _, c := range r.Cells[i].H3.GridDisk(1) {
			if j := r.CellIndex(c); j >= 0 && open(j) {
				parent[find(i)] = find(j)
			}
		}
	}
	byRoot := map[int]*Gap{}
	var roots []int
	for i := range r.Cells {
		if !open(i) {
			continue
		}
		g := byRoot[find(i)]
		if g == nil {
			g = &Gap{}
			byRoot[find(i)] = g
			roots = append(roots, find(i))
		}
		g.Cells = append(g.Cells, int32(i))
		g.Population += r.Cells[i].Population
		g.MaxMinutes = max(g.MaxMinutes, r.Access[i].Minutes)
	}
	var gaps []Gap
	for _, root := range roots {
		gaps = append(gaps, *byRoot[root])
	}
	slices.SortStableFunc(gaps, func(a, b Gap) int {
		switch {
		case a.Population != b.Population:
			if a.Population > b.Population {
				return -1
			}
			return 1
		case a.Cells[0] < b.Cells[0]:
			return -1
		}
		return 1
	})
	return gaps
}

// TestUpdateGapsEqualsFindGaps changes one to three cells' times at a time,
// thousands of times over, on a patchwork of covered and uncovered cells,
// and checks that the gaps rebuilt from the changed cells equal the gaps
// found afresh, field for field, and that both equal brute force: gaps
// merge when a cell between them is uncovered, split when one is covered,
// and change their worst time when a cell is retimed.
func TestUpdateGapsEqualsFindGaps(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 3))
	hub := mustCell(t, orb.Point{121.47, 31.23}, 9)
	var cells []Cell
	for _, c := range hub.GridDisk(7) {
		pop := float64(1 + r.IntN(9))
		if r.Float64() < 0.05 {
			pop = 0 // an empty cell never belongs to a gap
		}
		cells = append(cells, Cell{H3: c, Pos: CellCenter(c), Population: pop})
	}
	slices.SortFunc(cells, func(a, b Cell) int { return cmpCell(a.H3, b.H3) })
	draw := func() Minutes {
		switch x := r.Float64(); {
		case x < 0.5:
			return Minutes(r.IntN(16)) // covered, up to exactly the threshold
		case x < 0.9:
			return Minutes(16 + r.IntN(30))
		}
		return Unreached
	}
	minutes := make([]Minutes, len(cells))
	for i := range minutes {
		minutes[i] = draw()
	}
	res := resultFrom(cells, minutes)
	res.Gaps = FindGaps(res)
	merged, split := 0, 0
	for step := 0; step < 2000; step++ {
		var changed []int32
		for range 1 + r.IntN(3) {
			i := int32(r.IntN(len(cells)))
			m := draw()
			res.Access[i] = Access{Minutes: m}
			if !m.Reached() {
				res.Access[i].Station = -1
			}
			changed = append(changed, i)
		}
		before := len(res.Gaps)
		got := UpdateGaps(res, res.Gaps, changed)
		want := FindGaps(res)
		if len(got) != len(want) {
			t.Fatalf("step %d: %d gaps rebuilt, %d found afresh", step, len(got), len(want))
		}
		for k := range want {
			g, w := got[k], want[k]
			if g.ID != w.ID || g.Population != w.Population || !slices.Equal(g.Cells, w.Cells) ||
				g.MaxMinutes != w.MaxMinutes || g.Point != w.Point || !orb.Equal(g.Outline, w.Outline) {
				t.Fatalf("step %d gap %d: rebuilt %+v, found afresh %+v", step, k, g, w)
			}
		}
		brute := bruteGaps(res)
		if len(brute) != len(want) {
			t.Fatalf("step %d: %d gaps, brute force %d", step, len(want), len(brute))
		}
		for k := range brute {
			if w, b := want[k], brute[k]; w.ID != k+1 || w.Population != b.Population || !slices.Equal(w.Cells, b.Cells) || w.MaxMinutes != b.MaxMinutes {
				t.Fatalf("step %d gap %d: %d cells, %v people, worst %v; brute force %d, %v, %v", step, k, len(w.Cells), w.Population, w.MaxMinutes, len(b.Cells), b.Population, b.MaxMinutes)
			}
		}
		switch {
		case len(got) < before:
			merged++
		case len(got) > before:
			split++
		}
		res.Gaps = got
	}
	if merged < 100 || split < 100 {
		t.Fatalf("%d steps merged gaps and %d split them: the case does not exercise both", merged, split)
	}
}

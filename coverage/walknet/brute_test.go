package walknet

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// randomOSM writes a jittered street grid of nx × ny nodes near latitude
// 30° as OSM XML: random runs along grid lines, some of them not walkable.
func randomOSM(rng *rand.Rand, nx, ny int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n<osm version=\"0.6\">\n")
	id := func(i, j int) int { return 1 + j*nx + i }
	for j := range ny {
		for i := range nx {
			lon := 10 + float64(i)*0.001 + (rng.Float64()-0.5)*0.0004
			lat := 30 + float64(j)*0.001 + (rng.Float64()-0.5)*0.0004
			fmt.Fprintf(&b, "<node id=\"%d\" lon=\"%.7f\" lat=\"%.7f\"/>\n", id(i, j), lon, lat)
		}
	}
	highways := []string{"residential", "footway", "service", "primary", "motorway", "cycleway", "path"}
	way := 1
	addRun := func(ids []int) {
		fmt.Fprintf(&b, "<way id=\"%d\">", way)
		way++
		for _, n := range ids {
			fmt.Fprintf(&b, "<nd ref=\"%d\"/>", n)
		}
		fmt.Fprintf(&b, "<tag k=\"highway\" v=\"%s\"/></way>\n", highways[rng.IntN(len(highways))])
	}
	for j := range ny {
		for i := 0; i < nx-1; {
			n := 1 + rng.IntN(4)
			if rng.Float64() < 0.8 {
				var ids []int
				for k := i; k <= min(i+n, nx-1); k++ {
					ids = append(ids, id(k, j))
				}
				addRun(ids)
			}
			i += n
		}
	}
	for i := range nx {
		for j := 0; j < ny-1; {
			n := 1 + rng.IntN(4)
			if rng.Float64() < 0.7 {
				var ids []int
				for k := j; k <= min(j+n, ny-1); k++ {
					ids = append(ids, id(i, k))
				}
				addRun(ids)
			}
			j += n
		}
	}
	b.WriteString("</osm>\n")
	return b.String()
}

type bruteSnapped struct {
	seg           int32
	pt            orb.Point
	leg, toA, toB float64
}

// slerp interpolates along the great circle from a to b; the angle comes
// from the haversine distance, which stays precise for short arcs.
func slerp(a, b orb.Point, t float64) orb.Point {
	av, bv := unitVec(a), unitVec(b)
	om := float64(coverage.Distance(a, b)) / float64(coverage.EarthRadius)
	if om == 0 {
		return a
	}
	s0, s1 := math.Sin((1-t)*om)/math.Sin(om), math.Sin(t*om)/math.Sin(om)
	v := [3]float64{s0*av[0] + s1*bv[0], s0*av[1] + s1*bv[1], s0*av[2] + s1*bv[2]}
	return orb.Point{math.Atan2(v[1], v[0]) / degToRad, math.Atan2(v[2], math.Hypot(v[0], v[1])) / degToRad}
}

// edgeBoxes are the lon/lat boxes of the edges' ends.
func edgeBoxes(g *Graph) [][2][2]float64 {
	boxes := make([][2][2]float64, g.Stats().Edges)
	for s := range boxes {
		ai, bi, _ := g.Edge(int32(s))
		a, _ := g.Node(ai)
		b, _ := g.Node(bi)
		boxes[s] = [2][2]float64{{math.Min(a[0], b[0]), math.Min(a[1], b[1])}, {math.Max(a[0], b[0]), math.Max(a[1], b[1])}}
	}
	return boxes
}

// bruteSnapNear scans the edges that can come within margin metres of p
// (boxes from edgeBoxes, or every edge when margin is infinite); it returns
// seg -1 when none does. On each edge, the nearest point is where the arc's
// tangent turns from approaching p to leaving it: the sign of p·slerp'(t)
// found by bisection. An edge's points lie in the lon/lat box of its ends
// give or take the bow of the arc (millimetres for a city's streets,
// covered by the slack below); a box farther than margin in latitude (R·Δφ
// is a lower bound on the distance) or, with a tenth off for the
// approximation, in longitude at the cosine of a degree poleward of p,
// holds no point within margin.
func bruteSnapNear(g *Graph, p orb.Point, margin float64, boxes [][2][2]float64) bruteSnapped {
	best := bruteSnapped{seg: -1, leg: math.Inf(1)}
	pv := unitVec(p)
	mdeg := (margin + 10) / (float64(coverage.EarthRadius) * degToRad)
	mlon := mdeg / (0.9 * math.Cos((math.Abs(p[1])+1)*degToRad))
	if boxes == nil && !math.IsInf(margin, 1) {
		boxes = edgeBoxes(g)
	}
	if mdeg > 1 { // the longitude bound holds within a degree of p
		boxes = nil
	}
	for s := int32(0); s < int32(g.Stats().Edges); s++ {
		if boxes != nil {
			b := &boxes[s]
			if p[1] < b[0][1]-mdeg || p[1] > b[1][1]+mdeg || p[0] < b[0][0]-mlon || p[0] > b[1][0]+mlon {
				continue
			}
		}
		ai, bi, _ := g.Edge(s)
		a, _ := g.Node(ai)
		b, _ := g.Node(bi)
		av, bv := unitVec(a), unitVec(b)
		om := float64(coverage.Distance(a, b)) / float64(coverage.EarthRadius)
		approaching := func(t float64) bool {
			ca, cb := -math.Cos((1-t)*om), math.Cos(t*om)
			return pv[0]*(ca*av[0]+cb*bv[0])+pv[1]*(ca*av[1]+cb*bv[1])+pv[2]*(ca*av[2]+cb*bv[2]) > 0
		}
		var q orb.Point
		switch {
		case om == 0 || !approaching(0):
			q = a
		case approaching(1):
			q = b
		default:
			lo, hi := 0.0, 1.0
			for range 200 {
				m := (lo + hi) / 2
				if approaching(m) {
					lo = m
				} else {
					hi = m
				}
			}
			q = slerp(a, b, (lo+hi)/2)
		}
		d := float64(coverage.Distance(p, q))
		if d >= best.leg-1e-7 {
			continue
		}
		best = bruteSnapped{seg: s, pt: q, leg: d, toA: float64(coverage.Distance(q, a)), toB: float64(coverage.Distance(q, b))}
		if q != a && q != b {
			// The bisection pins the leg (flat at its minimum) but not the
			// foot along the arc; place the foot by the right spherical
			// triangle p–foot–end instead: hav c = hav a + hav b − 2 hav a hav b.
			best.toA = footDistance(float64(coverage.Distance(p, a)), d)
			best.toB = footDistance(float64(coverage.Distance(p, b)), d)
		}
	}
	return best
}

// footDistance is the side b of a right spherical triangle with hypotenuse
// c and side a, all in metres.
func footDistance(c, a float64) float64 {
	R := float64(coverage.EarthRadius)
	hav := func(x float64) float64 { s := math.Sin(x / R / 2); return s * s }
	hb := (hav(c) - hav(a)) / (1 - 2*hav(a))
	return 2 * R * math.Asin(math.Sqrt(math.Max(hb, 0)))
}

type pqItem struct {
	v int32
	d float64
}
type pq []pqItem

func (h pq) Len() int           { return len(h) }
func (h pq) Less(i, j int) bool { return h[i].d < h[j].d }
func (h pq) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pq) Push(x any)        { *h = append(*h, x.(pqItem)) }
func (h *pq) Pop() any          { o := *h; x := o[len(o)-1]; *h = o[:len(o)-1]; return x }

// bruteDistances walks from one snapped point to every cell with a plain
// Dijkstra, stopped past limit metres (cells farther get a distance
// above limit, or +Inf).
func bruteDistances(g *Graph, src bruteSnapped, cells []bruteSnapped, limit float64) []float64 {
	n := g.Stats().Nodes
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	h := &pq{}
	a, b, _ := g.Edge(src.seg)
	for _, x := range []pqItem{{a, src.leg + src.toA}, {b, src.leg + src.toB}} {
		if x.d < dist[x.v] {
			dist[x.v] = x.d
			heap.Push(h, x)
		}
	}
	for h.Len() > 0 {
		it := heap.Pop(h).(pqItem)
		if it.d > dist[it.v] {
			continue
		}
		if it.d > limit {
			break
		}
		g.Neighbors(it.v, func(w, e int32) {
			_, _, l := g.Edge(e)
			if d := it.d + float64(l); d < dist[w] {
				dist[w] = d
				heap.Push(h, pqItem{w, d})
			}
		})
	}
	out := make([]float64, len(cells))
	for i, c := range cells {
		if c.seg < 0 {
			out[i] = math.Inf(1)
			continue
		}
		ca, cb, _ := g.Edge(c.seg)
		d := math.Min(dist[ca]+c.toA, dist[cb]+c.toB)
		if c.seg == src.seg {
			d = math.Min(d, src.leg+math.Abs(src.toA-c.toA))
		}
		out[i] = d + c.leg
	}
	return out
}

// crossCheck compares Nearest and Within with brute force on g.
func crossCheck(t *testing.T, g *Graph, cellPts, stations []orb.Point, bound coverage.Minutes, maxSnap float64) {
	t.Helper()
	crossCheckCells(t, g, cellsAt(cellPts...), stations, bound, maxSnap, 1)
}

// bruteReference is the walk from each station to each cell by brute
// force: every point snapped by bruteSnapNear, then one plain Dijkstra per
// station, stopped past limit metres. A station farther than maxSnap from
// every edge has a nil row; cells farther than maxSnap are unreachable
// (+Inf in every row). cellSnap is each cell's brute-force snap.
func bruteReference(g *Graph, cellPts, stations []orb.Point, maxSnap, limit float64) (perStation [][]float64, cellSnap []bruteSnapped) {
	boxes := edgeBoxes(g)
	cellSnap = make([]bruteSnapped, len(cellPts))
	for i, p := range cellPts {
		cellSnap[i] = bruteSnapNear(g, p, maxSnap, boxes)
		if cellSnap[i].leg > maxSnap {
			cellSnap[i].seg = -1
		}
	}
	perStation = make([][]float64, len(stations))
	for s, p := range stations {
		sp := bruteSnapNear(g, p, maxSnap, boxes)
		if sp.leg > maxSnap {
			continue
		}
		perStation[s] = bruteDistances(g, sp, cellSnap, limit)
	}
	return perStation, cellSnap
}

// bestOf is the shortest walk to cell c over the stations, the station
// listed first among those at that walk, and the second-shortest walk from
// another station.
func bestOf(perStation [][]float64, c int) (best, second float64, station int32) {
	best, second, station = math.Inf(1), math.Inf(1), -1
	for s, ds := range perStation {
		if ds == nil {
			continue
		}
		switch d := ds[c]; {
		case d < best:
			best, second, station = d, best, int32(s)
		case d < second:
			second = d
		}
	}
	return best, second, station
}

// crossCheckCells compares Nearest, for every cell, and Within, from every
// withinEvery-th station, with brute force on g, and returns the model,
// Nearest's answer and the brute-force walks in metres (+Inf when
// unreachable).
// Cells whose walk is within a micrometre of the bound or of Within's limit
// may go either way and are not checked there; the station is checked
// where no other is within a micrometre.
func crossCheckCells(t *testing.T, g *Graph, cells []coverage.Cell, stations []orb.Point, bound coverage.Minutes, maxSnap float64, withinEvery int) (*Reach, []coverage.Access, []float64) {
	t.Helper()
	ctx := context.Background()
	cellPts := make([]orb.Point, len(cells))
	for i, c := range cells {
		cellPts[i] = c.Pos
	}
	r, err := NewReach(ctx, g, cells, testSpeed, bound, Options{MaxSnap: coverage.Meters(maxSnap)})
	if err != nil {
		t.Fatal(err)
	}
	mpm := testSpeed.MetersPerMinute()
	boundM := float64(bound) * mpm
	perStation, bc := bruteReference(g, cellPts, stations, maxSnap, boundM+1)
	for i := range cellPts {
		leg, ok := r.CellSnap(int32(i))
		if ok != (bc[i].seg >= 0) || (ok && !near(float64(leg), bc[i].leg, 1e-6)) {
			t.Fatalf("cell %d: snap %v %v, brute force %v", i, leg, ok, bc[i].leg)
		}
	}
	out := make([]coverage.Access, len(cellPts))
	if err := r.Nearest(ctx, stations, nil, out); err != nil {
		t.Fatal(err)
	}
	unsnapped := 0
	for _, row := range perStation {
		if row == nil {
			unsnapped++
		}
	}
	if r.UnsnappedStations() != unsnapped {
		t.Errorf("%d stations unsnapped, brute force leaves %d", r.UnsnappedStations(), unsnapped)
	}
	bests := make([]float64, len(cellPts))
	checked := 0
	for c := range cellPts {
		best, second, bs := bestOf(perStation, c)
		bests[c] = best
		if math.Abs(best-boundM) < 1e-6 {
			continue // on the bound: either answer is right
		}
		got := float64(out[c].Minutes) * mpm
		if best > boundM {
			if out[c] != coverage.NoAccess {
				t.Errorf("cell %d: %+v, brute force %.6f m beyond the bound", c, out[c], best)
			}
			continue
		}
		checked++
		if !near(got, best, 1e-6) || (second-best > 1e-6 && out[c].Station != bs) {
			t.Errorf("cell %d: %.6f m station %d, brute force %.6f m station %d", c, got, out[c].Station, best, bs)
		}
	}
	// Within from stations against their own brute-force distances.
	limit := bound * 0.7
	for s, p := range stations {
		if s%withinEvery != 0 {
			continue
		}
		got := map[int32]float64{}
		err := r.Within(ctx, p, limit, func(c int32, m coverage.Minutes) {
			if _, dup := got[c]; dup {
				t.Errorf("Within reported cell %d twice", c)
			}
			got[c] = float64(m) * mpm
		})
		if err != nil {
			t.Fatal(err)
		}
		limitM := float64(limit) * mpm
		for c := range cellPts {
			want := math.Inf(1)
			if perStation[s] != nil {
				want = perStation[s][c]
			}
			if math.Abs(want-limitM) < 1e-6 {
				continue
			}
			d, ok := got[int32(c)]
			switch {
			case ok != (want <= limitM):
				t.Errorf("Within station %d cell %d: reported %v, brute force %.6f m (limit %.1f)", s, c, ok, want, limitM)
			case ok && !near(d, want, 1e-6):
				t.Errorf("Within station %d cell %d: %.6f m, brute force %.6f m", s, c, d, want)
			}
		}
	}
	t.Logf("%d cells, %d within the bound checked, %d stations (%d unsnapped)", len(cellPts), checked, len(stations), unsnapped)
	return r, out, bests
}

func TestBruteForceRandom(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			src := randomOSM(rng, 14, 12)
			g, err := LoadReader(context.Background(), strings.NewReader(src), "random.osm", Options{MinComponent: 1 + int(seed%3)*3})
			if err != nil {
				t.Fatal(err)
			}
			pt := func() orb.Point {
				return orb.Point{10 - 0.002 + rng.Float64()*0.017, 30 - 0.002 + rng.Float64()*0.015}
			}
			var cells, stations []orb.Point
			for range 150 {
				cells = append(cells, pt())
			}
			for range 6 {
				stations = append(stations, pt())
			}
			// A station and a cell on top of each other, and a station
			// listed twice: equal times go to the first.
			cells = append(cells, stations[0])
			stations = append(stations, stations[2])
			crossCheck(t, g, cells, stations, 12, 150)
		})
	}
}

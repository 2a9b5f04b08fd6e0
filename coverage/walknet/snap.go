package walknet

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

const degToRad = math.Pi / 180

// metersPerDegree is the length of one degree of a great circle.
const metersPerDegree = float64(coverage.EarthRadius) * degToRad

// snap is a point attached to the network: the nearest point on the
// nearest segment.
type snap struct {
	Seg int32     // segment index, -1 when the graph has none
	Pt  orb.Point // the nearest point on the segment
	Leg float64   // haversine metres from the input point to Pt
	ToA float64   // haversine metres from Pt to the segment's first node
	ToB float64   // haversine metres from Pt to the segment's second node
}

var noSnap = snap{Seg: -1, Leg: math.Inf(1)}

func unitVec(p orb.Point) [3]float64 {
	lon, lat := p[0]*degToRad, p[1]*degToRad
	cl := math.Cos(lat)
	return [3]float64{cl * math.Cos(lon), cl * math.Sin(lon), math.Sin(lat)}
}

func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

// nearestOnArc returns the point of the great-circle arc a–b nearest to p.
// Segments are great-circle arcs, as their haversine lengths say; when the
// foot of the perpendicular from p falls outside the arc, the nearer end is
// returned exactly (the first end on a tie).
func nearestOnArc(p, a, b orb.Point) orb.Point {
	if a == b {
		return a
	}
	if f, ok := footOnArc(unitVec(p), unitVec(a), unitVec(b)); ok {
		lat := math.Atan2(f[2], math.Hypot(f[0], f[1])) / degToRad
		lon := math.Atan2(f[1], f[0]) / degToRad
		return orb.Point{lon, lat}
	}
	if coverage.Distance(p, b) < coverage.Distance(p, a) {
		return b
	}
	return a
}

// footOnArc is the foot of the perpendicular from pv to the great circle
// through av and bv (unit vectors), and whether it falls inside the arc
// between them.
func footOnArc(pv, av, bv [3]float64) ([3]float64, bool) {
	// (b+a)×(b−a) = 2 a×b, but with the rounding error of the difference
	// turning the plane about the segment's own midpoint rather than about
	// an axis anywhere on the globe: a×b of two nearly equal vectors is off
	// by tens of micrometres, this by nanometres.
	n := cross([3]float64{bv[0] + av[0], bv[1] + av[1], bv[2] + av[2]},
		[3]float64{bv[0] - av[0], bv[1] - av[1], bv[2] - av[2]})
	nn := dot(n, n)
	if nn > 0 {
		k := dot(pv, n) / nn
		f := [3]float64{pv[0] - k*n[0], pv[1] - k*n[1], pv[2] - k*n[2]}
		mid := [3]float64{av[0] + bv[0], av[1] + bv[1], av[2] + bv[2]}
		if dot(cross(av, f), n) >= 0 && dot(cross(f, bv), n) >= 0 && dot(f, mid) > 0 && dot(f, f) > 0 {
			return f, true
		}
	}
	return [3]float64{}, false
}

// snapTo attaches p to segment s.
func (g *Graph) snapTo(p orb.Point, s int32) snap {
	a := orb.Point{g.lon[g.segA[s]], g.lat[g.segA[s]]}
	b := orb.Point{g.lon[g.segB[s]], g.lat[g.segB[s]]}
	q := nearestOnArc(p, a, b)
	return snap{
		Seg: s,
		Pt:  q,
		Leg: float64(coverage.Distance(p, q)),
		ToA: float64(coverage.Distance(q, a)),
		ToB: float64(coverage.Distance(q, b)),
	}
}

// segLeg is the leg from p to segment s, as nearestOnArc finds the foot
// (pv and cosP are p's unit vector and cosine of latitude, computed once
// per point), with the leg to an inner foot measured as the angle between
// the vectors. It agrees with coverage.Distance to the foot within
// nanometres, and to the bit at the segment's ends, so equal legs at a
// shared node still tie.
func (g *Graph) segLeg(p orb.Point, pv [3]float64, cosP float64, s int32) float64 {
	a, b := g.segA[s], g.segB[s]
	pa, pb := orb.Point{g.lon[a], g.lat[a]}, orb.Point{g.lon[b], g.lat[b]}
	if pa != pb {
		if f, ok := footOnArc(pv, unitVec(pa), unitVec(pb)); ok {
			c := cross(pv, f)
			return float64(coverage.EarthRadius) * math.Atan2(math.Sqrt(dot(c, c)), dot(pv, f))
		}
	}
	da := haversine(p[0], p[1], cosP, g.lon[a], g.lat[a], g.cosLat[a])
	db := haversine(p[0], p[1], cosP, g.lon[b], g.lat[b], g.cosLat[b])
	return min(da, db)
}

// buildTree indexes every segment's lon/lat box.
func (g *Graph) buildTree() {
	g.treeOnce.Do(func() {
		raw := make([]float64, 4*len(g.segA))
		parallel(len(g.segA), func(lo, hi int) {
			for s := lo; s < hi; s++ {
				a, b := g.segA[s], g.segB[s]
				x0, y0, x1, y1 := g.lon[a], g.lat[a], g.lon[b], g.lat[b]
				raw[4*s], raw[4*s+1], raw[4*s+2], raw[4*s+3] = min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
			}
		})
		g.tree = newBoxIndex(raw)
	})
}

// boxLowerBound is a lower bound in metres on the great-circle distance
// from p to any point of the lon/lat box, valid up to a few thousand
// kilometres: with c the smallest cosine of latitude between p and the box,
// haversine ≥ R·sqrt(Δφ² + c²Δλ²)·(1 − Δ²/24), and 0.99 covers the last
// factor. Segments do not cross the antimeridian in city extracts.
func boxLowerBound(p orb.Point, min, max [2]float64) float64 {
	var dlat, dlon float64
	switch {
	case p[1] < min[1]:
		dlat = min[1] - p[1]
	case p[1] > max[1]:
		dlat = p[1] - max[1]
	}
	switch {
	case p[0] < min[0]:
		dlon = min[0] - p[0]
	case p[0] > max[0]:
		dlon = p[0] - max[0]
	}
	if dlon == 0 {
		return 0.99 * dlat * metersPerDegree
	}
	lo, hi := math.Min(p[1], min[1]), math.Max(p[1], max[1])
	c := math.Min(math.Cos(lo*degToRad), math.Cos(hi*degToRad))
	if c < 0 {
		c = 0
	}
	return 0.99 * math.Hypot(dlat, dlon*c) * metersPerDegree
}

// segLowerBound is a cheap lower bound in metres on the leg from p to
// segment s: the distance to the straight lon/lat segment with longitudes
// scaled by the smallest cosine of latitude involved (a lower bound as in
// boxLowerBound), less how far a great-circle arc can bow away from the
// straight lon/lat segment (under L²/2R for latitudes below 75°).
func (g *Graph) segLowerBound(p orb.Point, cosP float64, s int32) float64 {
	a, b := g.segA[s], g.segB[s]
	c := min(cosP, g.cosLat[a], g.cosLat[b])
	ax, ay := (g.lon[a]-p[0])*c, g.lat[a]-p[1]
	bx, by := (g.lon[b]-p[0])*c, g.lat[b]-p[1]
	dx, dy := bx-ax, by-ay
	t := 0.0
	if ll := dx*dx + dy*dy; ll > 0 {
		t = max(0, min(1, -(ax*dx+ay*dy)/ll))
	}
	d := math.Hypot(ax+t*dx, ay+t*dy) * metersPerDegree
	l := g.segLen[s]
	return 0.99*d - l*l/(2*float64(coverage.EarthRadius)) - 1e-6
}

// nearest attaches p to the nearest point of the nearest segment. Among
// segments at exactly the same distance the lowest index wins, so snapping
// is deterministic. Points farther than limit metres return noSnap (and
// stop the search early). The R-tree yields segments in order of a cheap
// lower bound; the exact leg is computed for each until the bound passes
// the best leg found.
func (g *Graph) nearest(p orb.Point, limit float64) snap {
	g.buildTree()
	cosP := math.Cos(p[1] * degToRad)
	pv := unitVec(p)
	best, bestLeg := int32(-1), math.Inf(1)
	// Boxes of growing radius first: a segment whose leg is at most r has
	// a point within r of p, so its box meets the query box of radius r
	// (padded by a metre for the bow of long arcs). Once the best leg is
	// within r, nothing outside can beat it.
	for r := 40.0; r < 4*limit && r < 20000; r *= 4 {
		rr := r + 1
		dlat := rr / metersPerDegree
		c := math.Cos((math.Abs(p[1]) + dlat) * degToRad)
		if c <= 0.01 {
			break
		}
		dlon := dlat / c
		g.tree.search([2]float64{p[0] - dlon, p[1] - dlat}, [2]float64{p[0] + dlon, p[1] + dlat},
			func(s int32) bool {
				if lb := g.segLowerBound(p, cosP, s); lb > bestLeg || lb > r {
					return true
				}
				if d := g.segLeg(p, pv, cosP, s); d < bestLeg || (d == bestLeg && s < best) {
					best, bestLeg = s, d
				}
				return true
			})
		if bestLeg <= r {
			if bestLeg > limit {
				return noSnap
			}
			return g.snapTo(p, best)
		}
		if r >= limit {
			return noSnap
		}
	}
	best, bestLeg = -1, math.Inf(1)
	g.tree.nearby(
		func(min, max [2]float64, s int32, item bool) float64 {
			if item {
				return g.segLowerBound(p, cosP, s)
			}
			return boxLowerBound(p, min, max)
		},
		func(s int32, lb float64) bool {
			if lb > bestLeg || lb > limit {
				return false
			}
			d := g.segLeg(p, pv, cosP, s)
			if d < bestLeg || (d == bestLeg && s < best) {
				best, bestLeg = s, d
			}
			return true
		},
	)
	if best < 0 || bestLeg > limit {
		return noSnap
	}
	return g.snapTo(p, best)
}

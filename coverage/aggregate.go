package coverage

import (
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// Aggregate turns population read from files into demand cells at H3
// resolution res, keeping the population total: points go to the cell that
// contains them; H3 cells at res are taken as they are, finer ones go to
// their parent, coarser ones are spread evenly over their children at res
// (the parent's area is split equally, as H3 children have nearly equal
// areas); polygons are split over the cells they overlap in proportion to
// the overlapping area. Cells that end up with no population are left out.
// The result is sorted by H3 index.
func Aggregate(pop Population, res int) ([]Cell, error) {
	if res < 0 || res > h3.MaxResolution {
		return nil, fmt.Errorf("coverage: H3 resolution %d outside 0..%d", res, h3.MaxResolution)
	}
	acc := make(map[h3.Cell]float64, len(pop.Cells)+len(pop.Points)/4+16)
	for i, p := range pop.Points {
		c, err := CellOf(p.Pos, res)
		if err != nil {
			return nil, fmt.Errorf("coverage: population point %d: %w", i+1, err)
		}
		acc[c] += p.Population
	}
	for i, pc := range pop.Cells {
		if !pc.H3.IsValid() {
			return nil, fmt.Errorf("coverage: population cell %d: invalid H3 index %v", i+1, pc.H3)
		}
		r := pc.H3.Resolution()
		switch {
		case r == res:
			acc[pc.H3] += pc.Population
		case r > res:
			acc[pc.H3.Parent(res)] += pc.Population
		default:
			if res-r > 6 {
				return nil, fmt.Errorf("coverage: population cell %v at resolution %d is too coarse to spread over resolution %d (more than 6 levels)", pc.H3, r, res)
			}
			kids := pc.H3.Children(res)
			share := pc.Population / float64(len(kids))
			for _, k := range kids {
				acc[k] += share
			}
		}
	}
	for i, pp := range pop.Polygons {
		if err := splitPolygon(pp, res, acc); err != nil {
			return nil, fmt.Errorf("coverage: population polygon %d: %w", i+1, err)
		}
	}
	cells := make([]Cell, 0, len(acc))
	for c, n := range acc {
		if n > 0 {
			cells = append(cells, Cell{H3: c, Population: n})
		}
	}
	slices.SortFunc(cells, func(a, b Cell) int {
		switch {
		case a.H3 < b.H3:
			return -1
		case a.H3 > b.H3:
			return 1
		}
		return 0
	})
	// Centres through H3 (a C call each) on every core.
	splitRange(len(cells), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			cells[i].Pos = CellCenter(cells[i].H3)
		}
	})
	return cells, nil
}

// splitPolygon spreads a polygon's population over the H3 cells it overlaps
// in proportion to the overlap area. Areas are measured in a local
// equirectangular plane around the polygon, accurate to well under 0.1 % at
// city scale; the shares are normalised so the polygon's population is kept
// exactly whatever the projection error.
func splitPolygon(pp PopPolygon, res int, acc map[h3.Cell]float64) error {
	if pp.Population == 0 {
		return nil
	}
	if len(pp.Geom) == 0 {
		return fmt.Errorf("empty polygon")
	}
	b := pp.Geom.Bound()
	origin := b.Center()
	proj := newLocalPlane(origin)
	type overlap struct {
		c h3.Cell
		a float64
	}
	var parts []overlap
	var total float64
	seen := map[h3.Cell]bool{}
	for _, poly := range pp.Geom {
		if len(poly) == 0 || len(poly[0]) < 3 {
			continue
		}
		local := make([][][2]float64, len(poly))
		for r, ring := range poly {
			local[r] = proj.ring(ring)
		}
		// Breadth-first over neighbours from the cells of the outer ring's
		// vertices: the cells overlapping a connected polygon are connected.
		var queue []h3.Cell
		for _, v := range poly[0] {
			c, err := CellOf(v, res)
			if err != nil {
				return err
			}
			if !seen[c] {
				seen[c] = true
				queue = append(queue, c)
			}
		}
		for len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			hex := proj.ring(CellRing(c))
			a := 0.0
			for r, ring := range local {
				x := math.Abs(ringArea(clipConvex(ring, hex)))
				if r == 0 {
					a += x
				} else {
					a -= x
				}
			}
			if a <= 0 {
				continue
			}
			parts = append(parts, overlap{c, a})
			total += a
			for _, n := range c.GridDisk(1) {
				if !seen[n] {
					seen[n] = true
					queue = append(queue, n)
				}
			}
		}
	}
	if total <= 0 {
		// A degenerate polygon (no area): its people live at its first vertex.
		for _, poly := range pp.Geom {
			if len(poly) > 0 && len(poly[0]) > 0 {
				c, err := CellOf(poly[0][0], res)
				if err != nil {
					return err
				}
				acc[c] += pp.Population
				return nil
			}
		}
		return fmt.Errorf("polygon without vertices")
	}
	// Overlaps below a millionth of the polygon are slivers of coordinate
	// rounding (a polygon drawn on the H3 grid and reprojected touches its
	// neighbours by square millimetres): they are dropped and the shares
	// renormalised, so the total stays exact.
	kept := 0.0
	for _, p := range parts {
		if p.a >= 1e-6*total {
			kept += p.a
		}
	}
	for _, p := range parts {
		if p.a >= 1e-6*total {
			acc[p.c] += pp.Population * p.a / kept
		}
	}
	return nil
}

// localPlane is an equirectangular projection in metres around an origin.
type localPlane struct {
	lon0, lat0, kx, ky float64
}

func newLocalPlane(o orb.Point) localPlane {
	ky := float64(EarthRadius) * degToRad
	return localPlane{lon0: o[0], lat0: o[1], kx: ky * math.Cos(o[1]*degToRad), ky: ky}
}

func (l localPlane) point(p orb.Point) [2]float64 {
	return [2]float64{wrapLon(p[0]-l.lon0) * l.kx, (p[1] - l.lat0) * l.ky}
}

func (l localPlane) ring(r orb.Ring) [][2]float64 {
	out := make([][2]float64, 0, len(r))
	for _, p := range r {
		out = append(out, l.point(p))
	}
	if len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	return out
}

// ringArea is the signed shoelace area (positive counter-clockwise) of an
// open ring.
func ringArea(r [][2]float64) float64 {
	var s float64
	for i := range r {
		j := (i + 1) % len(r)
		s += r[i][0]*r[j][1] - r[j][0]*r[i][1]
	}
	return s / 2
}

// clipConvex clips subject (any simple ring, open) by a convex ring given
// counter-clockwise (Sutherland–Hodgman). With a convex clip window the area
// of the output equals the area of the intersection, even for a concave
// subject whose output carries zero-area bridges.
func clipConvex(subject, clip [][2]float64) [][2]float64 {
	out := subject
	for i := range clip {
		if len(out) == 0 {
			break
		}
		a, b := clip[i], clip[(i+1)%len(clip)]
		in := out
		out = make([][2]float64, 0, len(in)+2)
		inside := func(p [2]float64) bool {
			return (b[0]-a[0])*(p[1]-a[1])-(b[1]-a[1])*(p[0]-a[0]) >= 0
		}
		cross := func(p, q [2]float64) [2]float64 {
			// Intersection of segment pq with the line ab.
			d1 := (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
			d2 := (b[0]-a[0])*(q[1]-a[1]) - (b[1]-a[1])*(q[0]-a[0])
			t := d1 / (d1 - d2)
			return [2]float64{p[0] + t*(q[0]-p[0]), p[1] + t*(q[1]-p[1])}
		}
		for j := range in {
			p, q := in[j], in[(j+1)%len(in)]
			pin, qin := inside(p), inside(q)
			switch {
			case pin && qin:
				out = append(out, q)
			case pin && !qin:
				out = append(out, cross(p, q))
			case !pin && qin:
				out = append(out, cross(p, q), q)
			}
		}
	}
	return out
}

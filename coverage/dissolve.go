package coverage

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
)

// Dissolve returns the outline of a connected set of H3 cells as one polygon:
// the outer ring counter-clockwise and holes clockwise (RFC 7946). It keeps
// every cell edge whose neighbour across is not in the set and chains those
// edges end to start. Three cells meet at every H3 vertex, so each vertex of
// the outline has exactly one outgoing edge and the rings never pinch.
// For cells that are not connected it returns the outline of the largest
// piece only; FindGaps only passes connected sets.
func Dissolve(cells []h3.Cell) orb.Polygon {
	if len(cells) == 0 {
		return nil
	}
	in := make(map[h3.Cell]bool, len(cells))
	for _, c := range cells {
		in[c] = true
	}
	var edges [][]orb.Point
	for _, c := range cells {
		for _, e := range c.DirectedEdges() {
			if in[e.Destination()] {
				continue
			}
			if pts := edgeLine(e); len(pts) >= 2 {
				edges = append(edges, pts)
			}
		}
	}
	return chainOutline(edges, false)
}

// chainOutline chains boundary edges (each a polyline traced with the set
// on its left) into the outline polygon. When the set is known to be
// connected, every clockwise ring is a hole of the one outer ring (H3 cells
// meet neighbours across whole edges, so a connected set has one outer
// boundary), and no containment test is needed; otherwise a clockwise ring
// is kept only when it lies inside the largest piece's outer ring.
func chainOutline(lines [][]orb.Point, connected bool) orb.Polygon {
	if len(lines) == 0 {
		return nil
	}
	type edge struct {
		pts  []orb.Point
		used bool
		next int32 // the next edge starting at the same vertex key, or -1
	}
	edges := make([]edge, len(lines))
	starts := make(map[vkey]int32, len(lines))
	for i, pts := range lines {
		k := keyOf(pts[0])
		head, ok := starts[k]
		if !ok {
			head = -1
		}
		edges[i] = edge{pts: pts, next: head}
		starts[k] = int32(i)
	}
	bucket := func(k vkey) int {
		head, ok := starts[k]
		if !ok {
			return -1
		}
		for i := head; i >= 0; i = edges[i].next {
			if !edges[i].used {
				return int(i)
			}
		}
		return -1
	}
	// Coordinates of one vertex computed from two cells can differ in the
	// last bits; vertices are matched on a 1e-9° grid (0.1 mm), then on the
	// neighbouring grid keys.
	find := func(p orb.Point) int {
		k := keyOf(p)
		if i := bucket(k); i >= 0 {
			return i
		}
		for dx := int64(-1); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				if i := bucket(vkey{k.x + dx, k.y + dy}); i >= 0 {
					return i
				}
			}
		}
		return -1
	}
	var rings []orb.Ring
	for i := range edges {
		if edges[i].used {
			continue
		}
		var ring orb.Ring
		j := i
		for j >= 0 && !edges[j].used {
			edges[j].used = true
			ring = append(ring, edges[j].pts[:len(edges[j].pts)-1]...)
			j = find(edges[j].pts[len(edges[j].pts)-1])
		}
		if len(ring) < 3 {
			continue
		}
		// Unwrap longitudes relative to the first vertex (antimeridian).
		for k := 1; k < len(ring); k++ {
			ring[k][0] = ring[0][0] + wrapLon(ring[k][0]-ring[0][0])
		}
		ring = append(ring, ring[0])
		rings = append(rings, ring)
	}
	if len(rings) == 0 {
		return nil
	}
	// Traced with the set on the left, outer rings run counter-clockwise and
	// holes clockwise. The outer ring is the largest counter-clockwise one;
	// the holes are the clockwise rings inside it.
	outer := -1
	area := make([]float64, len(rings))
	for k, r := range rings {
		area[k] = lonLatArea(r)
		if area[k] > 0 && (outer < 0 || area[k] > area[outer]) {
			outer = k
		}
	}
	if outer < 0 {
		return nil
	}
	poly := orb.Polygon{rings[outer]}
	box := rings[outer].Bound()
	for k, h := range rings {
		if k == outer || area[k] >= 0 {
			continue
		}
		if connected || (box.Contains(h[0]) && planar.RingContains(rings[outer], h[0])) {
			poly = append(poly, h)
		}
	}
	return poly
}

type vkey struct{ x, y int64 }

func keyOf(p orb.Point) vkey {
	return vkey{int64(math.Round(p[0] * 1e9)), int64(math.Round(p[1] * 1e9))}
}

// lonLatArea is the signed shoelace area in squared degrees, positive for
// counter-clockwise rings; only its sign and relative size are used.
func lonLatArea(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s / 2
}

package coverage

import (
	"math"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// cellsOutline traces the outer boundary of a hole-free connected set of H3
// cells from their hexagons: an edge belongs to the boundary when no other
// cell of the set has it too, and boundary edges are chained end to start.
// Vertices shared by neighbouring cells agree to rounding only, so they are
// matched within a nanodegree.
func cellsOutline(t *testing.T, cells []h3.Cell) orb.Ring {
	t.Helper()
	same := func(a, b orb.Point) bool { return math.Abs(a[0]-b[0]) < 1e-9 && math.Abs(a[1]-b[1]) < 1e-9 }
	type edge struct{ a, b orb.Point }
	var all []edge
	for _, c := range cells {
		r := CellRing(c)
		for i := 0; i+1 < len(r); i++ {
			all = append(all, edge{r[i], r[i+1]})
		}
	}
	var outer []edge
	for i, e := range all {
		shared := false
		for j, f := range all {
			if i != j && same(e.a, f.b) && same(e.b, f.a) {
				shared = true
				break
			}
		}
		if !shared {
			outer = append(outer, e)
		}
	}
	ring := orb.Ring{outer[0].a}
	used := make([]bool, len(outer))
	used[0] = true
	at := outer[0].b
	for range len(outer) - 1 {
		next := -1
		for j, e := range outer {
			if !used[j] && same(e.a, at) {
				next = j
				break
			}
		}
		if next < 0 {
			t.Fatalf("the outline of %d cells does not close", len(cells))
		}
		used[next] = true
		ring = append(ring, outer[next].a)
		at = outer[next].b
	}
	if !same(at, ring[0]) {
		t.Fatalf("the outline of %d cells does not close", len(cells))
	}
	return append(ring, ring[0])
}

// TestAggregatePolygonWithHoles spreads a polygon with two holes over the
// cells: the outer ring is the outline of the 19 res-9 cells within two
// steps of a centre cell, one hole is the centre cell's own hexagon and the
// other the hexagon of a res-10 cell lying wholly inside one outer cell. Each
// cell's expected share is worked out from H3's own spherical cell areas: an
// outer cell holds its whole area, the cell with the small hole its area less
// the hole's, the centre nothing, and the total is kept.
func TestAggregatePolygonWithHoles(t *testing.T) {
	for _, at := range []orb.Point{{121.47, 31.23}, {-51.2, -30.03}, {10.75, 59.91}} {
		centre := mustCell(t, at, 9)
		disk := centre.GridDisk(2)
		if len(disk) != 19 {
			t.Fatalf("%v: disk of %d cells", at, len(disk))
		}
		outer := cellsOutline(t, disk)
		if n := len(outer) - 1; n != 30 {
			t.Fatalf("%v: outline of the disk has %d vertices, want 30", at, n)
		}
		// The cell with the small hole: one two steps from the centre.
		var holed h3.Cell
		for _, c := range disk {
			if centre.GridDistance(c) == 2 {
				holed = c
				break
			}
		}
		// Its centre child: a hexagon of 1/7 of the area around the same
		// centre, wholly inside the parent.
		small := mustCell(t, CellCenter(holed), 10)
		const people = 1e6
		poly := orb.Polygon{outer, reverse(CellRing(centre)), reverse(CellRing(small))}
		cells, err := Aggregate(Population{Polygons: []PopPolygon{{Geom: orb.MultiPolygon{poly}, Population: people}}}, 9)
		if err != nil {
			t.Fatal(err)
		}

		area := map[h3.Cell]float64{}
		var sum float64
		for _, c := range disk {
			switch c {
			case centre:
				continue
			case holed:
				area[c] = h3.CellAreaM2(c) - h3.CellAreaM2(small)
			default:
				area[c] = h3.CellAreaM2(c)
			}
			sum += area[c]
		}
		got := map[h3.Cell]float64{}
		var total float64
		for _, c := range cells {
			got[c.H3] = c.Population
			total += c.Population
		}
		if math.Abs(total-people) > 1e-6 {
			t.Errorf("%v: total %.9f, want %v", at, total, float64(people))
		}
		if _, ok := got[centre]; ok {
			t.Errorf("%v: the centre cell, wholly a hole, got %.3f people", at, got[centre])
		}
		if len(got) != len(area) {
			t.Errorf("%v: %d cells got people, want the %d outer cells", at, len(got), len(area))
		}
		for c, a := range area {
			want := people * a / sum
			// The planar areas of the split match spherical ones to 2e-4
			// at this size (the cosine of latitude varies by that across
			// the disk at 60°N); a hole is 1/18 of the total (the centre)
			// and 1/7 of a cell (the small one).
			if math.Abs(got[c]-want) > 5e-4*want {
				t.Errorf("%v: cell %v has %.3f people, its area share is %.3f", at, c, got[c], want)
			}
		}
	}
}

func reverse(r orb.Ring) orb.Ring {
	out := slices.Clone(r)
	slices.Reverse(out)
	return out
}

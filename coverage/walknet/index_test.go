package walknet

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// randomBoxes are n boxes in [0, 100)², mostly small, some long and thin,
// some points, some repeated.
func randomBoxes(rng *rand.Rand, n int) []float64 {
	raw := make([]float64, 0, 4*n)
	for i := range n {
		if i > 0 && rng.IntN(20) == 0 { // the same box as an earlier one
			k := rng.IntN(i)
			raw = append(raw, raw[4*k:4*k+4]...)
			continue
		}
		x, y := rng.Float64()*100, rng.Float64()*100
		w, h := rng.Float64()*2, rng.Float64()*2
		switch rng.IntN(6) {
		case 0:
			w = rng.Float64() * 40
		case 1:
			h = rng.Float64() * 40
		case 2:
			w, h = 0, 0
		}
		raw = append(raw, x, y, x+w, y+h)
	}
	return raw
}

// TestBoxIndexSearch compares search with a scan of every box, for index
// sizes around the node size and its powers, and boxes touching the query
// only at an edge or corner (closed boxes meet there).
func TestBoxIndexSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 1))
	for _, n := range []int{0, 1, 2, 15, 16, 17, 255, 256, 257, 1000, 5000} {
		raw := randomBoxes(rng, n)
		ix := newBoxIndex(raw)
		for q := range 200 {
			var lo, hi [2]float64
			if q%10 == 0 && n > 0 { // exactly an item's box: its edges touch
				k := rng.IntN(n)
				lo, hi = [2]float64{raw[4*k+2], raw[4*k+3]}, [2]float64{raw[4*k+2] + 1, raw[4*k+3] + 1}
			} else {
				x, y := rng.Float64()*110-5, rng.Float64()*110-5
				lo, hi = [2]float64{x, y}, [2]float64{x + rng.Float64()*10, y + rng.Float64()*10}
			}
			var want, got []int32
			for i := range n {
				b := raw[4*i : 4*i+4]
				if b[0] <= hi[0] && b[2] >= lo[0] && b[1] <= hi[1] && b[3] >= lo[1] {
					want = append(want, int32(i))
				}
			}
			ix.search(lo, hi, func(id int32) bool { got = append(got, id); return true })
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d query %v–%v: %d items, a scan finds %d", n, lo, hi, len(got), len(want))
			}
			// Stopping at the first item.
			calls := 0
			ix.search(lo, hi, func(int32) bool { calls++; return false })
			if calls != min(1, len(want)) {
				t.Fatalf("n=%d: %d calls after a stop, want %d", n, calls, min(1, len(want)))
			}
		}
		if n > 0 {
			lo, hi, ok := ix.bounds()
			wlo, whi := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
			for i := range n {
				wlo = [2]float64{min(wlo[0], raw[4*i]), min(wlo[1], raw[4*i+1])}
				whi = [2]float64{max(whi[0], raw[4*i+2]), max(whi[1], raw[4*i+3])}
			}
			if !ok || lo != wlo || hi != whi {
				t.Errorf("n=%d: bounds %v %v %v, want %v %v", n, lo, hi, ok, wlo, whi)
			}
		} else if _, _, ok := ix.bounds(); ok {
			t.Errorf("an empty index has bounds")
		}
	}
}

// TestBoxIndexNearby checks that nearby visits every item once, in
// ascending order of a distance (to a point, with nodes bounded by their
// boxes' distance), and stops when told.
func TestBoxIndexNearby(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	for _, n := range []int{0, 1, 17, 300, 3000} {
		raw := randomBoxes(rng, n)
		ix := newBoxIndex(raw)
		for range 20 {
			px, py := rng.Float64()*120-10, rng.Float64()*120-10
			boxDist := func(lo, hi [2]float64) float64 {
				dx := max(lo[0]-px, 0, px-hi[0])
				dy := max(lo[1]-py, 0, py-hi[1])
				return math.Hypot(dx, dy)
			}
			itemDist := func(id int32) float64 { // the box's far corner: never below its box's distance
				b := raw[4*id : 4*id+4]
				return math.Hypot(math.Max(math.Abs(b[0]-px), math.Abs(b[2]-px)), math.Max(math.Abs(b[1]-py), math.Abs(b[3]-py)))
			}
			var got []float64
			seen := map[int32]bool{}
			ix.nearby(func(lo, hi [2]float64, id int32, item bool) float64 {
				if item {
					return itemDist(id)
				}
				return boxDist(lo, hi)
			}, func(id int32, d float64) bool {
				if seen[id] || d != itemDist(id) {
					t.Fatalf("item %d visited twice or with distance %v, want %v", id, d, itemDist(id))
				}
				seen[id] = true
				got = append(got, d)
				return true
			})
			if len(got) != n || !slices.IsSorted(got) {
				t.Fatalf("n=%d: %d items visited, sorted %v", n, len(got), slices.IsSorted(got))
			}
			if n > 0 {
				stop := rng.IntN(n)
				calls := 0
				ix.nearby(func(lo, hi [2]float64, id int32, item bool) float64 {
					if item {
						return itemDist(id)
					}
					return boxDist(lo, hi)
				}, func(int32, float64) bool { calls++; return calls <= stop })
				if calls != stop+1 {
					t.Fatalf("n=%d: %d calls, stop after %d", n, calls, stop+1)
				}
			}
		}
	}
}

// TestHilbert checks the curve's defining properties on the lower left
// 64 × 64 corner of the grid: its 4096 cells are the curve's first 4096
// positions, each next to the one before.
func TestHilbert(t *testing.T) {
	const side = 64
	at := make([][2]uint32, side*side)
	seen := make([]bool, side*side)
	for x := range uint32(side) {
		for y := range uint32(side) {
			h := hilbert(x, y)
			if h >= side*side || seen[h] {
				t.Fatalf("hilbert(%d, %d) = %d: outside the first %d or repeated", x, y, h, side*side)
			}
			seen[h], at[h] = true, [2]uint32{x, y}
		}
	}
	for h := 1; h < side*side; h++ {
		a, b := at[h-1], at[h]
		if d := absDiff(a[0], b[0]) + absDiff(a[1], b[1]); d != 1 {
			t.Fatalf("positions %d and %d at %v and %v, not neighbours", h-1, h, a, b)
		}
	}
	if at[0] != [2]uint32{0, 0} {
		t.Errorf("the curve starts at %v", at[0])
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestRadixSort compares with a stable sort, for key widths that take one
// to six passes.
func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	for _, bits := range []int{0, 1, 11, 12, 32, 34, 63, 64} {
		for _, n := range []int{0, 1, 2, 1000} {
			keys := make([]uint64, n)
			order := make([]int32, n)
			for i := range keys {
				switch {
				case bits == 0:
				case bits == 64:
					keys[i] = rng.Uint64()
				default:
					keys[i] = rng.Uint64N(1 << bits)
				}
				if i > 0 && rng.IntN(5) == 0 {
					keys[i] = keys[rng.IntN(i)] // duplicates: order kept
				}
				order[i] = int32(i)
			}
			want := slices.Clone(order)
			slices.SortStableFunc(want, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
			wantKeys := make([]uint64, n)
			for i, o := range want {
				wantKeys[i] = keys[o]
			}
			gotKeys, got := radixSort(slices.Clone(keys), order, bits)
			if !slices.Equal(got, want) || !slices.Equal(gotKeys, wantKeys) {
				t.Fatalf("bits %d n %d: order differs from a stable sort", bits, n)
			}
		}
	}
}

// TestHilbertOrder checks that the order is a permutation sorting the
// points' curve positions computed here, with points outside the extent
// (and NaN) clamped to its edges.
func TestHilbertOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	ix := newBoxIndex([]float64{10, 20, 11, 20.5, 10.5, 20.2, 10.7, 21})
	pts := make([]orb.Point, 500)
	for i := range pts {
		pts[i] = orb.Point{9.5 + rng.Float64()*2, 19.5 + rng.Float64()*2}
	}
	pts[7] = orb.Point{math.NaN(), 20.5}
	order := ix.hilbertOrder(len(pts), func(i int) orb.Point { return pts[i] })
	key := func(p orb.Point) uint32 {
		grid := func(v, lo, hi float64) uint32 {
			f := (v - lo) * 65535 / (hi - lo)
			switch {
			case f >= 65535:
				return 65535
			case f > 0:
				return uint32(f)
			}
			return 0
		}
		return hilbert(grid(p[0], 10, 11), grid(p[1], 20, 21))
	}
	seen := make([]bool, len(pts))
	for k, i := range order {
		if seen[i] {
			t.Fatalf("%d listed twice", i)
		}
		seen[i] = true
		if k > 0 && key(pts[order[k-1]]) > key(pts[i]) {
			t.Fatalf("positions out of order at %d", k)
		}
	}
}

// TestHaversineIsDistance checks the build's edge length against
// coverage.Distance, bit for bit.
func TestHaversineIsDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	for i := range 20000 {
		a := orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90}
		b := orb.Point{a[0] + rng.NormFloat64()*0.01, a[1] + rng.NormFloat64()*0.01}
		if i%4 == 0 {
			b = orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90}
		}
		got := haversine(a[0], a[1], math.Cos(a[1]*degToRad), b[0], b[1], math.Cos(b[1]*degToRad))
		if want := float64(coverage.Distance(a, b)); got != want {
			t.Fatalf("%v–%v: %v, coverage.Distance %v", a, b, got, want)
		}
	}
}

// TestIndexIDs compares the ids and references index lists with a sort
// and a binary search per reference, over id ranges that need one to six
// radix passes, negative ids included.
func TestIndexIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 1))
	for _, span := range []int64{1, 100, 1 << 20, 1 << 40, math.MaxInt64} {
		for _, base := range []int64{0, -5000, math.MinInt64 / 2} {
			d := &osmData{}
			for range 3000 {
				v := base + rng.Int64N(span)
				if span == math.MaxInt64 && rng.IntN(2) == 0 {
					v = -v
				}
				d.wayNodes = append(d.wayNodes, v)
			}
			d.wayNodes = append(d.wayNodes, d.wayNodes[:100]...) // repeats
			want := slices.Clone(d.wayNodes)
			slices.Sort(want)
			want = slices.Compact(want)
			d.index()
			if !slices.Equal(d.ids, want) {
				t.Fatalf("span %d base %d: ids differ from a sort", span, base)
			}
			for i, id := range d.wayNodes {
				if j, _ := slices.BinarySearch(want, id); d.ref[i] != int32(j) {
					t.Fatalf("span %d base %d: reference %d to %d numbered %d, want %d", span, base, i, id, d.ref[i], j)
				}
			}
			if len(d.lon) != len(want) || len(d.lat) != len(want) || len(d.found) != len(want) {
				t.Fatalf("coordinate slots for %d ids: %d %d %d", len(want), len(d.lon), len(d.lat), len(d.found))
			}
		}
	}
	empty := &osmData{}
	empty.index()
	if len(empty.ids) != 0 || len(empty.ref) != 0 {
		t.Errorf("no references: %d ids", len(empty.ids))
	}
}

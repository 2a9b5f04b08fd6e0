package tiles

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
)

// level is the cells at one H3 resolution: the result's own cells at its
// resolution, their aggregates at each coarser one.
type level struct {
	res   int
	cell  []h3.Cell
	pos   []orb.Point // centres
	reach float64     // degrees of latitude: no point of a hexagon is farther from its centre
	index quadIndex

	// Coarser levels only: the aggregate of each cell, the cells of the
	// next finer level it holds (finer[childOff[p]:childOff[p+1]]), and
	// for each cell of the next finer level its parent here.
	agg      []aggregate
	childOff []int32
	up       []int32

	// The hexagons' outlines, made once on the level's first tile (H3
	// computes each through cgo, most of a coarse tile's cost): cell i's
	// ring is ringPts[ringOff[i]:ringOff[i+1]].
	ringOnce sync.Once
	ringOff  []int32
	ringPts  []orb.Point
}

// ring is cell i's outline, shared: copy it before changing it.
func (lv *level) ring(i int32) orb.Ring {
	lv.ringOnce.Do(func() {
		lv.ringOff = make([]int32, len(lv.cell)+1)
		lv.ringPts = make([]orb.Point, 0, 7*len(lv.cell))
		for k, c := range lv.cell {
			lv.ringPts = append(lv.ringPts, coverage.CellRing(c)...)
			lv.ringOff[k+1] = int32(len(lv.ringPts))
		}
	})
	lo, hi := lv.ringOff[i], lv.ringOff[i+1]
	return orb.Ring(lv.ringPts[lo:hi:hi])
}

// aggregate sums the cells inside a coarser one.
type aggregate struct {
	pop        float64 // people
	covered    float64 // people within the threshold
	minPop     float64 // Σ minutes × people over reached cells
	reachedPop float64 // people some station reaches
}

func (a aggregate) share() float64 {
	if a.pop <= 0 {
		return 0
	}
	return a.covered / a.pop
}

func (a *aggregate) add(b aggregate) {
	a.pop += b.pop
	a.covered += b.covered
	a.minPop += b.minPop
	a.reachedPop += b.reachedPop
}

// buildLevels makes the result's level and every coarser one, down to
// resolution 0. The result's cells are in ascending H3 order, and so
// children of one parent are consecutive and parents come out ascending.
func buildLevels(r *coverage.Result) ([]*level, error) {
	res := r.Settings.Res
	if len(r.Cells) > 0 {
		res = r.Cells[0].H3.Resolution()
	}
	if res < 0 || res > h3.MaxResolution {
		return nil, fmt.Errorf("tiles: resolution %d outside 0..%d", res, h3.MaxResolution)
	}
	levels := make([]*level, res+1)
	top := &level{res: res, cell: make([]h3.Cell, len(r.Cells)), pos: make([]orb.Point, len(r.Cells))}
	for i, c := range r.Cells {
		if i > 0 && c.H3 <= r.Cells[i-1].H3 {
			return nil, fmt.Errorf("tiles: cells not in ascending H3 order at %d", i)
		}
		top.cell[i], top.pos[i] = c.H3, c.Pos
	}
	levels[res] = top
	for k := res - 1; k >= 0; k-- {
		fine := levels[k+1]
		lv := &level{res: k, up: make([]int32, len(fine.cell))}
		for i, c := range fine.cell {
			p := c.Parent(k)
			if n := len(lv.cell); n == 0 || lv.cell[n-1] != p {
				lv.cell = append(lv.cell, p)
				lv.childOff = append(lv.childOff, int32(i))
			}
			lv.up[i] = int32(len(lv.cell) - 1)
		}
		lv.childOff = append(lv.childOff, int32(len(fine.cell)))
		lv.pos = make([]orb.Point, len(lv.cell))
		for i, c := range lv.cell {
			lv.pos[i] = coverage.CellCenter(c)
		}
		lv.agg = make([]aggregate, len(lv.cell))
		levels[k] = lv
	}
	for k, lv := range levels {
		lv.reach = hexReach(lv)
		lv.index = newQuadIndex(lv.pos)
		if k < res && len(lv.cell) > 0 {
			lv.ring(0) // the coarse outlines, made now rather than on a first tile
		}
	}
	// Every aggregate from the bottom up.
	for k := res - 1; k >= 0; k-- {
		for p := range levels[k].cell {
			recompute(r, levels, k, int32(p))
		}
	}
	return levels, nil
}

// hexReach is how far (degrees of latitude) a hexagon of the level reaches
// from its centre, taken from its largest cell with a margin: cells of one
// resolution differ in size by up to twice across the globe, far less
// within a city.
func hexReach(lv *level) float64 {
	var d float64
	for i := 0; i < len(lv.cell); i += max(1, len(lv.cell)/64) {
		c := lv.pos[i]
		cos := math.Max(math.Cos(c[1]*math.Pi/180), 0.01)
		for _, v := range coverage.CellRing(lv.cell[i]) {
			d = max(d, math.Abs(v[1]-c[1]), math.Abs(v[0]-c[0])*cos)
		}
	}
	return 1.5 * d
}

// recompute sums aggregate p of level k from its children.
func recompute(r *coverage.Result, levels []*level, k int, p int32) {
	lv := levels[k]
	var a aggregate
	lo, hi := lv.childOff[p], lv.childOff[p+1]
	if k+1 == len(levels)-1 {
		for i := lo; i < hi; i++ {
			pop := r.Cells[i].Population
			a.pop += pop
			m := r.Access[i].Minutes
			if r.Covered(int(i)) {
				a.covered += pop
			}
			if m.Reached() {
				a.minPop += float64(m) * pop
				a.reachedPop += pop
			}
		}
	} else {
		fine := levels[k+1].agg
		for i := lo; i < hi; i++ {
			a.add(fine[i])
		}
	}
	lv.agg[p] = a
}

// dirtyBox is the region where a level's features changed.
type dirtyBox struct {
	box   orb.Bound
	empty bool
}

// refresh recomputes the aggregates above the changed cells, bottom up,
// and returns the region each level changed in (hexagons included).
func (s *Source) refresh(cells []int32) []dirtyBox {
	top := len(s.levels) - 1
	boxes := make([]dirtyBox, len(s.levels))
	for i := range boxes {
		boxes[i].empty = true
	}
	grow := func(k int, p orb.Point) {
		b := &boxes[k]
		if b.empty {
			b.box, b.empty = orb.Bound{Min: p, Max: p}, false
		} else {
			b.box = b.box.Extend(p)
		}
	}
	cur := slices.Clone(cells)
	slices.Sort(cur)
	cur = slices.Compact(cur)
	for _, i := range cur {
		grow(top, s.levels[top].pos[i])
	}
	for k := top - 1; k >= 0; k-- {
		lv := s.levels[k]
		next := make([]int32, 0, len(cur))
		for _, i := range cur {
			p := lv.up[i]
			if n := len(next); n == 0 || next[n-1] != p {
				next = append(next, p)
			}
		}
		// Children ascend, so their parents do too; a parent may still
		// repeat after another one when children interleave.
		slices.Sort(next)
		next = slices.Compact(next)
		for _, p := range next {
			recompute(s.r, s.levels, k, p)
			grow(k, lv.pos[p])
		}
		cur = next
	}
	for k := range boxes {
		if b := &boxes[k]; !b.empty {
			d := s.levels[k].reach
			cos := math.Max(math.Cos(math.Max(math.Abs(b.box.Min[1]), math.Abs(b.box.Max[1]))*math.Pi/180), 0.01)
			b.box.Min = orb.Point{b.box.Min[0] - d/cos, b.box.Min[1] - d}
			b.box.Max = orb.Point{b.box.Max[0] + d/cos, b.box.Max[1] + d}
		}
	}
	return boxes
}

// quadIndex sorts points by the quadkey of their zoom-16 tile, so that the
// points of any tile of zoom 16 or less are one run of the order.
type quadIndex struct {
	keys  []uint64
	order []int32
}

func newQuadIndex(pts []orb.Point) quadIndex {
	keys := make([]uint64, len(pts))
	order := make([]int32, len(pts))
	for i, p := range pts {
		keys[i] = maptile.At(p, quadZoom).Quadkey()
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		switch {
		case keys[a] < keys[b]:
			return -1
		case keys[a] > keys[b]:
			return 1
		}
		return int(a - b)
	})
	sorted := make([]uint64, len(pts))
	for k, i := range order {
		sorted[k] = keys[i]
	}
	return quadIndex{keys: sorted, order: order}
}

// query calls fn for every point in t or the eight tiles around it (at
// zoom 16 for deeper tiles), which holds every feature of up to a tile's
// size that overlaps t.
func (q quadIndex) query(t maptile.Tile, fn func(i int32)) {
	z, x, y := uint32(t.Z), int64(t.X), int64(t.Y)
	if z > quadZoom {
		x >>= z - quadZoom
		y >>= z - quadZoom
		z = quadZoom
	}
	n := int64(1) << z
	shift := 2 * (quadZoom - z)
	for ty := y - 1; ty <= y+1; ty++ {
		if ty < 0 || ty >= n {
			continue
		}
		for tx := x - 1; tx <= x+1; tx++ {
			if tx < 0 || tx >= n {
				continue
			}
			qk := maptile.New(uint32(tx), uint32(ty), maptile.Zoom(z)).Quadkey()
			lo, hi := qk<<shift, (qk+1)<<shift
			a, _ := slices.BinarySearch(q.keys, lo)
			for k := a; k < len(q.keys) && q.keys[k] < hi; k++ {
				fn(q.order[k])
			}
		}
	}
}

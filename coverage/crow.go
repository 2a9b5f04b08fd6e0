package coverage

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Crow is the straight-line reach model: walking time is the haversine
// distance from a cell's centre to a station, walked at Speed. It has no
// bound: every cell gets a time as soon as there is one station.
type Crow struct {
	cells []Cell
	speed Speed

	once  sync.Once
	index rtree.RTreeG[int32] // cell centres, built on the first Within

	vecOnce sync.Once
	vec     [][][3]float64 // per block of cellBlockSize cells
	vecDone []sync.Once
}

var (
	_ Reach     = (*Crow)(nil)
	_ Counter   = (*Crow)(nil)
	_ CellTimer = (*Crow)(nil)
)

// CellTimer is implemented by reach models that time cells from a point
// directly, without a search (the straight line): updates then visit only
// the cells that can change.
type CellTimer interface {
	// TimeCells calls fn with the time m from p to each cell i in [lo, hi)
	// for which m < below(i); other cells may be skipped unmeasured.
	TimeCells(p orb.Point, lo, hi int32, below func(cell int32) Minutes, fn func(cell int32, m Minutes))
}

// cellBlockSize is the number of cells in a block of the update index and
// of the cached unit vectors: small enough that a station's neighbourhood
// touches few cells beyond it, large enough that scanning the blocks is
// cheap.
const cellBlockSize = 256

// TimeCells implements CellTimer. The chord between unit vectors is never
// longer than the arc, so a chord already too long to beat below(i) rules
// the cell out without trigonometry; the times reported are haversine.
func (c *Crow) TimeCells(p orb.Point, lo, hi int32, below func(cell int32) Minutes, fn func(cell int32, m Minutes)) {
	pv := unitVector(p)
	perMinute := float64(c.speed) * 1000 / 60 / float64(EarthRadius) // radians walked per minute
	for i := lo; i < hi; i++ {
		b := below(i)
		if lim := float64(b) * perMinute; lim < math.Pi {
			// Chord of the largest arc that could still beat b, with a
			// margin for rounding.
			ch := 2 * math.Sin(lim/2) * (1 + 1e-9)
			if chord2(pv, c.cellVectors(i / cellBlockSize)[i%cellBlockSize]) > ch*ch {
				continue
			}
		}
		if m := c.speed.Walk(Distance(p, c.cells[i].Pos)); m < b {
			fn(i, m)
		}
	}
}

// cellVectors returns the cells' centres on the unit sphere for block b
// (cells b·cellBlockSize onwards), computed once, when first asked for.
func (c *Crow) cellVectors(b int32) [][3]float64 {
	c.vecOnce.Do(func() {
		n := (len(c.cells) + cellBlockSize - 1) / cellBlockSize
		c.vec = make([][][3]float64, n)
		c.vecDone = make([]sync.Once, n)
	})
	c.vecDone[b].Do(func() {
		lo := int(b) * cellBlockSize
		hi := min(lo+cellBlockSize, len(c.cells))
		v := make([][3]float64, hi-lo)
		for i := range v {
			v[i] = unitVector(c.cells[lo+i].Pos)
		}
		c.vec[b] = v
	})
	return c.vec[b]
}

// Counter is implemented by reach models that can count, for every cell, the
// stations within a time limit (the straight-line model does it cheaply).
type Counter interface {
	InReach(ctx context.Context, stations []orb.Point, limit Minutes, out []int32) error
}

// NewCrow binds the straight-line model to cells.
func NewCrow(cells []Cell, speed Speed) *Crow {
	return &Crow{cells: cells, speed: speed}
}

// Mode implements Reach.
func (c *Crow) Mode() string { return "crow" }

// Bound implements Reach: straight lines are never cut off.
func (c *Crow) Bound() Minutes { return Unreached }

// stationIndex is an R-tree of stations with their unit vectors.
type stationIndex struct {
	tree rtree.RTreeG[int32]
	pts  []orb.Point
	vec  [][3]float64
}

func newStationIndex(stations []orb.Point) *stationIndex {
	ix := &stationIndex{pts: stations, vec: make([][3]float64, len(stations))}
	for i, p := range stations {
		ix.tree.Insert(p, p, int32(i))
		ix.vec[i] = unitVector(p)
	}
	return ix
}

// probe is one worker's query state; its methods are the R-tree callbacks,
// so a query allocates nothing.
type probe struct {
	ix   *stationIndex
	v    [3]float64 // the query point on the unit sphere
	best int32
	bc2  float64 // best squared chord
	bm   Minutes // best's time, when computed (-1: not yet)
	lim2 float64 // count stations with squared chord <= lim2 ...
	edge float64 // ... deciding those within edge of it exactly
	p    orb.Point
	sp   Speed
	lim  Minutes
	n    int32
}

// chordTie is the relative difference of squared chords within which two
// stations may be at the same haversine time: chords and haversines are
// computed differently and can order two equidistant stations either way in
// their last bits.
const chordTie = 1e-9

func (q *probe) nearest(_, _ [2]float64, s int32) bool {
	c2 := chord2(q.v, q.ix.vec[s])
	switch {
	case q.best < 0 || c2 < q.bc2*(1-chordTie):
		q.best, q.bc2, q.bm = s, c2, -1
	case c2 <= q.bc2*(1+chordTie):
		// Too close to call on chords: decide on the reported time, as
		// the house tie rule is stated (equal times: first listed).
		if q.bm < 0 {
			q.bm = q.sp.Walk(Distance(q.p, q.ix.pts[q.best]))
		}
		m := q.sp.Walk(Distance(q.p, q.ix.pts[s]))
		if m < q.bm || (m == q.bm && s < q.best) {
			q.best, q.bc2, q.bm = s, min(c2, q.bc2), m
		}
	}
	return true
}

func (q *probe) count(_, _ [2]float64, s int32) bool {
	c2 := chord2(q.v, q.ix.vec[s])
	switch {
	case c2 < q.lim2-q.edge:
		q.n++
	case c2 <= q.lim2+q.edge:
		// On the threshold to rounding: decide with the haversine time
		// every other part of the program uses.
		if q.sp.Walk(Distance(q.p, q.ix.pts[s])) <= q.lim {
			q.n++
		}
	}
	return true
}

// Nearest implements Reach. Cells are taken in H3 order, so neighbouring
// cells follow each other: the previous cell's nearest distance plus the
// step between the two centres bounds the search radius for the next one
// (triangle inequality), which keeps each query to a small box. The first
// cell of each chunk uses a best-first search over the tree with an exact
// spherical lower bound. Candidates are compared by chord length, which
// orders them as great-circle distance does; the time of the winner is its
// haversine distance.
func (c *Crow) Nearest(ctx context.Context, stations []orb.Point, cells []int32, out []Access) error {
	n := len(c.cells)
	if cells != nil {
		n = len(cells)
	}
	if len(stations) == 0 {
		forEach(n, cells, func(i int32) { out[i] = NoAccess })
		return nil
	}
	ix := newStationIndex(stations)
	return parallelChunks(ctx, n, func(lo, hi int) {
		q := &probe{ix: ix, sp: c.speed}
		fn := q.nearest
		prev := orb.Point{math.NaN(), math.NaN()}
		var prevD Meters
		for k := lo; k < hi; k++ {
			i := int32(k)
			if cells != nil {
				i = cells[k]
			}
			p := c.cells[i].Pos
			q.p, q.v, q.best, q.bc2, q.bm = p, unitVector(p), -1, math.Inf(1), -1
			if !math.IsNaN(prev[0]) {
				r := (prevD+Distance(prev, p))*(1+1e-9) + 1e-3
				bx := radiusBox(p, r)
				for _, b := range bx.each() {
					ix.tree.Search(b[0], b[1], fn)
				}
			}
			if q.best < 0 { // first cell of the chunk, or a radius too tight to rounding
				q.best = nearestBestFirst(ix, p, c.speed)
			}
			d := Distance(p, stations[q.best])
			prev, prevD = p, d
			out[i] = Access{Minutes: c.speed.Walk(d), Station: q.best}
		}
	})
}

// nearestBestFirst walks the tree in order of a spherical lower bound on the
// distance to each box, stopping when no box can beat the best station.
// Stations are compared on their walking time at speed, so that equal
// times go to the first listed even when the distances differ in the last
// bit.
func nearestBestFirst(ix *stationIndex, p orb.Point, speed Speed) int32 {
	best, bestM := int32(-1), Unreached
	ix.tree.Nearby(
		func(min, max [2]float64, s int32, item bool) float64 {
			if item {
				return float64(Distance(p, ix.pts[s]))
			}
			return float64(boxDistance(p, min, max))
		},
		func(_, _ [2]float64, s int32, dist float64) bool {
			m := speed.Walk(Meters(dist))
			if m > bestM {
				return false
			}
			if m < bestM || s < best {
				best, bestM = s, m
			}
			return true
		},
	)
	return best
}

// InReach implements Counter: the number of stations within limit of each
// cell.
func (c *Crow) InReach(ctx context.Context, stations []orb.Point, limit Minutes, out []int32) error {
	ix := newStationIndex(stations)
	r := c.speed.Distance(limit)
	lim2 := chord2Of(r)
	return parallelChunks(ctx, len(c.cells), func(lo, hi int) {
		q := &probe{ix: ix, lim2: lim2, edge: 1e-9 * lim2, sp: c.speed, lim: limit}
		fn := q.count
		for i := lo; i < hi; i++ {
			q.p = c.cells[i].Pos
			q.v, q.n = unitVector(q.p), 0
			bx := radiusBox(q.p, r*(1+1e-9)+1e-3)
			for _, b := range bx.each() {
				ix.tree.Search(b[0], b[1], fn)
			}
			out[i] = q.n
		}
	})
}

// Within implements Reach.
func (c *Crow) Within(ctx context.Context, p orb.Point, limit Minutes, fn func(cell int32, m Minutes)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.once.Do(func() {
		for i, cell := range c.cells {
			c.index.Insert(cell.Pos, cell.Pos, int32(i))
		}
	})
	r := c.speed.Distance(limit)
	bx := radiusBox(p, r*(1+1e-9)+1e-3)
	for _, b := range bx.each() {
		c.index.Search(b[0], b[1], func(_, _ [2]float64, i int32) bool {
			if m := c.speed.Walk(Distance(p, c.cells[i].Pos)); m <= limit {
				fn(i, m)
			}
			return true
		})
	}
	return nil
}

func forEach(n int, cells []int32, fn func(i int32)) {
	for k := 0; k < n; k++ {
		if cells != nil {
			fn(cells[k])
		} else {
			fn(int32(k))
		}
	}
}

// parallelChunks runs fn over [0, n) in chunks on every core, checking ctx
// between chunks.
func parallelChunks(ctx context.Context, n int, fn func(lo, hi int)) error {
	const chunk = 4096
	workers := runtime.GOMAXPROCS(0)
	if chunks := (n + chunk - 1) / chunk; chunks < workers {
		workers = chunks
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// splitRange runs fn over [0, n) split into one equal part per core: for
// loops that only stream through memory.
func splitRange(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/64))
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

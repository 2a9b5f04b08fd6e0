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
}

var (
	_ Reach   = (*Crow)(nil)
	_ Counter = (*Crow)(nil)
)

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

func stationTree(stations []orb.Point) *rtree.RTreeG[int32] {
	var tr rtree.RTreeG[int32]
	for i, p := range stations {
		tr.Insert(p, p, int32(i))
	}
	return &tr
}

// Nearest implements Reach. Cells are taken in H3 order, so neighbouring
// cells follow each other: the previous cell's nearest distance plus the
// step between the two centres bounds the search radius for the next one
// (triangle inequality), which keeps each query to a small box. The first
// cell of each chunk uses a best-first search over the tree with an exact
// spherical lower bound.
func (c *Crow) Nearest(ctx context.Context, stations []orb.Point, cells []int32, out []Access) error {
	n := len(c.cells)
	if cells != nil {
		n = len(cells)
	}
	if len(stations) == 0 {
		forEach(n, cells, func(i int32) { out[i] = NoAccess })
		return nil
	}
	tr := stationTree(stations)
	return parallelChunks(ctx, n, func(lo, hi int) {
		prev := orb.Point{math.NaN(), math.NaN()}
		var prevD Meters
		for k := lo; k < hi; k++ {
			i := int32(k)
			if cells != nil {
				i = cells[k]
			}
			p := c.cells[i].Pos
			var best int32 = -1
			var bestD Meters
			if math.IsNaN(prev[0]) {
				best, bestD = nearestBestFirst(tr, stations, p)
			} else {
				best, bestD = nearestWithin(tr, stations, p, prevD+Distance(prev, p))
			}
			prev, prevD = p, bestD
			out[i] = Access{Minutes: c.speed.Walk(bestD), Station: best}
		}
	})
}

// nearestWithin finds the nearest station among those within r of p; the
// caller guarantees one exists. Ties go to the lower index.
func nearestWithin(tr *rtree.RTreeG[int32], stations []orb.Point, p orb.Point, r Meters) (int32, Meters) {
	best, bestD := int32(-1), Meters(math.Inf(1))
	r = r*(1+1e-12) + 1e-6
	for _, b := range radiusBox(p, r) {
		tr.Search(b[0], b[1], func(_, _ [2]float64, s int32) bool {
			d := Distance(p, stations[s])
			if d < bestD || (d == bestD && s < best) {
				best, bestD = s, d
			}
			return true
		})
	}
	if best < 0 { // cannot happen with a correct r; stay exact anyway
		return nearestBestFirst(tr, stations, p)
	}
	return best, bestD
}

// nearestBestFirst walks the tree in order of a spherical lower bound on the
// distance to each box, stopping when no box can beat the best station.
func nearestBestFirst(tr *rtree.RTreeG[int32], stations []orb.Point, p orb.Point) (int32, Meters) {
	best, bestD := int32(-1), Meters(math.Inf(1))
	tr.Nearby(
		func(min, max [2]float64, s int32, item bool) float64 {
			if item {
				return float64(Distance(p, stations[s]))
			}
			return float64(boxDistance(p, min, max))
		},
		func(_, _ [2]float64, s int32, dist float64) bool {
			d := Meters(dist)
			if d > bestD {
				return false
			}
			if d < bestD || s < best {
				best, bestD = s, d
			}
			return true
		},
	)
	return best, bestD
}

// InReach implements Counter: the number of stations within limit of each
// cell.
func (c *Crow) InReach(ctx context.Context, stations []orb.Point, limit Minutes, out []int32) error {
	tr := stationTree(stations)
	r := c.speed.Distance(limit)
	return parallelChunks(ctx, len(c.cells), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := c.cells[i].Pos
			var n int32
			for _, b := range radiusBox(p, r*(1+1e-12)+1e-6) {
				tr.Search(b[0], b[1], func(_, _ [2]float64, s int32) bool {
					if c.speed.Walk(Distance(p, stations[s])) <= limit {
						n++
					}
					return true
				})
			}
			out[i] = n
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
	for _, b := range radiusBox(p, r*(1+1e-12)+1e-6) {
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
	const chunk = 2048
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

package coverage

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// cellTopo is what gap finding needs to know about a cell's edges: the
// demand cell across each edge (its index in Result.Cells, or -1) and the
// edge's boundary polyline. It is computed once per cell through H3 and kept
// in the Result, so updates rebuild gaps without calling H3 again. A
// polyline is traced only when its edge first lies on a gap's outline (most
// edges of a large gap are inside it, and tracing is the costly H3 call).
type cellTopo struct {
	n    int8
	nbr  [6]int32
	de   [6]h3.DirectedEdge
	edge [6][]orb.Point // nil until traced; traced but degenerate: empty, not nil
}

// line returns edge k's boundary polyline, tracing it on first use. Only
// the goroutine finishing the gap that owns the cell calls it.
func (t *cellTopo) line(k int8) []orb.Point {
	if t.edge[k] == nil {
		t.edge[k] = edgeLine(t.de[k])
		if t.edge[k] == nil {
			t.edge[k] = []orb.Point{}
		}
	}
	return t.edge[k]
}

// topo returns cell i's topology, computing it on first use.
func (r *Result) topo(i int32) *cellTopo {
	if len(r.topoCache) != len(r.Cells) {
		r.topoCache = make([]*cellTopo, len(r.Cells))
	}
	if t := r.topoCache[i]; t != nil {
		return t
	}
	t := &cellTopo{}
	for _, e := range r.Cells[i].H3.DirectedEdges() {
		if t.n == 6 {
			break
		}
		t.nbr[t.n] = int32(r.CellIndex(e.Destination()))
		t.de[t.n] = e
		t.n++
	}
	r.topoCache[i] = t
	return t
}

// uncovered reports whether cell i belongs in a gap.
func (r *Result) uncovered(i int32) bool {
	return i >= 0 && !r.Covered(int(i)) && r.Cells[i].Population > 0
}

// FindGaps groups the uncovered populated cells of r into gaps: connected
// sets under H3 adjacency. Gaps are ranked by population (ties: the gap
// whose lowest cell index is lower first) and numbered from 1.
func FindGaps(r *Result) []Gap {
	var seeds []int32
	for i := range r.Cells {
		if r.uncovered(int32(i)) {
			seeds = append(seeds, int32(i))
		}
	}
	gaps := components(r, seeds)
	rankGaps(gaps)
	return gaps
}

// components finds the connected components of uncovered cells reached from
// seeds (in seed order) and finishes each gap (population, worst time,
// representative point, outline).
func components(r *Result, seeds []int32) []Gap {
	visited := make([]bool, len(r.Cells))
	var gaps []Gap
	var stack []int32
	for _, start := range seeds {
		if !r.uncovered(start) || visited[start] {
			continue
		}
		var g Gap
		visited[start] = true
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			g.Cells = append(g.Cells, j)
			t := r.topo(j)
			for k := int8(0); k < t.n; k++ {
				if n := t.nbr[k]; r.uncovered(n) && !visited[n] {
					visited[n] = true
					stack = append(stack, n)
				}
			}
		}
		slices.Sort(g.Cells)
		gaps = append(gaps, g)
	}
	// Every gap cell's topology is known now, so the gaps are finished in
	// parallel: each reads only its own cells.
	var next atomic.Int64
	work := func() {
		for k := int(next.Add(1)) - 1; k < len(gaps); k = int(next.Add(1)) - 1 {
			finishGap(r, &gaps[k])
		}
	}
	var wg sync.WaitGroup
	for range min(len(gaps), runtime.GOMAXPROCS(0)) - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	return gaps
}

// finishGap computes a gap's population, worst time, representative point
// and outline from its cells.
func finishGap(r *Result, g *Gap) {
	var sx, sy, w float64
	g.MaxMinutes = 0
	ref := r.Cells[g.Cells[0]].Pos
	for _, j := range g.Cells {
		c := r.Cells[j]
		g.Population += c.Population
		// Weighted centre in a plane around the first cell, so gaps on
		// the antimeridian average correctly.
		sx += (ref[0] + wrapLon(c.Pos[0]-ref[0])) * c.Population
		sy += c.Pos[1] * c.Population
		w += c.Population
		if m := r.Access[j].Minutes; m > g.MaxMinutes || math.IsInf(float64(m), 1) {
			g.MaxMinutes = m
		}
	}
	r.weigh(g)
	// The cell nearest the weighted centre, by distance in a plane around
	// it (exact enough to pick the middle cell, and cheap on big gaps).
	centre := orb.Point{sx / w, sy / w}
	kx := math.Cos(centre[1] * degToRad)
	best, bestD := g.Cells[0], math.Inf(1)
	for _, j := range g.Cells {
		p := r.Cells[j].Pos
		dx, dy := wrapLon(p[0]-centre[0])*kx, p[1]-centre[1]
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = j, d
		}
	}
	g.Point = r.Cells[best].Pos
	g.Outline = nil
	if r.SkipOutlines {
		return
	}
	var lines [][]orb.Point
	for _, j := range g.Cells {
		t := r.topo(j)
		for k := int8(0); k < t.n; k++ {
			if !r.uncovered(t.nbr[k]) {
				if l := t.line(k); len(l) >= 2 {
					lines = append(lines, l)
				}
			}
		}
	}
	g.Outline = chainOutline(lines, true)
}

// rankGaps orders gaps by weighted people (their population in a study of
// one), largest first, ties by lowest cell index, and numbers them from 1.
func rankGaps(gaps []Gap) {
	slices.SortFunc(gaps, func(a, b Gap) int {
		switch {
		case a.Weighted > b.Weighted:
			return -1
		case a.Weighted < b.Weighted:
			return 1
		case a.Cells[0] < b.Cells[0]:
			return -1
		case a.Cells[0] > b.Cells[0]:
			return 1
		}
		return 0
	})
	for i := range gaps {
		gaps[i].ID = i + 1
	}
}

// UpdateGaps recomputes the gaps of r after the access of the cells in
// changed changed (time or coverage; repeats allowed), given the gaps before. Only the gaps
// touching a changed cell are rebuilt; the result equals FindGaps.
func UpdateGaps(r *Result, old []Gap, changed []int32) []Gap {
	if len(changed) == 0 {
		return old
	}
	touched := make([]bool, len(r.Cells))
	for _, c := range changed {
		touched[c] = true
		if r.uncovered(c) {
			t := r.topo(c)
			for k := int8(0); k < t.n; k++ {
				if t.nbr[k] >= 0 {
					touched[t.nbr[k]] = true
				}
			}
		}
	}
	// A gap is stale when it holds a changed cell or a neighbour of a cell
	// that is uncovered now.
	stale := map[int]bool{}
	for gi, g := range old {
		for _, c := range g.Cells {
			if touched[c] {
				stale[gi] = true
				break
			}
		}
	}
	var kept []Gap
	seeds := slices.Clone(changed)
	for gi, g := range old {
		if stale[gi] {
			seeds = append(seeds, g.Cells...)
		} else {
			kept = append(kept, g)
		}
	}
	// The seeds' order does not matter: each gap's cells are sorted and the
	// gaps ranked by a total order.
	kept = append(kept, components(r, seeds)...)
	rankGaps(kept)
	return kept
}

// Tally sets a gap's people per layer and weighted people from its cells
// (for a gap read back from storage; gap finding sets them itself).
func (r *Result) Tally(g *Gap) { r.weigh(g) }

// weigh sets g.Layers and g.Weighted from g's cells and g.Population.
func (r *Result) weigh(g *Gap) {
	g.Layers, g.Weighted = nil, g.Population
	if len(r.Layers) == 0 {
		return
	}
	g.Layers = make([]float64, len(r.Layers))
	for _, j := range g.Cells {
		for l, v := range r.Cells[j].Layers {
			g.Layers[l] += v
		}
	}
	g.Weighted = 0
	for l, v := range g.Layers {
		g.Weighted += r.Layers[l].Weight * v
	}
}

package coverage

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// FindGaps groups the uncovered populated cells of r into gaps: connected
// sets under H3 adjacency. Gaps are ranked by population (ties: the gap
// whose first cell has the lower H3 index first) and numbered from 1.
func FindGaps(r *Result) []Gap {
	index := make(map[h3.Cell]int32)
	for i, c := range r.Cells {
		if !r.Covered(i) && c.Population > 0 {
			index[c.H3] = int32(i)
		}
	}
	visited := make(map[int32]bool, len(index))
	var gaps []Gap
	var stack []int32
	// Visit cells in index order so gaps (and their cell lists) are
	// deterministic.
	for i, c := range r.Cells {
		start := int32(i)
		if _, ok := index[c.H3]; !ok || visited[start] {
			continue
		}
		var g Gap
		visited[start] = true
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			g.Cells = append(g.Cells, j)
			for _, n := range r.Cells[j].H3.GridDisk(1) {
				if k, ok := index[n]; ok && !visited[k] {
					visited[k] = true
					stack = append(stack, k)
				}
			}
		}
		slices.Sort(g.Cells)
		gaps = append(gaps, g)
	}
	for gi := range gaps {
		g := &gaps[gi]
		var sx, sy, w float64
		g.MaxMinutes = 0
		for _, j := range g.Cells {
			c := r.Cells[j]
			g.Population += c.Population
			// Weighted centre in a plane around the first cell, so gaps on
			// the antimeridian average correctly.
			ref := r.Cells[g.Cells[0]].Pos
			sx += (ref[0] + wrapLon(c.Pos[0]-ref[0])) * c.Population
			sy += c.Pos[1] * c.Population
			w += c.Population
			if m := r.Access[j].Minutes; m > g.MaxMinutes || math.IsInf(float64(m), 1) {
				g.MaxMinutes = m
			}
		}
		centre := orb.Point{sx / w, sy / w}
		best, bestD := g.Cells[0], Meters(math.Inf(1))
		for _, j := range g.Cells {
			if d := Distance(centre, r.Cells[j].Pos); d < bestD {
				best, bestD = j, d
			}
		}
		g.Point = r.Cells[best].Pos
		cells := make([]h3.Cell, len(g.Cells))
		for k, j := range g.Cells {
			cells[k] = r.Cells[j].H3
		}
		g.Outline = Dissolve(cells)
	}
	slices.SortStableFunc(gaps, func(a, b Gap) int {
		switch {
		case a.Population > b.Population:
			return -1
		case a.Population < b.Population:
			return 1
		}
		return 0
	})
	for i := range gaps {
		gaps[i].ID = i + 1
	}
	return gaps
}

package coverage

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tidwall/rtree"
)

// worstCount is how many worst-served cells an area summary lists.
const worstCount = 5

// AreaOf assigns each point to the first area (in input order) whose
// polygon contains it, or -1.
func AreaOf(areas []Area, pts []orb.Point) []int32 {
	var tr rtree.RTreeG[int32]
	for i, a := range areas {
		b := a.Geom.Bound()
		tr.Insert(b.Min, b.Max, int32(i))
	}
	out := make([]int32, len(pts))
	for k, p := range pts {
		best := int32(-1)
		tr.Search(p, p, func(_, _ [2]float64, i int32) bool {
			if (best < 0 || i < best) && planar.MultiPolygonContains(areas[i].Geom, p) {
				best = i
			}
			return true
		})
		out[k] = best
	}
	return out
}

// SummarizeAreas gives the coverage of each area (a cell belongs to the area
// containing its centre) and of each parent named by the areas (level
// "parent"), in input order, parents after areas.
func SummarizeAreas(r *Result, areas []Area) []AreaSummary {
	return summarizeAreas(r, areas, nil)
}

// SummarizeAreasOf is SummarizeAreas with each cell's area already known:
// cellArea[i] is the index in areas of the area holding cell i's centre, or
// -1, as CellAreas returned it for the same cells and areas. A result read
// back from a store skips the point-in-polygon tests this way. A cellArea
// of the wrong length, or naming an area that is not there, is ignored and
// the areas are found anew.
func SummarizeAreasOf(r *Result, areas []Area, cellArea []int32) []AreaSummary {
	for _, a := range cellArea {
		if a < -1 || int(a) >= len(areas) {
			cellArea = nil
			break
		}
	}
	return summarizeAreas(r, areas, cellArea)
}

// CellAreas returns, for each cell, the index of the area (in the order of
// AreaInputs) holding its centre, or -1; nil when the result has no areas.
// The slice is the result's own: do not change it.
func (r *Result) CellAreas() []int32 {
	if len(r.Areas) == 0 || len(r.cellArea) != len(r.Cells) {
		return nil
	}
	return r.cellArea
}

// summarizeAreas is SummarizeAreas with the cells' areas already known
// (cellArea, from an earlier summary of the same cells and areas), or nil.
// It keeps the assignment in r for the next call.
func summarizeAreas(r *Result, areas []Area, cellArea []int32) []AreaSummary {
	if len(areas) == 0 {
		return nil
	}
	if len(cellArea) != len(r.Cells) {
		centres := make([]orb.Point, len(r.Cells))
		for i, c := range r.Cells {
			centres[i] = c.Pos
		}
		cellArea = AreaOf(areas, centres)
	}
	r.cellArea = cellArea
	spos := make([]orb.Point, len(r.Stations))
	for i, s := range r.Stations {
		spos[i] = s.Pos
	}
	stationArea := AreaOf(areas, spos)
	gapOf := make(map[int32]int, len(r.Cells)/8)
	for _, g := range r.Gaps {
		for _, c := range g.Cells {
			gapOf[c] = g.ID
		}
	}

	type acc struct {
		sum   AreaSummary
		gaps  map[int]bool
		cells []int32
	}
	newAcc := func(level, name, parent string, geom orb.MultiPolygon) *acc {
		x := &acc{sum: AreaSummary{Level: level, Name: name, Parent: parent, Geom: geom}, gaps: map[int]bool{}}
		if k := len(r.Layers); k > 0 {
			x.sum.Layers = make([]float64, k)
			x.sum.CoveredLayers = make([]float64, k)
		}
		return x
	}
	leaves := make([]*acc, len(areas))
	var parents []*acc
	parentOf := map[string]*acc{}
	for i, a := range areas {
		leaves[i] = newAcc("area", a.Name, a.Parent, a.Geom)
		if a.Parent != "" && parentOf[a.Parent] == nil {
			p := newAcc("parent", a.Parent, "", nil)
			parentOf[a.Parent] = p
			parents = append(parents, p)
		}
	}
	add := func(x *acc, i int32) {
		c := r.Cells[i]
		x.sum.Population += c.Population
		x.sum.Cells++
		covered := r.Covered(int(i))
		if covered {
			x.sum.CoveredPopulation += c.Population
		}
		for l, v := range c.Layers {
			x.sum.Layers[l] += v
			if covered {
				x.sum.CoveredLayers[l] += v
			}
		}
		if g, ok := gapOf[i]; ok {
			x.gaps[g] = true
		}
		x.cells = append(x.cells, i)
	}
	for i, a := range cellArea {
		if a < 0 {
			continue
		}
		add(leaves[a], int32(i))
		if p := parentOf[areas[a].Parent]; p != nil {
			add(p, int32(i))
		}
	}
	for _, a := range stationArea {
		if a < 0 {
			continue
		}
		leaves[a].sum.Stations++
		if p := parentOf[areas[a].Parent]; p != nil {
			p.sum.Stations++
		}
	}
	out := make([]AreaSummary, 0, len(leaves)+len(parents))
	for _, x := range append(leaves, parents...) {
		x.sum.Gaps = len(x.gaps)
		x.sum.Worst = worstCells(r, x.cells, worstCount)
		out = append(out, x.sum)
	}
	return out
}

// worstCells returns up to n cells with the longest walking time (unreached
// first), ties by larger population, then lower H3 index.
func worstCells(r *Result, cells []int32, n int) []int32 {
	s := slices.Clone(cells)
	slices.SortFunc(s, func(a, b int32) int {
		ma, mb := float64(r.Access[a].Minutes), float64(r.Access[b].Minutes)
		switch {
		case ma > mb || (math.IsInf(ma, 1) && !math.IsInf(mb, 1)):
			return -1
		case ma < mb:
			return 1
		case r.Cells[a].Population > r.Cells[b].Population:
			return -1
		case r.Cells[a].Population < r.Cells[b].Population:
			return 1
		case r.Cells[a].H3 < r.Cells[b].H3:
			return -1
		case r.Cells[a].H3 > r.Cells[b].H3:
			return 1
		}
		return 0
	})
	if len(s) > n {
		s = s[:n]
	}
	return s
}

package coverage

import (
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// Area is a named polygon (a district, a subdistrict) with an optional
// parent name one level up.
type Area struct {
	Name   string
	Parent string
	Geom   orb.MultiPolygon
}

// Gap is a connected set (H3 neighbours) of uncovered populated cells.
type Gap struct {
	ID         int         // 1 = the most populous gap (by Weighted)
	Population float64     // people living in the gap's cells
	Layers     []float64   // their people per population layer (nil: one population)
	Weighted   float64     // Σ weight × people over the layers; Population with one
	Cells      []int32     // indices into Result.Cells, ascending
	Point      orb.Point   // representative point: the gap cell nearest the population-weighted centre
	Outline    orb.Polygon // dissolved cell outlines, outer ring CCW, holes CW
	MaxMinutes Minutes     // worst walking time in the gap (Unreached when some cell has none)
}

// AreaSummary is the coverage of one area, or of one parent (a level up).
type AreaSummary struct {
	Level             string // "area" or "parent" (the parent level aggregates its areas)
	Name              string
	Parent            string
	Population        float64
	CoveredPopulation float64
	Cells             int
	Stations          int
	Gaps              int     // gaps with at least one cell in the area
	Worst             []int32 // up to 5 worst-served populated cells, worst first
	Geom              orb.MultiPolygon
	// Layers and CoveredLayers are the people of each population layer in
	// the area and those covered (nil for one population).
	Layers, CoveredLayers []float64
}

// Share is the covered share of the area's population (0 when empty).
func (a AreaSummary) Share() float64 {
	if a.Population <= 0 {
		return 0
	}
	return a.CoveredPopulation / a.Population
}

// Result is a finished analysis: every populated cell with its walking time,
// the gaps and the area summaries.
type Result struct {
	Settings Settings
	Mode     string // reach model: "crow" or "network"
	Bound    Minutes

	Stations []Station
	Cells    []Cell   // populated demand cells, ascending H3 index
	Access   []Access // one per cell
	InReach  []int32  // stations within the threshold per cell; nil when the model cannot count them

	InputPopulation float64 // population read, before aggregation
	Layers          []Layer // the populations of Cell.Layers; nil for one
	Gaps            []Gap   // ranked by population, largest first
	Areas           []AreaSummary

	Created time.Time

	// SkipOutlines finds and ranks gaps without their outlines (Gap.Outline
	// nil): for a result whose gaps are only counted and listed, such as
	// an upper tier's between edits, where one gap may span the city and
	// tracing its outline would cost more than the rest of an update.
	SkipOutlines bool

	idx       *cellIndex  // blocks of cells for updates, built with the result
	cellArea  []int32     // area of each cell, kept from the last area summary
	topoCache []*cellTopo // edges of the cells gap finding has looked at, by cell
}

// Covered reports whether cell i is within the threshold of a station.
func (r *Result) Covered(i int) bool {
	m := r.Access[i].Minutes
	return m.Reached() && m <= r.Settings.Minutes
}

// Totals sums population and coverage over all cells.
type Totals struct {
	Population        float64
	CoveredPopulation float64
	Cells             int
	CoveredCells      int
	UnreachedCells    int // cells with no station within the model's bound
}

// Share is the covered share of the population (0 when empty).
func (t Totals) Share() float64 {
	if t.Population <= 0 {
		return 0
	}
	return t.CoveredPopulation / t.Population
}

// LayerTotals computes each population layer's people and covered people
// (nil for a study of one population).
func (r *Result) LayerTotals() []LayerTotals {
	if len(r.Layers) == 0 {
		return nil
	}
	out := make([]LayerTotals, len(r.Layers))
	for l := range out {
		out[l].Layer = r.Layers[l]
	}
	for i, c := range r.Cells {
		covered := r.Covered(i)
		for l, v := range c.Layers {
			out[l].Population += v
			if covered {
				out[l].CoveredPopulation += v
			}
		}
	}
	return out
}

// Weighted is cell i's weighted people: Σ weight × people over the layers,
// or its population in a study of one.
func (r *Result) Weighted(i int) float64 {
	c := r.Cells[i]
	if len(r.Layers) == 0 {
		return c.Population
	}
	w := 0.0
	for l, v := range c.Layers {
		w += r.Layers[l].Weight * v
	}
	return w
}

// Totals computes the result's totals.
func (r *Result) Totals() Totals {
	var t Totals
	for i, c := range r.Cells {
		t.Population += c.Population
		t.Cells++
		if r.Covered(i) {
			t.CoveredPopulation += c.Population
			t.CoveredCells++
		}
		if !r.Access[i].Minutes.Reached() {
			t.UnreachedCells++
		}
	}
	return t
}

// CellIndex finds the index of an H3 cell in r.Cells (sorted), or -1.
func (r *Result) CellIndex(c h3.Cell) int {
	lo, hi := 0, len(r.Cells)
	for lo < hi {
		m := (lo + hi) / 2
		if r.Cells[m].H3 < c {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(r.Cells) && r.Cells[lo].H3 == c {
		return lo
	}
	return -1
}

// cellIndex is what an update needs besides the times, kept with the result
// so that a batch of events costs only what it changes: the cells in blocks
// of cellBlockSize in H3 order (spatially compact runs) with their lon/lat
// box and slowest time, and the covered population. Analyze builds it, as
// does the first update of a result read from disk; updates maintain it.
type cellIndex struct {
	blocks     []block
	covered    float64
	stationVec [][3]float64 // the stations on the unit sphere, when known
}

// stationVectors returns the unit vectors of stations (the result's own,
// plus any appended): from the index when it holds them, else computed.
// The slice is the caller's to extend.
func (r *Result) stationVectors(stations []Station) [][3]float64 {
	var v [][3]float64
	if r.idx != nil && len(r.idx.stationVec) == len(r.Stations) {
		v = append(make([][3]float64, 0, len(stations)), r.idx.stationVec...)
	}
	for _, s := range stations[len(v):] {
		v = append(v, unitVector(s.Pos))
	}
	return v
}

// block is a run [Lo, Hi) of cells with the lon/lat box around their
// centres and the slowest time among them.
type block struct {
	Lo, Hi   int32
	Min, Max [2]float64
	slowest  Minutes
	dirty    bool // slowest may have dropped: recompute before use
}

// index returns the result's cell index, building it when missing.
func (r *Result) index() *cellIndex {
	if r.idx != nil && len(r.idx.blocks) == (len(r.Cells)+cellBlockSize-1)/cellBlockSize {
		return r.idx
	}
	n := int32(len(r.Cells))
	ix := &cellIndex{blocks: make([]block, (n+cellBlockSize-1)/cellBlockSize)}
	covered := make([]float64, len(ix.blocks))
	threshold := r.Settings.Minutes
	splitRange(len(ix.blocks), func(from, to int) {
		for k := from; k < to; k++ {
			lo := int32(k) * cellBlockSize
			b := block{Lo: lo, Hi: min(lo+cellBlockSize, n)}
			b.Min, b.Max = r.Cells[lo].Pos, r.Cells[lo].Pos
			var sum float64
			for i := b.Lo; i < b.Hi; i++ {
				// Plain comparisons: the min and max built-ins handle NaN
				// and signed zeros, which costs here and cannot occur.
				q := r.Cells[i].Pos
				if q[0] < b.Min[0] {
					b.Min[0] = q[0]
				} else if q[0] > b.Max[0] {
					b.Max[0] = q[0]
				}
				if q[1] < b.Min[1] {
					b.Min[1] = q[1]
				} else if q[1] > b.Max[1] {
					b.Max[1] = q[1]
				}
				m := r.Access[i].Minutes // Unreached is +Inf: the plain maximum covers it
				if m > b.slowest {
					b.slowest = m
				}
				if m <= threshold {
					sum += r.Cells[i].Population
				}
			}
			if b.Max[0]-b.Min[0] > 180 {
				// A block across the antimeridian: a whole-longitude box
				// stays a valid (if loose) bound.
				b.Min[0], b.Max[0] = -180, 180
			}
			ix.blocks[k] = b
			covered[k] = sum
		}
	})
	for _, c := range covered {
		ix.covered += c
	}
	ix.stationVec = make([][3]float64, len(r.Stations))
	for i, s := range r.Stations {
		ix.stationVec[i] = unitVector(s.Pos)
	}
	r.idx = ix
	return ix
}

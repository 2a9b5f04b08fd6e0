package gpkg

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
)

// layersOf lays out the feature tables for r: stations, cells and gaps
// always; areas and proposals when there are any.
func layersOf(r *coverage.Result, opt WriteOptions) []layer {
	ls := []layer{tierStations(stationsLayer(r), opt.Tiers), tierCells(cellsLayer(r, opt.Snap), opt.Tiers), gapsLayer(r)}
	if len(r.Areas) > 0 {
		ls = append(ls, areasLayer(r))
	}
	if len(opt.Proposals) > 0 {
		ls = append(ls, proposalsLayer(opt.Proposals))
	}
	if tx := opt.Tiers; tx != nil && tx.Catchments != nil {
		ls = append(ls, catchmentsLayer(tx))
	}
	if tx := opt.Tiers; tx != nil && tx.Named && tx.Gaps != nil {
		ls = append(ls, tierGapsLayer(tx))
	}
	return ls
}

// Tiers is a tiered analysis's additions to the layers: every tier's
// walking times and coverage per cell, the accessibility index per cell,
// and each station's catchment and load.
type Tiers struct {
	Result *coverage.TierResult // of the Result's cells and stations, in the same order
	// Named adds minutes_<tier>, covered_<tier> and fully_served to the
	// cells; false for the single unnamed tier of an accessibility-only run.
	Named bool
	// Catchments, one per station, add capacity, served_population,
	// potential_population, load and overloaded to the stations and the
	// catchments layer; nil for none.
	Catchments []coverage.Catchment
	Access     []float64 // each cell's accessibility index; nil for none
	// Gaps are every tier's gaps, in Spec order, for the tier_gaps layer
	// (with Named); nil for none.
	Gaps [][]coverage.Gap
}

// check reports tiers that do not match r (nil tiers match anything).
func (tx *Tiers) check(r *coverage.Result) error {
	if tx == nil {
		return nil
	}
	tr := tx.Result
	switch {
	case tr == nil:
		return fmt.Errorf("tiers without a tier result")
	case len(tr.Cells) != len(r.Cells):
		return fmt.Errorf("%d cells but %d in the tier result", len(r.Cells), len(tr.Cells))
	case len(tr.Stations) != len(r.Stations) || len(tr.StationTier) != len(r.Stations):
		return fmt.Errorf("%d stations but %d in the tier result", len(r.Stations), len(tr.Stations))
	case tx.Catchments != nil && len(tx.Catchments) != len(r.Stations):
		return fmt.Errorf("%d stations but %d catchments", len(r.Stations), len(tx.Catchments))
	case tx.Access != nil && len(tx.Access) != len(r.Cells):
		return fmt.Errorf("%d cells but %d access values", len(r.Cells), len(tx.Access))
	case tx.Gaps != nil && len(tx.Gaps) != len(tr.Tiers):
		return fmt.Errorf("%d tiers but gaps for %d", len(tr.Tiers), len(tx.Gaps))
	}
	for t, tc := range tr.Tiers {
		if len(tc.Access) != len(r.Cells) {
			return fmt.Errorf("%d cells but %d walking times for tier %d", len(r.Cells), len(tc.Access), t+1)
		}
	}
	return nil
}

// tierCells adds to the cells layer minutes_<tier> (NULL: no station
// reached) and covered_<tier> for every tier and fully_served when the
// tiers are named, and access when given.
func tierCells(l layer, tx *Tiers) layer {
	if tx == nil || (!tx.Named && tx.Access == nil) {
		return l
	}
	tr := tx.Result
	base := len(l.cols)
	if tx.Named {
		for _, tc := range tr.Tiers {
			l.cols = append(l.cols, column{"minutes_" + tc.Tier.Name, "REAL"}, column{"covered_" + tc.Tier.Name, "INTEGER"})
		}
		l.cols = append(l.cols, column{"fully_served", "INTEGER"})
	}
	if tx.Access != nil {
		l.cols = append(l.cols, column{"access", "REAL"})
	}
	inner := l.row
	l.row = func(i int, a []any) orb.Geometry {
		g := inner(i, a[:base])
		k := base
		if tx.Named {
			for t, tc := range tr.Tiers {
				a[k], a[k+1] = nullable(tc.Access[i].Minutes), bit(tr.Covered(t, i))
				k += 2
			}
			a[k] = bit(tr.FullyServed(i))
			k++
		}
		if tx.Access != nil {
			a[k] = finite(tx.Access[i])
		}
		return g
	}
	return l
}

// tierStations adds each station's capacity (NULL: unknown), served and
// potential population, load (NULL: unknown) and overloaded, and styles
// the stations by load.
func tierStations(l layer, tx *Tiers) layer {
	if tx == nil || tx.Catchments == nil {
		return l
	}
	base := len(l.cols)
	l.cols = append(l.cols, column{"capacity", "REAL"}, column{"served_population", "REAL"},
		column{"potential_population", "REAL"}, column{"load", "REAL"}, column{"overloaded", "INTEGER"})
	l.qml = stationLoadQML()
	l.description += "; served_population is the people of its own tier it serves, load that over its capacity (NULL: capacity unknown)"
	inner := l.row
	l.row = func(i int, a []any) orb.Geometry {
		g := inner(i, a[:base])
		c := tx.Catchments[i]
		a[base] = nil
		if c.Capacity > 0 {
			a[base] = c.Capacity
		}
		a[base+1], a[base+2], a[base+3], a[base+4] = c.Served, c.Potential, finite(c.Load), bit(c.Overloaded())
		return g
	}
	return l
}

// catchmentsLayer has one feature per station that serves any cell: the
// outline of the cells it serves at its own tier (those covered for that
// tier whose nearest station serving it is this one), one polygon per
// connected piece.
func catchmentsLayer(tx *Tiers) layer {
	served := servedCells(tx)
	var stations []int
	for j, cs := range served {
		if len(cs) > 0 {
			stations = append(stations, j)
		}
	}
	return catchmentRows(tx, served, stations)
}

// servedCells lists, for each station, the cells it serves at its own
// tier, in cell order.
func servedCells(tx *Tiers) [][]h3.Cell {
	tr := tx.Result
	served := make([][]h3.Cell, len(tr.Stations))
	for t, tc := range tr.Tiers {
		for i, a := range tc.Access {
			j := a.Station
			if j < 0 || int(j) >= len(tr.Stations) || int(tr.StationTier[j]) != t || !tr.Covered(t, i) {
				continue
			}
			served[j] = append(served[j], tr.Cells[i].H3)
		}
	}
	return served
}

// catchmentRows lays out the catchments of the listed stations.
func catchmentRows(tx *Tiers, served [][]h3.Cell, stations []int) layer {
	tr := tx.Result
	return layer{
		name: "catchments", geomType: "MULTIPOLYGON", qml: catchmentsQML(),
		description: "what each station serves: the cells of its own tier it is the nearest serving station of, within the tier's threshold",
		cols: []column{{"station_id", "TEXT"}, {"tier", "TEXT"}, {"cells", "INTEGER"},
			{"served_population", "REAL"}, {"load", "REAL"}},
		n: len(stations),
		row: func(k int, a []any) orb.Geometry {
			j := stations[k]
			c := tx.Catchments[j]
			tier := tr.Stations[j].Tier
			if tx.Named {
				tier = tr.Spec.Tiers[tr.StationTier[j]].Name
			}
			a[0], a[1], a[2], a[3], a[4] = tr.Stations[j].ID, tier, int64(len(served[j])), c.Served, finite(c.Load)
			return outline(served[j])
		},
	}
}

// outline dissolves cells into one polygon per connected piece (cells
// sharing an edge), the pieces in the order of their first cell.
func outline(cells []h3.Cell) orb.MultiPolygon {
	in := make(map[h3.Cell]bool, len(cells))
	for _, c := range cells {
		in[c] = true
	}
	var mp orb.MultiPolygon
	for _, c := range cells {
		if !in[c] {
			continue
		}
		delete(in, c)
		piece := []h3.Cell{c}
		for q := 0; q < len(piece); q++ {
			for _, n := range piece[q].GridDisk(1) {
				if in[n] {
					delete(in, n)
					piece = append(piece, n)
				}
			}
		}
		if p := coverage.Dissolve(piece); len(p) > 0 {
			mp = append(mp, p)
		}
	}
	return mp
}

func bit(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// finite returns x, or nil (SQL NULL) when x is NaN or infinite.
func finite(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

func stationsLayer(r *coverage.Result) layer {
	cells := make([]int64, len(r.Stations))
	pop := make([]float64, len(r.Stations))
	for i, a := range r.Access {
		if s := a.Station; s >= 0 && int(s) < len(r.Stations) {
			cells[s]++
			pop[s] += r.Cells[i].Population
		}
	}
	return layer{
		name: "stations", geomType: "POINT", qml: stationsQML(),
		description: "service stations; cells_nearest and population_nearest count the populated cells whose nearest station it is",
		cols: []column{{"id", "TEXT"}, {"name", "TEXT"}, {"tier", "TEXT"},
			{"cells_nearest", "INTEGER"}, {"population_nearest", "REAL"}},
		n: len(r.Stations),
		row: func(i int, a []any) orb.Geometry {
			s := r.Stations[i]
			a[0], a[1], a[2], a[3], a[4] = s.ID, s.Name, s.Tier, cells[i], pop[i]
			return s.Pos
		},
	}
}

func cellsLayer(r *coverage.Result, snap []float64) layer {
	cols := []column{{"h3", "TEXT"}, {"lon", "REAL"}, {"lat", "REAL"}, {"population", "REAL"},
		{"minutes", "REAL"}, {"nearest_station", "TEXT"}, {"covered", "INTEGER"}}
	if snap != nil {
		cols = append(cols, column{"snap_m", "REAL"})
	}
	if r.InReach != nil {
		cols = append(cols, column{"stations_in_reach", "INTEGER"})
	}
	base := len(cols)
	for _, l := range r.Layers {
		cols = append(cols, column{"population_" + l.Name, "REAL"})
	}
	return layer{
		name: "cells", geomType: "POLYGON", qml: cellsQML(r.Settings.Minutes), cols: cols,
		description: "populated H3 demand cells with the walking minutes to the nearest station (NULL: none reached)",
		n:           len(r.Cells),
		row: func(i int, a []any) orb.Geometry {
			c, acc := r.Cells[i], r.Access[i]
			a[0], a[1], a[2], a[3] = c.H3.String(), c.Pos[0], c.Pos[1], c.Population
			a[4] = nullable(acc.Minutes)
			a[5] = nil
			if s := acc.Station; s >= 0 && int(s) < len(r.Stations) {
				a[5] = r.Stations[s].ID
			}
			a[6] = int64(0)
			if r.Covered(i) {
				a[6] = int64(1)
			}
			k := 7
			if snap != nil {
				a[k] = nil
				if !math.IsNaN(snap[i]) {
					a[k] = snap[i]
				}
				k++
			}
			if r.InReach != nil {
				a[k] = int64(r.InReach[i])
			}
			for l, v := range c.Layers {
				a[base+l] = v
			}
			return orb.Polygon{coverage.CellRing(c.H3)}
		},
	}
}

func gapsLayer(r *coverage.Result) layer {
	cols := []column{{"id", "INTEGER"}, {"population", "REAL"}, {"cells", "INTEGER"},
		{"lon", "REAL"}, {"lat", "REAL"}, {"max_minutes", "REAL"}}
	for _, l := range r.Layers {
		cols = append(cols, column{"population_" + l.Name, "REAL"})
	}
	if len(r.Layers) > 0 {
		cols = append(cols, column{"weighted", "REAL"})
	}
	return layer{
		name: "gaps", geomType: "POLYGON", qml: gapsQML(),
		description: "connected populated cells beyond the threshold, ranked by population, or by weighted people with several population layers (max_minutes NULL: some cell reaches no station)",
		cols:        cols,
		n:           len(r.Gaps),
		row: func(i int, a []any) orb.Geometry {
			g := r.Gaps[i]
			a[0], a[1], a[2], a[3], a[4], a[5] = int64(g.ID), g.Population, int64(len(g.Cells)), g.Point[0], g.Point[1], nullable(g.MaxMinutes)
			for l, v := range g.Layers {
				a[6+l] = v
			}
			if len(r.Layers) > 0 {
				a[6+len(r.Layers)] = g.Weighted
			}
			if len(g.Outline) == 0 {
				return nil
			}
			return g.Outline
		},
	}
}

func areasLayer(r *coverage.Result) layer {
	cols := []column{{"level", "TEXT"}, {"name", "TEXT"}, {"parent", "TEXT"}, {"population", "REAL"},
		{"covered_population", "REAL"}, {"share_covered", "REAL"}, {"cells", "INTEGER"},
		{"stations", "INTEGER"}, {"gaps", "INTEGER"}}
	for _, l := range r.Layers {
		cols = append(cols, column{"population_" + l.Name, "REAL"}, column{"covered_" + l.Name, "REAL"})
	}
	return layer{
		name: "areas", geomType: "MULTIPOLYGON", qml: areasQML(),
		description: "coverage by area; a parent level without its own outline shows its areas' polygons side by side",
		cols:        cols,
		n:           len(r.Areas),
		row: func(i int, a []any) orb.Geometry {
			s := r.Areas[i]
			a[0], a[1], a[2], a[3], a[4] = s.Level, s.Name, s.Parent, s.Population, s.CoveredPopulation
			a[5], a[6], a[7], a[8] = s.Share(), int64(s.Cells), int64(s.Stations), int64(s.Gaps)
			for l, v := range s.Layers {
				a[9+2*l], a[10+2*l] = v, s.CoveredLayers[l]
			}
			g := s.Geom
			if len(g) == 0 && s.Level == "parent" {
				g = childOutlines(r.Areas, s.Name)
			}
			if len(g) == 0 {
				return nil
			}
			return g
		},
	}
}

// childOutlines gathers the polygons of the areas whose parent is name.
func childOutlines(areas []coverage.AreaSummary, name string) orb.MultiPolygon {
	var mp orb.MultiPolygon
	for _, a := range areas {
		if a.Level != "parent" && a.Parent == name {
			mp = append(mp, a.Geom...)
		}
	}
	return mp
}

func proposalsLayer(ps []Proposal) layer {
	return layer{
		name: "proposals", geomType: "POINT", qml: proposalsQML(),
		description: "proposed new sites in the order chosen; covered figures are cumulative",
		cols: []column{{"rank", "INTEGER"}, {"h3", "TEXT"}, {"added_population", "REAL"},
			{"covered_population", "REAL"}, {"share_covered", "REAL"}, {"site_id", "TEXT"}},
		n: len(ps),
		row: func(i int, a []any) orb.Geometry {
			p := ps[i]
			a[0], a[1], a[2], a[3], a[4], a[5] = int64(p.Rank), p.H3, p.Added, p.Covered, p.Share, p.ID
			if math.IsNaN(p.Pos[0]) || math.IsNaN(p.Pos[1]) {
				return nil
			}
			return p.Pos
		},
	}
}

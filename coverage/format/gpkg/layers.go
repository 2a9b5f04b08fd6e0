package gpkg

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// layersOf lays out the feature tables for r: stations, cells and gaps
// always; areas and proposals when there are any.
func layersOf(r *coverage.Result, opt WriteOptions) []layer {
	ls := []layer{stationsLayer(r), cellsLayer(r, opt.Snap), gapsLayer(r)}
	if len(r.Areas) > 0 {
		ls = append(ls, areasLayer(r))
	}
	if len(opt.Proposals) > 0 {
		ls = append(ls, proposalsLayer(opt.Proposals))
	}
	return ls
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
			return orb.Polygon{coverage.CellRing(c.H3)}
		},
	}
}

func gapsLayer(r *coverage.Result) layer {
	return layer{
		name: "gaps", geomType: "POLYGON", qml: gapsQML(),
		description: "connected populated cells beyond the threshold, ranked by population (max_minutes NULL: some cell reaches no station)",
		cols: []column{{"id", "INTEGER"}, {"population", "REAL"}, {"cells", "INTEGER"},
			{"lon", "REAL"}, {"lat", "REAL"}, {"max_minutes", "REAL"}},
		n: len(r.Gaps),
		row: func(i int, a []any) orb.Geometry {
			g := r.Gaps[i]
			a[0], a[1], a[2], a[3], a[4], a[5] = int64(g.ID), g.Population, int64(len(g.Cells)), g.Point[0], g.Point[1], nullable(g.MaxMinutes)
			if len(g.Outline) == 0 {
				return nil
			}
			return g.Outline
		},
	}
}

func areasLayer(r *coverage.Result) layer {
	return layer{
		name: "areas", geomType: "MULTIPOLYGON", qml: areasQML(),
		description: "coverage by area; a parent level without its own outline shows its areas' polygons side by side",
		cols: []column{{"level", "TEXT"}, {"name", "TEXT"}, {"parent", "TEXT"}, {"population", "REAL"},
			{"covered_population", "REAL"}, {"share_covered", "REAL"}, {"cells", "INTEGER"},
			{"stations", "INTEGER"}, {"gaps", "INTEGER"}},
		n: len(r.Areas),
		row: func(i int, a []any) orb.Geometry {
			s := r.Areas[i]
			a[0], a[1], a[2], a[3], a[4] = s.Level, s.Name, s.Parent, s.Population, s.CoveredPopulation
			a[5], a[6], a[7], a[8] = s.Share(), int64(s.Cells), int64(s.Stations), int64(s.Gaps)
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

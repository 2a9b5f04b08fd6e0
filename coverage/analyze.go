package coverage

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/paulmach/orb"
)

// Study is the input of an analysis.
type Study struct {
	Settings        Settings
	Stations        []Station
	Cells           []Cell  // demand cells, sorted by H3 index (see Aggregate)
	InputPopulation float64 // population read before aggregation
	Areas           []Area
	// Layers names the populations whose people each cell's Layers holds,
	// with their weights; nil for one population.
	Layers []Layer
}

// Analyze computes every cell's walking time to its nearest station with
// reach, then the gaps and the area summaries. reach must be bound to
// study.Cells. logger may be nil.
func Analyze(ctx context.Context, study Study, reach Reach, logger *slog.Logger) (*Result, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := study.Settings.Validate(); err != nil {
		return nil, err
	}
	if err := CheckLayers(study.Layers); err != nil {
		return nil, err
	}
	for _, c := range study.Cells {
		if len(c.Layers) != len(study.Layers) {
			return nil, fmt.Errorf("coverage: cell %v has %d layers of people, the study %d", c.H3, len(c.Layers), len(study.Layers))
		}
	}
	r := &Result{
		Layers:          study.Layers,
		Settings:        study.Settings,
		Mode:            reach.Mode(),
		Bound:           reach.Bound(),
		Stations:        study.Stations,
		Cells:           study.Cells,
		Access:          make([]Access, len(study.Cells)),
		InputPopulation: study.InputPopulation,
		Created:         time.Now().UTC(),
	}
	pts := StationPoints(study.Stations)
	t0 := time.Now()
	if err := reach.Nearest(ctx, pts, nil, r.Access); err != nil {
		return nil, fmt.Errorf("coverage: walking times: %w", err)
	}
	logger.Debug("nearest stations", "cells", len(r.Cells), "stations", len(pts), "took", time.Since(t0))
	if c, ok := reach.(Counter); ok {
		r.InReach = make([]int32, len(r.Cells))
		if err := c.InReach(ctx, pts, study.Settings.Minutes, r.InReach); err != nil {
			return nil, fmt.Errorf("coverage: stations in reach: %w", err)
		}
	}
	r.Finish(study.Areas)
	return r, nil
}

// Finish recomputes what derives from the walking times: gaps and area
// summaries.
func (r *Result) Finish(areas []Area) {
	r.Gaps = FindGaps(r)
	r.Areas = SummarizeAreas(r, areas)
	r.idx = nil
	r.index()
}

// AreaInputs recovers the areas of a summarised result (leaf level).
func (r *Result) AreaInputs() []Area {
	var out []Area
	for _, a := range r.Areas {
		if a.Level == "area" {
			out = append(out, Area{Name: a.Name, Parent: a.Parent, Geom: a.Geom})
		}
	}
	return out
}

// StationPoints lists the stations' positions in order.
func StationPoints(st []Station) []orb.Point {
	pts := make([]orb.Point, len(st))
	for i, s := range st {
		pts[i] = s.Pos
	}
	return pts
}

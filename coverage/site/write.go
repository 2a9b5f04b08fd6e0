package site

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
)

func fnum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 7, 64) }

// hasIDs reports whether any site carries an id (cost-table or user
// candidates); then sites.csv gets an id column.
func (pl *Plan) hasIDs() bool {
	for _, s := range pl.Sites {
		if s.ID != "" {
			return true
		}
	}
	return false
}

// SiteColumn is a column sites.csv adds after its own: a name and one
// value per site, in the plan's order.
type SiteColumn struct {
	Name   string
	Values []float64
}

// WriteSitesCSV writes sites.csv: rank,lon,lat,h3,added_population,
// covered_population,share_covered, then id when sites have ids, then the
// extra columns. lon, lat and h3 are empty for sites without a position
// (cost-table mode). The population figures are the plan's weights.
func WriteSitesCSV(w io.Writer, pl *Plan, extra ...SiteColumn) error {
	cw := csv.NewWriter(w)
	header := []string{"rank", "lon", "lat", "h3", "added_population", "covered_population", "share_covered"}
	ids := pl.hasIDs()
	if ids {
		header = append(header, "id")
	}
	for _, c := range extra {
		if len(c.Values) != len(pl.Sites) {
			return fmt.Errorf("site: column %s has %d values for %d sites", c.Name, len(c.Values), len(pl.Sites))
		}
		header = append(header, c.Name)
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	for k, s := range pl.Sites {
		var lon, lat, cell string
		if s.HasPos {
			lon, lat = coord(s.Pos[0]), coord(s.Pos[1])
		}
		if s.H3 != 0 {
			cell = s.H3.String()
		}
		rec := []string{strconv.Itoa(s.Rank), lon, lat, cell, fnum(s.Added), fnum(s.Covered), fnum(s.Share)}
		if ids {
			rec = append(rec, s.ID)
		}
		for _, c := range extra {
			rec = append(rec, fnum(c.Values[k]))
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("site: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	return nil
}

// WriteCurveCSV writes curve.csv, each figure with its bound in the same
// terms: k, newly_covered (by the first k sites of the plan),
// newly_covered_upper_bound (no k new sites newly cover more),
// covered_population and covered_population_upper_bound (the same, with
// the population covered before added), share_covered and
// share_covered_upper_bound. Bounds are empty when unknown.
func WriteCurveCSV(w io.Writer, pl *Plan) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"k", "newly_covered", "newly_covered_upper_bound", "covered_population", "covered_population_upper_bound",
		"share_covered", "share_covered_upper_bound"}); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	for _, c := range pl.Curve {
		ub, cub, sub := "", "", ""
		if !math.IsNaN(c.UpperBound) {
			ub, cub, sub = fnum(c.UpperBound), fnum(pl.Base+c.UpperBound), fnum(ratio(pl.Base+c.UpperBound, pl.Total))
		}
		if err := cw.Write([]string{strconv.Itoa(c.K), fnum(c.Covered - pl.Base), ub, fnum(c.Covered), cub, fnum(c.Share), sub}); err != nil {
			return fmt.Errorf("site: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	return nil
}

type jsonSite struct {
	Rank    int      `json:"rank"`
	ID      string   `json:"id,omitempty"`
	Lon     *float64 `json:"lon,omitempty"`
	Lat     *float64 `json:"lat,omitempty"`
	H3      string   `json:"h3,omitempty"`
	Added   float64  `json:"added_population"`
	Covered float64  `json:"covered_population"`
	Share   float64  `json:"share_covered"`
}

type jsonCurve struct {
	K          int      `json:"k"`
	Newly      float64  `json:"newly_covered"`
	UpperBound *float64 `json:"newly_covered_upper_bound,omitempty"`
	Covered    float64  `json:"covered_population"`
	Share      float64  `json:"share_covered"`
}

// Extra holds facts the caller adds to proposal.json (mode, minutes,
// radius, pairs read); nil values are left out.
type Extra map[string]any

// WriteProposalJSON writes proposal.json: objective, upper_bound, gap,
// sites (rank order), curve, and the request and problem figures; extra
// fields from the caller are merged in (they do not override these).
func WriteProposalJSON(w io.Writer, pl *Plan, extra Extra) error {
	out := map[string]any{}
	for k, v := range extra {
		if v != nil {
			out[k] = v
		}
	}
	sites := make([]jsonSite, len(pl.Sites))
	for i, s := range pl.Sites {
		js := jsonSite{Rank: s.Rank, ID: s.ID, Added: s.Added, Covered: s.Covered, Share: s.Share}
		if s.HasPos {
			lon, lat := round7(s.Pos[0]), round7(s.Pos[1])
			js.Lon, js.Lat = &lon, &lat
		}
		if s.H3 != 0 {
			js.H3 = s.H3.String()
		}
		sites[i] = js
	}
	curve := make([]jsonCurve, len(pl.Curve))
	for i, c := range pl.Curve {
		jc := jsonCurve{K: c.K, Newly: c.Covered - pl.Base, Covered: c.Covered, Share: c.Share}
		if !math.IsNaN(c.UpperBound) {
			ub := c.UpperBound
			jc.UpperBound = &ub
		}
		curve[i] = jc
	}
	out["objective"] = pl.Objective
	out["upper_bound"] = nanNil(pl.UpperBound)
	out["gap"] = nanNil(pl.Gap)
	out["sites"] = sites
	out["curve"] = curve
	out["solve_mode"] = pl.Mode
	if pl.Mode == "add" {
		out["k"] = pl.K
	} else {
		out["target"] = pl.Target
		out["target_reached"] = pl.Reached
		out["min_sites_lower_bound"] = pl.MinSites
	}
	out["sites_proposed"] = len(pl.Sites)
	out["population_total"] = pl.Total
	out["population_covered_before"] = pl.Base
	out["population_covered_after"] = pl.Covered
	out["share_covered_before"] = ratio(pl.Base, pl.Total)
	out["share_covered_after"] = pl.Share
	out["candidates"] = pl.Candidates
	out["candidates_considered"] = pl.Considered
	out["swaps"] = pl.Swaps
	out["bound_iterations"] = pl.Iterations
	notes := pl.Status
	if notes == nil {
		notes = []string{}
	}
	out["notes"] = notes
	out["status"] = "gap"
	if pl.Optimal {
		out["status"] = "optimal"
	}
	out["gap_tolerance"] = pl.GapTolerance
	out["nodes"] = pl.Nodes
	out["seconds"] = pl.Seconds
	out["timed_out"] = pl.TimedOut
	if pl.Mode == "add" && len(pl.Sites) < pl.K {
		out["min_sites_lower_bound"] = pl.MinSites
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	return nil
}

func nanNil(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

// WriteSitesGeoJSON writes the sites with positions as an RFC 7946
// FeatureCollection of points (sites without a position are left out).
func WriteSitesGeoJSON(w io.Writer, pl *Plan) error {
	type geom struct {
		Type        string     `json:"type"`
		Coordinates [2]float64 `json:"coordinates"`
	}
	type feature struct {
		Type       string         `json:"type"`
		Geometry   geom           `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection", Features: []feature{}}
	for _, s := range pl.Sites {
		if !s.HasPos {
			continue
		}
		props := map[string]any{"rank": s.Rank, "added_population": s.Added,
			"covered_population": s.Covered, "share_covered": s.Share}
		if s.ID != "" {
			props["id"] = s.ID
		}
		if s.H3 != 0 {
			props["h3"] = s.H3.String()
		}
		fc.Features = append(fc.Features, feature{Type: "Feature",
			Geometry:   geom{Type: "Point", Coordinates: [2]float64{round7(s.Pos[0]), round7(s.Pos[1])}},
			Properties: props})
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(fc); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	return nil
}

package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// Extras are the reach model's additions to the standard outputs.
type Extras struct {
	Snap  coverage.Snapper // adds snap_m to cells.csv when non-nil
	Stats map[string]any   // summary.json gains this object under the result's Mode
	More  map[string]any   // further top-level summary.json members (inputs, version)
	// Tiers adds the tiers' columns to cells.csv and their members to
	// summary.json (see TierSummary); nil for an analysis without tiers.
	Tiers *TierExtras
}

// WriteCellsCSV writes cells.csv: one row per populated demand cell, with
// header h3,lon,lat,population,minutes,nearest_station,covered then
// distance_m, and stations_in_reach and snap_m when known. With ex.Tiers,
// minutes and covered are the bottom tier's, followed by minutes_<tier>
// and covered_<tier> for every tier, fully_served, and access with an
// access method.
func WriteCellsCSV(w io.Writer, r *coverage.Result, ex Extras) error {
	bw := newErrWriter(w)
	bw.str("h3,lon,lat,population,minutes,nearest_station,covered,distance_m")
	if r.InReach != nil {
		bw.str(",stations_in_reach")
	}
	if ex.Snap != nil {
		bw.str(",snap_m")
	}
	if ex.Tiers != nil {
		bw.bytes(appendTierHeader(nil, ex.Tiers))
	}
	for _, l := range r.Layers {
		bw.str(",population_" + l.Name)
	}
	bw.str("\n")
	buf := make([]byte, 0, 256)
	for i, c := range r.Cells {
		a := r.Access[i]
		buf = buf[:0]
		buf = append(buf, c.H3.String()...)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, c.Pos[0], 'f', 7, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, c.Pos[1], 'f', 7, 64)
		buf = append(buf, ',')
		buf = appendNumber(buf, c.Population)
		buf = append(buf, ',')
		if a.Minutes.Reached() {
			buf = strconv.AppendFloat(buf, float64(a.Minutes), 'f', 4, 64)
		}
		buf = append(buf, ',')
		if a.Station >= 0 {
			buf = appendCSVField(buf, r.Stations[a.Station].ID)
		}
		buf = append(buf, ',')
		if r.Covered(i) {
			buf = append(buf, '1')
		} else {
			buf = append(buf, '0')
		}
		buf = append(buf, ',')
		if a.Minutes.Reached() {
			buf = strconv.AppendFloat(buf, float64(r.Settings.SpeedKmh.Distance(a.Minutes)), 'f', 1, 64)
		}
		if r.InReach != nil {
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64(r.InReach[i]), 10)
		}
		if ex.Snap != nil {
			buf = append(buf, ',')
			if d, ok := ex.Snap.CellSnap(int32(i)); ok {
				buf = strconv.AppendFloat(buf, float64(d), 'f', 1, 64)
			}
		}
		if ex.Tiers != nil {
			buf = appendTierRow(buf, ex.Tiers, i)
		}
		for _, v := range c.Layers {
			buf = append(buf, ',')
			buf = appendNumber(buf, v)
		}
		buf = append(buf, '\n')
		bw.bytes(buf)
	}
	return bw.err
}

// appendNumber writes integers without a fraction and other values with the
// shortest exact representation.
func appendNumber(buf []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(buf, int64(v), 10)
	}
	return strconv.AppendFloat(buf, v, 'f', -1, 64)
}

func appendCSVField(buf []byte, s string) []byte {
	needs := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, s[i])
	}
	return append(buf, '"')
}

// GapJSON is a gap as listed in summary.json.
type GapJSON struct {
	ID         int      `json:"id"`
	Population float64  `json:"population"`
	Cells      int      `json:"cells"`
	Lon        float64  `json:"lon"`
	Lat        float64  `json:"lat"`
	MaxMinutes *float64 `json:"max_minutes"`
	// With several population layers: the gap's people per layer and its
	// weighted people, by which gaps are ranked.
	Layers   map[string]float64 `json:"layers,omitempty"`
	Weighted *float64           `json:"weighted,omitempty"`
}

// LayerJSON is one population layer in summary.json.
type LayerJSON struct {
	Name              string  `json:"name"`
	Weight            float64 `json:"weight"`
	Population        float64 `json:"population"`
	PopulationCovered float64 `json:"population_covered"`
	ShareCovered      float64 `json:"share_covered"`
}

// Summary is summary.json.
type Summary struct {
	Mode              string         `json:"mode"`
	Minutes           float64        `json:"minutes"`
	SpeedKmh          float64        `json:"speed_kmh"`
	DistanceM         float64        `json:"distance_m"`
	Res               int            `json:"res"`
	PopulationInput   float64        `json:"population_input"`
	PopulationTotal   float64        `json:"population_total"`
	PopulationCovered float64        `json:"population_covered"`
	ShareCovered      float64        `json:"share_covered"`
	Cells             int            `json:"cells"`
	CellsCovered      int            `json:"cells_covered"`
	Stations          int            `json:"stations"`
	UnreachableCells  int            `json:"unreachable_cells"`
	BoundMinutes      *float64       `json:"bound_minutes"`
	Gaps              []GapJSON      `json:"gaps"`
	Areas             []AreaJSON     `json:"areas,omitempty"`
	Created           string         `json:"created"`
	Extra             map[string]any `json:"-"`
}

// AreaJSON is one row of the by-area summary.
type AreaJSON struct {
	Level             string   `json:"level"`
	Name              string   `json:"name"`
	Parent            string   `json:"parent,omitempty"`
	Population        float64  `json:"population"`
	CoveredPopulation float64  `json:"covered_population"`
	ShareCovered      float64  `json:"share_covered"`
	Cells             int      `json:"cells"`
	Stations          int      `json:"stations"`
	Gaps              int      `json:"gaps"`
	Worst             []string `json:"worst_cells"`
	// Layers is the area's coverage per population layer (several layers
	// only).
	Layers []AreaLayerJSON `json:"layers,omitempty"`
}

// AreaLayerJSON is one population layer's coverage in an area.
type AreaLayerJSON struct {
	Name              string  `json:"name"`
	Population        float64 `json:"population"`
	CoveredPopulation float64 `json:"covered_population"`
	ShareCovered      float64 `json:"share_covered"`
}

// MakeSummary builds summary.json's content.
func MakeSummary(r *coverage.Result) Summary {
	t := r.Totals()
	s := Summary{
		Mode:              r.Mode,
		Minutes:           float64(r.Settings.Minutes),
		SpeedKmh:          float64(r.Settings.SpeedKmh),
		DistanceM:         float64(r.Settings.Radius()),
		Res:               r.Settings.Res,
		PopulationInput:   r.InputPopulation,
		PopulationTotal:   t.Population,
		PopulationCovered: t.CoveredPopulation,
		ShareCovered:      t.Share(),
		Cells:             t.Cells,
		CellsCovered:      t.CoveredCells,
		Stations:          len(r.Stations),
		UnreachableCells:  t.UnreachedCells,
		Gaps:              make([]GapJSON, 0, len(r.Gaps)),
		Created:           r.Created.Format("2006-01-02T15:04:05Z"),
	}
	if r.Bound.Reached() {
		b := float64(r.Bound)
		s.BoundMinutes = &b
	}
	for _, g := range r.Gaps {
		gj := GapJSON{ID: g.ID, Population: g.Population, Cells: len(g.Cells), Lon: round7(g.Point[0]), Lat: round7(g.Point[1])}
		if len(r.Layers) > 0 {
			gj.Layers = map[string]float64{}
			for l, v := range g.Layers {
				gj.Layers[r.Layers[l].Name] = v
			}
			w := g.Weighted
			gj.Weighted = &w
		}
		if g.MaxMinutes.Reached() {
			m := round4(float64(g.MaxMinutes))
			gj.MaxMinutes = &m
		}
		s.Gaps = append(s.Gaps, gj)
	}
	for _, a := range r.Areas {
		aj := AreaJSON{Level: a.Level, Name: a.Name, Parent: a.Parent, Population: a.Population,
			CoveredPopulation: a.CoveredPopulation, ShareCovered: a.Share(), Cells: a.Cells,
			Stations: a.Stations, Gaps: a.Gaps, Worst: []string{}}
		for _, c := range a.Worst {
			aj.Worst = append(aj.Worst, r.Cells[c].H3.String())
		}
		for l, v := range a.Layers {
			al := AreaLayerJSON{Name: r.Layers[l].Name, Population: v, CoveredPopulation: a.CoveredLayers[l]}
			if v > 0 {
				al.ShareCovered = a.CoveredLayers[l] / v
			}
			aj.Layers = append(aj.Layers, al)
		}
		s.Areas = append(s.Areas, aj)
	}
	return s
}

func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }
func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// WriteSummaryJSON writes summary.json: the contract's members first, then
// the reach model's statistics under its mode ("network": {...}) and
// ex.More's members.
func WriteSummaryJSON(w io.Writer, r *coverage.Result, ex Extras) error {
	ordered, err := json.MarshalIndent(MakeSummary(r), "", "  ")
	if err != nil {
		return err
	}
	extra := map[string]any{}
	for k, v := range ex.More {
		extra[k] = v
	}
	if ex.Stats != nil {
		extra[r.Mode] = ex.Stats
	}
	if ex.Tiers != nil {
		for k, v := range TierSummary(ex.Tiers) {
			extra[k] = v
		}
	}
	if lt := r.LayerTotals(); lt != nil {
		layers := make([]LayerJSON, len(lt))
		for l, t := range lt {
			layers[l] = LayerJSON{Name: t.Name, Weight: t.Weight, Population: t.Population, PopulationCovered: t.CoveredPopulation, ShareCovered: t.Share()}
		}
		extra["layers"] = layers
	}
	if len(extra) > 0 {
		eb, err := json.MarshalIndent(extra, "", "  ")
		if err != nil {
			return err
		}
		inner := bytes.TrimSpace(eb[1 : len(eb)-1])
		ordered = append(ordered[:len(ordered)-2], ",\n  "...)
		ordered = append(ordered, inner...)
		ordered = append(ordered, "\n}"...)
	}
	ordered = append(ordered, '\n')
	_, err = w.Write(ordered)
	return err
}

// WriteAreasCSV writes areas.csv: one row per area and per parent.
func WriteAreasCSV(w io.Writer, r *coverage.Result) error {
	bw := newErrWriter(w)
	bw.str("level,name,parent,population,covered_population,share_covered,cells,stations,gaps,worst_cells")
	for _, l := range r.Layers {
		bw.str(",population_" + l.Name + ",covered_" + l.Name + ",share_" + l.Name)
	}
	bw.str("\n")
	buf := make([]byte, 0, 256)
	for _, a := range r.Areas {
		buf = buf[:0]
		buf = append(buf, a.Level...)
		buf = append(buf, ',')
		buf = appendCSVField(buf, a.Name)
		buf = append(buf, ',')
		buf = appendCSVField(buf, a.Parent)
		buf = append(buf, ',')
		buf = appendNumber(buf, a.Population)
		buf = append(buf, ',')
		buf = appendNumber(buf, a.CoveredPopulation)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, a.Share(), 'f', 4, 64)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(a.Cells), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(a.Stations), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(a.Gaps), 10)
		buf = append(buf, ',')
		for k, c := range a.Worst {
			if k > 0 {
				buf = append(buf, ' ')
			}
			buf = append(buf, r.Cells[c].H3.String()...)
		}
		for l, v := range a.Layers {
			buf = append(buf, ',')
			buf = appendNumber(buf, v)
			buf = append(buf, ',')
			buf = appendNumber(buf, a.CoveredLayers[l])
			buf = append(buf, ',')
			share := 0.0
			if v > 0 {
				share = a.CoveredLayers[l] / v
			}
			buf = strconv.AppendFloat(buf, share, 'f', 4, 64)
		}
		buf = append(buf, '\n')
		bw.bytes(buf)
	}
	return bw.err
}

// WriteCellsGeoJSON writes cells.geojson: every populated cell as its H3
// hexagon with the cells.csv attributes (RFC 7946: lon/lat, outer rings
// counter-clockwise, no crs member).
func WriteCellsGeoJSON(w io.Writer, r *coverage.Result, ex Extras) error {
	bw := newErrWriter(w)
	bw.str(`{"type":"FeatureCollection","features":[`)
	buf := make([]byte, 0, 1024)
	for i, c := range r.Cells {
		a := r.Access[i]
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n"+`{"type":"Feature","properties":{"h3":"`...)
		buf = append(buf, c.H3.String()...)
		buf = append(buf, `","population":`...)
		buf = appendNumber(buf, c.Population)
		buf = append(buf, `,"minutes":`...)
		if a.Minutes.Reached() {
			buf = strconv.AppendFloat(buf, float64(a.Minutes), 'f', 4, 64)
		} else {
			buf = append(buf, "null"...)
		}
		buf = append(buf, `,"nearest_station":`...)
		if a.Station >= 0 {
			buf = appendJSONString(buf, r.Stations[a.Station].ID)
		} else {
			buf = append(buf, "null"...)
		}
		buf = append(buf, `,"covered":`...)
		if r.Covered(i) {
			buf = append(buf, '1')
		} else {
			buf = append(buf, '0')
		}
		if ex.Snap != nil {
			buf = append(buf, `,"snap_m":`...)
			if d, ok := ex.Snap.CellSnap(int32(i)); ok {
				buf = strconv.AppendFloat(buf, float64(d), 'f', 1, 64)
			} else {
				buf = append(buf, "null"...)
			}
		}
		buf = append(buf, `},"geometry":{"type":"Polygon","coordinates":[`...)
		buf = appendRing(buf, coverage.CellRing(c.H3))
		buf = append(buf, "]}}"...)
		bw.bytes(buf)
	}
	bw.str("\n]}\n")
	return bw.err
}

// WriteGapsGeoJSON writes gaps.geojson: each gap's dissolved outline, ranked.
func WriteGapsGeoJSON(w io.Writer, r *coverage.Result) error {
	bw := newErrWriter(w)
	bw.str(`{"type":"FeatureCollection","features":[`)
	writeGapFeatures(bw, r, r.Gaps, "", 0, 0)
	bw.str("\n]}\n")
	return bw.err
}

// WriteTierGapsGeoJSON writes tier_gaps.geojson: every tier's gaps, each
// with its tier and the tier's threshold (tier and minutes properties),
// the tiers from the top; feature ids run on across the tiers.
func WriteTierGapsGeoJSON(w io.Writer, r *coverage.Result, tx *TierExtras) error {
	bw := newErrWriter(w)
	bw.str(`{"type":"FeatureCollection","features":[`)
	n := 0
	for t, gaps := range tx.Gaps {
		tier := tx.Result.Spec.Tiers[t]
		writeGapFeatures(bw, r, gaps, tier.Name, float64(tier.Minutes), n)
		n += len(gaps)
	}
	bw.str("\n]}\n")
	return bw.err
}

// writeGapFeatures writes gaps as GeoJSON features, after n features
// already written; a tier's gaps carry its name and threshold.
func writeGapFeatures(bw *errWriter, r *coverage.Result, gaps []coverage.Gap, tier string, minutes float64, n int) {
	buf := make([]byte, 0, 4096)
	for i, g := range gaps {
		buf = buf[:0]
		if n+i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n"+`{"type":"Feature","id":`...)
		buf = strconv.AppendInt(buf, int64(n+i+1), 10)
		buf = append(buf, `,"properties":{`...)
		if tier != "" {
			buf = append(buf, `"tier":`...)
			tb, _ := json.Marshal(tier)
			buf = append(buf, tb...)
			buf = append(buf, `,"minutes":`...)
			buf = appendNumber(buf, minutes)
			buf = append(buf, ',')
		}
		buf = append(buf, `"id":`...)
		buf = strconv.AppendInt(buf, int64(g.ID), 10)
		buf = append(buf, `,"population":`...)
		buf = appendNumber(buf, g.Population)
		buf = append(buf, `,"cells":`...)
		buf = strconv.AppendInt(buf, int64(len(g.Cells)), 10)
		buf = append(buf, `,"lon":`...)
		buf = strconv.AppendFloat(buf, g.Point[0], 'f', 7, 64)
		buf = append(buf, `,"lat":`...)
		buf = strconv.AppendFloat(buf, g.Point[1], 'f', 7, 64)
		buf = append(buf, `,"max_minutes":`...)
		if g.MaxMinutes.Reached() {
			buf = strconv.AppendFloat(buf, float64(g.MaxMinutes), 'f', 4, 64)
		} else {
			buf = append(buf, "null"...)
		}
		for l, v := range g.Layers {
			buf = append(buf, `,"population_`...)
			buf = append(buf, r.Layers[l].Name...)
			buf = append(buf, `":`...)
			buf = appendNumber(buf, v)
		}
		if len(r.Layers) > 0 {
			buf = append(buf, `,"weighted":`...)
			buf = appendNumber(buf, g.Weighted)
		}
		buf = append(buf, `},"geometry":{"type":"Polygon","coordinates":[`...)
		for k, ring := range g.Outline {
			if k > 0 {
				buf = append(buf, ',')
			}
			buf = appendRing(buf, ring)
		}
		buf = append(buf, "]}}"...)
		bw.bytes(buf)
	}
}

func appendRing(buf []byte, ring orb.Ring) []byte {
	buf = append(buf, '[')
	for k, p := range ring {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = strconv.AppendFloat(buf, p[0], 'f', 7, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, p[1], 'f', 7, 64)
		buf = append(buf, ']')
	}
	return append(buf, ']')
}

func appendJSONString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(buf, b...)
}

// errWriter remembers the first write error so loops stay simple.
type errWriter struct {
	w   io.Writer
	err error
}

func newErrWriter(w io.Writer) *errWriter { return &errWriter{w: w} }

func (e *errWriter) bytes(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *errWriter) str(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

// Formats selects which outputs to write. GeoJSON means the small GeoJSON
// files (gaps, sites); CellsGeoJSON the one with a hexagon per cell, which
// at megacity scale is hundreds of megabytes and is written on request.
type Formats struct{ CSV, GeoJSON, GPKG, CellsGeoJSON bool }

// ParseFormats parses a comma-separated list of csv, geojson, gpkg,
// cells-geojson and all.
func ParseFormats(s string) (Formats, error) {
	var f Formats
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		switch part {
		case "csv":
			f.CSV = true
		case "geojson":
			f.GeoJSON = true
		case "gpkg":
			f.GPKG = true
		case "cells-geojson":
			f.CellsGeoJSON = true
		case "all":
			f = Formats{true, true, true, true}
		default:
			return f, fmt.Errorf("format: unknown output format %q (want csv, geojson, gpkg, cells-geojson or all)", part)
		}
	}
	if !f.CSV && !f.GeoJSON && !f.GPKG && !f.CellsGeoJSON {
		return f, fmt.Errorf("format: no output format in %q", s)
	}
	return f, nil
}

package format

import (
	"bytes"
	"io"
	"math"
	"strconv"

	"github.com/walkshed/walkshed/coverage"
)

// TierExtras are a tiered analysis's additions to the outputs: each
// tier's coverage, the stations' catchments and, with an access method,
// each cell's accessibility index.
type TierExtras struct {
	Result     *coverage.TierResult
	Catchments []coverage.Catchment // one per station; nil to leave stations.csv out
	Method     coverage.AccessMethod
	Access     []float64 // one per cell when Method is set
	// Named is true when the tiers were given (--tiers); false for the
	// single unnamed tier of an accessibility-only run, which adds no
	// per-tier columns.
	Named bool
	// Gaps are each tier's gaps, ranked as Result.Gaps (the bottom tier's
	// are the result's own); nil when not found.
	Gaps [][]coverage.Gap
	// Areas are each tier's area summaries, in the order of Result.Areas
	// (the bottom tier's are the result's own); nil without areas.
	Areas [][]coverage.AreaSummary
	// Layers are the study's population layers (nil for one): each tier's
	// covered people, the fully served and each station's served people
	// are also given per layer.
	Layers []coverage.Layer
}

// layerSums adds, for each station, the people per layer of the cells it
// serves at its own tier (as Catchment.Served counts them), and for each
// tier and for the fully served the covered people per layer.
func (tx *TierExtras) layerSums() (served, tiers [][]float64, full []float64) {
	k := len(tx.Layers)
	if k == 0 {
		return nil, nil, nil
	}
	tr := tx.Result
	served = make([][]float64, len(tr.Stations))
	for j := range served {
		served[j] = make([]float64, k)
	}
	tiers = make([][]float64, len(tr.Tiers))
	full = make([]float64, k)
	for t, tc := range tr.Tiers {
		tiers[t] = make([]float64, k)
		for i, c := range tr.Cells {
			if !tr.Covered(t, i) {
				continue
			}
			j := tc.Access[i].Station
			own := j >= 0 && int(tr.StationTier[j]) == t
			for l, v := range c.Layers {
				tiers[t][l] += v
				if own {
					served[j][l] += v
				}
			}
		}
	}
	for i, c := range tr.Cells {
		if tr.FullyServed(i) {
			for l, v := range c.Layers {
				full[l] += v
			}
		}
	}
	return served, tiers, full
}

// byName names a layer's values.
func (tx *TierExtras) byName(v []float64) map[string]float64 {
	m := make(map[string]float64, len(v))
	for l, x := range v {
		m[tx.Layers[l].Name] = x
	}
	return m
}

// appendTierHeader appends cells.csv's tier columns to its header:
// minutes_<tier> and covered_<tier> for every tier, fully_served, then
// access.
func appendTierHeader(buf []byte, tx *TierExtras) []byte {
	if tx.Named {
		for _, tc := range tx.Result.Tiers {
			buf = append(buf, ',')
			buf = appendCSVField(buf, "minutes_"+tc.Tier.Name)
			buf = append(buf, ',')
			buf = appendCSVField(buf, "covered_"+tc.Tier.Name)
		}
		buf = append(buf, ",fully_served"...)
	}
	if tx.Access != nil {
		buf = append(buf, ",access"...)
	}
	return buf
}

// appendTierRow appends cell i's tier columns: minutes to 4 decimals
// (empty when unreached), covered 1/0, fully_served 1/0, access to 6
// significant decimals.
func appendTierRow(buf []byte, tx *TierExtras, i int) []byte {
	tr := tx.Result
	if tx.Named {
		for t, tc := range tr.Tiers {
			buf = append(buf, ',')
			if m := tc.Access[i].Minutes; m.Reached() {
				buf = strconv.AppendFloat(buf, float64(m), 'f', 4, 64)
			}
			buf = append(buf, ',')
			buf = appendBit(buf, tr.Covered(t, i))
		}
		buf = append(buf, ',')
		buf = appendBit(buf, tr.FullyServed(i))
	}
	if tx.Access != nil {
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, tx.Access[i], 'f', 6, 64)
	}
	return buf
}

func appendBit(buf []byte, b bool) []byte {
	if b {
		return append(buf, '1')
	}
	return append(buf, '0')
}

// TierJSON is one tier in summary.json's tiers list.
type TierJSON struct {
	Name              string        `json:"name"`
	Minutes           float64       `json:"minutes"`
	Stations          int           `json:"stations"`
	PopulationCovered float64       `json:"population_covered"`
	ShareCovered      float64       `json:"share_covered"`
	Gaps              int           `json:"gaps"`
	LargestGaps       []TierGapJSON `json:"largest_gaps"`
	// LayersCovered is the tier's covered people per population layer
	// (several layers only).
	LayersCovered map[string]float64 `json:"layers_covered,omitempty"`
}

// TierGapJSON is one of a tier's largest gaps in summary.json.
type TierGapJSON struct {
	ID         int     `json:"id"`
	Population float64 `json:"population"`
	Cells      int     `json:"cells"`
	Lon        float64 `json:"lon"`
	Lat        float64 `json:"lat"`
}

// largestTierGaps is how many of a tier's gaps summary.json lists.
const largestTierGaps = 5

// TierSummary is what a tiered analysis adds to summary.json: tiers (from
// the top), tier_mode, fully_served_population and fully_served_share when
// the tiers were named, and access with an access method.
func TierSummary(tx *TierExtras) map[string]any {
	m := map[string]any{}
	tr := tx.Result
	_, layerTiers, layerFull := tx.layerSums()
	if tx.Named {
		tiers := make([]TierJSON, len(tr.Tiers))
		for t, tc := range tr.Tiers {
			tiers[t] = TierJSON{Name: tc.Tier.Name, Minutes: float64(tc.Tier.Minutes), Stations: tc.Stations,
				PopulationCovered: tc.Totals.CoveredPopulation, ShareCovered: tc.Totals.Share()}
			if layerTiers != nil {
				tiers[t].LayersCovered = tx.byName(layerTiers[t])
			}
			if t < len(tx.Gaps) {
				gaps := tx.Gaps[t]
				tiers[t].Gaps = len(gaps)
				tiers[t].LargestGaps = make([]TierGapJSON, 0, min(len(gaps), largestTierGaps))
				for _, g := range gaps[:min(len(gaps), largestTierGaps)] {
					tiers[t].LargestGaps = append(tiers[t].LargestGaps, TierGapJSON{ID: g.ID, Population: g.Population,
						Cells: len(g.Cells), Lon: round7(g.Point[0]), Lat: round7(g.Point[1])})
				}
			}
		}
		m["tiers"] = tiers
		mode := "inclusive"
		if tr.Spec.Separate {
			mode = "separate"
		}
		m["tier_mode"] = mode
		m["fully_served_population"] = tr.Full.CoveredPopulation
		m["fully_served_share"] = tr.Full.Share()
		if layerFull != nil {
			m["fully_served_layers"] = tx.byName(layerFull)
		}
	}
	if tx.Access != nil {
		m["access"] = tx.Method.String()
	}
	return m
}

// WriteTierAreasCSV writes areas.csv as WriteAreasCSV does and, when the
// tiers were named and each tier's area summaries are known, adds
// covered_<tier> and share_<tier> (4 decimals) for every tier after each
// row's own columns, which stay the bottom tier's.
func WriteTierAreasCSV(w io.Writer, r *coverage.Result, tx *TierExtras) error {
	if tx == nil || !tx.Named || len(tx.Areas) != len(tx.Result.Tiers) {
		return WriteAreasCSV(w, r)
	}
	for _, as := range tx.Areas {
		if len(as) != len(r.Areas) {
			return WriteAreasCSV(w, r)
		}
	}
	var base bytes.Buffer
	if err := WriteAreasCSV(&base, r); err != nil {
		return err
	}
	bw := newErrWriter(w)
	b := base.Bytes()
	buf := make([]byte, 0, 256)
	row, start, quoted := -1, 0, false // row -1 is the header
	for i, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case c == '\n' && !quoted:
			buf = append(buf[:0], b[start:i]...)
			for t, tc := range tx.Result.Tiers {
				buf = append(buf, ',')
				if row < 0 {
					buf = appendCSVField(buf, "covered_"+tc.Tier.Name)
					buf = append(buf, ',')
					buf = appendCSVField(buf, "share_"+tc.Tier.Name)
					continue
				}
				a := tx.Areas[t][row]
				buf = appendNumber(buf, a.CoveredPopulation)
				buf = append(buf, ',')
				buf = strconv.AppendFloat(buf, a.Share(), 'f', 4, 64)
			}
			buf = append(buf, '\n')
			bw.bytes(buf)
			row, start = row+1, i+1
		}
	}
	return bw.err
}

// WriteStationsCSV writes stations.csv: one row per station with header
// id,name,tier,lon,lat,capacity,served_population,potential_population,load.
// served_population is the people of the station's own tier it is the
// nearest serving station of, within the tier's threshold; potential the
// people within that threshold whichever station is nearer. capacity and
// load (served ÷ capacity, 4 decimals) are empty when the capacity is
// unknown.
func WriteStationsCSV(w io.Writer, tx *TierExtras) error {
	tr := tx.Result
	bw := newErrWriter(w)
	bw.str("id,name,tier,lon,lat,capacity,served_population,potential_population,load")
	for _, l := range tx.Layers {
		bw.str(",served_" + l.Name)
	}
	bw.str("\n")
	served, _, _ := tx.layerSums()
	buf := make([]byte, 0, 256)
	for j, st := range tr.Stations {
		c := tx.Catchments[j]
		tier := st.Tier
		if tx.Named {
			tier = tr.Spec.Tiers[c.Tier].Name
		}
		buf = buf[:0]
		buf = appendCSVField(buf, st.ID)
		buf = append(buf, ',')
		buf = appendCSVField(buf, st.Name)
		buf = append(buf, ',')
		buf = appendCSVField(buf, tier)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, st.Pos[0], 'f', 7, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, st.Pos[1], 'f', 7, 64)
		buf = append(buf, ',')
		if c.Capacity > 0 {
			buf = appendNumber(buf, c.Capacity)
		}
		buf = append(buf, ',')
		buf = appendNumber(buf, c.Served)
		buf = append(buf, ',')
		buf = appendNumber(buf, c.Potential)
		buf = append(buf, ',')
		if !math.IsNaN(c.Load) {
			buf = strconv.AppendFloat(buf, c.Load, 'f', 4, 64)
		}
		if served != nil {
			for _, v := range served[j] {
				buf = append(buf, ',')
				buf = appendNumber(buf, v)
			}
		}
		buf = append(buf, '\n')
		bw.bytes(buf)
	}
	return bw.err
}

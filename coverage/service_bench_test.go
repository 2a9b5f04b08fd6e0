package coverage_test

import (
	"context"
	"testing"
	"time"

	"github.com/walkshed/walkshed/coverage"
)

// shanghaiTiered is the synthetic Shanghai with the city's hierarchy: 16
// district centres, 215 subdistrict centres, 6,000 neighbourhood stations
// and the rest in office buildings. Stations are drawn in random order, so
// taking them in list order spreads every tier over the city. bottom names
// the tier of the building stations.
func shanghaiTiered(b *testing.B, bottom string) ([]coverage.Cell, []coverage.Station) {
	st := shanghai(b)
	stations := append([]coverage.Station(nil), st.Stations...)
	for j := range stations {
		switch {
		case j < 16:
			stations[j].Tier, stations[j].Capacity = "district", 40000
		case j < 16+215:
			stations[j].Tier, stations[j].Capacity = "subdistrict", 8000
		case j < 16+215+6000:
			stations[j].Tier, stations[j].Capacity = "neighbourhood", 1500
		default:
			stations[j].Tier, stations[j].Capacity = bottom, 0
		}
	}
	return st.Cells, stations
}

// BenchmarkTiersShanghai runs what a tiered study adds, on a fresh
// straight-line model each round: every tier's nearest stations, each
// station's catchment, served and potential populations and loads, and
// E2SFCA. It reports the ratio to a whole single-tier Analyze (nearest
// station, stations in reach, gaps) measured in the same run. "3" counts
// the building stations as neighbourhood stations; "4" gives them a tier
// of their own, building=5.
func BenchmarkTiersShanghai(b *testing.B) {
	for _, c := range []struct{ name, spec, bottom string }{
		{"3", "district=30,subdistrict=15,neighbourhood=10", "neighbourhood"},
		{"4", "district=30,subdistrict=15,neighbourhood=10,building=5", "building"},
	} {
		b.Run(c.name, func(b *testing.B) {
			cells, stations := shanghaiTiered(b, c.bottom)
			spec, err := coverage.ParseTierSpec(c.spec)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			study := coverage.Study{Settings: shanghaiSettings(), Stations: stations, Cells: cells}
			const fullRuns = 2
			t0 := time.Now()
			for range fullRuns {
				if _, err := coverage.Analyze(ctx, study, coverage.NewCrow(cells, 4), nil); err != nil {
					b.Fatal(err)
				}
			}
			analyze := time.Since(t0) / fullRuns
			var phase [4]time.Duration
			var tr *coverage.TierResult
			var sr *coverage.StationReach
			var over int
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				reach := coverage.NewCrow(cells, 4)
				t := time.Now()
				if tr, err = coverage.AnalyzeTiers(ctx, cells, stations, spec, reach); err != nil {
					b.Fatal(err)
				}
				phase[0] += time.Since(t)
				t = time.Now()
				if sr, err = coverage.ReachFromStations(ctx, tr, reach); err != nil {
					b.Fatal(err)
				}
				phase[1] += time.Since(t)
				t = time.Now()
				over = 0
				for _, c := range coverage.Catchments(tr, sr) {
					if c.Overloaded() {
						over++
					}
				}
				phase[2] += time.Since(t)
				t = time.Now()
				if _, err := coverage.Accessibility(ctx, tr, sr, coverage.EnhancedTwoStep); err != nil {
					b.Fatal(err)
				}
				phase[3] += time.Since(t)
			}
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(per)/float64(analyze), "x-analyze")
			b.ReportMetric(analyze.Seconds(), "analyze-s")
			for k, name := range []string{"tiers-s", "reach-s", "catchments-s", "e2sfca-s"} {
				b.ReportMetric(phase[k].Seconds()/float64(b.N), name)
			}
			b.ReportMetric(float64(sr.Pairs()), "pairs")
			b.ReportMetric(100*tr.Full.Share(), "%fully-served")
			b.ReportMetric(float64(over), "overloaded")
		})
	}
}

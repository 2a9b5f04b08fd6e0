package coverage_test

import (
	"context"
	"testing"
	"time"

	"github.com/walkshed/walkshed/coverage"
)

// BenchmarkLayersShanghai analyses the Shanghai-scale synth study with its
// residents alone, then with residents and workers (merged into the same
// cells, totals per layer, gaps weighted), and reports the cost of the
// second layer as a ratio of the two, both measured in this run.
func BenchmarkLayersShanghai(b *testing.B) {
	st := shanghai(b)
	workers := make([]coverage.Cell, 0, len(st.Cells))
	for i, c := range st.Cells {
		if st.Workers[i] > 0 {
			workers = append(workers, coverage.Cell{H3: c.H3, Pos: c.Pos, Population: st.Workers[i]})
		}
	}
	one := func() time.Duration {
		t0 := time.Now()
		r, err := coverage.Analyze(context.Background(), coverage.Study{Settings: shanghaiSettings(), Stations: st.Stations, Cells: st.Cells}, coverage.NewCrow(st.Cells, 4), nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = r.Totals()
		return time.Since(t0)
	}
	layers := []coverage.Layer{{Name: "residents", Weight: 1}, {Name: "workers", Weight: 0.5}}
	two := func() time.Duration {
		t0 := time.Now()
		cells := coverage.MergeLayers([][]coverage.Cell{st.Cells, workers})
		r, err := coverage.Analyze(context.Background(), coverage.Study{Settings: shanghaiSettings(), Stations: st.Stations, Cells: cells, Layers: layers}, coverage.NewCrow(cells, 4), nil)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = r.Totals(), r.LayerTotals()
		return time.Since(t0)
	}
	b.ResetTimer()
	var t1, t2 time.Duration
	for b.Loop() {
		t1 += one()
		t2 += two()
	}
	b.ReportMetric(t1.Seconds()/float64(b.N), "s/one-layer")
	b.ReportMetric(t2.Seconds()/float64(b.N), "s/two-layers")
	b.ReportMetric(t2.Seconds()/t1.Seconds(), "two/one")
}

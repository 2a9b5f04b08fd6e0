package coverage_test

import (
	"context"
	"sync"
	"testing"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/synth"
)

var (
	shanghaiOnce  sync.Once
	shanghaiStudy synth.Study
	shanghaiErr   error
)

// shanghai is the synthetic Shanghai-scale study: ~413k populated H3
// res-10 cells, 25 million people, 12,457 stations.
func shanghai(b *testing.B) synth.Study {
	shanghaiOnce.Do(func() { shanghaiStudy, shanghaiErr = synth.Generate(synth.Shanghai) })
	if shanghaiErr != nil {
		b.Fatal(shanghaiErr)
	}
	return shanghaiStudy
}

func shanghaiSettings() coverage.Settings {
	return coverage.Settings{Res: 10, Minutes: 15, SpeedKmh: 4}
}

// BenchmarkCrowNearestShanghai measures the straight-line reach step alone:
// every cell's nearest station among 12,457.
func BenchmarkCrowNearestShanghai(b *testing.B) {
	st := shanghai(b)
	reach := coverage.NewCrow(st.Cells, 4)
	pts := coverage.StationPoints(st.Stations)
	out := make([]coverage.Access, len(st.Cells))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := reach.Nearest(context.Background(), pts, nil, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(st.Cells))*float64(b.N)/b.Elapsed().Seconds(), "cells/s")
}

// BenchmarkAnalyzeCrowShanghai measures a whole straight-line analysis:
// nearest station, stations in reach, gaps with outlines.
func BenchmarkAnalyzeCrowShanghai(b *testing.B) {
	st := shanghai(b)
	study := coverage.Study{Settings: shanghaiSettings(), Stations: st.Stations, Cells: st.Cells}
	b.ReportAllocs()
	b.ResetTimer()
	var res *coverage.Result
	for b.Loop() {
		var err error
		res, err = coverage.Analyze(context.Background(), study, coverage.NewCrow(st.Cells, 4), nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(st.Cells))*float64(b.N)/b.Elapsed().Seconds(), "cells/s")
	b.ReportMetric(res.Totals().Share()*100, "%covered")
	b.ReportMetric(float64(len(res.Gaps)), "gaps")
}

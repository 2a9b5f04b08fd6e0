package coverage_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

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

// BenchmarkUpdateShanghai opens 10 stations in the 10 largest gaps (where a
// planner puts them, and where the gaps to rebuild are largest) and closes
// 10 spread over the list; BenchmarkUpdateShanghaiRandom opens 10 at random
// populated cells instead. Both report how many times faster the update is
// than the full analysis it replaces, both measured in this run.
func BenchmarkUpdateShanghai(b *testing.B) { benchUpdate(b, false) }

func BenchmarkUpdateShanghaiRandom(b *testing.B) { benchUpdate(b, true) }

func benchUpdate(b *testing.B, random bool) {
	st := shanghai(b)
	study := coverage.Study{Settings: shanghaiSettings(), Stations: st.Stations, Cells: st.Cells}
	reach := coverage.NewCrow(st.Cells, 4)
	ctx := context.Background()
	var base *coverage.Result
	const fullRuns = 3
	t0 := time.Now()
	for range fullRuns {
		var err error
		if base, err = coverage.Analyze(ctx, study, reach, nil); err != nil {
			b.Fatal(err)
		}
	}
	full := time.Since(t0) / fullRuns
	var events []coverage.Event
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for k, g := range base.Gaps[:10] {
		p := g.Point
		if random {
			p = st.Cells[(k*40009+7)%len(st.Cells)].Pos
		}
		events = append(events, coverage.Event{Date: day, Action: coverage.Open, Source: "bench", Station: coverage.Station{ID: fmt.Sprintf("new-%d", k), Pos: p}})
	}
	for k := 0; k < 10; k++ {
		s := st.Stations[(k*1237+11)%len(st.Stations)]
		events = append(events, coverage.Event{Date: day.AddDate(0, 0, 1), Action: coverage.Close, Source: "bench", Station: coverage.Station{ID: s.ID}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	var spent time.Duration
	for i := 0; i < b.N; i++ {
		// Update changes the result in place: start each round from a copy
		// of the analysis, outside the timing, so that ns/op is the update's
		// own time.
		b.StopTimer()
		r := *base
		r.Access = slices.Clone(base.Access)
		r.InReach = slices.Clone(base.InReach)
		runtime.GC() // the copies' garbage is not the update's
		b.StartTimer()
		t := time.Now()
		// A fresh model, as a separate update run would have: whatever index
		// the update needs is built within the timing.
		if _, err := coverage.Update(ctx, &r, coverage.NewCrow(st.Cells, 4), events); err != nil {
			b.Fatal(err)
		}
		spent += time.Since(t)
	}
	per := spent / time.Duration(b.N)
	b.ReportMetric(float64(full)/float64(per), "x-faster-than-analyze")
	b.ReportMetric(full.Seconds(), "analyze-s")
}

package gpkg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/synth"
)

// storeShanghai writes the straight-line analysis of the Shanghai-scale
// synthetic study (coverage/synth: 412,624 res-10 cells, 12,457 stations)
// as a GeoPackage in dir and returns its path and the result.
func storeShanghai(b *testing.B, dir string) (string, *coverage.Result) {
	b.Helper()
	st, err := synth.Generate(synth.Shanghai)
	if err != nil {
		b.Fatal(err)
	}
	study := coverage.Study{Settings: coverage.Settings{Res: 10, Minutes: 15, SpeedKmh: 4}, Stations: st.Stations, Cells: st.Cells}
	r, err := coverage.Analyze(context.Background(), study, coverage.NewCrow(st.Cells, 4), nil)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "walkshed.gpkg")
	if err := Write(path, r, WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	return path, r
}

// BenchmarkStoreOpenShanghai reads the Shanghai-scale result back from its
// GeoPackage: settings, 12,457 stations, every cell's state, the gaps.
func BenchmarkStoreOpenShanghai(b *testing.B) {
	path, r := storeShanghai(b, b.TempDir())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := OpenStore(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Result.Cells) != len(r.Cells) || len(s.Result.Gaps) != len(r.Gaps) {
			b.Fatalf("%d cells, %d gaps read; %d, %d written", len(s.Result.Cells), len(s.Result.Gaps), len(r.Cells), len(r.Gaps))
		}
		s.Close()
	}
	b.ReportMetric(float64(len(r.Cells)), "cells")
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	}
}

// BenchmarkStoreUpdateShanghai applies 20 events to the Shanghai-scale
// result in its GeoPackage: open the store, coverage.Update (10 stations
// opened at the 10 largest gaps, 10 closed), commit what changed. The
// file is restored from a copy between iterations, outside the timing.
func BenchmarkStoreUpdateShanghai(b *testing.B) {
	dir := b.TempDir()
	orig, r := storeShanghai(b, dir)
	path := filepath.Join(dir, "updated.gpkg")
	var events []coverage.Event
	for k, g := range r.Gaps[:10] {
		events = append(events, coverage.Event{Action: coverage.Open, Station: coverage.Station{ID: fmt.Sprintf("N%d", k+1), Pos: g.Point}})
	}
	for k := range 10 {
		events = append(events, coverage.Event{Action: coverage.Close, Station: coverage.Station{ID: r.Stations[1+k*1237].ID}})
	}
	var cs CommitStats
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := CopyFile(orig, path); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s, err := OpenStore(path)
		if err != nil {
			b.Fatal(err)
		}
		changes, err := coverage.Update(context.Background(), s.Result, coverage.NewCrow(s.Result.Cells, s.Result.Settings.SpeedKmh), events)
		if err != nil {
			b.Fatal(err)
		}
		if cs, err = s.Commit(changes, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cs.CellRows), "cell-rows")
	b.ReportMetric(float64(cs.StateChunks), "chunks")
}

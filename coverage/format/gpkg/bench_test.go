package gpkg

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
)

// bigResult is a disk of H3 cells of radius k (3k(k+1)+1 cells) with 20
// stations and crow-distance access.
func bigResult(b *testing.B, k int) *coverage.Result {
	c0, err := coverage.CellOf(orb.Point{121.4737, 31.2304}, 9)
	if err != nil {
		b.Fatal(err)
	}
	cells := h3.GridDisk(c0, k)
	sort.Slice(cells, func(i, j int) bool { return cells[i] < cells[j] })
	r := &coverage.Result{Settings: coverage.DefaultSettings, Mode: "crow", Bound: coverage.Unreached}
	for i := 0; i < 20; i++ {
		c := cells[(i*7919)%len(cells)]
		r.Stations = append(r.Stations, coverage.Station{ID: "S" + string(rune('A'+i)), Pos: coverage.CellCenter(c)})
	}
	r.Cells = make([]coverage.Cell, len(cells))
	r.Access = make([]coverage.Access, len(cells))
	for i, c := range cells {
		r.Cells[i] = coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: float64(1 + i%300)}
		acc := coverage.NoAccess
		for s, st := range r.Stations {
			if i%97 == 0 {
				break // some cells no station reaches
			}
			m := r.Settings.SpeedKmh.Walk(coverage.Distance(r.Cells[i].Pos, st.Pos))
			if acc.Better(m, int32(s)) {
				acc = coverage.Access{Minutes: m, Station: int32(s)}
			}
		}
		r.Access[i] = acc
	}
	return r
}

func benchmarkWrite(b *testing.B, k int) {
	r := bigResult(b, k)
	path := filepath.Join(b.TempDir(), "walkshed.gpkg")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Write(path, r, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(r.Cells)), "cells")
	if st, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(st.Size())/float64(len(r.Cells)), "bytes/cell")
	}
}

// BenchmarkWrite100k writes 99,919 cells.
func BenchmarkWrite100k(b *testing.B) { benchmarkWrite(b, 182) }

// BenchmarkWrite420k writes 420,751 cells (Shanghai's scale); set
// GPKG_BENCH_LARGE=1 to run it.
func BenchmarkWrite420k(b *testing.B) {
	if os.Getenv("GPKG_BENCH_LARGE") == "" {
		b.Skip("set GPKG_BENCH_LARGE=1 to write 420k cells")
	}
	benchmarkWrite(b, 374)
}

package gpkg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/synth"
)

// bigResult is a disk of H3 cells of radius k (3k(k+1)+1 cells) with 20
// stations and crow-distance access.
func bigResult(b testing.TB, k int) *coverage.Result {
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

var (
	shanghaiOnce   sync.Once
	shanghaiResult *coverage.Result
	shanghaiErr    error
)

// shanghai is the straight-line analysis of the synthetic Shanghai-scale
// study (coverage/synth): 412,624 res-10 cells, 12,457 stations, with the
// stations in reach and the gaps' outlines.
func shanghai(b *testing.B) *coverage.Result {
	shanghaiOnce.Do(func() {
		st, err := synth.Generate(synth.Shanghai)
		if err != nil {
			shanghaiErr = err
			return
		}
		study := coverage.Study{Settings: coverage.Settings{Res: 10, Minutes: 15, SpeedKmh: 4}, Stations: st.Stations, Cells: st.Cells}
		shanghaiResult, shanghaiErr = coverage.Analyze(context.Background(), study, coverage.NewCrow(st.Cells, 4), nil)
	})
	if shanghaiErr != nil {
		b.Fatal(shanghaiErr)
	}
	return shanghaiResult
}

// BenchmarkWriteCellsVsOgr2ogr writes the whole Shanghai-scale result
// (every layer, the run table and the store) with Write, then a GeoPackage
// of the cells layer alone, and then, in the same run, times GDAL's
// ogr2ogr copying that cells layer into a new GeoPackage (with its R-tree,
// which ogr2ogr builds by default). It reports wall and CPU seconds of
// each, since the machine may be shared: ratio is Write's wall time over
// ogr2ogr's, cells-ratio the cells layer's alone over ogr2ogr's (below 1
// is faster). Set GPKG_BENCH_LARGE=1 to run it.
func BenchmarkWriteCellsVsOgr2ogr(b *testing.B) {
	if os.Getenv("GPKG_BENCH_LARGE") == "" {
		b.Skip("set GPKG_BENCH_LARGE=1 to write the Shanghai-scale result")
	}
	r := shanghai(b)
	dir := b.TempDir()
	path := filepath.Join(dir, "walkshed.gpkg")
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if err := Write(path, r, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	own, ownCPU := b.Elapsed().Seconds()/n, (processCPU()-cpu0).Seconds()/n
	b.ReportMetric(float64(len(r.Cells)), "cells")
	b.ReportMetric(own, "walkshed-s")
	b.ReportMetric(ownCPU, "walkshed-cpu-s")

	cells := filepath.Join(dir, "cells.gpkg")
	var wall, cpu time.Duration
	for i := 0; i < b.N; i++ {
		os.Remove(cells)
		runtime.GC()
		t0, c0 := time.Now(), processCPU()
		err := create(cells, timestamp(r.Created), func(w *writer) error {
			if err := w.core(); err != nil {
				return err
			}
			return w.layer(cellsLayer(r, nil))
		})
		wall, cpu = wall+time.Since(t0), cpu+processCPU()-c0
		if err != nil {
			b.Fatal(err)
		}
	}
	cellsWall := wall.Seconds() / n
	b.ReportMetric(cellsWall, "cells-s")
	b.ReportMetric(cpu.Seconds()/n, "cells-cpu-s")

	ogr, err := exec.LookPath("ogr2ogr")
	if err != nil {
		b.Log("ogr2ogr is not on PATH: no comparison with GDAL")
		return
	}
	wall, cpu = 0, 0
	for i := 0; i < b.N; i++ {
		out := filepath.Join(dir, "ogr2ogr.gpkg")
		os.Remove(out)
		cmd := exec.Command(ogr, "-f", "GPKG", out, cells, "cells")
		t0 := time.Now()
		msg, err := cmd.CombinedOutput()
		wall += time.Since(t0)
		if err != nil {
			b.Fatalf("ogr2ogr: %v\n%s", err, msg)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	gdal := wall.Seconds() / n
	b.ReportMetric(gdal, "ogr2ogr-s")
	b.ReportMetric(cpu.Seconds()/n, "ogr2ogr-cpu-s")
	b.ReportMetric(own/gdal, "ratio")
	b.ReportMetric(cellsWall/gdal, "cells-ratio")
}

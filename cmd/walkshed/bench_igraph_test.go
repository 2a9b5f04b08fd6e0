package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walkshed/walkshed/coverage"
)

// igraphPython is Debian's interpreter, which sees Debian's python3-igraph
// and python3-pyosmium whatever other Python is first on the PATH.
const igraphPython = "/usr/bin/python3"

// igraphMissing says why the igraph pipeline cannot run here, or "".
func igraphMissing() string {
	out, err := exec.Command(igraphPython, "-c", "import igraph, osmium, numpy").CombinedOutput()
	if err == nil {
		return ""
	}
	msg := fmt.Sprintf("%s cannot import igraph, osmium and numpy (Debian: apt-get install python3-igraph python3-pyosmium python3-numpy python3-scipy): %v", igraphPython, err)
	if o := strings.TrimSpace(string(out)); o != "" {
		msg += ": " + o
	}
	return msg
}

// writeCentres writes dir/cells.csv (h3,lon,lat): the centre of every cell
// of dir/population.csv, for the igraph pipeline, since Debian has no H3
// for Python.
func writeCentres(b *testing.B, dir string) string {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "population.csv"))
	if err != nil {
		b.Fatal(err)
	}
	var out strings.Builder
	out.WriteString("h3,lon,lat\n")
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
		id, _, _ := strings.Cut(line, ",")
		c, err := coverage.ParseCell(id)
		if err != nil {
			b.Fatalf("population.csv: %v", err)
		}
		p := coverage.CellCenter(c)
		fmt.Fprintf(&out, "%s,%.7f,%.7f\n", id, p[0], p[1])
	}
	path := filepath.Join(dir, "cells.csv")
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// readMinutes reads h3 → minutes (NaN when empty) from a CSV whose header
// names the columns h3 and minutes.
func readMinutes(b *testing.B, path string) map[string]float64 {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	cols := strings.Split(sc.Text(), ",")
	ih, im := -1, -1
	for i, c := range cols {
		switch c {
		case "h3":
			ih = i
		case "minutes":
			im = i
		}
	}
	if ih < 0 || im < 0 {
		b.Fatalf("%s: header %q lacks h3 or minutes", path, sc.Text())
	}
	out := map[string]float64{}
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		m := math.NaN()
		if f[im] != "" {
			if m, err = strconv.ParseFloat(f[im], 64); err != nil {
				b.Fatalf("%s: %v", path, err)
			}
		}
		out[f[ih]] = m
	}
	return out
}

// BenchmarkDelawareVsIgraph times, in the same run, `walkshed analyze
// --network` on the Delaware study (as BenchmarkDelawareAnalyzeCLI: read
// OSM, build, snap, search, gaps, write every default output) and the
// hand-written pyosmium + numpy + scipy + igraph pipeline of
// testdata/igraph_pipeline.py doing the walking-time part of that work
// (read, build, components, snap to nodes, one multi-source Dijkstra,
// write minutes per cell), each end to end, their order alternating
// between rounds. It reports both times in seconds and walkshed's over
// igraph's; covered-agree is the share of cells both call covered or both
// call uncovered (the igraph pipeline snaps to nodes, not segments).
func BenchmarkDelawareVsIgraph(b *testing.B) {
	dir := b.TempDir()
	pbf := delawareStudy(b, dir)
	stations, population := filepath.Join(dir, "stations.csv"), filepath.Join(dir, "population.csv")
	args := []string{"analyze", "--network", pbf, "--stations", stations, "--population", population,
		"--out", filepath.Join(dir, "out"), "--quiet"}
	missing := igraphMissing()
	var script, centres, igraphOut string
	if missing != "" {
		b.Logf("timing walkshed alone: %s", missing)
	} else {
		var err error
		if script, err = filepath.Abs(filepath.Join("testdata", "igraph_pipeline.py")); err != nil {
			b.Fatal(err)
		}
		centres = writeCentres(b, dir)
		igraphOut = filepath.Join(dir, "igraph_minutes.csv")
	}
	walkshed := func() time.Duration {
		t := time.Now()
		if code := run(args, io.Discard, os.Stderr); code != 0 {
			b.Fatalf("walkshed analyze: exit %d", code)
		}
		return time.Since(t)
	}
	igraph := func() time.Duration {
		t := time.Now()
		cmd := exec.Command(igraphPython, script, pbf, stations, population, centres, igraphOut)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("igraph pipeline: %v\n%s", err, out)
		}
		return time.Since(t)
	}
	var ws, ig time.Duration
	round := 0
	b.ResetTimer()
	for b.Loop() {
		switch {
		case missing != "":
			ws += walkshed()
		case round%2 == 0:
			ws += walkshed()
			ig += igraph()
		default:
			ig += igraph()
			ws += walkshed()
		}
		round++
	}
	b.StopTimer()
	n := float64(round)
	b.ReportMetric(ws.Seconds()/n, "walkshed-s")
	if missing != "" {
		return
	}
	b.ReportMetric(ig.Seconds()/n, "igraph-s")
	b.ReportMetric(ws.Seconds()/ig.Seconds(), "ratio")

	// The two did the same work: compare who is covered.
	mine := readMinutes(b, filepath.Join(dir, "out", "cells.csv"))
	theirs := readMinutes(b, igraphOut)
	if len(mine) != len(theirs) {
		b.Fatalf("walkshed wrote %d cells, the igraph pipeline %d", len(mine), len(theirs))
	}
	agree := 0
	for h, m := range mine {
		t, ok := theirs[h]
		if !ok {
			b.Fatalf("cell %s missing from the igraph pipeline's output", h)
		}
		if (m <= 15) == (t <= 15) { // NaN compares false: unreached is uncovered
			agree++
		}
	}
	b.ReportMetric(float64(agree)/float64(len(mine)), "covered-agree")
}

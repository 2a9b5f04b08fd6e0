package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
)

// delawareStudy writes the Delaware benchmark study into dir: stations are
// the nodes tagged amenity library, community_centre, townhall, post_office
// or school; population one person in each H3 res-9 cell holding a node of
// a highway way (the cells of the street network).
func delawareStudy(b *testing.B, dir string) string {
	b.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/paulmach/osm").Output()
	if err != nil {
		b.Skipf("cannot locate github.com/paulmach/osm: %v", err)
	}
	pbf := filepath.Join(strings.TrimSpace(string(out)), "testdata", "delaware-latest.osm.pbf")
	f, err := os.Open(pbf)
	if err != nil {
		b.Skipf("Delaware extract not found: %v", err)
	}
	defer f.Close()
	// Pass 1: nodes of highway ways.
	used := map[osm.NodeID]bool{}
	sc := osmpbf.New(context.Background(), f, runtime.GOMAXPROCS(0))
	sc.SkipNodes, sc.SkipRelations = true, true
	for sc.Scan() {
		if w := sc.Object().(*osm.Way); w.Tags.Find("highway") != "" {
			for _, n := range w.Nodes {
				used[n.ID] = true
			}
		}
	}
	sc.Close()
	f.Seek(0, io.SeekStart)
	want := map[string]bool{"library": true, "community_centre": true, "townhall": true, "post_office": true, "school": true}
	var st strings.Builder
	st.WriteString("id,name,lon,lat\n")
	cells := map[h3.Cell]bool{}
	sc = osmpbf.New(context.Background(), f, runtime.GOMAXPROCS(0))
	sc.SkipWays, sc.SkipRelations = true, true
	for sc.Scan() {
		n := sc.Object().(*osm.Node)
		if want[n.Tags.Find("amenity")] {
			fmt.Fprintf(&st, "node/%d,%q,%.7f,%.7f\n", n.ID, n.Tags.Find("name"), n.Lon, n.Lat)
		}
		if used[n.ID] {
			c, err := coverage.CellOf([2]float64{n.Lon, n.Lat}, 9)
			if err == nil {
				cells[c] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	sc.Close()
	var pop strings.Builder
	pop.WriteString("h3,population\n")
	for c := range cells {
		pop.WriteString(c.String() + ",1\n")
	}
	os.WriteFile(filepath.Join(dir, "stations.csv"), []byte(st.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "population.csv"), []byte(pop.String()), 0o644)
	return pbf
}

// BenchmarkDelawareAnalyzeCLI runs the whole command on the Delaware
// extract (724k nodes): read the OSM file, build the graph, snap, search,
// find the gaps and write every output (CSV, GeoJSON, GeoPackage).
func BenchmarkDelawareAnalyzeCLI(b *testing.B) {
	dir := b.TempDir()
	pbf := delawareStudy(b, dir)
	args := []string{"analyze", "--network", pbf, "--stations", filepath.Join(dir, "stations.csv"),
		"--population", filepath.Join(dir, "population.csv"), "--out", filepath.Join(dir, "out"), "--quiet"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if code := run(args, io.Discard, os.Stderr); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.StopTimer()
	reportPeakRSS(b)
}

// synthStudy writes the Shanghai-scale synthetic study (walkshed synth:
// 412,624 cells, 12,457 stations) into a temporary folder and returns it.
func synthStudy(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	if code := run([]string{"synth", "--out", dir}, io.Discard, os.Stderr); code != 0 {
		b.Fatalf("synth: exit %d", code)
	}
	return dir
}

// BenchmarkShanghaiCLI runs the command line on the Shanghai-scale study
// (walkshed synth: 412,624 cells, 12,457 stations) end to end: analyze with
// every output, then update with four events, writing CSV only and every
// format. It reports seconds per step and the process's peak memory.
func BenchmarkShanghaiCLI(b *testing.B) {
	dir := synthStudy(b)
	events := filepath.Join(dir, "events.csv")
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-12-01,open,N1,121.19903,30.97560\n"+
		"2026-12-01,open,N2,121.05562,31.22146\n2026-12-02,close,S00012,,\n2026-12-02,close,S01250,,\n"), 0o644)
	steps := []struct {
		name string
		args []string
	}{
		{"analyze-s", []string{"analyze", "--stations", filepath.Join(dir, "stations.csv"), "--population", filepath.Join(dir, "population.csv"),
			"--res", "10", "--out", filepath.Join(dir, "a"), "--quiet"}},
		{"update-csv-s", []string{"update", "--from", filepath.Join(dir, "a"), "--events", events, "--out", filepath.Join(dir, "u1"), "--format", "csv", "--quiet"}},
		{"update-all-s", []string{"update", "--from", filepath.Join(dir, "a"), "--events", events, "--out", filepath.Join(dir, "u2"), "--format", "csv,geojson,gpkg", "--quiet"}},
	}
	spent := make([]time.Duration, len(steps))
	b.ResetTimer()
	for b.Loop() {
		for k, s := range steps {
			t := time.Now()
			if code := run(s.args, io.Discard, os.Stderr); code != 0 {
				b.Fatalf("%s: exit %d", s.name, code)
			}
			spent[k] += time.Since(t)
		}
	}
	b.StopTimer()
	for k, s := range steps {
		b.ReportMetric(spent[k].Seconds()/float64(b.N), s.name)
	}
	reportPeakRSS(b)
}

// BenchmarkShanghaiUpdateCLI compares, in one run, `walkshed analyze`
// writing the GeoPackage of the Shanghai-scale study (walkshed synth) with
// `walkshed update` applying 20 events to that GeoPackage in place: 10
// stations open at the representative points of the 10 largest gaps and
// 10 close (spread over the station list). It reports both times and
// their ratio (analyze over update).
func BenchmarkShanghaiUpdateCLI(b *testing.B) {
	dir := synthStudy(b)
	out := filepath.Join(dir, "a")
	analyze := []string{"analyze", "--stations", filepath.Join(dir, "stations.csv"), "--population", filepath.Join(dir, "population.csv"),
		"--res", "10", "--format", "gpkg", "--out", out, "--quiet"}
	events := filepath.Join(dir, "events.csv")
	update := []string{"update", "--from", out, "--events", events, "--quiet"}
	var analyzeSpent, updateSpent time.Duration
	var cells int
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		if code := run(analyze, io.Discard, os.Stderr); code != 0 {
			b.Fatalf("analyze: exit %d", code)
		}
		analyzeSpent += time.Since(t)
		b.StopTimer()
		var sum struct {
			Cells int
			Gaps  []struct{ Lon, Lat float64 }
		}
		raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil || json.Unmarshal(raw, &sum) != nil || len(sum.Gaps) < 10 {
			b.Fatalf("summary.json: %v, %d gaps", err, len(sum.Gaps))
		}
		cells = sum.Cells
		var ev strings.Builder
		ev.WriteString("date,action,id,lon,lat\n")
		for k, g := range sum.Gaps[:10] {
			fmt.Fprintf(&ev, "2026-12-01,open,N%d,%.7f,%.7f\n", k+1, g.Lon, g.Lat)
		}
		for k := range 10 {
			fmt.Fprintf(&ev, "2026-12-02,close,S%05d,,\n", 1+k*1237)
		}
		os.WriteFile(events, []byte(ev.String()), 0o644)
		b.StartTimer()
		t = time.Now()
		if code := run(update, io.Discard, os.Stderr); code != 0 {
			b.Fatalf("update: exit %d", code)
		}
		updateSpent += time.Since(t)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(cells), "cells")
	b.ReportMetric(analyzeSpent.Seconds()/n, "analyze-s")
	b.ReportMetric(updateSpent.Seconds()/n, "update-s")
	b.ReportMetric(analyzeSpent.Seconds()/updateSpent.Seconds(), "ratio")
	reportPeakRSS(b)
}

func reportPeakRSS(b *testing.B) {
	if s, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(s), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				if kb, err := strconv.ParseFloat(strings.Fields(line)[1], 64); err == nil {
					b.ReportMetric(kb/1024, "peakRSS-MB")
				}
			}
		}
	}
}

// BenchmarkShanghaiProposeCLI runs `walkshed propose --add 500 --gap 0.01`
// on the Shanghai-scale study (walkshed synth) end to end: read the study,
// find what the 12,457 stations reach, build the candidates, search, and
// write every output (the plan, events.csv and the analysis with the plan,
// GeoPackage included). It reports the command's seconds and the
// proposal's objective, certified bound, gap and solver seconds.
func BenchmarkShanghaiProposeCLI(b *testing.B) {
	dir := synthStudy(b)
	out := filepath.Join(dir, "p")
	args := []string{"propose", "--stations", filepath.Join(dir, "stations.csv"), "--population", filepath.Join(dir, "population.csv"),
		"--res", "10", "--add", "500", "--gap", "0.01", "--time-limit", "50s", "--out", out, "--quiet"}
	var spent time.Duration
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		if code := run(args, io.Discard, os.Stderr); code != 0 {
			b.Fatalf("propose: exit %d", code)
		}
		spent += time.Since(t)
	}
	b.StopTimer()
	raw, err := os.ReadFile(filepath.Join(out, "proposal.json"))
	if err != nil {
		b.Fatal(err)
	}
	var p struct {
		Objective  float64 `json:"objective"`
		UpperBound float64 `json:"upper_bound"`
		Gap        float64 `json:"gap"`
		Seconds    float64 `json:"seconds"`
		Status     string  `json:"status"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		b.Fatal(err)
	}
	b.Logf("status %s: objective %.0f, bound %.0f, gap %.3f%%, solver %.1f s", p.Status, p.Objective, p.UpperBound, 100*p.Gap, p.Seconds)
	b.ReportMetric(spent.Seconds()/float64(b.N), "propose-s")
	b.ReportMetric(p.Objective, "objective")
	b.ReportMetric(p.UpperBound, "bound")
	b.ReportMetric(100*p.Gap, "gap%")
	b.ReportMetric(p.Seconds, "solve-s")
	reportPeakRSS(b)
}

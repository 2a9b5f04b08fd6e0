package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// walkshed synth writes workers.csv beside population.csv: points that fall
// in the populated cells, half as many workers as residents, and nothing
// else changes; --worker-share 0 writes none.
func TestSynthWorkers(t *testing.T) {
	dir, none := t.TempDir(), t.TempDir()
	args := []string{"synth", "--area-km2", "60", "--people", "200000", "--stations", "50", "--res", "9", "--seed", "4"}
	if code, _, stderr := walkshed(t, append(args, "--out", dir)...); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := walkshed(t, append(args, "--out", none, "--worker-share", "0")...)
	if code != 0 {
		t.Fatalf("synth --worker-share 0: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(none, "workers.csv")); !os.IsNotExist(err) || strings.Contains(stdout, "workers.csv") {
		t.Fatalf("--worker-share 0 wrote workers.csv (%v): %s", err, stdout)
	}
	for _, f := range []string{"stations.csv", "population.csv"} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join(none, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs with and without workers", f)
		}
	}
	pop := map[string]float64{}
	var residents float64
	for _, r := range readCSV(t, filepath.Join(dir, "population.csv")) {
		n, _ := strconv.ParseFloat(r["population"], 64)
		pop[r["h3"]] = n
		residents += n
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "workers.csv"))
	if !strings.HasPrefix(string(raw), "lon,lat,workers\n") {
		t.Fatalf("workers.csv starts %q", raw[:min(len(raw), 40)])
	}
	var workers float64
	rows := readCSV(t, filepath.Join(dir, "workers.csv"))
	seen := map[string]bool{}
	for _, r := range rows {
		lon, err1 := strconv.ParseFloat(r["lon"], 64)
		lat, err2 := strconv.ParseFloat(r["lat"], 64)
		n, err3 := strconv.ParseFloat(r["workers"], 64)
		if err1 != nil || err2 != nil || err3 != nil || n < 1 || n != float64(int(n)) {
			t.Fatalf("bad row %v", r)
		}
		workers += n
		// The point's cell, at the study's resolution and one coarser, is
		// the populated cell (and its parent) the point stands for.
		c, err := coverage.CellOf(orb.Point{lon, lat}, 9)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pop[c.String()]; !ok || seen[c.String()] {
			t.Fatalf("%v,%v falls in %v: populated %v, seen before %v", lon, lat, c, ok, seen[c.String()])
		}
		seen[c.String()] = true
		if d := coverage.Distance(orb.Point{lon, lat}, coverage.CellCenter(c)); d > 0.05 {
			t.Fatalf("%v,%v is %v m from the centre of %v", lon, lat, d, c)
		}
		if p, _ := coverage.CellOf(orb.Point{lon, lat}, 8); p != c.Parent(8) {
			t.Fatalf("%v,%v: resolution-8 cell %v, parent %v", lon, lat, p, c.Parent(8))
		}
	}
	if residents != 200000 || workers != 100000 {
		t.Fatalf("%v residents and %v workers, want 200,000 and 100,000", residents, workers)
	}
	if len(rows) < len(pop)/2 {
		t.Fatalf("workers on %d of %d cells", len(rows), len(pop))
	}
}

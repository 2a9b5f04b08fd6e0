package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProposeWeightedLayers proposes 3 sites from 14 candidates on the
// tiered study with residents and workers weighted 1 and 3: the plan's
// objective equals a brute force over every pair of candidates, computed
// here from the cells of an analysis without the plan; sites.csv's
// added_<layer> columns add up to the objective under the weights; and the
// outputs, which show coverage with the plan, gain per layer exactly what
// sites.csv says.
func TestProposeWeightedLayers(t *testing.T) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	var b strings.Builder
	b.WriteString("lon,lat,workers\n")
	for i, r := range readCSV(t, population) {
		if i%2 == 0 {
			b.WriteString(r["lon"] + "," + r["lat"] + "," + []string{"300", "5", "60"}[i%3] + "\n")
		}
	}
	workers := filepath.Join(dir, "workers.csv")
	os.WriteFile(workers, []byte(b.String()), 0o644)
	var cb strings.Builder
	cb.WriteString("id,lon,lat\n")
	for k := range 14 {
		fmt.Fprintf(&cb, "c%d,%.4f,%.4f\n", k, 10.728+0.0025*float64(k%7), 59.908+0.004*float64(k/7))
	}
	cands := filepath.Join(dir, "cands.csv")
	os.WriteFile(cands, []byte(cb.String()), 0o644)
	study := []string{"--stations", stations, "--population", "residents=" + population, "--population", "workers=" + workers,
		"--weights", "workers=3", "--minutes", "6", "--quiet", "--format", "csv"}
	before := filepath.Join(dir, "before")
	if code, _, stderr := walkshed(t, append([]string{"analyze", "--out", before}, study...)...); code != 0 {
		t.Fatal(stderr)
	}
	plan := filepath.Join(dir, "plan")
	code, stdout, stderr := walkshed(t, append([]string{"propose", "--out", plan, "--add", "3", "--candidates", cands, "--gap", "0"}, study...)...)
	if code != 0 {
		t.Fatal(stderr)
	}
	if !strings.Contains(stdout, "weighted people") {
		t.Errorf("the summary does not say the people are weighted:\n%s", stdout)
	}

	// Brute force: each candidate's newly covered cells, by haversine.
	cells := readCSV(t, filepath.Join(before, "cells.csv"))
	weighted := func(c map[string]string) float64 {
		return num(t, c["population_residents"]) + 3*num(t, c["population_workers"])
	}
	var pts [][2]float64
	for _, r := range readCSV(t, cands) {
		pts = append(pts, [2]float64{num(t, r["lon"]), num(t, r["lat"])})
	}
	reach := make([][]int, len(pts))
	for j, p := range pts {
		for i, c := range cells {
			if c["covered"] == "0" && haversine(num(t, c["lon"]), num(t, c["lat"]), p[0], p[1])*60/4000 <= 6 {
				reach[j] = append(reach[j], i)
			}
		}
	}
	best, overlap := 0.0, false
	for a := range pts {
		for b := a + 1; b < len(pts); b++ {
			for c := b + 1; c < len(pts); c++ {
				in := map[int]bool{}
				n := 0
				for _, i := range append(append(append([]int{}, reach[a]...), reach[b]...), reach[c]...) {
					in[i] = true
					n++
				}
				w := 0.0
				for i := range in {
					w += weighted(cells[i])
				}
				if w > best {
					best, overlap = w, n > len(in)
				}
			}
		}
	}
	if !overlap {
		t.Fatal("the best sites reach no cell twice: the test cannot tell a cell counted twice")
	}
	var p struct {
		Objective  float64
		UpperBound float64 `json:"upper_bound"`
		Status     string
		Weights    string
	}
	readJSON(t, filepath.Join(plan, "proposal.json"), &p)
	if math.Abs(p.Objective-best) > 1e-6 || p.Status != "optimal" || p.Weights != "residents=1,workers=3" {
		t.Fatalf("objective %v (%s, weights %q), brute force %v", p.Objective, p.Status, p.Weights, best)
	}
	if best == 0 {
		t.Fatal("no candidate covers anyone: the test proves nothing")
	}

	sites := readCSV(t, filepath.Join(plan, "sites.csv"))
	var addRes, addWk float64
	for _, s := range sites {
		r, w := num(t, s["added_residents"]), num(t, s["added_workers"])
		if math.Abs(r+3*w-num(t, s["added_population"])) > 1e-9 {
			t.Errorf("site %s: %v residents + 3 × %v workers ≠ %s", s["rank"], r, w, s["added_population"])
		}
		addRes += r
		addWk += w
	}
	layerCovered := func(d string) map[string]float64 {
		var s struct {
			Layers []struct {
				Name              string
				PopulationCovered float64 `json:"population_covered"`
			}
		}
		readJSON(t, filepath.Join(d, "summary.json"), &s)
		m := map[string]float64{}
		for _, l := range s.Layers {
			m[l.Name] = l.PopulationCovered
		}
		return m
	}
	b0, b1 := layerCovered(before), layerCovered(plan)
	if b1["residents"]-b0["residents"] != addRes || b1["workers"]-b0["workers"] != addWk {
		t.Errorf("with the plan residents %v → %v, workers %v → %v; sites.csv adds %v and %v", b0["residents"], b1["residents"], b0["workers"], b1["workers"], addRes, addWk)
	}
	if addWk == 0 || addRes == 0 {
		t.Errorf("the plan adds %v residents and %v workers: the weights are not exercised", addRes, addWk)
	}
}

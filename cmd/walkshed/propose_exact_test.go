package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walkshed/walkshed/coverage/testenv"
)

// summaryCovered reads population_covered from summary.json.
func summaryCovered(t *testing.T, dir string) float64 {
	t.Helper()
	var s map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s["population_covered"].(float64)
}

// coveredCells returns the H3 ids cells.csv marks covered.
func coveredCells(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(dir, "cells.csv")) {
		if r["covered"] == "1" {
			out[r["h3"]] = true
		}
	}
	return out
}

// The plan's events.csv, applied by walkshed update to the analysis
// without the plan, gives the coverage the plan's own outputs show, cell by
// cell; the file opens every site on --date with ids proposed-1, ….
func TestProposeEventsApplyByUpdate(t *testing.T) {
	dir := t.TempDir()
	study := []string{"--stations", small("stations.csv"), "--population", small("population.csv"), "--quiet"}
	base, plan, after := filepath.Join(dir, "base"), filepath.Join(dir, "plan"), filepath.Join(dir, "after")
	if code, _, stderr := walkshed(t, append([]string{"analyze", "--out", base}, study...)...); code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := walkshed(t, append([]string{"propose", "--add", "2", "--date", "2031-05-06", "--out", plan}, study...)...)
	if code != 0 {
		t.Fatalf("propose: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "events.csv opens its sites on 2031-05-06") {
		t.Errorf("the summary does not mention events.csv:\n%s", stdout)
	}
	sites := readCSV(t, filepath.Join(plan, "sites.csv"))
	events := readCSV(t, filepath.Join(plan, "events.csv"))
	if len(events) != len(sites) || len(sites) != 2 {
		t.Fatalf("%d events for %d sites", len(events), len(sites))
	}
	for i, e := range events {
		if e["date"] != "2031-05-06" || e["action"] != "open" || e["id"] != fmt.Sprint("proposed-", i+1) ||
			math.Abs(num(t, e["lon"])-num(t, sites[i]["lon"])) > 1e-7 || math.Abs(num(t, e["lat"])-num(t, sites[i]["lat"])) > 1e-7 {
			t.Fatalf("event %d %v, site %v", i+1, e, sites[i])
		}
	}
	if code, _, stderr := walkshed(t, "update", "--from", base, "--events", filepath.Join(plan, "events.csv"), "--out", after, "--format", "gpkg,csv", "--quiet"); code != 0 {
		t.Fatalf("update: exit %d: %s", code, stderr)
	}
	p := proposal(t, plan)
	if got, want := summaryCovered(t, after), p["population_covered_after"].(float64); got != want || summaryCovered(t, plan) != want {
		t.Fatalf("update covers %v, the plan's summary %v, proposal.json %v", got, summaryCovered(t, plan), want)
	}
	if summaryCovered(t, base) != p["population_covered_before"].(float64) || p["objective"].(float64) <= 0 {
		t.Fatalf("before: analysis %v, proposal %v; objective %v", summaryCovered(t, base), p["population_covered_before"], p["objective"])
	}
	a, b := coveredCells(t, after), coveredCells(t, plan)
	if len(a) != len(b) {
		t.Fatalf("%d cells covered after update, %d in the plan's cells.csv", len(a), len(b))
	}
	for c := range a {
		if !b[c] {
			t.Fatalf("cell %s covered after update, not in the plan's cells.csv", c)
		}
	}
}

// Without --stations the network is planned from scratch: nothing covered
// before, and an analysis with the sites as the only stations covers
// exactly the objective.
func TestProposeFromScratch(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan")
	code, stdout, stderr := walkshed(t, "propose", "--population", small("population.csv"), "--add", "2", "--out", plan, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p := proposal(t, plan)
	obj := p["objective"].(float64)
	if p["population_covered_before"].(float64) != 0 || obj <= 0 || p["status"] != "optimal" {
		t.Fatalf("before %v, objective %v, status %v\n%s", p["population_covered_before"], obj, p["status"], stdout)
	}
	var b strings.Builder
	b.WriteString("id,lon,lat\n")
	for _, s := range readCSV(t, filepath.Join(plan, "sites.csv")) {
		fmt.Fprintf(&b, "s%s,%s,%s\n", s["rank"], s["lon"], s["lat"])
	}
	st := filepath.Join(dir, "sites-as-stations.csv")
	os.WriteFile(st, []byte(b.String()), 0o644)
	after := filepath.Join(dir, "after")
	if code, _, stderr := walkshed(t, "analyze", "--stations", st, "--population", small("population.csv"), "--out", after, "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := summaryCovered(t, after); got != obj || summaryCovered(t, plan) != obj {
		t.Fatalf("the sites alone cover %v, the plan's summary %v, objective %v", got, summaryCovered(t, plan), obj)
	}
}

// proposal.json says whether the plan is proven optimal, with the search's
// nodes and seconds; curve.csv gives each figure and its bound in the same
// terms; in add mode with more sites asked than it takes to cover all that
// is reachable, the plan is the fewest that do (proven).
func TestProposeStatusAndCurve(t *testing.T) {
	dir := t.TempDir()
	study := []string{"--stations", small("stations.csv"), "--population", small("population.csv"), "--quiet"}
	for _, k := range []string{"2", "40"} {
		out := filepath.Join(dir, "k"+k)
		code, stdout, stderr := walkshed(t, append([]string{"propose", "--add", k, "--gap", "0", "--out", out}, study...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		p := proposal(t, out)
		_, hasNodes := p["nodes"].(float64)
		_, hasSeconds := p["seconds"].(float64)
		_, hasNotes := p["notes"].([]any)
		if p["status"] != "optimal" || !hasNodes || !hasSeconds || !hasNotes || p["gap_tolerance"] != 0.0 || !strings.Contains(stdout, "status      optimal (proven") {
			t.Fatalf("status %v, nodes %v, seconds %v, notes %v, gap_tolerance %v\n%s", p["status"], p["nodes"], p["seconds"], p["notes"], p["gap_tolerance"], stdout)
		}
		before := p["population_covered_before"].(float64)
		curve := readCSV(t, filepath.Join(out, "curve.csv"))
		sites := readCSV(t, filepath.Join(out, "sites.csv"))
		if len(curve) != len(sites) {
			t.Fatalf("%d curve rows, %d sites", len(curve), len(sites))
		}
		for i, c := range curve {
			newly, covered := num(t, c["newly_covered"]), num(t, c["covered_population"])
			ub, cub := num(t, c["newly_covered_upper_bound"]), num(t, c["covered_population_upper_bound"])
			if math.Abs(covered-newly-before) > 1e-6 || math.Abs(cub-ub-before) > 1e-6 || newly > ub+1e-6 || covered != num(t, sites[i]["covered_population"]) {
				t.Fatalf("k=%d: newly %v ≤ %v, covered %v ≤ %v, before %v, sites.csv %v", i+1, newly, ub, covered, cub, before, sites[i]["covered_population"])
			}
		}
		if k == "40" {
			n := len(sites)
			if n >= 40 || p["min_sites_lower_bound"] != float64(n) || !strings.Contains(stdout, "(proven)") {
				t.Fatalf("%d sites, lower bound %v:\n%s", n, p["min_sites_lower_bound"], stdout)
			}
		}
	}
}

func TestProposeSearchFlags(t *testing.T) {
	study := []string{"--stations", small("stations.csv"), "--population", small("population.csv"), "--add", "2"}
	for _, tc := range []struct{ args []string }{
		{[]string{"--gap", "1"}}, {[]string{"--gap", "-0.1"}}, {[]string{"--time-limit", "-1s"}},
		{[]string{"--time-limit", "5"}}, {[]string{"--date", "2030-13-01"}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		code, _, stderr := walkshed(t, append(append([]string{"propose", "--quiet", "--out", out}, study...), tc.args...)...)
		if code != 2 || !strings.Contains(stderr, strings.TrimPrefix(tc.args[0], "--")) {
			t.Fatalf("%v: exit %d, %s", tc.args, code, stderr)
		}
	}
}

// Porto Alegre from scratch in cost-table mode (1,124 populated cells as
// demand, every grid cell a candidate, 1,000 m by the test's own haversine):
// 10 sites proven to cover CBC's optimum, 399,099 people.
func TestProposePortoAlegreCostTableOptimal(t *testing.T) {
	grid := readCSV(t, filepath.Join(testenv.SharedData(t, "porto_alegre"), "poa_hexgrid.csv"))
	var b strings.Builder
	b.WriteString("demand,site,cost,weight\n")
	for _, d := range grid {
		if num(t, d["population"]) <= 0 {
			continue
		}
		for _, s := range grid {
			if c := haversine(num(t, d["lon"]), num(t, d["lat"]), num(t, s["lon"]), num(t, s["lat"])); c <= 1200 {
				fmt.Fprintf(&b, "%s,%s,%.3f,%s\n", d["id"], s["id"], c, d["population"])
			}
		}
	}
	dir := t.TempDir()
	table := filepath.Join(dir, "costs.csv")
	os.WriteFile(table, []byte(b.String()), 0o644)
	out := filepath.Join(dir, "k10")
	code, stdout, stderr := walkshed(t, "propose", "--costs", table, "--radius", "1000", "--add", "10", "--demand-col", "demand",
		"--site-col", "site", "--cost-col", "cost", "--weight-col", "weight", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p := proposal(t, out)
	if p["objective"].(float64) != 399099 || p["status"] != "optimal" || !strings.Contains(stdout, "status      optimal") {
		t.Fatalf("objective %v, status %v; CBC proves 399,099 optimal\n%s", p["objective"], p["status"], stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "events.csv")); err == nil {
		t.Error("events.csv written for sites without positions")
	}
}

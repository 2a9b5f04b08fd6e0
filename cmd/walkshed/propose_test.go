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

// proposal reads proposal.json.
func proposal(t *testing.T, dir string) map[string]any {
	t.Helper()
	var p map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "proposal.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// coveredPopulation sums the covered people of cells.csv.
func coveredPopulation(t *testing.T, dir string) float64 {
	var c float64
	for _, r := range readCSV(t, filepath.Join(dir, "cells.csv")) {
		if r["covered"] == "1" {
			c += num(t, r["population"])
		}
	}
	return c
}

// Porto Alegre, 20 new sites, straight line and along the streets: the
// plan's added population equals what a fresh analysis with the sites
// added as stations covers more, and the bound is reported.
func TestProposePortoAlegreMatchesReanalysis(t *testing.T) {
	data := testenv.SharedData(t, "porto_alegre")
	grid := filepath.Join(data, "poa_hexgrid.csv")
	for _, mode := range []string{"crow", "network"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			study := []string{"--population", grid, "--quiet"}
			if mode == "network" {
				study = append(study, "--network", filepath.Join(data, "poa_osm.pbf"))
			}
			plan := filepath.Join(dir, "plan")
			code, stdout, stderr := walkshed(t, append([]string{"propose", "--stations", grid, "--stations-where", "healthcare>0",
				"--add", "20", "--out", plan}, study...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "certified") || !strings.Contains(stdout, "gap") {
				t.Errorf("no bound in the summary:\n%s", stdout)
			}
			p := proposal(t, plan)
			obj, ub := p["objective"].(float64), p["upper_bound"].(float64)
			if !(obj <= ub) || p["gap"] == nil {
				t.Fatalf("objective %v, bound %v, gap %v", obj, ub, p["gap"])
			}
			// Existing stations plus the proposed sites, analysed afresh.
			var b strings.Builder
			b.WriteString("id,lon,lat\n")
			for _, r := range readCSV(t, grid) {
				if h := r["healthcare"]; h != "" && h != "0" {
					fmt.Fprintf(&b, "%s,%s,%s\n", r["id"], r["lon"], r["lat"])
				}
			}
			sites := readCSV(t, filepath.Join(plan, "sites.csv"))
			for _, s := range sites {
				fmt.Fprintf(&b, "new-%s,%s,%s\n", s["rank"], s["lon"], s["lat"])
			}
			all := filepath.Join(dir, "all.csv")
			os.WriteFile(all, []byte(b.String()), 0o644)
			after := filepath.Join(dir, "after")
			if code, _, stderr := walkshed(t, append([]string{"analyze", "--stations", all, "--out", after}, study...)...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// The plan's own cells.csv shows coverage with the plan: the
			// same as the fresh analysis, objective more than before.
			if got, want := coveredPopulation(t, plan), coveredPopulation(t, after); math.Abs(got-want) > 1e-6 {
				t.Fatalf("the plan's cells.csv covers %v, analysing with the sites added covers %v", got, want)
			}
			gained := coveredPopulation(t, after) - p["population_covered_before"].(float64)
			if math.Abs(gained-obj) > 1e-6 {
				t.Fatalf("the plan says it newly covers %v; analysing with the sites added covers %v more", obj, gained)
			}
			var added float64
			for _, s := range sites {
				added += num(t, s["added_population"])
			}
			if math.Abs(added-obj) > 1e-6 {
				t.Errorf("sites.csv adds up to %v, objective %v", added, obj)
			}
			t.Logf("%s: %d sites newly cover %.0f people; bound %.0f, gap %.3f%%", mode, len(sites), obj, ub, 100*p["gap"].(float64))
		})
	}
}

// The spopt San Francisco table: the published optima.
func TestProposeSanFranciscoCostTable(t *testing.T) {
	table := filepath.Join(testenv.SharedData(t, "sf_spopt"), "SF_network_distance_candidateStore_16_censusTract_205_new.csv")
	dir := t.TempDir()
	code, stdout, stderr := walkshed(t, "propose", "--costs", table, "--radius", "5000", "--add", "4", "--out", filepath.Join(dir, "k4"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if p := proposal(t, filepath.Join(dir, "k4")); p["objective"].(float64) != 875247 {
		t.Fatalf("4 stores cover %v, the published optimum is 875,247", p["objective"])
	}
	if !strings.Contains(stdout, "3,280 pairs read") {
		t.Errorf("the summary does not say how many pairs were read:\n%s", stdout)
	}
	if code, _, stderr := walkshed(t, "propose", "--costs", table, "--radius", "5000", "--target", "1", "--out", filepath.Join(dir, "all")); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(readCSV(t, filepath.Join(dir, "all", "sites.csv"))); n != 8 {
		t.Fatalf("covering everyone takes %d stores, the published optimum is 8", n)
	}
}

func TestProposeBadRequests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	study := []string{"--stations", small("stations.csv"), "--population", small("population.csv")}
	far := write("far.csv", "id,lon,lat\nX,120.0,30.0\n")
	costs := write("costs.csv", "distance,name,DestinationName,demand\n100,S1,D1,10\nten,S1,D2,5\n")
	weights := write("weights.csv", "distance,name,DestinationName,demand\n100,S1,D1,10\n200,S2,D1,11\n")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"K zero", append([]string{"--add", "0"}, study...), 2, "positive integer"},
		{"K not an integer", append([]string{"--add", "2.5"}, study...), 2, "add"},
		{"share above one", append([]string{"--target", "1.5"}, study...), 2, "(0, 1]"},
		{"share zero", append([]string{"--target", "0"}, study...), 2, "(0, 1]"},
		{"both", append([]string{"--add", "2", "--target", "0.9"}, study...), 2, "not both"},
		{"neither", study, 2, "--add K or --target"},
		{"no usable candidate", append([]string{"--add", "2", "--candidates", far}, study...), 1, "far.csv: no usable candidate"},
		{"non-numeric cost", []string{"--costs", costs, "--radius", "500", "--add", "1"}, 1, "costs.csv:3"},
		{"two weights", []string{"--costs", weights, "--radius", "500", "--add", "1"}, 1, "weights.csv:3"},
		{"costs without radius", []string{"--costs", costs, "--add", "1"}, 2, "--radius"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr := walkshed(t, append([]string{"propose", "--quiet", "--out", out}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q, want %q", code, tc.code, stderr, tc.want)
			}
			if _, err := os.Stat(filepath.Join(out, "sites.csv")); err == nil {
				t.Error("a failed run wrote sites.csv")
			}
		})
	}
	// More sites than useful candidates: answered with what can be done.
	out := filepath.Join(dir, "many")
	code, stdout, stderr := walkshed(t, append([]string{"propose", "--quiet", "--out", out, "--add", "500"}, study...)...)
	if code != 0 || !strings.Contains(stdout, "note: 4 sites cover everything") || !strings.Contains(stdout, "(proven)") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
}

package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walkshed/walkshed/coverage"
)

// tierCandidates are the candidate sites of the tiered proposal: few, so
// that every pair can be tried.
var tierCandidates = []tierStation{
	{"C1", "", 10.7350, 59.9070, 0},
	{"C2", "", 10.7480, 59.9050, 0},
	{"C3", "", 10.7620, 59.9060, 0},
	{"C4", "", 10.7330, 59.9200, 0},
	{"C5", "", 10.7500, 59.9215, 0},
	{"C6", "", 10.7660, 59.9225, 0},
	{"C7", "", 10.7550, 59.9140, 0},
}

// subdistrict is the proposed tier: an index into tierNames.
const subdistrict = 1

// TestProposeTierMatchesBruteForce proposes two subdistrict stations and
// compares the plan with every pair of candidates, the cells already
// covered for the subdistrict tier left out, then adds the plan's sites as
// subdistrict stations and analyses again.
func TestProposeTierMatchesBruteForce(t *testing.T) {
	for _, mode := range []string{"inclusive", "separate"} {
		t.Run(mode, func(t *testing.T) { checkProposeTier(t, mode) })
	}
}

func checkProposeTier(t *testing.T, mode string) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	var b strings.Builder
	b.WriteString("id,lon,lat\n")
	for _, c := range tierCandidates {
		fmt.Fprintf(&b, "%s,%.4f,%.4f\n", c.id, c.lon, c.lat)
	}
	cands := filepath.Join(dir, "candidates.csv")
	if err := os.WriteFile(cands, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := "district=12,subdistrict=8,neighbourhood=5"
	plan := filepath.Join(dir, "plan")
	code, stdout, stderr := walkshed(t, "propose", "--stations", stations, "--population", population, "--tiers", spec,
		"--tier-mode", mode, "--tier", "subdistrict", "--candidates", cands, "--add", "2", "--out", plan, "--quiet", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "subdistrict") {
		t.Errorf("the summary does not name the tier:\n%s", stdout)
	}
	p := proposal(t, plan)
	if p["tier"] != "subdistrict" || p["minutes"] != tierMinutes[subdistrict] {
		t.Errorf("proposal.json tier %v minutes %v, want subdistrict 8", p["tier"], p["minutes"])
	}

	// The brute force, from the cells' exact centres and haversine times at
	// 4 km/h.
	cells := readCSV(t, filepath.Join(plan, "cells.csv"))
	limit := tierMinutes[subdistrict]
	pop := make([]float64, len(cells))
	open := make([]bool, len(cells))
	reaches := make([][]bool, len(tierCandidates))
	for j := range reaches {
		reaches[j] = make([]bool, len(cells))
	}
	var before float64
	for i, c := range cells {
		pop[i] = num(t, c["population"])
		h, err := coverage.ParseCell(c["h3"])
		if err != nil {
			t.Fatal(err)
		}
		centre := coverage.CellCenter(h)
		covered := false
		for _, s := range tierStudy {
			own := tierIndex(s.tier)
			if own != subdistrict && (mode == "separate" || own > subdistrict) {
				continue
			}
			m := haversine(centre[0], centre[1], s.lon, s.lat) * 60 / 4000
			if math.Abs(m-limit) < 0.002 {
				t.Fatalf("cell %s lies on station %s's threshold: move the fixture", c["h3"], s.id)
			}
			covered = covered || m <= limit
		}
		if covered {
			before += pop[i]
		}
		open[i] = !covered && pop[i] > 0
		for j, s := range tierCandidates {
			m := haversine(centre[0], centre[1], s.lon, s.lat) * 60 / 4000
			if math.Abs(m-limit) < 0.002 {
				t.Fatalf("cell %s lies on candidate %s's threshold: move the fixture", c["h3"], s.id)
			}
			reaches[j][i] = m <= limit
		}
	}
	best, bestPair := -1.0, ""
	for a := range tierCandidates {
		for b := a + 1; b < len(tierCandidates); b++ {
			var v float64
			for i := range cells {
				if open[i] && (reaches[a][i] || reaches[b][i]) {
					v += pop[i]
				}
			}
			if v > best {
				best, bestPair = v, tierCandidates[a].id+","+tierCandidates[b].id
			}
		}
	}
	if best <= 0 {
		t.Fatal("the fixture gives the brute force nothing to cover")
	}
	if got := p["objective"].(float64); got != best {
		t.Fatalf("objective %v, brute force %v (%s)", got, best, bestPair)
	}
	if got := p["population_covered_before"].(float64); got != before {
		t.Errorf("covered before %v, brute force %v for the subdistrict tier", got, before)
	}

	// Analyse again with the plan's sites as subdistrict stations.
	rows := readCSV(t, filepath.Join(plan, "sites.csv"))
	if len(rows) != 2 {
		t.Fatalf("%d sites, want 2", len(rows))
	}
	st, err := os.ReadFile(stations)
	if err != nil {
		t.Fatal(err)
	}
	more := string(st)
	for _, r := range rows {
		more += fmt.Sprintf("%s,Station %s,subdistrict,%s,%s,\n", r["id"], r["id"], r["lon"], r["lat"])
	}
	stations2 := filepath.Join(dir, "stations2.csv")
	if err := os.WriteFile(stations2, []byte(more), 0o644); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "again")
	code, _, stderr = walkshed(t, "analyze", "--stations", stations2, "--population", population, "--tiers", spec,
		"--tier-mode", mode, "--out", again, "--quiet", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var after float64
	for _, c := range readCSV(t, filepath.Join(again, "cells.csv")) {
		if c["covered_subdistrict"] == "1" {
			after += num(t, c["population"])
		}
	}
	if after-before != best {
		t.Fatalf("re-analysis covers %v more at the subdistrict tier, the plan %v", after-before, best)
	}
}

func TestProposeTierBadFlags(t *testing.T) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	study := []string{"--stations", stations, "--population", population, "--add", "1"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown tier", []string{"--tiers", "district=12,subdistrict=8,neighbourhood=5", "--tier", "hamlet"}, `--tier "hamlet" is not one of the tiers in --tiers`},
		{"tier without tiers", []string{"--tier", "subdistrict"}, "--tier needs --tiers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr := walkshed(t, append(append([]string{"propose", "--quiet", "--out", out}, study...), tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d (want 2), stderr %q, want %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused run wrote its folder")
			}
		})
	}
}

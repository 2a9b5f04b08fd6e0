package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/walkshed/walkshed/coverage"
)

// tierStation is a station of the hand-made tiered study.
type tierStation struct {
	id, tier string
	lon, lat float64
	capacity float64 // 0: unknown (empty in the file)
}

var (
	tierNames   = []string{"district", "subdistrict", "neighbourhood"}
	tierMinutes = []float64{12, 8, 5}
	tierStudy   = []tierStation{
		{"D1", "district", 10.7512, 59.9163, 40},
		{"S1", "subdistrict", 10.7431, 59.9121, 0},
		{"S2", "subdistrict", 10.7617, 59.9208, 12},
		{"N1", "neighbourhood", 10.7396, 59.9187, 5},
		{"N2", "neighbourhood", 10.7570, 59.9112, 0},
		{"N3", "neighbourhood", 10.7668, 59.9149, 3},
	}
)

// writeTierStudy writes the study's stations and a grid of population
// points 1.5 km across into dir.
func writeTierStudy(t *testing.T, dir string) (stations, population string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,name,tier,lon,lat,capacity\n")
	for _, s := range tierStudy {
		c := ""
		if s.capacity > 0 {
			c = strconv.FormatFloat(s.capacity, 'f', -1, 64)
		}
		fmt.Fprintf(&b, "%s,Station %s,%s,%.4f,%.4f,%s\n", s.id, s.id, s.tier, s.lon, s.lat, c)
	}
	stations = filepath.Join(dir, "stations.csv")
	if err := os.WriteFile(stations, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	b.WriteString("lon,lat,population\n")
	for i := range 9 {
		for j := range 8 {
			fmt.Fprintf(&b, "%.4f,%.4f,%d\n", 10.730+0.0045*float64(i), 59.905+0.0025*float64(j), 100+37*((i*8+j)%11))
		}
	}
	population = filepath.Join(dir, "population.csv")
	if err := os.WriteFile(population, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return stations, population
}

// tierIndex is a station's own tier.
func tierIndex(name string) int {
	for i, n := range tierNames {
		if n == name {
			return i
		}
	}
	return -1
}

// gauss is E2SFCA's Gaussian decay, written from its formula.
func gauss(t, limit float64) float64 {
	if t > limit {
		return 0
	}
	g0 := math.Exp(-0.5)
	return (math.Exp(-0.5*(t/limit)*(t/limit)) - g0) / (1 - g0)
}

func TestTiersMatchBruteForce(t *testing.T) {
	for _, mode := range []string{"inclusive", "separate"} {
		for _, method := range []string{"2sfca", "e2sfca"} {
			t.Run(mode+"/"+method, func(t *testing.T) { checkTiers(t, mode, method) })
		}
	}
}

func checkTiers(t *testing.T, mode, method string) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := walkshed(t, "analyze", "--stations", stations, "--population", population,
		"--tiers", "district=12,subdistrict=8,neighbourhood=5", "--tier-mode", mode, "--access", method,
		"--out", out, "--quiet", "--format", "csv,gpkg")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cells := readCSV(t, filepath.Join(out, "cells.csv"))
	sameTiersInGeoPackage(t, out)
	serves := func(own, tier int) bool {
		if mode == "separate" {
			return own == tier
		}
		return own <= tier
	}
	n := len(tierStudy)
	// mins[i][j]: the walk from cell i to station j at 4 km/h.
	mins := make([][]float64, len(cells))
	pop := make([]float64, len(cells))
	for i, c := range cells {
		pop[i] = num(t, c["population"])
		mins[i] = make([]float64, n)
		// The exact H3 centre: cells.csv rounds it to 7 decimals, a
		// centimetre, which moves a weight near a threshold.
		h, err := coverage.ParseCell(c["h3"])
		if err != nil {
			t.Fatal(err)
		}
		centre := coverage.CellCenter(h)
		for j, s := range tierStudy {
			mins[i][j] = haversine(centre[0], centre[1], s.lon, s.lat) * 60 / 4000
			if d := math.Abs(mins[i][j] - tierMinutes[tierIndex(s.tier)]); d < 0.002 {
				t.Fatalf("cell %s lies %.4f min from station %s's threshold: move the fixture", c["h3"], d, s.id)
			}
		}
	}
	served := make([]float64, n)
	potential := make([]float64, n)
	coveredPop := make([]float64, len(tierNames))
	var fullPop float64
	for i, c := range cells {
		full := true
		for tier, name := range tierNames {
			best, arg := math.Inf(1), -1
			for j, s := range tierStudy {
				if serves(tierIndex(s.tier), tier) && mins[i][j] < best {
					best, arg = mins[i][j], j
				}
			}
			if got := num(t, c["minutes_"+name]); math.Abs(got-best) > 0.0003 {
				t.Fatalf("cell %s tier %s: %v min, brute force %.5f", c["h3"], name, got, best)
			}
			cov := best <= tierMinutes[tier]
			if want := map[bool]string{true: "1", false: "0"}[cov]; c["covered_"+name] != want {
				t.Fatalf("cell %s tier %s: covered %s, brute force %s (%.4f min)", c["h3"], name, c["covered_"+name], want, best)
			}
			if cov {
				coveredPop[tier] += pop[i]
				if tierIndex(tierStudy[arg].tier) == tier {
					served[arg] += pop[i]
				}
			} else {
				full = false
			}
			if tier == len(tierNames)-1 && (c["minutes"] != c["minutes_"+name] || c["covered"] != c["covered_"+name]) {
				t.Fatalf("cell %s: minutes,covered %s,%s are not the bottom tier's %s,%s", c["h3"], c["minutes"], c["covered"], c["minutes_"+name], c["covered_"+name])
			}
		}
		if want := map[bool]string{true: "1", false: "0"}[full]; c["fully_served"] != want {
			t.Fatalf("cell %s: fully_served %s, brute force %s", c["h3"], c["fully_served"], want)
		}
		if full {
			fullPop += pop[i]
		}
		for j, s := range tierStudy {
			if mins[i][j] <= tierMinutes[tierIndex(s.tier)] {
				potential[j] += pop[i]
			}
		}
	}
	// Brute-force 2SFCA / E2SFCA over all station–cell pairs.
	w := func(m, limit float64) float64 {
		if method == "e2sfca" {
			return gauss(m, limit)
		}
		if m <= limit {
			return 1
		}
		return 0
	}
	ratio := make([]float64, n)
	for j, s := range tierStudy {
		lim := tierMinutes[tierIndex(s.tier)]
		var demand float64
		for i := range cells {
			demand += w(mins[i][j], lim) * pop[i]
		}
		supply := s.capacity
		if supply == 0 {
			supply = 1
		}
		if demand > 0 {
			ratio[j] = supply / demand
		}
	}
	someAccess := false
	for i, c := range cells {
		var a float64
		for j, s := range tierStudy {
			a += w(mins[i][j], tierMinutes[tierIndex(s.tier)]) * ratio[j]
		}
		a *= 1000
		someAccess = someAccess || a > 0
		// access is written with 6 decimals.
		if got := num(t, c["access"]); math.Abs(got-a) > 5.000001e-7+1e-9*a {
			t.Fatalf("cell %s: access %v, brute force %.7f", c["h3"], got, a)
		}
	}
	if !someAccess {
		t.Fatal("no cell has access: the fixture checks nothing")
	}

	rows := readCSV(t, filepath.Join(out, "stations.csv"))
	if len(rows) != n {
		t.Fatalf("stations.csv has %d rows, want %d", len(rows), n)
	}
	servedByTier := make([]float64, len(tierNames))
	for j, r := range rows {
		s := tierStudy[j]
		if r["id"] != s.id || r["tier"] != s.tier {
			t.Fatalf("stations.csv row %d: %s/%s, want %s/%s", j+1, r["id"], r["tier"], s.id, s.tier)
		}
		if got := num(t, r["served_population"]); got != served[j] {
			t.Errorf("station %s: served %v, brute force %v", s.id, got, served[j])
		}
		if got := num(t, r["potential_population"]); got != potential[j] {
			t.Errorf("station %s: potential %v, brute force %v", s.id, got, potential[j])
		}
		servedByTier[tierIndex(s.tier)] += served[j]
		if s.capacity == 0 {
			if r["capacity"] != "" || r["load"] != "" {
				t.Errorf("station %s: capacity %q load %q, want both empty", s.id, r["capacity"], r["load"])
			}
		} else if num(t, r["capacity"]) != s.capacity || r["load"] != strconv.FormatFloat(served[j]/s.capacity, 'f', 4, 64) {
			t.Errorf("station %s: capacity %s load %s, want %v and %.4f", s.id, r["capacity"], r["load"], s.capacity, served[j]/s.capacity)
		}
	}
	// Every covered person of a tier is served by one station of that
	// tier alone in separate mode; inclusive, the top tier's are.
	for tier := range tierNames {
		if (mode == "separate" || tier == 0) && servedByTier[tier] != coveredPop[tier] {
			t.Errorf("tier %s: stations serve %v people, %v are covered", tierNames[tier], servedByTier[tier], coveredPop[tier])
		}
	}

	var sum struct {
		Tiers []struct {
			Name              string  `json:"name"`
			Minutes           float64 `json:"minutes"`
			Stations          int     `json:"stations"`
			PopulationCovered float64 `json:"population_covered"`
			ShareCovered      float64 `json:"share_covered"`
		} `json:"tiers"`
		TierMode          string  `json:"tier_mode"`
		FullyServed       float64 `json:"fully_served_population"`
		FullyServedShare  float64 `json:"fully_served_share"`
		Access            string  `json:"access"`
		PopulationTotal   float64 `json:"population_total"`
		PopulationCovered float64 `json:"population_covered"`
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.TierMode != mode || sum.Access != method || len(sum.Tiers) != len(tierNames) {
		t.Fatalf("summary.json: tier_mode %q access %q, %d tiers", sum.TierMode, sum.Access, len(sum.Tiers))
	}
	for tier, tj := range sum.Tiers {
		want := 0
		for _, s := range tierStudy {
			if serves(tierIndex(s.tier), tier) {
				want++
			}
		}
		if tj.Name != tierNames[tier] || tj.Minutes != tierMinutes[tier] || tj.Stations != want ||
			tj.PopulationCovered != coveredPop[tier] || math.Abs(tj.ShareCovered-coveredPop[tier]/sum.PopulationTotal) > 1e-12 {
			t.Errorf("summary tier %d: %+v; want %s, %v min, %d stations, %v covered", tier, tj, tierNames[tier], tierMinutes[tier], want, coveredPop[tier])
		}
	}
	if sum.FullyServed != fullPop || math.Abs(sum.FullyServedShare-fullPop/sum.PopulationTotal) > 1e-12 {
		t.Errorf("fully served %v (%v), brute force %v", sum.FullyServed, sum.FullyServedShare, fullPop)
	}
	if sum.PopulationCovered != coveredPop[len(tierNames)-1] {
		t.Errorf("population_covered %v, the bottom tier covers %v", sum.PopulationCovered, coveredPop[len(tierNames)-1])
	}
	for tier, name := range tierNames {
		line := fmt.Sprintf("tier %-14s %s min: %s", name, fmtNum(tierMinutes[tier]), nof(coveredPop[tier], "person", "people"))
		if !strings.Contains(stdout, line) {
			t.Errorf("summary lacks %q:\n%s", line, stdout)
		}
	}
	if !strings.Contains(stdout, "fully served "+nof(fullPop, "person", "people")) || !strings.Contains(stdout, "most loaded stations") {
		t.Errorf("summary lacks the fully served line or the loads:\n%s", stdout)
	}
}

func TestTiersBadInputs(t *testing.T) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	out := filepath.Join(dir, "out")
	good := []string{"analyze", "--stations", stations, "--population", population, "--out", out, "--quiet", "--format", "csv"}
	if code, _, stderr := walkshed(t, append(good, "--tiers", "district=12,subdistrict=8,neighbourhood=5")...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	before, err := os.ReadFile(filepath.Join(out, "cells.csv"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknownTier := write("unknown.csv", "id,tier,lon,lat\nD1,district,10.7512,59.9163\nX9,kiosk,10.7431,59.9121\n")
	badCap := write("badcap.csv", "id,tier,lon,lat,capacity\nD1,district,10.7512,59.9163,-3\n")
	textCap := write("textcap.csv", "id,tier,lon,lat,容量\nD1,district,10.7512,59.9163,\nD2,district,10.7431,59.9121,many\n")
	badFile := write("tiers.csv", "tier,minutes\ndistrict,30\nsubdistrict,soon\n")
	spec := []string{"--tiers", "district=12,subdistrict=8,neighbourhood=5"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"minutes not a number", []string{"--tiers", "district=abc"}, 2, []string{"--tiers", "district=abc", "not a number"}},
		{"tier twice", []string{"--tiers", "a=10,a=5"}, 2, []string{`"a" listed twice`}},
		{"empty spec part", []string{"--tiers", "a=10,,b=5"}, 2, []string{"empty tier"}},
		{"tier mode", append([]string{"--tier-mode", "both"}, spec...), 2, []string{"--tier-mode", "inclusive or separate"}},
		{"mode without tiers", []string{"--tier-mode", "separate"}, 2, []string{"--tier-mode needs --tiers"}},
		{"access method", []string{"--access", "3sfca"}, 2, []string{"--access", "2sfca or e2sfca"}},
		{"minutes disagree", append([]string{"--minutes", "15"}, spec...), 2, []string{"--minutes 15 and --tiers disagree"}},
		{"station tier not in spec", append([]string{"--stations", unknownTier}, spec...), 1, []string{unknownTier, "station 2", `"X9"`, `"kiosk"`}},
		{"negative capacity", append([]string{"--stations", badCap}, spec...), 1, []string{badCap + ":2", "capacity -3", "positive"}},
		{"capacity not a number", []string{"--stations", textCap, "--access", "2sfca"}, 1, []string{textCap + ":3", `"many"`, "not a number"}},
		{"bad tier file", []string{"--tiers", badFile}, 1, []string{badFile, "subdistrict", "not a number"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := walkshed(t, append(slicesClone(good), tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			first := strings.SplitN(stderr, "\n", 2)[0]
			for _, w := range tc.want {
				if !strings.Contains(first, w) {
					t.Errorf("message %q lacks %q", first, w)
				}
			}
			if tc.code == 1 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("want one line, got %q", stderr)
			}
			if strings.Contains(stderr, "coverage:") || strings.Contains(stderr, "format:") {
				t.Errorf("message names a package: %q", stderr)
			}
			after, err := os.ReadFile(filepath.Join(out, "cells.csv"))
			if err != nil || string(after) != string(before) {
				t.Fatalf("cells.csv changed by a refused run (%v)", err)
			}
		})
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

func TestTierFileMatchesSpec(t *testing.T) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	file := filepath.Join(dir, "tiers.csv")
	if err := os.WriteFile(file, []byte("tier,minutes\ndistrict,12\nsubdistrict,8\nneighbourhood,5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k, spec := range []string{"district=12,subdistrict=8,neighbourhood=5", file} {
		out := filepath.Join(dir, fmt.Sprint("out", k))
		if code, _, stderr := walkshed(t, "analyze", "--stations", stations, "--population", population, "--tiers", spec, "--out", out, "--quiet", "--format", "csv"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "cells.csv"))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	if got[0] != got[1] || !strings.Contains(got[0], "covered_subdistrict") {
		t.Fatalf("the tier file gives another cells.csv than the same tiers on the command line")
	}
}

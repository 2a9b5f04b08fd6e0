package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestLayersPortoAlegreMatchBruteForce analyses Porto Alegre with residents
// and workers read from the same grid and checks, against a brute force
// over the grid rows here, every cell's two layers, each layer's covered
// people, and the gaps' ranking by weighted people.
func TestLayersPortoAlegreMatchBruteForce(t *testing.T) {
	grid := filepath.Join(sharedData(t, "porto_alegre"), "poa_hexgrid.csv")
	out := t.TempDir()
	code, _, stderr := walkshed(t, "analyze", "--stations", grid, "--stations-where", "healthcare>0",
		"--population", "residents="+grid, "--pop-col", "residents=population",
		"--population", "workers="+grid, "--pop-col", "workers=jobs", "--weights", "workers=0.5",
		"--out", out, "--quiet", "--format", "csv,gpkg")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The grid's 5 empty jobs values: one warning naming the count and line.
	if strings.Count(stderr, "warning:") != 1 || !strings.Contains(stderr, `5 rows have an empty population (column "jobs"), counted as 0`) {
		t.Errorf("stderr: %s", stderr)
	}
	var st [][2]float64
	people := map[string][2]float64{} // by H3 index (the grid is res-9 cells)
	for _, r := range readCSV(t, grid) {
		if h, _ := strconv.ParseFloat(r["healthcare"], 64); h > 0 {
			st = append(st, [2]float64{num(t, r["lon"]), num(t, r["lat"])})
		}
		jobs := 0.0
		if r["jobs"] != "" {
			jobs = num(t, r["jobs"])
		}
		res, _ := strconv.ParseFloat(r["population"], 64)
		p := people[r["id"]]
		people[r["id"]] = [2]float64{p[0] + res, p[1] + jobs}
	}
	var total, covered [2]float64
	seen := 0
	cov := map[string]bool{}
	for _, c := range readCSV(t, filepath.Join(out, "cells.csv")) {
		want, ok := people[c["h3"]]
		if !ok {
			t.Fatalf("cell %s is not a grid cell", c["h3"])
		}
		seen++
		res, wk := num(t, c["population_residents"]), num(t, c["population_workers"])
		if res != want[0] || wk != want[1] || num(t, c["population"]) != want[0]+want[1] {
			t.Fatalf("cell %s: residents %v workers %v population %v, grid %v", c["h3"], res, wk, c["population"], want)
		}
		best := math.Inf(1)
		for _, s := range st {
			best = math.Min(best, haversine(num(t, c["lon"]), num(t, c["lat"]), s[0], s[1]))
		}
		in := best*60/4000 <= 15
		if in != (c["covered"] == "1") && math.Abs(best-1000) > 0.01 {
			t.Fatalf("cell %s: covered %s, brute force %.3f m", c["h3"], c["covered"], best)
		}
		cov[c["h3"]] = c["covered"] == "1"
		for l := range 2 {
			total[l] += want[l]
			if c["covered"] == "1" {
				covered[l] += want[l]
			}
		}
	}
	populated := 0
	for _, p := range people {
		if p[0]+p[1] > 0 {
			populated++
		}
	}
	if seen != populated {
		t.Errorf("%d cells, the grid has %d with residents or workers", seen, populated)
	}
	if total[0] != 812935 {
		t.Errorf("residents %v, SOURCE.md says 812,935", total[0])
	}
	var s struct {
		Layers []struct {
			Name              string
			Weight            float64
			Population        float64
			PopulationCovered float64 `json:"population_covered"`
		}
		Gaps []struct {
			ID         int
			Population float64
			Layers     map[string]float64
			Weighted   float64
		}
	}
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	if len(s.Layers) != 2 || s.Layers[0].Name != "residents" || s.Layers[1].Name != "workers" || s.Layers[1].Weight != 0.5 {
		t.Fatalf("summary layers %+v", s.Layers)
	}
	for l := range 2 {
		if s.Layers[l].Population != total[l] || s.Layers[l].PopulationCovered != covered[l] {
			t.Errorf("layer %s: %v of %v covered, brute force %v of %v", s.Layers[l].Name, s.Layers[l].PopulationCovered, s.Layers[l].Population, covered[l], total[l])
		}
	}
	// Gaps: ranked by residents + 0.5 workers, each reporting both layers.
	if len(s.Gaps) < 3 {
		t.Fatalf("%d gaps", len(s.Gaps))
	}
	ws := make([]float64, len(s.Gaps))
	for i, g := range s.Gaps {
		w := g.Layers["residents"] + 0.5*g.Layers["workers"]
		if math.Abs(g.Weighted-w) > 1e-6 || g.Layers["residents"]+g.Layers["workers"] != g.Population {
			t.Errorf("gap %d: %+v", g.ID, g)
		}
		ws[i] = g.Weighted
	}
	if !sort.SliceIsSorted(ws, func(i, j int) bool { return ws[i] > ws[j] }) {
		t.Errorf("gaps not ranked by weighted people: %v", ws)
	}
	// The ranking differs from the population's somewhere, or the weights
	// would not have been tested.
	pops := make([]float64, len(s.Gaps))
	for i, g := range s.Gaps {
		pops[i] = g.Population
	}
	if sort.SliceIsSorted(pops, func(i, j int) bool { return pops[i] > pops[j] }) {
		t.Log("the weighted ranking equals the population ranking on this study")
	}
	// The GeoPackage's cells carry both layers.
	rows := sqlDump(t, filepath.Join(out, "walkshed.gpkg"), `SELECT SUM(population_residents), SUM(population_workers), SUM(population) FROM cells`)
	if len(rows) != 1 || !strings.HasPrefix(rows[0], "812935") {
		t.Errorf("cells layer sums %v", rows)
	}
}

// TestLayersBadFlags: a layer given twice, a --pop-col for an unknown
// layer, a bad weight, a missing column: one message naming the flag or
// file, exit 2 or 1, nothing written.
func TestLayersBadFlags(t *testing.T) {
	dir := t.TempDir()
	grid := filepath.Join(dir, "grid.csv")
	os.WriteFile(grid, []byte("lon,lat,population,jobs\n10.75,59.91,100,50\n10.76,59.92,80,\n"), 0o644)
	st := filepath.Join(dir, "st.csv")
	os.WriteFile(st, []byte("id,lon,lat\nA,10.75,59.915\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--population", "r=" + grid, "--population", "r=" + grid}, 2, `--population: layer "r" given twice`},
		{[]string{"--population", "r=" + grid, "--population", "w=" + grid, "--pop-col", "x=jobs"}, 2, `--pop-col x=jobs: no population layer "x" (layers: r, w)`},
		{[]string{"--population", "r=" + grid, "--population", "w=" + grid, "--pop-col", "w=jobs", "--weights", "w=-1"}, 2, "--weights w=-1: a weight must be 0 or more"},
		{[]string{"--population", "r=" + grid, "--population", "w=" + grid, "--weights", "w=lots"}, 2, `--weights w=lots: weight "lots" is not a number`},
		{[]string{"--population", "r=" + grid, "--population", "w=" + grid, "--pop-col", "w=workers"}, 1, "workers"},
		{[]string{"--population", grid, "--population", "w=" + grid}, 2, "name every layer"},
	} {
		out := t.TempDir()
		args := append([]string{"analyze", "--stations", st, "--out", out, "--quiet"}, c.args...)
		code, _, stderr := walkshed(t, args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != c.code || !strings.Contains(first, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if files, _ := os.ReadDir(out); len(files) > 0 {
			t.Errorf("%v: wrote %v", c.args, files)
		}
	}
}

// TestLayersUpdateMatchesFreshAnalysis: update keeps every layer, and its
// result equals a fresh analysis of the final station list.
func TestLayersUpdateMatchesFreshAnalysis(t *testing.T) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	grid := readCSV(t, population)
	var b strings.Builder
	b.WriteString("lon,lat,workers\n")
	for i, r := range grid {
		if i%3 == 0 {
			b.WriteString(r["lon"] + "," + r["lat"] + "," + []string{"40", "250", "7"}[i%9/3] + "\n")
		}
	}
	workers := filepath.Join(dir, "workers.csv")
	os.WriteFile(workers, []byte(b.String()), 0o644)
	study := []string{"--population", "residents=" + population, "--population", "workers=" + workers, "--weights", "workers=2", "--quiet", "--format", "csv,gpkg", "--minutes", "5"}
	res, fresh := filepath.Join(dir, "res"), filepath.Join(dir, "fresh")
	if code, _, stderr := walkshed(t, append([]string{"analyze", "--stations", stations, "--out", res}, study...)...); code != 0 {
		t.Fatal(stderr)
	}
	ev := filepath.Join(dir, "ev.csv")
	events := "date,action,id,lon,lat\n2026-02-01,open,X1,10.7460,59.9060\n2026-02-02,close,S1,,\n"
	os.WriteFile(ev, []byte(events), 0o644)
	if code, _, stderr := walkshed(t, "update", "--from", res, "--events", ev, "--quiet", "--format", "csv"); code != 0 {
		t.Fatal(stderr)
	}
	var list []map[string]string
	for _, r := range readCSV(t, stations) {
		list = append(list, map[string]string{"id": r["id"], "name": r["name"], "tier": r["tier"], "lon": r["lon"], "lat": r["lat"]})
	}
	final := filepath.Join(dir, "final.csv")
	finalStations(t, final, list, readCSV(t, ev))
	if code, _, stderr := walkshed(t, append([]string{"analyze", "--stations", final, "--out", fresh}, study...)...); code != 0 {
		t.Fatal(stderr)
	}
	got, want := filepath.Join(res, "walkshed.gpkg"), filepath.Join(fresh, "walkshed.gpkg")
	sameLayers(t, got, want, "cells", "gaps")
	if a, w := mustRead(t, filepath.Join(res, "cells.csv")), mustRead(t, filepath.Join(fresh, "cells.csv")); string(a) != string(w) {
		t.Errorf("cells.csv after the update differs from a fresh analysis")
	}
	a, w := summaryWithout(t, filepath.Join(res, "summary.json")), summaryWithout(t, filepath.Join(fresh, "summary.json"))
	for _, k := range []string{"layers", "gaps"} {
		if a[k] == nil || !reflect.DeepEqual(a[k], w[k]) {
			t.Errorf("summary.json %s after the update %v, fresh %v", k, a[k], w[k])
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b := mustRead(t, path)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestLayersMatchSingleLayerRuns analyses the tiered study with residents
// and workers, with tiers, capacities, areas and E2SFCA, and compares each
// layer's figures with an analysis of that layer alone: per area, per
// tier, the fully served and each station's served people.
func TestLayersMatchSingleLayerRuns(t *testing.T) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	var b strings.Builder
	b.WriteString("lon,lat,population\n")
	for i, r := range readCSV(t, population) {
		if i%3 != 1 {
			b.WriteString(r["lon"] + "," + r["lat"] + "," + []string{"40", "250", "7", "0"}[i%4] + "\n")
		}
	}
	workers := filepath.Join(dir, "workers.csv")
	os.WriteFile(workers, []byte(b.String()), 0o644)
	common := []string{"--stations", stations, "--areas", small("areas.geojson"), "--tiers", "district=12,subdistrict=8,neighbourhood=5",
		"--access", "e2sfca", "--quiet", "--format", "csv"}
	run := func(name string, pop ...string) string {
		out := filepath.Join(dir, name)
		if code, _, stderr := walkshed(t, append(append([]string{"analyze", "--out", out}, common...), pop...)...); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		return out
	}
	both := run("both", "--population", "residents="+population, "--population", "workers="+workers, "--weights", "workers=0.5")
	one := map[string]string{"residents": run("residents", "--population", population), "workers": run("workers", "--population", workers)}

	areas := readCSV(t, filepath.Join(both, "areas.csv"))
	var summ struct {
		Tiers []struct {
			Name              string
			PopulationCovered float64            `json:"population_covered"`
			LayersCovered     map[string]float64 `json:"layers_covered"`
		}
		FullyServed       float64            `json:"fully_served_population"`
		FullyServedLayers map[string]float64 `json:"fully_served_layers"`
	}
	readJSON(t, filepath.Join(both, "summary.json"), &summ)
	stBoth := readCSV(t, filepath.Join(both, "stations.csv"))
	for name, dirOne := range one {
		single := readCSV(t, filepath.Join(dirOne, "areas.csv"))
		if len(single) != len(areas) || len(areas) == 0 {
			t.Fatalf("%s: %d area rows, %d with both layers", name, len(single), len(areas))
		}
		for i, a := range areas {
			s := single[i]
			if a["name"] != s["name"] || a["population_"+name] != s["population"] || a["covered_"+name] != s["covered_population"] || a["share_"+name] != s["share_covered"] {
				t.Errorf("area %s, %s: %s/%s/%s, alone %s/%s/%s", a["name"], name, a["population_"+name], a["covered_"+name], a["share_"+name], s["population"], s["covered_population"], s["share_covered"])
			}
		}
		var s1 struct {
			Tiers []struct {
				PopulationCovered float64 `json:"population_covered"`
			}
			FullyServed float64 `json:"fully_served_population"`
		}
		readJSON(t, filepath.Join(dirOne, "summary.json"), &s1)
		for k, tier := range summ.Tiers {
			if tier.LayersCovered[name] != s1.Tiers[k].PopulationCovered {
				t.Errorf("tier %s, %s: %v covered, alone %v", tier.Name, name, tier.LayersCovered[name], s1.Tiers[k].PopulationCovered)
			}
		}
		if summ.FullyServedLayers[name] != s1.FullyServed {
			t.Errorf("fully served %s: %v, alone %v", name, summ.FullyServedLayers[name], s1.FullyServed)
		}
		stOne := readCSV(t, filepath.Join(dirOne, "stations.csv"))
		for j := range stBoth {
			if stBoth[j]["served_"+name] != stOne[j]["served_population"] {
				t.Errorf("station %s serves %s %s, alone %s", stBoth[j]["id"], name, stBoth[j]["served_"+name], stOne[j]["served_population"])
			}
		}
	}
	// The layers add up to everyone.
	for k, tier := range summ.Tiers {
		if tier.LayersCovered["residents"]+tier.LayersCovered["workers"] != tier.PopulationCovered {
			t.Errorf("tier %d: layers %v, covered %v", k, tier.LayersCovered, tier.PopulationCovered)
		}
	}
}

// TestLayersPortoAlegreNetwork: along the streets, each layer's covered
// people equal those of the cells whose network minutes, in the same run's
// cells.csv, are within the threshold; the weighted gaps hold exactly the
// uncovered cells' people.
func TestLayersPortoAlegreNetwork(t *testing.T) {
	data := sharedData(t, "porto_alegre")
	grid := filepath.Join(data, "poa_hexgrid.csv")
	out := t.TempDir()
	code, _, stderr := walkshed(t, "analyze", "--stations", grid, "--stations-where", "healthcare>0", "--network", filepath.Join(data, "poa_osm.pbf"),
		"--population", "residents="+grid, "--pop-col", "residents=population",
		"--population", "workers="+grid, "--pop-col", "workers=jobs", "--weights", "workers=0.25",
		"--out", out, "--quiet", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var covered, uncovered [2]float64
	for _, c := range readCSV(t, filepath.Join(out, "cells.csv")) {
		in := c["minutes"] != "" && num(t, c["minutes"]) <= 15
		if in != (c["covered"] == "1") {
			t.Fatalf("cell %s: %s minutes, covered %s", c["h3"], c["minutes"], c["covered"])
		}
		for l, name := range []string{"residents", "workers"} {
			if in {
				covered[l] += num(t, c["population_"+name])
			} else {
				uncovered[l] += num(t, c["population_"+name])
			}
		}
	}
	var s struct {
		Layers []struct {
			Name              string
			PopulationCovered float64 `json:"population_covered"`
		}
		Gaps []struct {
			Layers   map[string]float64
			Weighted float64
		}
	}
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	var inGaps [2]float64
	last := math.Inf(1)
	for _, g := range s.Gaps {
		inGaps[0] += g.Layers["residents"]
		inGaps[1] += g.Layers["workers"]
		if g.Weighted > last || math.Abs(g.Weighted-(g.Layers["residents"]+0.25*g.Layers["workers"])) > 1e-6 {
			t.Fatalf("gap %+v after weighted %v", g, last)
		}
		last = g.Weighted
	}
	for l, name := range []string{"residents", "workers"} {
		if s.Layers[l].Name != name || s.Layers[l].PopulationCovered != covered[l] {
			t.Errorf("layer %d: %+v, the cells' network minutes cover %v", l, s.Layers[l], covered[l])
		}
		if math.Abs(inGaps[l]-uncovered[l]) > 1e-6 {
			t.Errorf("%s: the gaps hold %v, the uncovered cells %v", name, inGaps[l], uncovered[l])
		}
	}
	if covered[1] == 0 || uncovered[1] == 0 {
		t.Fatal("workers all covered or none: the test proves little")
	}
}

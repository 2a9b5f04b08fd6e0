package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
)

// tierArea is a rectangle of the tiered study's areas, in lon/lat.
type tierArea struct {
	name, parent           string
	minLon, minLat, maxLon float64
	maxLat                 float64
}

// tierAreas cover the study's grid but for its north-east corner, so some
// cells lie in no area.
var tierAreas = []tierArea{
	{"southwest", "west", 10.7270, 59.9030, 10.7480, 59.9135},
	{"northwest", "west", 10.7270, 59.9135, 10.7480, 59.9260},
	{"east", "", 10.7480, 59.9030, 10.7700, 59.9180},
}

// writeTierAreas writes tierAreas as a GeoJSON file of polygons.
func writeTierAreas(t *testing.T, dir string) string {
	t.Helper()
	var fs []string
	for _, a := range tierAreas {
		ring := fmt.Sprintf("[[%[1]g,%[2]g],[%[3]g,%[2]g],[%[3]g,%[4]g],[%[1]g,%[4]g],[%[1]g,%[2]g]]", a.minLon, a.minLat, a.maxLon, a.maxLat)
		fs = append(fs, fmt.Sprintf(`{"type":"Feature","properties":{"name":%q,"parent":%q},"geometry":{"type":"Polygon","coordinates":[%s]}}`, a.name, a.parent, ring))
	}
	path := filepath.Join(dir, "areas.geojson")
	if err := os.WriteFile(path, []byte(`{"type":"FeatureCollection","features":[`+strings.Join(fs, ",")+"]}"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tierGap is a connected set of uncovered populated cells.
type tierGap struct {
	population float64
	cells      []h3.Cell
}

// unionFindGaps groups the cells in uncovered into connected sets under
// H3 adjacency (GridDisk of radius 1), largest population first.
func unionFindGaps(t *testing.T, uncovered map[h3.Cell]float64) []tierGap {
	t.Helper()
	parent := map[h3.Cell]h3.Cell{}
	for c := range uncovered {
		parent[c] = c
	}
	var find func(h3.Cell) h3.Cell
	find = func(c h3.Cell) h3.Cell {
		if parent[c] != c {
			parent[c] = find(parent[c])
		}
		return parent[c]
	}
	for c := range uncovered {
		for _, n := range h3.GridDisk(c, 1) {
			if _, ok := uncovered[n]; ok {
				parent[find(n)] = find(c)
			}
		}
	}
	byRoot := map[h3.Cell]*tierGap{}
	for c, p := range uncovered {
		r := find(c)
		if byRoot[r] == nil {
			byRoot[r] = &tierGap{}
		}
		byRoot[r].population += p
		byRoot[r].cells = append(byRoot[r].cells, c)
	}
	var out []tierGap
	for _, g := range byRoot {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b tierGap) int {
		switch {
		case a.population > b.population:
			return -1
		case a.population < b.population:
			return 1
		}
		return len(b.cells) - len(a.cells)
	})
	return out
}

func TestTierGapsAndAreasMatchUnionFind(t *testing.T) {
	for _, mode := range []string{"inclusive", "separate"} {
		t.Run(mode, func(t *testing.T) { checkTierGapsAndAreas(t, mode) })
	}
}

func checkTierGapsAndAreas(t *testing.T, mode string) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	areas := writeTierAreas(t, dir)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := walkshed(t, "analyze", "--stations", stations, "--population", population, "--areas", areas,
		"--tiers", "district=12,subdistrict=8,neighbourhood=5", "--tier-mode", mode, "--out", out, "--quiet", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cells := readCSV(t, filepath.Join(out, "cells.csv"))
	var sum struct {
		Tiers []struct {
			Name        string `json:"name"`
			Gaps        int    `json:"gaps"`
			LargestGaps []struct {
				ID         int     `json:"id"`
				Population float64 `json:"population"`
				Cells      int     `json:"cells"`
				Lon        float64 `json:"lon"`
				Lat        float64 `json:"lat"`
			} `json:"largest_gaps"`
		} `json:"tiers"`
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Tiers) != len(tierNames) {
		t.Fatalf("summary.json lists %d tiers, want %d", len(sum.Tiers), len(tierNames))
	}
	counts := map[int]bool{}
	for k, name := range tierNames {
		uncovered := map[h3.Cell]float64{}
		for _, c := range cells {
			h, err := coverage.ParseCell(c["h3"])
			if err != nil {
				t.Fatal(err)
			}
			if p := num(t, c["population"]); c["covered_"+name] == "0" && p > 0 {
				uncovered[h] = p
			}
		}
		want := unionFindGaps(t, uncovered)
		counts[len(want)] = true
		got := sum.Tiers[k]
		if got.Name != name || got.Gaps != len(want) {
			t.Fatalf("tier %s: summary.json says tier %q has %d gaps, union-find %d", name, got.Name, got.Gaps, len(want))
		}
		if len(got.LargestGaps) != min(5, len(want)) {
			t.Fatalf("tier %s: %d largest gaps listed, want %d", name, len(got.LargestGaps), min(5, len(want)))
		}
		for r, g := range got.LargestGaps {
			if g.ID != r+1 || g.Population != want[r].population {
				t.Fatalf("tier %s: gap %d (id %d) holds %v people, union-find's rank %d %v", name, r+1, g.ID, g.Population, r+1, want[r].population)
			}
			// Its point is the centre of one of the cells of a union-find
			// gap of that population and size.
			found := false
			for _, w := range want {
				if w.population != g.Population || len(w.cells) != g.Cells {
					continue
				}
				for _, c := range w.cells {
					p := coverage.CellCenter(c)
					if math.Abs(p[0]-g.Lon) < 1e-7 && math.Abs(p[1]-g.Lat) < 1e-7 {
						found = true
					}
				}
			}
			if !found {
				t.Fatalf("tier %s: gap %d (%v people, %d cells at %v,%v) is no union-find gap", name, g.ID, g.Population, g.Cells, g.Lon, g.Lat)
			}
		}
		line := ""
		for l := range strings.SplitSeq(stdout, "\n") {
			if strings.HasPrefix(l, "tier "+name+" ") {
				line = l
			}
		}
		unit := "gaps"
		if len(want) == 1 {
			unit = "gap"
		}
		if !strings.HasSuffix(line, fmt.Sprintf(", %d %s", len(want), unit)) {
			t.Fatalf("tier %s: printed %q, want it to end with %d %s", name, line, len(want), unit)
		}
	}
	if len(counts) < 2 {
		t.Fatalf("every tier has the same number of gaps (%v): the fixture tells the tiers apart poorly", counts)
	}
	checkTierAreas(t, cells, readCSV(t, filepath.Join(out, "areas.csv")))
}

// checkTierAreas compares areas.csv's per-tier columns with sums over the
// cells whose centre lies in each area's rectangle.
func checkTierAreas(t *testing.T, cells, rows []map[string]string) {
	t.Helper()
	type acc struct{ pop, covered []float64 }
	sums := map[string]*acc{} // "area/name" or "parent/name"
	get := func(key string) *acc {
		if sums[key] == nil {
			sums[key] = &acc{pop: make([]float64, len(tierNames)+1), covered: make([]float64, len(tierNames)+1)}
		}
		return sums[key]
	}
	outside := 0
	for _, c := range cells {
		h, err := coverage.ParseCell(c["h3"])
		if err != nil {
			t.Fatal(err)
		}
		p := coverage.CellCenter(h)
		area := -1
		for k, a := range tierAreas {
			for _, d := range []float64{p[0] - a.minLon, p[0] - a.maxLon, p[1] - a.minLat, p[1] - a.maxLat} {
				if math.Abs(d) < 1e-6 {
					t.Fatalf("cell %s lies on area %s's edge: move the fixture", c["h3"], a.name)
				}
			}
			if area < 0 && p[0] > a.minLon && p[0] < a.maxLon && p[1] > a.minLat && p[1] < a.maxLat {
				area = k
			}
		}
		if area < 0 {
			outside++
			continue
		}
		pop := num(t, c["population"])
		keys := []string{"area/" + tierAreas[area].name}
		if pa := tierAreas[area].parent; pa != "" {
			keys = append(keys, "parent/"+pa)
		}
		for _, key := range keys {
			x := get(key)
			for k, name := range append(slices.Clone(tierNames), "") {
				col := "covered"
				if name != "" {
					col += "_" + name
				}
				x.pop[k] += pop
				if c[col] == "1" {
					x.covered[k] += pop
				}
			}
		}
	}
	if outside == 0 {
		t.Fatal("every cell lies in an area: the fixture leaves none outside")
	}
	if len(rows) != len(sums) {
		t.Fatalf("areas.csv has %d rows, want %d", len(rows), len(sums))
	}
	for _, row := range rows {
		x := sums[row["level"]+"/"+row["name"]]
		if x == nil {
			t.Fatalf("areas.csv row %s %q is no area of the fixture", row["level"], row["name"])
		}
		bottom := len(tierNames)
		if got := num(t, row["covered_population"]); got != x.covered[bottom] {
			t.Fatalf("%s: covered_population %v, cells sum %v", row["name"], got, x.covered[bottom])
		}
		for k, name := range tierNames {
			if got := num(t, row["covered_"+name]); got != x.covered[k] {
				t.Fatalf("%s: covered_%s %v, cells sum %v", row["name"], name, got, x.covered[k])
			}
			want := strconv.FormatFloat(x.covered[k]/x.pop[k], 'f', 4, 64)
			if row["share_"+name] != want {
				t.Fatalf("%s: share_%s %s, cells give %s", row["name"], name, row["share_"+name], want)
			}
		}
	}
}

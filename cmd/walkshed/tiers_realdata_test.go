package main

import (
	"encoding/csv"
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

// poaStation is a Porto Alegre health facility cell written as a station.
type poaStation struct {
	id, tier string
	lon, lat float64
	capacity float64
}

// writePoaHealthStations writes the cells of Porto Alegre's grid holding
// health facilities as a stations file with tier and capacity columns: two
// or more facilities make a "hospital", one a "clinic", each facility 1000
// units. It returns the file, the stations in order and the grid's
// population by cell id.
func writePoaHealthStations(t *testing.T, grid, dir string) (string, []poaStation, map[string]float64) {
	t.Helper()
	f, err := os.Open(grid)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for k, h := range rows[0] {
		col[h] = k
	}
	val := func(r []string, name string) float64 {
		s := r[col[name]]
		if s == "" { // five cells have no jobs or healthcare count
			return 0
		}
		return num(t, s)
	}
	pop := map[string]float64{}
	var st []poaStation
	var b strings.Builder
	b.WriteString("id,tier,lon,lat,capacity\n")
	for _, r := range rows[1:] {
		pop[r[col["id"]]] = val(r, "population")
		hc := val(r, "healthcare")
		if hc <= 0 {
			continue
		}
		s := poaStation{id: r[col["id"]], tier: "clinic", lon: val(r, "lon"), lat: val(r, "lat"), capacity: 1000 * hc}
		if hc >= 2 {
			s.tier = "hospital"
		}
		st = append(st, s)
		fmt.Fprintf(&b, "%s,%s,%s,%s,%v\n", s.id, s.tier, r[col["lon"]], r[col["lat"]], s.capacity)
	}
	path := filepath.Join(dir, "health.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, st, pop
}

// TestTiersRealDataPortoAlegre runs analyze on Porto Alegre's grid with its
// health facilities as hospitals (30 min) and clinics (15 min), straight
// line, in both tier modes and with both access methods, and compares
// cells.csv, stations.csv and summary.json with a brute force over every
// station–cell pair, timed by the test's haversine at 4 km/h from the exact
// H3 centre of each cell.
func TestTiersRealDataPortoAlegre(t *testing.T) {
	grid := sharedData(t, filepath.Join("porto_alegre", "poa_hexgrid.csv"))
	dir := t.TempDir()
	stPath, st, gridPop := writePoaHealthStations(t, grid, dir)
	names := []string{"hospital", "clinic"}
	limits := []float64{30, 15}
	ownTier := func(j int) int {
		if st[j].tier == "hospital" {
			return 0
		}
		return 1
	}
	for _, c := range []struct{ mode, method string }{
		{"inclusive", "2sfca"}, {"inclusive", "e2sfca"}, {"separate", "2sfca"}, {"separate", "e2sfca"},
	} {
		t.Run(c.mode+"/"+c.method, func(t *testing.T) {
			out := filepath.Join(dir, c.mode+"-"+c.method)
			code, _, stderr := walkshed(t, "analyze", "--stations", stPath, "--population", grid,
				"--tiers", "hospital=30,clinic=15", "--tier-mode", c.mode, "--access", c.method,
				"--out", out, "--quiet", "--format", "csv")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			serves := func(j, tier int) bool {
				if c.mode == "separate" {
					return ownTier(j) == tier
				}
				return ownTier(j) <= tier
			}
			cells := readCSV(t, filepath.Join(out, "cells.csv"))
			var positive int
			for _, p := range gridPop {
				if p > 0 {
					positive++
				}
			}
			if len(cells) != positive {
				t.Fatalf("cells.csv has %d cells, the grid %d with people", len(cells), positive)
			}
			n := len(st)
			mins := make([][]float64, len(cells)) // [cell][station]
			pop := make([]float64, len(cells))
			for i, r := range cells {
				pop[i] = num(t, r["population"])
				if gp, ok := gridPop[r["h3"]]; !ok || gp != pop[i] {
					t.Fatalf("cell %s: population %v, the grid's %v (listed %v)", r["h3"], pop[i], gp, ok)
				}
				h, err := coverage.ParseCell(r["h3"])
				if err != nil {
					t.Fatal(err)
				}
				centre := coverage.CellCenter(h)
				mins[i] = make([]float64, n)
				for j, s := range st {
					mins[i][j] = haversine(centre[0], centre[1], s.lon, s.lat) * 60 / 4000
					if d := math.Abs(mins[i][j] - limits[ownTier(j)]); d < 1e-6 {
						t.Fatalf("cell %s lies %g min from station %s's threshold: covered cannot be checked", r["h3"], d, s.id)
					}
				}
			}
			served := make([]float64, n)
			potential := make([]float64, n)
			covered := make([]float64, len(names))
			var fullPop, ties float64
			for i, r := range cells {
				full := true
				for tier, name := range names {
					best, second, arg := math.Inf(1), math.Inf(1), -1
					for j := range st {
						switch m := mins[i][j]; {
						case !serves(j, tier):
						case m < best:
							best, second, arg = m, best, j
						case m < second:
							second = m
						}
					}
					if got := num(t, r["minutes_"+name]); math.Abs(got-best) > 5.000001e-5 {
						t.Errorf("cell %s tier %s: %v min, brute force %.6f", r["h3"], name, got, best)
					}
					cov := best <= limits[tier]
					if want := map[bool]string{true: "1", false: "0"}[cov]; r["covered_"+name] != want {
						t.Errorf("cell %s tier %s: covered %s, brute force %s (%.6f min)", r["h3"], name, r["covered_"+name], want, best)
					}
					if cov {
						covered[tier] += pop[i]
						if ownTier(arg) == tier { // served counts the station's own tier only
							served[arg] += pop[i]
						}
					} else {
						full = false
					}
					if tier == len(names)-1 {
						if r["minutes"] != r["minutes_"+name] || r["covered"] != r["covered_"+name] {
							t.Errorf("cell %s: minutes,covered %s,%s are not the clinic tier's %s,%s", r["h3"], r["minutes"], r["covered"], r["minutes_"+name], r["covered_"+name])
						}
						if second-best < 1e-9*best {
							ties++
						} else if r["nearest_station"] != st[arg].id {
							t.Errorf("cell %s: nearest station %s, brute force %s", r["h3"], r["nearest_station"], st[arg].id)
						}
					}
				}
				if want := map[bool]string{true: "1", false: "0"}[full]; r["fully_served"] != want {
					t.Errorf("cell %s: fully_served %s, brute force %s", r["h3"], r["fully_served"], want)
				}
				if full {
					fullPop += pop[i]
				}
				for j := range st {
					if mins[i][j] <= limits[ownTier(j)] {
						potential[j] += pop[i]
					}
				}
			}
			// 2SFCA / E2SFCA written from the formulas.
			w := func(m, limit float64) float64 {
				if c.method == "e2sfca" {
					return gauss(m, limit)
				}
				if m <= limit {
					return 1
				}
				return 0
			}
			ratio := make([]float64, n)
			var supplied float64
			for j, s := range st {
				var demand float64
				for i := range cells {
					demand += w(mins[i][j], limits[ownTier(j)]) * pop[i]
				}
				if demand > 0 {
					ratio[j] = s.capacity / demand
					supplied += s.capacity
				}
			}
			var weighted float64
			for i, r := range cells {
				var a float64
				for j := range st {
					a += w(mins[i][j], limits[ownTier(j)]) * ratio[j]
				}
				a *= 1000
				got := num(t, r["access"])
				if math.Abs(got-a) > 5.000001e-7+1e-9*a {
					t.Errorf("cell %s: access %v, brute force %.9f", r["h3"], got, a)
				}
				weighted += got * pop[i]
			}
			// access is written to 6 decimals: Σ P·A holds to half a
			// millionth per person.
			var total float64
			for _, p := range pop {
				total += p
			}
			if math.Abs(weighted-1000*supplied) > 5e-7*total+1e-9*weighted {
				t.Errorf("Σ P·A = %.6f, want 1000 × %v supplied", weighted, supplied)
			}

			rows := readCSV(t, filepath.Join(out, "stations.csv"))
			if len(rows) != n {
				t.Fatalf("stations.csv has %d rows, want %d", len(rows), n)
			}
			servedOwn := make([]float64, len(names))
			var overloaded int
			for j, r := range rows {
				s := st[j]
				if r["id"] != s.id || r["tier"] != s.tier {
					t.Fatalf("stations.csv row %d: %s/%s, want %s/%s", j+1, r["id"], r["tier"], s.id, s.tier)
				}
				if r["lon"] != strconv.FormatFloat(s.lon, 'f', 7, 64) || r["lat"] != strconv.FormatFloat(s.lat, 'f', 7, 64) {
					t.Errorf("station %s at %s,%s, want %.7f,%.7f", s.id, r["lon"], r["lat"], s.lon, s.lat)
				}
				own := served[j]
				if got := num(t, r["served_population"]); got != own {
					t.Errorf("station %s: served %v, brute force %v", s.id, got, own)
				}
				if got := num(t, r["potential_population"]); got != potential[j] {
					t.Errorf("station %s: potential %v, brute force %v", s.id, got, potential[j])
				}
				if num(t, r["capacity"]) != s.capacity || r["load"] != strconv.FormatFloat(own/s.capacity, 'f', 4, 64) {
					t.Errorf("station %s: capacity %s load %s, want %v and %.4f", s.id, r["capacity"], r["load"], s.capacity, own/s.capacity)
				}
				if own > s.capacity {
					overloaded++
				}
				servedOwn[ownTier(j)] += own
			}
			for tier, name := range names {
				if (c.mode == "separate" || tier == 0) && servedOwn[tier] != covered[tier] {
					t.Errorf("tier %s: its stations serve %v people, %v are covered", name, servedOwn[tier], covered[tier])
				}
			}

			var sum struct {
				Tiers []struct {
					Name              string  `json:"name"`
					Stations          int     `json:"stations"`
					PopulationCovered float64 `json:"population_covered"`
				} `json:"tiers"`
				FullyServed     float64 `json:"fully_served_population"`
				PopulationTotal float64 `json:"population_total"`
			}
			b, err := os.ReadFile(filepath.Join(out, "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			if len(sum.Tiers) != len(names) || sum.PopulationTotal != total {
				t.Fatalf("summary.json: %d tiers, population %v; want %d and %v", len(sum.Tiers), sum.PopulationTotal, len(names), total)
			}
			for tier, tj := range sum.Tiers {
				want := 0
				for j := range st {
					if serves(j, tier) {
						want++
					}
				}
				if tj.Name != names[tier] || tj.Stations != want || tj.PopulationCovered != covered[tier] {
					t.Errorf("summary tier %d: %+v; want %s, %d stations, %v covered", tier, tj, names[tier], want, covered[tier])
				}
			}
			if sum.FullyServed != fullPop {
				t.Errorf("fully served %v, brute force %v", sum.FullyServed, fullPop)
			}
			t.Logf("%d cells, %d stations: hospital %.2f%%, clinic %.2f%%, fully %.2f%% of %v people; %d overloaded; %v equal nearest times; Σ S = %v",
				len(cells), n, 100*covered[0]/total, 100*covered[1]/total, 100*fullPop/total, total, overloaded, ties, supplied)
		})
	}
}

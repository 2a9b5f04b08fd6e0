package coverage_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/walknet"
)

// serviceAnswer is what tiers, catchments and accessibility should give,
// computed by brute force from the time of every station–cell pair.
type serviceAnswer struct {
	best, second [][]coverage.Minutes // [tier][cell]: the nearest serving station's time, and the next station's
	station      [][]int32            // [tier][cell]: the nearest, first listed among equals; -1 for none
	totals       []coverage.Totals
	full         coverage.Totals
	servedIn     [][]float64 // [station][tier]
	potential    []float64
	access       map[coverage.AccessMethod][]float64
	supplied     map[coverage.AccessMethod]float64 // Σ S_j over stations with weighted demand in their catchment
}

// bruteService answers from times[j][i], the walking time from station j to
// cell i (Unreached when the model does not reach it), by looping over every
// pair; the access index is written straight from the 2SFCA and E2SFCA
// formulas.
func bruteService(cells []coverage.Cell, stations []coverage.Station, spec coverage.TierSpec, times [][]coverage.Minutes) serviceAnswer {
	nt := len(spec.Tiers)
	own := make([]int, len(stations))
	for j, s := range stations {
		own[j] = -1
		for k, tier := range spec.Tiers {
			if tier.Name == s.Tier {
				own[j] = k
			}
		}
	}
	serves := func(j, k int) bool {
		if spec.Separate {
			return own[j] == k
		}
		return own[j] <= k
	}
	a := serviceAnswer{access: map[coverage.AccessMethod][]float64{}, supplied: map[coverage.AccessMethod]float64{}}
	fullOK := make([]bool, len(cells))
	unreached := make([]bool, len(cells))
	for i := range cells {
		fullOK[i] = true
	}
	a.servedIn = make([][]float64, len(stations))
	for j := range stations {
		a.servedIn[j] = make([]float64, nt)
	}
	for k, tier := range spec.Tiers {
		best := make([]coverage.Minutes, len(cells))
		second := make([]coverage.Minutes, len(cells))
		st := make([]int32, len(cells))
		var tot coverage.Totals
		for i, c := range cells {
			best[i], second[i], st[i] = coverage.Unreached, coverage.Unreached, -1
			for j := range stations {
				if !serves(j, k) || !times[j][i].Reached() {
					continue
				}
				switch m := times[j][i]; {
				case m < best[i]:
					best[i], second[i], st[i] = m, best[i], int32(j)
				case m < second[i]: // equal to best too: a later station at the same time
					second[i] = m
				}
			}
			tot.Population += c.Population
			tot.Cells++
			if best[i] <= tier.Minutes {
				tot.CoveredPopulation += c.Population
				tot.CoveredCells++
				a.servedIn[st[i]][k] += c.Population
			} else {
				fullOK[i] = false
			}
			if st[i] < 0 {
				tot.UnreachedCells++
				unreached[i] = true
			}
		}
		a.best, a.second, a.station = append(a.best, best), append(a.second, second), append(a.station, st)
		a.totals = append(a.totals, tot)
	}
	for i, c := range cells {
		a.full.Population += c.Population
		a.full.Cells++
		if fullOK[i] {
			a.full.CoveredPopulation += c.Population
			a.full.CoveredCells++
		}
		if unreached[i] {
			a.full.UnreachedCells++
		}
	}
	a.potential = make([]float64, len(stations))
	for j := range stations {
		limit := spec.Tiers[own[j]].Minutes
		for i, c := range cells {
			if times[j][i] <= limit {
				a.potential[j] += c.Population
			}
		}
	}
	for _, method := range []coverage.AccessMethod{coverage.TwoStep, coverage.EnhancedTwoStep} {
		w := func(t, limit coverage.Minutes) float64 {
			switch {
			case !(t <= limit):
				return 0
			case method == coverage.TwoStep:
				return 1
			}
			return gauss(float64(t / limit))
		}
		acc := make([]float64, len(cells))
		var supplied float64
		for j, s := range stations {
			limit := spec.Tiers[own[j]].Minutes
			var demand float64
			for i, c := range cells {
				demand += w(times[j][i], limit) * c.Population
			}
			if demand == 0 {
				continue
			}
			supply := s.Capacity
			if supply == 0 {
				supply = 1
			}
			supplied += supply
			for i := range cells {
				acc[i] += 1000 * w(times[j][i], limit) * supply / demand
			}
		}
		a.access[method] = acc
		a.supplied[method] = supplied
	}
	return a
}

// checkService runs tiers, station reach, catchments and both access
// methods and compares them with the brute-force answer. With tol > 0,
// times within tol minutes of each other or of a threshold may go either
// way between two searches of a network and are not held against the code;
// with tol = 0 every time and every tie must come out exactly.
func checkService(t *testing.T, cells []coverage.Cell, stations []coverage.Station, spec coverage.TierSpec, reach coverage.Reach, want serviceAnswer, tol float64) {
	t.Helper()
	ctx := context.Background()
	tr, err := coverage.AnalyzeTiers(ctx, cells, stations, spec, reach)
	if err != nil {
		t.Fatal(err)
	}
	sure := true // no time within tol of a threshold: totals must match exactly
	for k, tc := range tr.Tiers {
		lim := float64(tc.Tier.Minutes)
		for i, a := range tc.Access {
			b, s := want.best[k][i], want.station[k][i]
			if math.Abs(float64(b)-lim) <= tol {
				sure = false
			}
			switch {
			case !b.Reached():
				if a != coverage.NoAccess {
					t.Errorf("tier %s cell %d: %+v, brute force: no station", tc.Tier.Name, i, a)
				}
			case math.Abs(float64(a.Minutes-b)) > tol:
				t.Errorf("tier %s cell %d: %.12f min, brute force %.12f", tc.Tier.Name, i, float64(a.Minutes), float64(b))
			case a.Station != s && (tol == 0 || float64(want.second[k][i]-b) > tol):
				t.Errorf("tier %s cell %d: station %d, brute force %d (%.9f, next %.9f)", tc.Tier.Name, i, a.Station, s, float64(b), float64(want.second[k][i]))
			}
		}
		if sure && tc.Totals != want.totals[k] {
			t.Errorf("tier %s: totals %+v, brute force %+v", tc.Tier.Name, tc.Totals, want.totals[k])
		}
	}
	var ties int
	for k := range tr.Tiers {
		for i := range cells {
			if want.station[k][i] >= 0 && want.second[k][i] == want.best[k][i] {
				ties++
			}
		}
	}
	t.Logf("%d cells, %d stations, separate %v: covered %d/%d/%d cells, unreached %d/%d/%d, fully served %d, equal times %d, exact totals %v",
		len(cells), len(stations), spec.Separate, tr.Tiers[0].Totals.CoveredCells, tr.Tiers[1].Totals.CoveredCells, tr.Tiers[2].Totals.CoveredCells,
		tr.Tiers[0].Totals.UnreachedCells, tr.Tiers[1].Totals.UnreachedCells, tr.Tiers[2].Totals.UnreachedCells, tr.Full.CoveredCells, ties, sure)
	if sure && tr.Full != want.full {
		t.Errorf("fully served %+v, brute force %+v", tr.Full, want.full)
	}
	sr, err := coverage.ReachFromStations(ctx, tr, reach)
	if err != nil {
		t.Fatal(err)
	}
	cs := coverage.Catchments(tr, sr)
	for j, c := range cs {
		if !sure {
			break
		}
		for k := range spec.Tiers {
			if c.ServedIn[k] != want.servedIn[j][k] {
				t.Errorf("station %d tier %d: served %v, brute force %v", j, k, c.ServedIn[k], want.servedIn[j][k])
			}
		}
		if c.Potential != want.potential[j] {
			t.Errorf("station %d: potential %v, brute force %v", j, c.Potential, want.potential[j])
		}
		if c.Served != c.ServedIn[c.Tier] || c.Served > c.Potential {
			t.Errorf("station %d: served %v in its own tier %d of %v, potential %v", j, c.Served, c.Tier, c.ServedIn, c.Potential)
		}
	}
	if sure {
		checkServedSums(t, tr, cs)
	}
	for _, m := range []coverage.AccessMethod{coverage.TwoStep, coverage.EnhancedTwoStep} {
		got, err := coverage.Accessibility(ctx, tr, sr, m)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := coverage.Accessibility(ctx, tr, sr, m)
		var weighted float64
		for i, w := range want.access[m] {
			if math.Abs(got[i]-w) > 1e-9*math.Max(w, 1e-3) {
				t.Errorf("%v cell %d: %.15g, brute force %.15g", m, i, got[i], w)
			}
			if math.Float64bits(got[i]) != math.Float64bits(again[i]) {
				t.Errorf("%v cell %d: %v then %v on the same input", m, i, got[i], again[i])
			}
			weighted += got[i] * cells[i].Population
		}
		if math.Abs(weighted-1000*want.supplied[m]) > 1e-9*1000*want.supplied[m] {
			t.Errorf("%v: Σ P·A = %.6f, want 1000 × %v supplied", m, weighted, want.supplied[m])
		}
	}
}

// randomStations draws n stations in box [lo, hi] with random tiers from
// names and random capacities (a third unknown).
func randomStations(rng *rand.Rand, n int, lo, hi orb.Point, names []string) []coverage.Station {
	st := make([]coverage.Station, n)
	for j := range st {
		st[j] = coverage.Station{
			ID:   fmt.Sprintf("s%d", j),
			Tier: names[rng.IntN(len(names))],
			Pos:  orb.Point{lo[0] + rng.Float64()*(hi[0]-lo[0]), lo[1] + rng.Float64()*(hi[1]-lo[1])},
		}
		if rng.IntN(3) > 0 {
			st[j].Capacity = float64(1 + rng.IntN(500))
		}
	}
	return st
}

// TestServiceBruteForceCrow compares tiers, catchments and accessibility
// with a brute force over all station–cell pairs along straight lines, on
// random studies in both modes. A station listed twice (with another tier)
// makes equal times.
func TestServiceBruteForceCrow(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 41))
			lo, hi := orb.Point{121.40, 31.20}, orb.Point{121.46, 31.25}
			var cells []coverage.Cell
			for range 250 + rng.IntN(100) {
				cells = append(cells, coverage.Cell{
					Pos:        orb.Point{lo[0] + rng.Float64()*(hi[0]-lo[0]), lo[1] + rng.Float64()*(hi[1]-lo[1])},
					Population: float64(rng.IntN(1000)),
				})
			}
			spec := coverage.TierSpec{Separate: seed%2 == 0, Tiers: []coverage.Tier{
				{Name: "district", Minutes: coverage.Minutes(20 + rng.IntN(15))},
				{Name: "subdistrict", Minutes: coverage.Minutes(8 + rng.Float64()*8)},
				{Name: "neighbourhood", Minutes: coverage.Minutes(4 + rng.Float64()*6)},
			}}
			names := []string{"district", "subdistrict", "subdistrict", "neighbourhood", "neighbourhood", "neighbourhood"}
			stations := randomStations(rng, 20+rng.IntN(30), lo, hi, names)
			dup := stations[rng.IntN(len(stations))]
			dup.ID = "dup"
			if rng.IntN(2) == 0 {
				dup.Tier = names[rng.IntN(len(names))]
			}
			stations = append(stations, dup)
			speed := coverage.Speed(4)
			times := make([][]coverage.Minutes, len(stations))
			for j, s := range stations {
				times[j] = make([]coverage.Minutes, len(cells))
				for i, c := range cells {
					times[j][i] = speed.Walk(coverage.Distance(s.Pos, c.Pos))
				}
			}
			want := bruteService(cells, stations, spec, times)
			checkService(t, cells, stations, spec, coverage.NewCrow(cells, speed), want, 0)
		})
	}
}

// canalGridOSM writes a street grid of nx × ny nodes 0.002° apart from (lon0,
// lat0), every node jittered, as OSM XML: each row and column one way,
// some of them cut into pieces (a canal crossed by few bridges).
func canalGridOSM(rng *rand.Rand, nx, ny int, lon0, lat0 float64) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<osm version=\"0.6\">\n")
	id := func(i, j int) int { return 1 + j*nx + i }
	for j := range ny {
		for i := range nx {
			fmt.Fprintf(&b, "<node id=\"%d\" lon=\"%.7f\" lat=\"%.7f\"/>\n", id(i, j),
				lon0+float64(i)*0.002+(rng.Float64()-0.5)*0.0006, lat0+float64(j)*0.002+(rng.Float64()-0.5)*0.0006)
		}
	}
	way := 1
	run := func(ids []int) {
		fmt.Fprintf(&b, "<way id=\"%d\">", way)
		way++
		for _, n := range ids {
			fmt.Fprintf(&b, "<nd ref=\"%d\"/>", n)
		}
		b.WriteString("<tag k=\"highway\" v=\"residential\"/></way>\n")
	}
	canal := nx / 2 // between columns canal-1 and canal, bridged on rows 0 and ny-2 only
	for j := range ny {
		var ids []int
		for i := range nx {
			if i == canal && j != 0 && j != ny-2 {
				run(ids)
				ids = nil
			}
			ids = append(ids, id(i, j))
		}
		run(ids)
	}
	for i := range nx {
		var ids []int
		for j := range ny {
			ids = append(ids, id(i, j))
		}
		run(ids)
	}
	b.WriteString("</osm>\n")
	return b.String()
}

// TestServiceBruteForceNetwork is the same comparison along the streets of
// a small grid with a canal, the brute force built from the times each
// station reaches with Within alone. Some cells and one station lie beyond
// the snapping limit and reach nothing.
func TestServiceBruteForceNetwork(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 43))
			lon0, lat0 := 121.40, 31.20
			g, err := walknet.LoadReader(ctx, strings.NewReader(canalGridOSM(rng, 9, 8, lon0, lat0)), "grid.osm", walknet.Options{MinComponent: 1})
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := orb.Point{lon0 - 0.001, lat0 - 0.001}, orb.Point{lon0 + 0.017, lat0 + 0.015}
			var cells []coverage.Cell
			for range 200 {
				cells = append(cells, coverage.Cell{
					Pos:        orb.Point{lo[0] + rng.Float64()*(hi[0]-lo[0]), lo[1] + rng.Float64()*(hi[1]-lo[1])},
					Population: float64(rng.IntN(1000)),
				})
			}
			for k := range 3 { // 1 km east of the grid: beyond the 300 m snap
				cells = append(cells, coverage.Cell{Pos: orb.Point{lon0 + 0.03, lat0 + 0.005*float64(k)}, Population: 77})
			}
			spec := coverage.TierSpec{Separate: seed%2 == 0, Tiers: []coverage.Tier{
				{Name: "district", Minutes: coverage.Minutes(14 + rng.IntN(6))},
				{Name: "subdistrict", Minutes: coverage.Minutes(7 + rng.Float64()*4)},
				{Name: "neighbourhood", Minutes: coverage.Minutes(3 + rng.Float64()*4)},
			}}
			names := []string{"district", "subdistrict", "subdistrict", "neighbourhood", "neighbourhood", "neighbourhood"}
			stations := randomStations(rng, 12, lo, hi, names)
			dup := stations[rng.IntN(len(stations))]
			dup.ID = "dup"
			if rng.IntN(2) == 0 {
				dup.Tier = names[rng.IntN(len(names))]
			}
			stations = append(stations, dup)
			stations = append(stations, coverage.Station{ID: "far", Tier: "neighbourhood", Pos: orb.Point{lon0 + 0.03, lat0}, Capacity: 9})
			speed := coverage.Speed(4)
			reach, err := walknet.NewReach(ctx, g, cells, speed, 25, walknet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			times := make([][]coverage.Minutes, len(stations))
			for j, s := range stations {
				times[j] = make([]coverage.Minutes, len(cells))
				for i := range times[j] {
					times[j][i] = coverage.Unreached
				}
				err := reach.Within(ctx, s.Pos, reach.Bound(), func(c int32, m coverage.Minutes) { times[j][c] = m })
				if err != nil {
					t.Fatal(err)
				}
			}
			want := bruteService(cells, stations, spec, times)
			for i := len(cells) - 3; i < len(cells); i++ {
				for k := range spec.Tiers {
					if want.station[k][i] != -1 {
						t.Fatalf("cell %d beyond the snap is reached in the reference", i)
					}
				}
			}
			checkService(t, cells, stations, spec, reach, want, 1e-9)
		})
	}
}

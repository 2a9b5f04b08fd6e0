package coverage_test

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/testenv"
	"github.com/walkshed/walkshed/coverage/walknet"
)

// poaHealthStudy is Porto Alegre's H3 res-9 grid with its health facilities
// as stations: a cell holding two or more is a "hospital", one a "clinic",
// each with capacity 1000 per facility. Stations sit at their cell's centre
// as the grid gives it and keep the grid's order.
func poaHealthStudy(t *testing.T) ([]coverage.Cell, []coverage.Station) {
	t.Helper()
	f, err := os.Open(testenv.SharedData(t, "porto_alegre", "poa_hexgrid.csv"))
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
	num := func(r []string, name string) float64 {
		if r[col[name]] == "" { // five cells have no jobs or healthcare count
			return 0
		}
		v, err := strconv.ParseFloat(r[col[name]], 64)
		if err != nil {
			t.Fatalf("%s %q: %v", name, r[col[name]], err)
		}
		return v
	}
	var cells []coverage.Cell
	var stations []coverage.Station
	for _, r := range rows[1:] {
		h, err := coverage.ParseCell(r[col["id"]])
		if err != nil {
			t.Fatal(err)
		}
		p := orb.Point{num(r, "lon"), num(r, "lat")}
		cells = append(cells, coverage.Cell{H3: h, Pos: p, Population: num(r, "population")})
		if hc := num(r, "healthcare"); hc > 0 {
			tier := "clinic"
			if hc >= 2 {
				tier = "hospital"
			}
			stations = append(stations, coverage.Station{ID: r[col["id"]], Tier: tier, Pos: p, Capacity: 1000 * hc})
		}
	}
	return cells, stations
}

// poaSpec is the two-tier health hierarchy: hospitals within 30 minutes,
// clinics within 15.
func poaSpec(separate bool) coverage.TierSpec {
	return coverage.TierSpec{Separate: separate, Tiers: []coverage.Tier{
		{Name: "hospital", Minutes: 30}, {Name: "clinic", Minutes: 15},
	}}
}

// poaHaversine is the great-circle distance in metres on the sphere of
// radius 6,371,008.8 m, in the atan2 form.
func poaHaversine(a, b orb.Point) float64 {
	const r = 6371008.8
	p1, p2 := a[1]*math.Pi/180, b[1]*math.Pi/180
	dp, dl := p2-p1, (b[0]-a[0])*math.Pi/180
	h := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Atan2(math.Sqrt(h), math.Sqrt(1-h))
}

// closeRel reports whether got is within 1e-9 of want, relatively (and
// within 1e-12 absolutely for a zero want).
func closeRel(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Abs(want)+1e-12
}

// checkRealService runs tiers, catchments and both access indices on a real
// study and compares them with bruteService over times[j][i]. Times agree
// within 1e-9 relative; the nearest station exactly, unless another station
// is within 1e-9 of the best time (then it must be one of those). Served and
// potential populations are compared exactly unless some time lies within
// 1e-9 of a threshold, which the log reports (none does on this data).
func checkRealService(t *testing.T, cells []coverage.Cell, stations []coverage.Station, spec coverage.TierSpec, reach coverage.Reach, times [][]coverage.Minutes) {
	t.Helper()
	ctx := context.Background()
	want := bruteService(cells, stations, spec, times)
	tr, err := coverage.AnalyzeTiers(ctx, cells, stations, spec, reach)
	if err != nil {
		t.Fatal(err)
	}
	near := func(m, lim coverage.Minutes) bool { return math.Abs(float64(m-lim)) <= 1e-9*float64(lim) }
	// Pairs within rounding of a station's own threshold make potentials
	// and access depend on the last bit; cells within rounding of a tier's
	// threshold make served populations do.
	var edgeCells, edgePairs, ties int
	for k, tier := range spec.Tiers {
		for i := range cells {
			if want.station[k][i] >= 0 && near(want.best[k][i], tier.Minutes) {
				edgeCells++
			}
		}
	}
	for j, s := range stations {
		lim := spec.Tiers[spec.Index(s.Tier)].Minutes
		for i := range cells {
			if near(times[j][i], lim) {
				edgePairs++
			}
		}
	}
	if edgeCells+edgePairs > 0 {
		t.Fatalf("%d cells and %d station–cell pairs lie within 1e-9 of a threshold: the exact comparisons cannot hold", edgeCells, edgePairs)
	}
	for k, tc := range tr.Tiers {
		if tc.Totals != want.totals[k] {
			t.Errorf("tier %s: totals %+v, brute force %+v", tc.Tier.Name, tc.Totals, want.totals[k])
		}
		nServing := 0
		for j := range stations {
			if spec.Serves(spec.Index(stations[j].Tier), k) {
				nServing++
			}
		}
		if tc.Stations != nServing {
			t.Errorf("tier %s: %d serving stations, want %d", tc.Tier.Name, tc.Stations, nServing)
		}
		for i, a := range tc.Access {
			b, s := want.best[k][i], want.station[k][i]
			if s < 0 {
				if a != coverage.NoAccess {
					t.Errorf("tier %s cell %d: %+v, brute force: no station", tc.Tier.Name, i, a)
				}
				continue
			}
			if !closeRel(float64(a.Minutes), float64(b)) {
				t.Errorf("tier %s cell %d: %.15g min, brute force %.15g", tc.Tier.Name, i, float64(a.Minutes), float64(b))
			}
			tied := closeRel(float64(want.second[k][i]), float64(b))
			if tied {
				ties++
			}
			switch {
			case a.Station == s:
			case !tied || a.Station < 0 || int(a.Station) >= len(stations):
				t.Errorf("tier %s cell %d: station %d, brute force %d", tc.Tier.Name, i, a.Station, s)
			case !spec.Serves(spec.Index(stations[a.Station].Tier), k) || !closeRel(float64(times[a.Station][i]), float64(b)):
				t.Errorf("tier %s cell %d: station %d at %v, brute force %d at %v", tc.Tier.Name, i, a.Station, times[a.Station][i], s, b)
			}
		}
	}
	if tr.Full != want.full {
		t.Errorf("fully served %+v, brute force %+v", tr.Full, want.full)
	}

	sr, err := coverage.ReachFromStations(ctx, tr, reach)
	if err != nil {
		t.Fatal(err)
	}
	cs := coverage.Catchments(tr, sr)
	if len(cs) != len(stations) {
		t.Fatalf("%d catchments for %d stations", len(cs), len(stations))
	}
	var overloaded, reachSome int
	var maxLoad float64
	for j, c := range cs {
		own := spec.Index(stations[j].Tier)
		if c.Tier != own {
			t.Errorf("station %d: tier %d, want %d", j, c.Tier, own)
		}
		for k := range spec.Tiers {
			if c.ServedIn[k] != want.servedIn[j][k] {
				t.Errorf("station %d tier %d: served %v, brute force %v", j, k, c.ServedIn[k], want.servedIn[j][k])
			}
		}
		if c.Served != want.servedIn[j][own] {
			t.Errorf("station %d: served %v, brute force %v", j, c.Served, want.servedIn[j][own])
		}
		if c.Potential != want.potential[j] {
			t.Errorf("station %d: potential %v, brute force %v", j, c.Potential, want.potential[j])
		}
		if c.Capacity != stations[j].Capacity || c.Load != want.servedIn[j][own]/stations[j].Capacity {
			t.Errorf("station %d: capacity %v load %v, want %v and %v", j, c.Capacity, c.Load, stations[j].Capacity, want.servedIn[j][own]/stations[j].Capacity)
		}
		if c.Overloaded() != (want.servedIn[j][own] > stations[j].Capacity) {
			t.Errorf("station %d: overloaded %v with served %v of capacity %v", j, c.Overloaded(), c.Served, c.Capacity)
		}
		if c.Overloaded() {
			overloaded++
		}
		maxLoad = math.Max(maxLoad, c.Load)
		if c.Potential > 0 {
			reachSome++
		}
	}
	// Served sums: over all stations, each tier's served population is its
	// covered population; with separate tiers a tier's own stations serve it
	// all; with inclusive tiers the top tier's stations serve the whole top
	// tier.
	for k, tc := range tr.Tiers {
		var all, own float64
		for _, c := range cs {
			all += c.ServedIn[k]
			if c.Tier == k {
				own += c.Served
			}
		}
		if all != want.totals[k].CoveredPopulation {
			t.Errorf("tier %s: served sums to %v, covered %v", tc.Tier.Name, all, want.totals[k].CoveredPopulation)
		}
		if (spec.Separate || k == 0) && own != want.totals[k].CoveredPopulation {
			t.Errorf("tier %s: its own stations serve %v, covered %v", tc.Tier.Name, own, want.totals[k].CoveredPopulation)
		}
	}
	// Σ S over the stations that reach someone, the brute force's own sum
	// written again from the potentials (2SFCA and E2SFCA differ only for a
	// station whose people all sit exactly on its threshold, and none does).
	var supplied float64
	for j, c := range cs {
		if c.Potential > 0 {
			supplied += stations[j].Capacity
		}
	}
	figures := map[coverage.AccessMethod][2]float64{}
	for _, m := range []coverage.AccessMethod{coverage.TwoStep, coverage.EnhancedTwoStep} {
		if !closeRel(want.supplied[m], supplied) {
			t.Errorf("%v: brute force supplied %v, potentials say %v", m, want.supplied[m], supplied)
		}
		got, err := coverage.Accessibility(ctx, tr, sr, m)
		if err != nil {
			t.Fatal(err)
		}
		var weighted, pop, maxA float64
		for i, w := range want.access[m] {
			if !closeRel(got[i], w) {
				t.Errorf("%v cell %d: %.15g, brute force %.15g", m, i, got[i], w)
			}
			weighted += got[i] * cells[i].Population
			pop += cells[i].Population
			maxA = math.Max(maxA, got[i])
		}
		if !closeRel(weighted, 1000*supplied) {
			t.Errorf("%v: Σ P·A = %.6f, want 1000 × %v supplied", m, weighted, supplied)
		}
		figures[m] = [2]float64{weighted / pop, maxA}
	}
	share := func(tot coverage.Totals) float64 { return 100 * tot.CoveredPopulation / tot.Population }
	t.Logf("%s, separate %v: %d cells (pop %.0f), %d/%d stations serving hospital/clinic tiers; covered hospital %.2f%% (%d cells, %d unreached), clinic %.2f%% (%d cells, %d unreached), fully %.2f%%; equal nearest times %d; %d stations reach someone, %d overloaded, max load %.3f; mean access 2sfca %.4f (max %.3f), e2sfca %.4f (max %.3f) per 1000",
		reach.Mode(), spec.Separate, len(cells), tr.Full.Population, tr.Tiers[0].Stations, tr.Tiers[1].Stations,
		share(tr.Tiers[0].Totals), tr.Tiers[0].Totals.CoveredCells, tr.Tiers[0].Totals.UnreachedCells,
		share(tr.Tiers[1].Totals), tr.Tiers[1].Totals.CoveredCells, tr.Tiers[1].Totals.UnreachedCells, share(tr.Full),
		ties, reachSome, overloaded, maxLoad,
		figures[coverage.TwoStep][0], figures[coverage.TwoStep][1], figures[coverage.EnhancedTwoStep][0], figures[coverage.EnhancedTwoStep][1])
}

// TestServiceRealDataCrow compares tiers, catchments and accessibility on
// Porto Alegre's health facilities along straight lines with a brute force
// over every station–cell pair timed by a haversine of the test's own at
// 4 km/h.
func TestServiceRealDataCrow(t *testing.T) {
	cells, stations := poaHealthStudy(t)
	var hospitals int
	for _, s := range stations {
		if s.Tier == "hospital" {
			hospitals++
		}
	}
	// The grid: 1227 cells, 117 with health facilities, 15 of them with two
	// or more (awk over the file).
	if len(cells) != 1227 || len(stations) != 117 || hospitals != 15 {
		t.Fatalf("%d cells, %d stations, %d hospitals: want 1227, 117, 15", len(cells), len(stations), hospitals)
	}
	times := make([][]coverage.Minutes, len(stations))
	for j, s := range stations {
		times[j] = make([]coverage.Minutes, len(cells))
		for i, c := range cells {
			times[j][i] = coverage.Minutes(poaHaversine(s.Pos, c.Pos) * 60 / 4000)
		}
	}
	for _, separate := range []bool{false, true} {
		t.Run(map[bool]string{false: "inclusive", true: "separate"}[separate], func(t *testing.T) {
			checkRealService(t, cells, stations, poaSpec(separate), coverage.NewCrow(cells, 4), times)
		})
	}
}

// TestServiceRealDataNetwork is the same comparison along Porto Alegre's
// streets, the brute force built from the times each station reaches with
// Within alone, up to the model's 35-minute bound.
func TestServiceRealDataNetwork(t *testing.T) {
	cells, stations := poaHealthStudy(t)
	ctx := context.Background()
	g, err := walknet.Load(ctx, testenv.SharedData(t, "porto_alegre", "poa_osm.pbf"), walknet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reach, err := walknet.NewReach(ctx, g, cells, 4, 35, walknet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	times := make([][]coverage.Minutes, len(stations))
	for j, s := range stations {
		times[j] = make([]coverage.Minutes, len(cells))
		for i := range times[j] {
			times[j][i] = coverage.Unreached
		}
		err := reach.Within(ctx, s.Pos, reach.Bound(), func(c int32, m coverage.Minutes) {
			if times[j][c].Reached() {
				t.Errorf("station %d: cell %d reported twice", j, c)
			}
			times[j][c] = m
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, separate := range []bool{false, true} {
		t.Run(map[bool]string{false: "inclusive", true: "separate"}[separate], func(t *testing.T) {
			checkRealService(t, cells, stations, poaSpec(separate), reach, times)
		})
	}
}

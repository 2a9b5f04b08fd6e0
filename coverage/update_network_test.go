package coverage_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/testenv"
	"github.com/walkshed/walkshed/coverage/walknet"
)

// TestUpdateEqualsFullRecomputationNetwork replays random openings and
// closings on Porto Alegre's streets and compares the updated result with a
// full multi-source search over the final station list, cell for cell, by
// a model built afresh from the same file (nothing the update's model holds
// is shared with it).
func TestUpdateEqualsFullRecomputationNetwork(t *testing.T) {
	pbf := testenv.SharedData(t, "porto_alegre", "poa_osm.pbf")
	ctx := context.Background()
	g, err := walknet.Load(ctx, pbf, walknet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Demand: the res-9 cells of a 4 km × 4 km square in the city centre.
	centre := orb.Point{-51.20, -30.04}
	seen := map[string]bool{}
	var cells []coverage.Cell
	for dx := -0.02; dx <= 0.02; dx += 0.0015 {
		for dy := -0.02; dy <= 0.02; dy += 0.0015 {
			c, err := coverage.CellOf(orb.Point{centre[0] + dx, centre[1] + dy}, 9)
			if err != nil {
				t.Fatal(err)
			}
			if !seen[c.String()] {
				seen[c.String()] = true
				cells = append(cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: 100})
			}
		}
	}
	slices.SortFunc(cells, func(a, b coverage.Cell) int {
		if a.H3 < b.H3 {
			return -1
		}
		return 1
	})
	set := coverage.Settings{Res: 9, Minutes: 10, SpeedKmh: 4}
	reach, err := walknet.NewReach(ctx, g, cells, set.SpeedKmh, 2*set.Minutes, walknet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := walknet.Load(ctx, pbf, walknet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := walknet.NewReach(ctx, g2, cells, set.SpeedKmh, 2*set.Minutes, walknet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 6; seed++ {
		r := rand.New(rand.NewPCG(seed, 5))
		var st []coverage.Station
		for i := 0; i < 3+r.IntN(8); i++ {
			st = append(st, coverage.Station{ID: fmt.Sprintf("s%d", i), Pos: jitter(r, centre, 0.022)})
		}
		res, err := coverage.Analyze(ctx, coverage.Study{Settings: set, Stations: st, Cells: cells}, reach, nil)
		if err != nil {
			t.Fatal(err)
		}
		evs, final := randomNetworkEvents(r, st, 10, centre)
		if _, err := coverage.Update(ctx, res, reach, evs); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		full, err := coverage.Analyze(ctx, coverage.Study{Settings: set, Stations: final, Cells: cells}, fresh, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range cells {
			a, b := res.Access[i], full.Access[i]
			if a.Minutes.Reached() != b.Minutes.Reached() || (b.Minutes.Reached() && math.Abs(float64(a.Minutes-b.Minutes)) > 1e-9) || a.Station != b.Station {
				t.Fatalf("seed %d cell %v: updated %v min station %d, full %v min station %d", seed, cells[i].H3, a.Minutes, a.Station, b.Minutes, b.Station)
			}
		}
		if len(res.Gaps) != len(full.Gaps) || res.Totals() != full.Totals() {
			t.Fatalf("seed %d: totals %+v, full %+v", seed, res.Totals(), full.Totals())
		}
		if tot := full.Totals(); tot.CoveredCells == 0 || tot.CoveredCells == tot.Cells {
			t.Fatalf("seed %d: %d of %d cells covered: the case does not test coverage", seed, tot.CoveredCells, tot.Cells)
		}
	}
}

// networkBatch makes a valid random batch of openings (ids prefixed, within
// d degrees of centre) and closings of the stations open before it or
// opened in it.
func networkBatch(r *rand.Rand, open []coverage.Station, n int, prefix string, centre orb.Point, d float64) []coverage.Event {
	ids := make([]string, 0, len(open)+n)
	for _, s := range open {
		ids = append(ids, s.ID)
	}
	var evs []coverage.Event
	for k := range n {
		ev := coverage.Event{Source: fmt.Sprintf("events:%d", k+2)}
		if len(ids) > 1 && r.IntN(2) == 0 {
			i := r.IntN(len(ids))
			ev.Action, ev.Station = coverage.Close, coverage.Station{ID: ids[i]}
			ids = slices.Delete(ids, i, i+1)
		} else {
			ev.Action = coverage.Open
			ev.Station = coverage.Station{ID: fmt.Sprintf("%s%d", prefix, k), Pos: jitter(r, centre, d)}
			ids = append(ids, ev.Station.ID)
		}
		evs = append(evs, ev)
	}
	return evs
}

// gridOSM writes a street grid of n × n nodes 0.001° apart (about 100 m)
// from sw, jittered, as OSM XML: runs of one to three blocks along the grid
// lines, a fifth of them missing and some not walkable.
func gridOSM(r *rand.Rand, sw orb.Point, n int) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<osm version=\"0.6\">\n")
	id := func(i, j int) int { return 1 + j*n + i }
	for j := range n {
		for i := range n {
			fmt.Fprintf(&b, "<node id=\"%d\" lon=\"%.7f\" lat=\"%.7f\"/>\n", id(i, j),
				sw[0]+float64(i)*0.001+(r.Float64()-0.5)*0.0003, sw[1]+float64(j)*0.001+(r.Float64()-0.5)*0.0003)
		}
	}
	kinds := []string{"residential", "footway", "residential", "path", "cycleway"}
	way := 1
	for dir := range 2 {
		for line := range n {
			for k := 0; k < n-1; {
				run := 1 + r.IntN(3)
				if r.Float64() < 0.8 {
					fmt.Fprintf(&b, "<way id=\"%d\">", way)
					way++
					for m := k; m <= min(k+run, n-1); m++ {
						if dir == 0 {
							fmt.Fprintf(&b, "<nd ref=\"%d\"/>", id(m, line))
						} else {
							fmt.Fprintf(&b, "<nd ref=\"%d\"/>", id(line, m))
						}
					}
					fmt.Fprintf(&b, "<tag k=\"highway\" v=\"%s\"/></way>\n", kinds[r.IntN(len(kinds))])
				}
				k += run
			}
		}
	}
	b.WriteString("</osm>\n")
	return b.String()
}

// TestUpdateEqualsFullRecomputationGridNetwork replays batches of random
// openings and closings on a made-up street grid, one Update call after
// another on the same result, and checks every event's change and every
// batch's result against a full search by a model built afresh from the
// same streets.
func TestUpdateEqualsFullRecomputationGridNetwork(t *testing.T) {
	ctx := context.Background()
	var covered, unreached, all, retimed int
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		sw := orb.Point{121.40, 31.20}
		osm := gridOSM(r, sw, 28)
		centre := orb.Point{sw[0] + 0.0135, sw[1] + 0.0135}
		var cells []coverage.Cell
		hub, err := coverage.CellOf(centre, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range hub.GridDisk(11) {
			cells = append(cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: float64(1 + r.IntN(50))})
		}
		slices.SortFunc(cells, func(a, b coverage.Cell) int {
			if a.H3 < b.H3 {
				return -1
			}
			return 1
		})
		set := coverage.Settings{Res: 10, Minutes: 10, SpeedKmh: 4}
		model := func() coverage.Reach {
			g, err := walknet.LoadReader(ctx, strings.NewReader(osm), "grid.osm", walknet.Options{MinComponent: 20})
			if err != nil {
				t.Fatal(err)
			}
			m, err := walknet.NewReach(ctx, g, cells, set.SpeedKmh, 2*set.Minutes, walknet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		reach, fresh := model(), model()
		var st []coverage.Station
		for i := range 3 + r.IntN(5) {
			st = append(st, coverage.Station{ID: fmt.Sprintf("s%d", i), Pos: jitter(r, centre, 0.013)})
		}
		res, err := coverage.Analyze(ctx, coverage.Study{Settings: set, Stations: st, Cells: cells}, reach, nil)
		if err != nil {
			t.Fatal(err)
		}
		stations := slices.Clone(st)
		prev := slices.Clone(res.Access)
		for batch := range 4 {
			evs := networkBatch(r, stations, 1+r.IntN(6), fmt.Sprintf("b%d-", batch), centre, 0.013)
			changes, err := coverage.Update(ctx, res, reach, evs)
			if err != nil {
				t.Fatalf("seed %d batch %d: %v", seed, batch, err)
			}
			for k, ev := range evs {
				if ev.Action == coverage.Open {
					stations = append(stations, ev.Station)
				} else {
					stations = slices.DeleteFunc(stations, func(s coverage.Station) bool { return s.ID == ev.Station.ID })
				}
				full, err := coverage.Analyze(ctx, coverage.Study{Settings: set, Stations: stations, Cells: cells}, fresh, nil)
				if err != nil {
					t.Fatal(err)
				}
				var gained, lost []int32
				for i := range cells {
					was := prev[i].Minutes <= set.Minutes
					is := full.Covered(i)
					switch {
					case is && !was:
						gained = append(gained, int32(i))
					case was && !is:
						lost = append(lost, int32(i))
					}
				}
				ch := changes[k]
				if math.Abs(ch.CoveredAfter-full.Totals().CoveredPopulation) > 1e-6 || ch.StationsActive != len(stations) ||
					!slices.Equal(ch.NewlyCovered, gained) || !slices.Equal(ch.NoLonger, lost) {
					t.Fatalf("seed %d batch %d event %d (%v %s): covered %.0f by %d stations, %d newly covered, %d no longer; full run %.0f by %d, %d and %d",
						seed, batch, k, ev.Action, ev.Station.ID, ch.CoveredAfter, ch.StationsActive, len(ch.NewlyCovered), len(ch.NoLonger),
						full.Totals().CoveredPopulation, len(stations), len(gained), len(lost))
				}
				prev = slices.Clone(full.Access)
			}
			full, err := coverage.Analyze(ctx, coverage.Study{Settings: set, Stations: stations, Cells: cells}, fresh, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range cells {
				a, b := res.Access[i], full.Access[i]
				if a.Minutes.Reached() != b.Minutes.Reached() || (b.Minutes.Reached() && math.Abs(float64(a.Minutes-b.Minutes)) > 1e-9) || a.Station != b.Station {
					t.Fatalf("seed %d batch %d cell %v: updated %v min station %d, full %v min station %d", seed, batch, cells[i].H3, a.Minutes, a.Station, b.Minutes, b.Station)
				}
			}
			if len(res.Gaps) != len(full.Gaps) || res.Totals() != full.Totals() {
				t.Fatalf("seed %d batch %d: totals %+v, full %+v", seed, batch, res.Totals(), full.Totals())
			}
			tot := full.Totals()
			covered += tot.CoveredCells
			unreached += tot.UnreachedCells
			all += tot.Cells
			for _, ch := range changes {
				retimed += ch.CellsRetimed
			}
		}
	}
	// The cases exercise the update: cells covered, uncovered and beyond
	// the bound at the end of batches, and many retimed.
	t.Logf("%d of %d cells covered and %d unreached at the end of batches; %d retimings", covered, all, unreached, retimed)
	if covered < all/5 || covered > all*4/5 || unreached == 0 || retimed < all/10 {
		t.Fatalf("%d of %d cells covered, %d unreached, %d retimings: the cases do not exercise the update", covered, all, unreached, retimed)
	}
}

func jitter(r *rand.Rand, p orb.Point, d float64) orb.Point {
	return orb.Point{p[0] + (2*r.Float64()-1)*d, p[1] + (2*r.Float64()-1)*d}
}

func randomNetworkEvents(r *rand.Rand, st []coverage.Station, n int, centre orb.Point) ([]coverage.Event, []coverage.Station) {
	final := slices.Clone(st)
	var evs []coverage.Event
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for k := 0; k < n; k++ {
		ev := coverage.Event{Date: day.AddDate(0, 0, k), Source: fmt.Sprintf("events:%d", k+2)}
		if len(final) > 0 && r.IntN(2) == 0 {
			i := r.IntN(len(final))
			ev.Action, ev.Station = coverage.Close, coverage.Station{ID: final[i].ID}
			final = slices.Delete(final, i, i+1)
		} else {
			ev.Action = coverage.Open
			ev.Station = coverage.Station{ID: fmt.Sprintf("n%d", k), Pos: jitter(r, centre, 0.022)}
			final = append(final, ev.Station)
		}
		evs = append(evs, ev)
	}
	return evs, final
}

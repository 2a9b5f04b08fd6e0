package coverage_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/walknet"
)

// TestUpdateEqualsFullRecomputationNetwork replays random openings and
// closings on Porto Alegre's streets and compares the updated result with a
// full multi-source search over the final station list, cell for cell.
func TestUpdateEqualsFullRecomputationNetwork(t *testing.T) {
	pbf := filepath.Join("..", "..", "shared", "data", "porto_alegre", "poa_osm.pbf")
	if _, err := os.Stat(pbf); err != nil {
		t.Skipf("skipping: %s is absent (real test data lives in ../shared/data)", pbf)
	}
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
		full, err := coverage.Analyze(ctx, coverage.Study{Settings: set, Stations: final, Cells: cells}, reach, nil)
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

package coverage_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// handService runs tiers, station reach and catchments on the hand-made
// study (see handStudy).
func handService(t *testing.T, separate bool) (*coverage.TierResult, *coverage.StationReach, []coverage.Catchment) {
	t.Helper()
	cells, stations, spec := handStudy()
	spec.Separate = separate
	reach := coverage.NewCrow(cells, handSpeed())
	ctx := context.Background()
	tr, err := coverage.AnalyzeTiers(ctx, cells, stations, spec, reach)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := coverage.ReachFromStations(ctx, tr, reach)
	if err != nil {
		t.Fatal(err)
	}
	return tr, sr, coverage.Catchments(tr, sr)
}

func TestStationReachByHand(t *testing.T) {
	_, sr, _ := handService(t, false)
	// Each station's own threshold: D 6, S 3, N1 2, N2 2. Cells within
	// it, ascending, with their distances in units (see handStudy).
	wants := []struct {
		limit coverage.Minutes
		cells []int32
		mins  []float64
	}{
		{6, []int32{0, 3, 4}, []float64{1.5, 4.5, 2.5}}, // D at 0: c2 (7) and c1 (7.5) are too far
		{3, []int32{1, 3}, []float64{1.5, 1.5}},         // S at 6: c4 is 3.5 away
		{2, []int32{1}, []float64{1.5}},                 // N1 at 9
		{2, []int32{0, 3, 4}, []float64{1.5, 1.5, 0.5}}, // N2 at 3
	}
	if sr.Pairs() != 9 {
		t.Errorf("%d pairs, want 9", sr.Pairs())
	}
	for j, w := range wants {
		cells, mins := sr.Cells(j)
		if sr.Limit[j] != w.limit || !reflect.DeepEqual(cells, w.cells) {
			t.Errorf("station %d: limit %v cells %v, want %v %v", j, sr.Limit[j], cells, w.limit, w.cells)
			continue
		}
		for k, m := range mins {
			if math.Abs(float64(m)-w.mins[k]) > 1e-9 {
				t.Errorf("station %d cell %d: %v min, want %v", j, cells[k], m, w.mins[k])
			}
		}
	}
}

func TestCatchmentsByHand(t *testing.T) {
	type wantC struct {
		served    float64
		servedIn  []float64
		potential float64
		load      float64 // NaN: unknown
		over      bool
	}
	check := func(t *testing.T, got []coverage.Catchment, wants []wantC) {
		t.Helper()
		for j, w := range wants {
			c := got[j]
			loadOK := c.Load == w.load || (math.IsNaN(w.load) && math.IsNaN(c.Load))
			if c.Served != w.served || !reflect.DeepEqual(c.ServedIn, w.servedIn) || c.Potential != w.potential || !loadOK || c.Overloaded() != w.over {
				t.Errorf("station %d: served %v in %v potential %v load %v over %v; want %v %v %v %v %v",
					j, c.Served, c.ServedIn, c.Potential, c.Load, c.Overloaded(), w.served, w.servedIn, w.potential, w.load, w.over)
			}
		}
	}
	// Potential (people within the own threshold, whoever is nearer) is
	// the same in both modes: D c0+c3+c4 = 140, S c1+c3 = 230, N1 c1 =
	// 200, N2 c0+c3+c4 = 140.
	t.Run("inclusive", func(t *testing.T) {
		tr, _, got := handService(t, false)
		// District (threshold 6), D alone: c0, c3, c4 → 140.
		// Subdistrict (3): D nearest to c0 and c4 → 110; S to c1, c3 → 230.
		// Neighbourhood (2): D to c0 (tie with N2, D first) → 100; S to
		// c1 (tie with N1) and c3 (tie with N2) → 230; N2 to c4 → 10; N1
		// nothing: it wins no tie.
		check(t, got, []wantC{
			{140, []float64{140, 110, 100}, 140, 140.0 / 1000, false},
			{230, []float64{0, 230, 230}, 230, 230.0 / 200, true},
			{0, []float64{0, 0, 0}, 200, math.NaN(), false},
			{10, []float64{0, 0, 10}, 140, 10.0 / 5, true},
		})
		checkServedSums(t, tr, got)
	})
	t.Run("separate", func(t *testing.T) {
		tr, _, got := handService(t, true)
		// Subdistrict: S alone serves c1 and c3 → 230. Neighbourhood: N1
		// and N2: c1 to N1 → 200; c0, c3, c4 to N2 → 140.
		check(t, got, []wantC{
			{140, []float64{140, 0, 0}, 140, 140.0 / 1000, false},
			{230, []float64{0, 230, 0}, 230, 230.0 / 200, true},
			{200, []float64{0, 0, 200}, 200, math.NaN(), false},
			{140, []float64{0, 0, 140}, 140, 28, true},
		})
		checkServedSums(t, tr, got)
	})
}

// checkServedSums asserts that every tier's served populations sum to its
// covered population, and, with separate tiers, so do the stations of
// each tier's own Served.
func checkServedSums(t *testing.T, tr *coverage.TierResult, got []coverage.Catchment) {
	t.Helper()
	for k, tc := range tr.Tiers {
		var all, own float64
		for _, c := range got {
			all += c.ServedIn[k]
			if c.Tier == k {
				own += c.Served
			}
		}
		if all != tc.Totals.CoveredPopulation {
			t.Errorf("tier %s: served sums to %v, covered %v", tc.Tier.Name, all, tc.Totals.CoveredPopulation)
		}
		if tr.Spec.Separate && own != tc.Totals.CoveredPopulation {
			t.Errorf("tier %s: its stations serve %v, covered %v", tc.Tier.Name, own, tc.Totals.CoveredPopulation)
		}
	}
}

// failingReach is the straight line with a Within that fails from one
// station's position.
type failingReach struct {
	*coverage.Crow
	at orb.Point
}

var errWithin = errors.New("search failed")

func (f failingReach) Within(ctx context.Context, p orb.Point, limit coverage.Minutes, fn func(int32, coverage.Minutes)) error {
	if p == f.at {
		return errWithin
	}
	return f.Crow.Within(ctx, p, limit, fn)
}

func TestReachFromStationsErrors(t *testing.T) {
	tr, _, _ := handService(t, false)
	crow := coverage.NewCrow(tr.Cells, handSpeed())
	_, err := coverage.ReachFromStations(context.Background(), tr, failingReach{crow, tr.Stations[2].Pos})
	if !errors.Is(err, errWithin) || !strings.Contains(err.Error(), `"N1"`) {
		t.Errorf("got %v, want the search's error naming station N1", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := coverage.ReachFromStations(ctx, tr, crow); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	if _, err := coverage.AnalyzeTiers(ctx, tr.Cells, tr.Stations, tr.Spec, crow); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled tiers: got %v", err)
	}
}

package format

import (
	"bytes"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/walkshed/walkshed/coverage"
)

// millionthsRounded is v rounded to a millionth, halves away from zero,
// in exact rational arithmetic, then to the nearest float64.
func millionthsRounded(v float64) float64 {
	x := new(big.Rat).SetFloat64(math.Abs(v))
	x.Mul(x, big.NewRat(1_000_000, 1))
	x.Add(x, big.NewRat(1, 2))
	n := new(big.Int).Quo(x.Num(), x.Denom()) // floor: x ≥ 0
	f, _ := new(big.Rat).SetFrac(n, big.NewInt(1_000_000)).Float64()
	return math.Copysign(f, v)
}

// roundedAsBefore is the rounding of people as it has always been written
// for head counts of ordinary size: int64 millionths.
func roundedAsBefore(v float64) float64 {
	if v < 0 {
		return -float64(int64(-v*1e6+0.5)) / 1e6
	}
	return float64(int64(v*1e6+0.5)) / 1e6
}

// TestRoundPeopleHuge: from 2^33 people on, the rounding to a millionth is
// exact (compared with rational arithmetic) up to the largest float64, in
// both signs; past 9.2e12 a count of int64 millionths would overflow.
func TestRoundPeopleHuge(t *testing.T) {
	vals := []float64{1 << 33, 1<<33 + 1.0/(1<<19), 9.2e12, 9223372036854.775, 9.3e12 + 0.25, 1e15 + 0.5, 1e20, 3.4e38, math.MaxFloat64}
	rng := rand.New(rand.NewPCG(6, 1e6))
	for range 500 {
		// Most of them below 2^63, where a count of millionths is near
		// but v·1e6 is no longer exact.
		vals = append(vals, math.Ldexp(1+rng.Float64(), 33+rng.IntN(30)), math.Ldexp(1+rng.Float64(), 33+rng.IntN(990)))
	}
	for _, v := range vals {
		for _, s := range []float64{1, -1} {
			if got, want := roundPeople(s*v), millionthsRounded(s*v); got != want {
				t.Errorf("roundPeople(%v) = %v, want %v", s*v, got, want)
			}
		}
	}
	for _, v := range []float64{math.Inf(1), math.Inf(-1)} {
		if got := roundPeople(v); got != v {
			t.Errorf("roundPeople(%v) = %v", v, got)
		}
	}
	if got := roundPeople(math.NaN()); !math.IsNaN(got) {
		t.Errorf("roundPeople(NaN) = %v", got)
	}
}

// TestRoundPeopleOrdinary: below 2^33 people the rounding is bit for bit
// what it has always been (int64 millionths), and within a millionth of
// the exact rounding (the same, but for values within float error of a
// half millionth).
func TestRoundPeopleOrdinary(t *testing.T) {
	vals := []float64{0, 0.30000000000000004, 0.0000005, 0.0000015, 0.4999995, 1234.5678904999, 1234.5678905, 8e9 + 0.1234565, 1<<33 - 1.0/(1<<20)}
	rng := rand.New(rand.NewPCG(7, 33))
	for range 2000 {
		e := rng.IntN(60) - 27 // 2^-27 .. 2^33
		vals = append(vals, math.Ldexp(1+rng.Float64(), e), float64(rng.IntN(1e6))+float64(rng.IntN(8))/8)
	}
	for _, v := range vals {
		for _, s := range []float64{1, -1} {
			got := roundPeople(s * v)
			if want := roundedAsBefore(s * v); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("roundPeople(%v) = %v, want %v", s*v, got, want)
			}
			// Equal, or a millionth away (plus float steps): the product
			// v·1e6, rounded to a float, can cross a half millionth.
			step := math.Nextafter(v, math.Inf(1)) - v
			if exact := millionthsRounded(s * v); math.Abs(got-exact) > 1e-6+4*step {
				t.Errorf("roundPeople(%v) = %v, exact rounding %v", s*v, got, exact)
			}
		}
	}
}

// TestHugeHeadCountsWritten writes a timeline and a change list whose
// populations pass 9.2e12: every number is written as it is (the strings
// are the decimal values, by hand), next to ordinary ones rounded to a
// millionth.
func TestHugeHeadCountsWritten(t *testing.T) {
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	changes := []coverage.Change{
		{Event: coverage.Event{Date: day, Action: coverage.Open}, Gained: 1e20, Lost: 9.3e12 + 0.25, CoveredAfter: 1e20, StationsActive: 3},
		{Event: coverage.Event{Date: day.AddDate(0, 0, 1), Action: coverage.Close}, Gained: 0.30000000000000004, Lost: 1234.5678904999, CoveredAfter: 1234.5678905, StationsActive: 2},
	}
	changes[0].Event.Station.ID = "A"
	changes[1].Event.Station.ID = "B"
	r := &coverage.Result{}
	var buf bytes.Buffer
	if err := WriteTimelineCSV(&buf, r, coverage.Totals{Population: 2e20}, changes); err != nil {
		t.Fatal(err)
	}
	want := "date,stations,population_covered,share_covered,population_gained,population_lost,events\n" +
		"2026-01-02,3,100000000000000000000,0.500000,100000000000000000000,9300000000000.25,1\n" +
		"2026-01-03,2,1234.567891,0.000000,0.3,1234.56789,1\n"
	if got := buf.String(); got != want {
		t.Errorf("timeline.csv\n got %q\nwant %q", got, want)
	}
	buf.Reset()
	if err := WriteChangesCSV(&buf, r, changes); err != nil {
		t.Fatal(err)
	}
	want = "date,action,station_id,change,h3,population,cells_newly_covered,cells_no_longer_covered,population_gained,population_lost\n" +
		"2026-01-02,open,A,none,,,0,0,100000000000000000000,9300000000000.25\n" +
		"2026-01-03,close,B,none,,,0,0,0.3,1234.56789\n"
	if got := buf.String(); got != want {
		t.Errorf("changes.csv\n got %q\nwant %q", got, want)
	}
}

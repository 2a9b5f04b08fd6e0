package coverage_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

func TestParseTierSpec(t *testing.T) {
	good := []struct {
		name, in string
		want     []coverage.Tier
	}{
		{"three tiers", "district=30,subdistrict=15,neighbourhood=10",
			[]coverage.Tier{{Name: "district", Minutes: 30}, {Name: "subdistrict", Minutes: 15}, {Name: "neighbourhood", Minutes: 10}}},
		{"spaces and decimals", " a = 7.5 , b=2 ", []coverage.Tier{{Name: "a", Minutes: 7.5}, {Name: "b", Minutes: 2}}},
		{"one tier", "centre=15", []coverage.Tier{{Name: "centre", Minutes: 15}}},
		{"Chinese names", "街镇=15,居村=10", []coverage.Tier{{Name: "街镇", Minutes: 15}, {Name: "居村", Minutes: 10}}},
		{"thresholds rising downwards are allowed", "a=5,b=20", []coverage.Tier{{Name: "a", Minutes: 5}, {Name: "b", Minutes: 20}}},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			got, err := coverage.ParseTierSpec(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Tiers, c.want) || got.Separate {
				t.Errorf("got %+v, want %+v inclusive", got, c.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("parsed spec does not validate: %v", err)
			}
		})
	}
	bad := []struct{ name, in, part string }{
		{"empty", "", ""},
		{"blank", "  ", "  "},
		{"no equals", "district=30,subdistrict", "subdistrict"},
		{"no minutes", "district=", "district="},
		{"no name", "=15", "=15"},
		{"not a number", "a=1,b=ten", "b=ten"},
		{"zero", "a=0", "a=0"},
		{"negative", "a=-5", "a=-5"},
		{"NaN", "a=NaN", "a=NaN"},
		{"infinite", "a=+Inf", "a=+Inf"},
		{"duplicate", "a=30,b=15,a=10", "a=10"},
		{"empty part", "a=30,,b=10", "a=30,,b=10"},
		{"trailing comma", "a=30,", "a=30,"},
		{"two equals", "a=1=2", "a=1=2"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			spec, err := coverage.ParseTierSpec(c.in)
			var se *coverage.TierSpecError
			if !errors.As(err, &se) {
				t.Fatalf("got %+v, %v; want a *TierSpecError", spec, err)
			}
			if se.Part != c.part {
				t.Errorf("error names part %q, want %q (%v)", se.Part, c.part, err)
			}
		})
	}
}

func TestTierSpecValidate(t *testing.T) {
	cases := []struct {
		name string
		spec coverage.TierSpec
		part string // "" when valid
	}{
		{"one unnamed tier", coverage.OneTier(15), ""},
		{"no tiers", coverage.TierSpec{}, "-"},
		{"unnamed among others", coverage.TierSpec{Tiers: []coverage.Tier{{Name: "a", Minutes: 5}, {Minutes: 3}}}, "=3"},
		{"comma in a name", coverage.TierSpec{Tiers: []coverage.Tier{{Name: "a,b", Minutes: 5}}}, "a,b=5"},
		{"negative threshold", coverage.TierSpec{Tiers: []coverage.Tier{{Name: "a", Minutes: -1}}}, "a=-1"},
		{"infinite threshold", coverage.TierSpec{Tiers: []coverage.Tier{{Name: "a", Minutes: coverage.Unreached}}}, "a=+Inf"},
		{"NaN threshold", coverage.OneTier(coverage.Minutes(math.NaN())), "=NaN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.spec.Validate()
			if c.part == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *coverage.TierSpecError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *TierSpecError", err)
			}
			if c.part != "-" && se.Part != c.part {
				t.Errorf("error names %q, want %q", se.Part, c.part)
			}
		})
	}
}

func TestTierSpecServes(t *testing.T) {
	spec := coverage.TierSpec{Tiers: []coverage.Tier{{Name: "a", Minutes: 1}, {Name: "b", Minutes: 1}, {Name: "c", Minutes: 1}}}
	for own := range 3 {
		for tier := range 3 {
			spec.Separate = false
			if got, want := spec.Serves(own, tier), own <= tier; got != want {
				t.Errorf("inclusive: tier %d serves %d = %v, want %v", own, tier, got, want)
			}
			spec.Separate = true
			if got, want := spec.Serves(own, tier), own == tier; got != want {
				t.Errorf("separate: tier %d serves %d = %v, want %v", own, tier, got, want)
			}
		}
	}
	if spec.Index("b") != 1 || spec.Index("B") != -1 || spec.Index("") != -1 {
		t.Errorf("Index: b %d, B %d, empty %d; want 1, -1, -1", spec.Index("b"), spec.Index("B"), spec.Index(""))
	}
	if one := coverage.OneTier(15); one.Index("anything") != 0 || one.Index("") != 0 {
		t.Error("the unnamed tier should take every station")
	}
}

// The hand-made study: points on the equator at x units of 2⁻⁸ degree
// (about 434 m), walked at the speed that makes one unit one minute, so
// every time below is a distance in units read off this line:
//
//	x:   -7       0     1.5   2.5  3   4.5    6   7.5   9
//	     c2       D     c0    c4   N2  c3     S   c1    N1
//
// Stations: D district (capacity 1000), S subdistrict (200), N1
// neighbourhood (capacity unknown), N2 neighbourhood (5). Cells (people):
// c0 100, c1 200, c2 50, c3 30, c4 10. Tiers district=6, subdistrict=3,
// neighbourhood=2. Lon differences are exact multiples of 2⁻⁹ degree, so
// the equal times below are equal to the bit.
const handUnit = 0.00390625 // 2⁻⁸ degree

func handSpeed() coverage.Speed {
	m := float64(coverage.EarthRadius) * handUnit * math.Pi / 180
	return coverage.Speed(m * 60 / 1000)
}

func handPoint(x float64) orb.Point { return orb.Point{x * handUnit, 0} }

func handStudy() ([]coverage.Cell, []coverage.Station, coverage.TierSpec) {
	stations := []coverage.Station{
		{ID: "D", Tier: "district", Pos: handPoint(0), Capacity: 1000},
		{ID: "S", Tier: "subdistrict", Pos: handPoint(6), Capacity: 200},
		{ID: "N1", Tier: "neighbourhood", Pos: handPoint(9)},
		{ID: "N2", Tier: "neighbourhood", Pos: handPoint(3), Capacity: 5},
	}
	cells := []coverage.Cell{
		{Pos: handPoint(1.5), Population: 100},
		{Pos: handPoint(7.5), Population: 200},
		{Pos: handPoint(-7), Population: 50},
		{Pos: handPoint(4.5), Population: 30},
		{Pos: handPoint(2.5), Population: 10},
	}
	spec, err := coverage.ParseTierSpec("district=6,subdistrict=3,neighbourhood=2")
	if err != nil {
		panic(err)
	}
	return cells, stations, spec
}

// want is one cell's expected time (minutes = units) and station.
type want struct {
	m float64
	s int32
}

func checkTier(t *testing.T, name string, got coverage.TierCoverage, wants []want, covered coverage.Totals) {
	t.Helper()
	for i, w := range wants {
		a := got.Access[i]
		if a.Station != w.s || math.Abs(float64(a.Minutes)-w.m) > 1e-9 {
			t.Errorf("%s: cell %d: %.12f min station %d, want %v min station %d", name, i, float64(a.Minutes), a.Station, w.m, w.s)
		}
	}
	if got.Totals != covered {
		t.Errorf("%s: totals %+v, want %+v", name, got.Totals, covered)
	}
}

func TestAnalyzeTiersByHand(t *testing.T) {
	cells, stations, spec := handStudy()
	const D, S, N1, N2 = 0, 1, 2, 3
	reach := coverage.NewCrow(cells, handSpeed())
	totals := func(pop float64, n int) coverage.Totals {
		return coverage.Totals{Population: 390, CoveredPopulation: pop, Cells: 5, CoveredCells: n}
	}
	t.Run("inclusive", func(t *testing.T) {
		r, err := coverage.AnalyzeTiers(context.Background(), cells, stations, spec, reach)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.StationTier, []int32{0, 1, 2, 2}) {
			t.Errorf("station tiers %v", r.StationTier)
		}
		// District: D alone; covered within 6: c0, c3, c4 = 140 people.
		checkTier(t, "district", r.Tiers[0], []want{{1.5, D}, {7.5, D}, {7, D}, {4.5, D}, {2.5, D}}, totals(140, 3))
		// Subdistrict: D and S; within 3: c0 (D), c1, c3 (S), c4 (D 2.5
		// against S 3.5) = 340.
		checkTier(t, "subdistrict", r.Tiers[1], []want{{1.5, D}, {1.5, S}, {7, D}, {1.5, S}, {2.5, D}}, totals(340, 4))
		// Neighbourhood: every station. c0 is 1.5 from D and from N2: D
		// is listed first; c1 1.5 from S and N1: S; c3 1.5 from S and N2:
		// S. Within 2: all but c2 = 340.
		checkTier(t, "neighbourhood", r.Tiers[2], []want{{1.5, D}, {1.5, S}, {7, D}, {1.5, S}, {0.5, N2}}, totals(340, 4))
		if got := []int{r.Tiers[0].Stations, r.Tiers[1].Stations, r.Tiers[2].Stations}; !reflect.DeepEqual(got, []int{1, 2, 4}) {
			t.Errorf("serving stations per tier %v, want [1 2 4]", got)
		}
		// Fully served: c0, c3, c4 (c1 is 7.5 from the district centre).
		if want := totals(140, 3); r.Full != want {
			t.Errorf("fully served %+v, want %+v", r.Full, want)
		}
		for i, w := range []bool{true, false, false, true, true} {
			if r.FullyServed(i) != w {
				t.Errorf("cell %d fully served %v, want %v", i, !w, w)
			}
		}
	})
	t.Run("separate", func(t *testing.T) {
		sep := spec
		sep.Separate = true
		r, err := coverage.AnalyzeTiers(context.Background(), cells, stations, sep, reach)
		if err != nil {
			t.Fatal(err)
		}
		checkTier(t, "district", r.Tiers[0], []want{{1.5, D}, {7.5, D}, {7, D}, {4.5, D}, {2.5, D}}, totals(140, 3))
		// Subdistrict: S alone; within 3: c1, c3 = 230.
		checkTier(t, "subdistrict", r.Tiers[1], []want{{4.5, S}, {1.5, S}, {13, S}, {1.5, S}, {3.5, S}}, totals(230, 2))
		// Neighbourhood: N1 and N2; c0 1.5 from N2; c1 1.5 from N1; c3
		// 1.5 from N2 (4.5 from N1); within 2: all but c2 = 340.
		checkTier(t, "neighbourhood", r.Tiers[2], []want{{1.5, N2}, {1.5, N1}, {10, N2}, {1.5, N2}, {0.5, N2}}, totals(340, 4))
		// Fully served: c3 alone (c0 and c4 miss the subdistrict).
		if want := totals(30, 1); r.Full != want {
			t.Errorf("fully served %+v, want %+v", r.Full, want)
		}
	})
}

// A tier no station serves: every cell gets no time and no station, and
// nobody is fully served.
func TestAnalyzeTiersUnservedTier(t *testing.T) {
	cells, stations, _ := handStudy()
	spec := coverage.TierSpec{Separate: true, Tiers: []coverage.Tier{
		{Name: "district", Minutes: 6}, {Name: "subdistrict", Minutes: 3}, {Name: "neighbourhood", Minutes: 2}, {Name: "kiosk", Minutes: 1}}}
	r, err := coverage.AnalyzeTiers(context.Background(), cells, stations, spec, coverage.NewCrow(cells, handSpeed()))
	if err != nil {
		t.Fatal(err)
	}
	k := r.Tiers[3]
	for i, a := range k.Access {
		if a != coverage.NoAccess {
			t.Errorf("kiosk tier, cell %d: %+v, want no access", i, a)
		}
	}
	want := coverage.Totals{Population: 390, Cells: 5, UnreachedCells: 5}
	if k.Totals != want || k.Stations != 0 {
		t.Errorf("kiosk totals %+v (%d stations), want %+v", k.Totals, k.Stations, want)
	}
	if r.Full != want {
		t.Errorf("fully served %+v, want %+v", r.Full, want)
	}
	// Inclusive, every station serves the bottom tier: c4 is 0.5 from
	// N2, the only cell within 1 minute of a station.
	spec.Separate = false
	r, err = coverage.AnalyzeTiers(context.Background(), cells, stations, spec, coverage.NewCrow(cells, handSpeed()))
	if err != nil {
		t.Fatal(err)
	}
	if want := (coverage.Totals{Population: 390, CoveredPopulation: 10, Cells: 5, CoveredCells: 1}); r.Tiers[3].Totals != want {
		t.Errorf("inclusive kiosk totals %+v, want %+v", r.Tiers[3].Totals, want)
	}
}

func TestAnalyzeTiersErrors(t *testing.T) {
	cells, stations, spec := handStudy()
	crow := coverage.NewCrow(cells, handSpeed())
	ctx := context.Background()

	st := append([]coverage.Station(nil), stations...)
	st[2].Tier = "neighborhood"
	_, err := coverage.AnalyzeTiers(ctx, cells, st, spec, crow)
	var se *coverage.StationError
	if !errors.As(err, &se) || se.ID != "N1" || se.Index != 2 || !errors.Is(err, coverage.ErrUnknownTier) {
		t.Errorf("unknown tier: got %v, want a StationError for N1 (index 2) wrapping ErrUnknownTier", err)
	}

	for _, c := range []float64{-1, math.NaN(), math.Inf(1)} {
		st := append([]coverage.Station(nil), stations...)
		st[3].Capacity = c
		_, err := coverage.AnalyzeTiers(ctx, cells, st, spec, crow)
		if !errors.As(err, &se) || se.ID != "N2" || !errors.Is(err, coverage.ErrCapacity) {
			t.Errorf("capacity %v: got %v, want a StationError for N2 wrapping ErrCapacity", c, err)
		}
	}

	bad := spec
	bad.Tiers = append([]coverage.Tier(nil), spec.Tiers...)
	bad.Tiers[1].Minutes = 0
	var te *coverage.TierSpecError
	if _, err := coverage.AnalyzeTiers(ctx, cells, stations, bad, crow); !errors.As(err, &te) || te.Part != "subdistrict=0" {
		t.Errorf("zero threshold: got %v, want a TierSpecError naming subdistrict=0", err)
	}

	// A model cut off at 5 minutes cannot judge the district's 6.
	bounded := boundedReach{crow, 5}
	if _, err := coverage.AnalyzeTiers(ctx, cells, stations, spec, bounded); !errors.As(err, &te) || te.Part != "district=6" {
		t.Errorf("threshold beyond the bound: got %v, want a TierSpecError naming district=6", err)
	}
	bounded.bound = 6
	if _, err := coverage.AnalyzeTiers(ctx, cells, stations, spec, bounded); err != nil {
		t.Errorf("threshold on the bound: %v", err)
	}
}

// boundedReach is the straight line with a bound, as a network model has.
type boundedReach struct {
	*coverage.Crow
	bound coverage.Minutes
}

func (b boundedReach) Bound() coverage.Minutes { return b.bound }

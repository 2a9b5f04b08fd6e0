package coverage

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// servingResult analyses the stations that serve alone, then gives the
// result the full list, its times indexing it: what a hierarchy of
// separate tiers keeps for its bottom tier.
func servingResult(t *testing.T, set Settings, cells []Cell, all []Station, serves func(Station) bool, areas ...Area) *Result {
	t.Helper()
	var sub []Station
	var at []int32
	for j, st := range all {
		if serves(st) {
			sub = append(sub, st)
			at = append(at, int32(j))
		}
	}
	res, err := Analyze(context.Background(), Study{Settings: set, Stations: sub, Cells: cells, Areas: areas}, NewCrow(cells, set.SpeedKmh), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Access {
		if s := res.Access[i].Station; s >= 0 {
			res.Access[i].Station = at[s]
		}
	}
	res.Stations = all
	res.Areas = SummarizeAreas(res, areas) // the areas count every station
	return res
}

func TestUpdateServingEqualsFullRecomputation(t *testing.T) {
	ctx := context.Background()
	serves := func(s Station) bool { return s.Tier == "b" }
	for seed := uint64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		cells, st := randomStudy(t, r, r.IntN(12))
		for j := range st {
			st[j].Tier = []string{"a", "b"}[r.IntN(2)]
		}
		set := Settings{Res: 9, Minutes: Minutes(5 + r.IntN(15)), SpeedKmh: 4}
		c := cells[len(cells)/2].Pos
		half := orb.Ring{{c[0] - 0.05, c[1] - 0.05}, {c[0], c[1] - 0.05}, {c[0], c[1] + 0.05}, {c[0] - 0.05, c[1] + 0.05}, {c[0] - 0.05, c[1] - 0.05}}
		area := Area{Name: "west", Geom: orb.MultiPolygon{{half}}}
		res := servingResult(t, set, cells, st, serves, area)
		evs := randomEvents(r, st, 1+r.IntN(15), cells[len(cells)/2].Pos)
		for k := range evs {
			if evs[k].Action == Open {
				evs[k].Station.Tier = []string{"a", "b"}[r.IntN(2)]
			}
		}
		before := res.Totals().CoveredPopulation
		changes, err := UpdateServing(ctx, res, NewCrow(cells, set.SpeedKmh), evs, serves)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		final := finalStations(st, evs)
		want := servingResult(t, set, cells, final, serves, area)
		checkSameResult(t, res, want)
		if len(res.Areas) != 1 || res.Areas[0].Stations != want.Areas[0].Stations || res.Areas[0].CoveredPopulation != want.Areas[0].CoveredPopulation {
			t.Fatalf("seed %d: area %+v, full run %+v", seed, res.Areas, want.Areas)
		}
		sum := before
		for k, ch := range changes {
			sum += ch.Gained - ch.Lost
			if ch.Event.Station.ID != evs[k].Station.ID {
				t.Fatalf("seed %d: change %d is about %q, event about %q", seed, k, ch.Event.Station.ID, evs[k].Station.ID)
			}
			if math.Abs(ch.CoveredAfter-sum) > 1e-6 {
				t.Fatalf("seed %d: change %d: covered after %v, gains and losses so far add to %v", seed, k, ch.CoveredAfter, sum)
			}
			if want := len(finalStations(st, evs[:k+1])); ch.StationsActive != want {
				t.Fatalf("seed %d: change %d: %d stations active, want %d", seed, k, ch.StationsActive, want)
			}
		}
	}
}

func TestUpdateServingRefusesLikeUpdate(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 3))
	cells, st := randomStudy(t, r, 4)
	st[0].Tier, st[1].Tier, st[2].Tier, st[3].Tier = "a", "b", "a", "b"
	set := Settings{Res: 9, Minutes: 10, SpeedKmh: 4}
	serves := func(s Station) bool { return s.Tier == "b" }
	for _, c := range []struct {
		ev   Event
		want string
	}{
		{Event{Action: Close, Station: Station{ID: "nope"}, Source: "ev.csv:2"}, `ev.csv:2: no open station has id "nope"`},
		{Event{Action: Open, Station: Station{ID: "s0", Tier: "b", Pos: st[0].Pos}, Source: "ev.csv:3"}, `ev.csv:3: station "s0" is already open`},
		{Event{Action: Open, Station: Station{Tier: "a", Pos: st[0].Pos}, Source: "ev.csv:4"}, `ev.csv:4: an opening needs a station id`},
	} {
		res := servingResult(t, set, cells, st, serves)
		access := append([]Access(nil), res.Access...)
		_, err := UpdateServing(ctx, res, NewCrow(cells, set.SpeedKmh), []Event{c.ev}, serves)
		if err == nil || !contains(err.Error(), c.want) {
			t.Fatalf("%+v: error %v, want %q", c.ev, err, c.want)
		}
		for i := range access {
			if res.Access[i] != access[i] {
				t.Fatalf("%+v: cell %d changed to %+v on error (was %+v)", c.ev, i, res.Access[i], access[i])
			}
		}
	}
}

package coverage

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// randomStudy is a small city of res-9 cells with random people and
// stations.
func randomStudy(t testing.TB, r *rand.Rand, nStations int) ([]Cell, []Station) {
	t.Helper()
	centre, _ := CellOf(orb.Point{121.47 + r.Float64()*0.01, 31.23}, 9)
	var cells []Cell
	for _, c := range centre.GridDisk(12) {
		if r.Float64() < 0.15 {
			continue
		}
		cells = append(cells, Cell{H3: c, Pos: CellCenter(c), Population: float64(1 + r.IntN(500))})
	}
	slices.SortFunc(cells, func(a, b Cell) int { return cmpCell(a.H3, b.H3) })
	st := make([]Station, nStations)
	for i := range st {
		st[i] = Station{ID: fmt.Sprintf("s%d", i), Pos: randomNear(r, CellCenter(centre), 0.03)}
	}
	return cells, st
}

func cmpCell(a, b h3.Cell) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func randomNear(r *rand.Rand, p orb.Point, deg float64) orb.Point {
	return orb.Point{p[0] + (r.Float64()*2-1)*deg, p[1] + (r.Float64()*2-1)*deg}
}

// RandomEvents makes a valid random sequence of opens and closes.
func randomEvents(r *rand.Rand, st []Station, n int, centre orb.Point) []Event {
	open := map[string]bool{}
	for _, s := range st {
		open[s.ID] = true
	}
	var evs []Event
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := 0; k < n; k++ {
		ids := make([]string, 0, len(open))
		for id := range open {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		ev := Event{Date: day.AddDate(0, 0, k), Source: fmt.Sprintf("test:%d", k+2)}
		if len(ids) > 0 && r.IntN(2) == 0 {
			ev.Action = Close
			ev.Station.ID = ids[r.IntN(len(ids))]
			delete(open, ev.Station.ID)
		} else {
			ev.Action = Open
			ev.Station = Station{ID: fmt.Sprintf("new%d", k), Pos: randomNear(r, centre, 0.03)}
			open[ev.Station.ID] = true
		}
		evs = append(evs, ev)
	}
	return evs
}

// finalStations is the station list a full recomputation uses.
func finalStations(st []Station, evs []Event) []Station {
	out := slices.Clone(st)
	for _, ev := range evs {
		if ev.Action == Open {
			out = append(out, ev.Station)
		} else {
			out = slices.DeleteFunc(out, func(s Station) bool { return s.ID == ev.Station.ID })
		}
	}
	return out
}

// CheckSameResult compares an updated result with a full recomputation.
func checkSameResult(t *testing.T, got, want *Result) {
	t.Helper()
	if len(got.Stations) != len(want.Stations) {
		t.Fatalf("%d stations, full run has %d", len(got.Stations), len(want.Stations))
	}
	for i := range got.Stations {
		if got.Stations[i].ID != want.Stations[i].ID {
			t.Fatalf("station %d is %s, full run has %s", i, got.Stations[i].ID, want.Stations[i].ID)
		}
	}
	for i := range got.Cells {
		g, w := got.Access[i], want.Access[i]
		if g.Minutes.Reached() != w.Minutes.Reached() || (w.Minutes.Reached() && math.Abs(float64(g.Minutes-w.Minutes)) > 1e-9) {
			t.Fatalf("cell %v: %v min, full run %v min", got.Cells[i].H3, g.Minutes, w.Minutes)
		}
		if g.Station != w.Station {
			t.Fatalf("cell %v: nearest %d, full run %d (%v min)", got.Cells[i].H3, g.Station, w.Station, w.Minutes)
		}
		if want.InReach != nil && got.InReach[i] != want.InReach[i] {
			t.Fatalf("cell %v: %d stations in reach, full run %d", got.Cells[i].H3, got.InReach[i], want.InReach[i])
		}
	}
	if len(got.Gaps) != len(want.Gaps) {
		t.Fatalf("%d gaps, full run %d", len(got.Gaps), len(want.Gaps))
	}
	for k := range got.Gaps {
		g, w := got.Gaps[k], want.Gaps[k]
		if g.ID != w.ID || g.Population != w.Population || !slices.Equal(g.Cells, w.Cells) ||
			g.MaxMinutes != w.MaxMinutes || g.Point != w.Point || len(g.Outline) != len(w.Outline) {
			t.Fatalf("gap %d: %+v, full run %+v", k, g, w)
		}
	}
	gt, wt := got.Totals(), want.Totals()
	if math.Abs(gt.CoveredPopulation-wt.CoveredPopulation) > 1e-6 {
		t.Fatalf("covered %v, full run %v", gt.CoveredPopulation, wt.CoveredPopulation)
	}
}

func TestUpdateEqualsFullRecomputationCrow(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 25; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		cells, st := randomStudy(t, r, r.IntN(12))
		set := Settings{Res: 9, Minutes: Minutes(5 + r.IntN(15)), SpeedKmh: 4}
		reach := NewCrow(cells, set.SpeedKmh)
		res, err := Analyze(ctx, Study{Settings: set, Stations: st, Cells: cells}, reach, nil)
		if err != nil {
			t.Fatal(err)
		}
		evs := randomEvents(r, st, 1+r.IntN(15), cells[len(cells)/2].Pos)
		before := res.Totals().CoveredPopulation
		changes, err := Update(ctx, res, reach, evs)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		full, err := Analyze(ctx, Study{Settings: set, Stations: finalStations(st, evs), Cells: cells}, NewCrow(cells, set.SpeedKmh), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkSameResult(t, res, full)
		// The changes add up: covered before + gains − losses = after.
		sum := before
		for _, ch := range changes {
			sum += ch.Gained - ch.Lost
		}
		if math.Abs(sum-full.Totals().CoveredPopulation) > 1e-6 {
			t.Fatalf("seed %d: changes add to %v, full run covers %v", seed, sum, full.Totals().CoveredPopulation)
		}
	}
}

func TestUpdateRejectsBadEvents(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	cells, st := randomStudy(t, r, 3)
	reach := NewCrow(cells, 4)
	res, err := Analyze(ctx, Study{Settings: DefaultSettings, Stations: st, Cells: cells}, reach, nil)
	if err != nil {
		t.Fatal(err)
	}
	snapshot := slices.Clone(res.Access)
	cases := []struct {
		name string
		ev   Event
		want string
	}{
		{"close unknown", Event{Action: Close, Station: Station{ID: "nope"}, Source: "ev.csv:4"}, `ev.csv:4: no open station has id "nope"`},
		{"open existing", Event{Action: Open, Station: Station{ID: "s2", Pos: orb.Point{121.47, 31.23}}, Source: "ev.csv:4"}, `ev.csv:4: station "s2" is already open`},
		{"unknown action", Event{Action: 7, Station: Station{ID: "x"}, Source: "ev.csv:4"}, "ev.csv:4: unknown action"},
	}
	// Each bad event comes after a good opening and closing, which the
	// failed update must undo.
	good := []Event{
		{Action: Open, Station: Station{ID: "fresh", Pos: cells[len(cells)/3].Pos}, Source: "ev.csv:2"},
		{Action: Close, Station: Station{ID: st[0].ID}, Source: "ev.csv:3"},
	}
	inReach := slices.Clone(res.InReach)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Update(ctx, res, reach, append(slices.Clone(good), tc.ev))
			if err == nil || !contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if !slices.Equal(res.Access, snapshot) || !slices.Equal(res.InReach, inReach) || len(res.Stations) != len(st) {
				t.Fatal("a failed update changed the result")
			}
		})
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

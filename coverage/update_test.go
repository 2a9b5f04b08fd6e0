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

// bruteAccess is every cell's nearest open station by brute force, with
// the tie rule spelled out: equal times go to the station listed first.
func bruteAccess(cells []Cell, stations []Station, speed Speed) []Access {
	out := make([]Access, len(cells))
	for i, c := range cells {
		out[i] = NoAccess
		for s, st := range stations {
			if m := speed.Walk(Distance(c.Pos, st.Pos)); m < out[i].Minutes {
				out[i] = Access{Minutes: m, Station: int32(s)}
			}
		}
	}
	return out
}

// wideStudy is a study of a few thousand res-9 cells, about 16 km across:
// several blocks of the update index, most of them beyond a station's
// threshold, so that openings and closings skip blocks by their box and
// slowest time.
func wideStudy(t testing.TB, r *rand.Rand) ([]Cell, orb.Point) {
	t.Helper()
	centre, _ := CellOf(orb.Point{121.40 + r.Float64()*0.1, 31.20}, 9)
	var cells []Cell
	for _, c := range centre.GridDisk(26) {
		if r.Float64() < 0.1 {
			continue
		}
		cells = append(cells, Cell{H3: c, Pos: CellCenter(c), Population: float64(1 + r.IntN(300))})
	}
	slices.SortFunc(cells, func(a, b Cell) int { return cmpCell(a.H3, b.H3) })
	return cells, CellCenter(centre)
}

// TestUpdateBatchesEqualFullRecomputation applies several batches of events
// to the same result, one Update call after another, as a long-running
// server does: whatever the update keeps from one batch to the next (block
// boxes and slowest times, the covered total, station vectors, gap
// topology) must still describe the result. After every event the change
// is checked against brute force (covered total, cells newly covered and no
// longer covered), and after every batch the whole result against a full
// recomputation with a fresh model.
func TestUpdateBatchesEqualFullRecomputation(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 10; seed++ {
		r := rand.New(rand.NewPCG(seed, 2026))
		cells, centre := wideStudy(t, r)
		if len(cells) < 4*cellBlockSize {
			t.Fatalf("seed %d: %d cells make fewer than 4 blocks", seed, len(cells))
		}
		set := Settings{Res: 9, Minutes: Minutes(5 + r.IntN(8)), SpeedKmh: 4}
		st := make([]Station, 4+r.IntN(10))
		for i := range st {
			st[i] = Station{ID: fmt.Sprintf("s%d", i), Pos: randomNear(r, centre, 0.07)}
		}
		reach := NewCrow(cells, set.SpeedKmh)
		res, err := Analyze(ctx, Study{Settings: set, Stations: st, Cells: cells}, reach, nil)
		if err != nil {
			t.Fatal(err)
		}
		stations := slices.Clone(st)
		for batch := 0; batch < 4; batch++ {
			evs := batchEvents(r, stations, 1+r.IntN(8), fmt.Sprintf("b%d-", batch), centre, 0.07)
			changes, err := Update(ctx, res, reach, evs)
			if err != nil {
				t.Fatalf("seed %d batch %d: %v", seed, batch, err)
			}
			before := bruteAccess(cells, stations, set.SpeedKmh)
			for k, ev := range evs {
				stations = finalStations(stations, []Event{ev})
				after := bruteAccess(cells, stations, set.SpeedKmh)
				var covered float64
				var gained, lost []int32
				for i, c := range cells {
					b := before[i].Minutes <= set.Minutes
					a := after[i].Minutes <= set.Minutes
					if a {
						covered += c.Population
					}
					switch {
					case a && !b:
						gained = append(gained, int32(i))
					case b && !a:
						lost = append(lost, int32(i))
					}
				}
				ch := changes[k]
				if math.Abs(ch.CoveredAfter-covered) > 1e-6 || ch.StationsActive != len(stations) {
					t.Fatalf("seed %d batch %d event %d (%v %s): covered %.0f with %d stations, brute force %.0f with %d",
						seed, batch, k, ev.Action, ev.Station.ID, ch.CoveredAfter, ch.StationsActive, covered, len(stations))
				}
				if !slices.Equal(ch.NewlyCovered, gained) || !slices.Equal(ch.NoLonger, lost) {
					t.Fatalf("seed %d batch %d event %d (%v %s): %d newly covered, %d no longer; brute force %d and %d",
						seed, batch, k, ev.Action, ev.Station.ID, len(ch.NewlyCovered), len(ch.NoLonger), len(gained), len(lost))
				}
				before = after
			}
			for i, a := range bruteAccess(cells, stations, set.SpeedKmh) {
				if res.Access[i] != a {
					t.Fatalf("seed %d batch %d cell %d: %+v, brute force %+v", seed, batch, i, res.Access[i], a)
				}
			}
			full, err := Analyze(ctx, Study{Settings: set, Stations: stations, Cells: cells}, NewCrow(cells, set.SpeedKmh), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkSameResult(t, res, full)
		}
	}
}

// batchEvents makes a valid random sequence of openings (ids prefixed, at
// most deg from centre) and closings of the stations open before it or
// opened in it.
func batchEvents(r *rand.Rand, open []Station, n int, prefix string, centre orb.Point, deg float64) []Event {
	ids := make([]string, 0, len(open)+n)
	for _, s := range open {
		ids = append(ids, s.ID)
	}
	var evs []Event
	for k := 0; k < n; k++ {
		ev := Event{Source: fmt.Sprintf("test:%d", k+2)}
		if len(ids) > 1 && r.IntN(2) == 0 {
			i := r.IntN(len(ids))
			ev.Action, ev.Station = Close, Station{ID: ids[i]}
			ids = slices.Delete(ids, i, i+1)
		} else {
			ev.Action = Open
			ev.Station = Station{ID: fmt.Sprintf("%s%d", prefix, k), Pos: randomNear(r, centre, deg)}
			ids = append(ids, ev.Station.ID)
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestUpdateTieKeepsFirstListed: a station opened at exactly the same
// walking time as an open one loses every tie (it is listed last), and when
// the nearest station closes, the tie between the two left goes to the one
// listed first. The cells lie on the meridian between two stations mirrored
// across it, on the prime meridian (at Greenwich), so that both times, and
// the chords between unit vectors the straight line compares, are bit for
// bit equal.
func TestUpdateTieKeepsFirstListed(t *testing.T) {
	ctx := context.Background()
	east, west := orb.Point{0.004, 51.48}, orb.Point{-0.004, 51.48}
	var cells []Cell
	for k := -6; k <= 6; k++ {
		p := orb.Point{0, 51.48 + float64(k)*0.0013}
		c := mustCell(t, p, 9)
		cells = append(cells, Cell{H3: c, Pos: p, Population: 10})
	}
	slices.SortFunc(cells, func(a, b Cell) int { return cmpCell(a.H3, b.H3) })
	for _, c := range cells {
		if Distance(c.Pos, east) != Distance(c.Pos, west) {
			t.Fatalf("cell %v is not exactly halfway", c.Pos)
		}
	}
	set := Settings{Res: 9, Minutes: 15, SpeedKmh: 4}
	cases := []struct {
		name     string
		stations []Station
		events   []Event
		want     string // the station every cell ends with
	}{
		{"opened at equal time loses", []Station{{ID: "east", Pos: east}},
			[]Event{{Action: Open, Station: Station{ID: "west", Pos: west}}}, "east"},
		{"opened at equal time loses, west first", []Station{{ID: "west", Pos: west}},
			[]Event{{Action: Open, Station: Station{ID: "east", Pos: east}}}, "west"},
		{"closing the nearest leaves a tie", []Station{{ID: "here", Pos: orb.Point{0, 51.48}}, {ID: "west", Pos: west}, {ID: "east", Pos: east}},
			[]Event{{Action: Close, Station: Station{ID: "here"}}}, "west"},
		{"closing, then a tied opening", []Station{{ID: "here", Pos: orb.Point{0, 51.48}}, {ID: "east", Pos: east}},
			[]Event{{Action: Close, Station: Station{ID: "here"}}, {Action: Open, Station: Station{ID: "west", Pos: west}}}, "east"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, reach := range []Reach{NewCrow(cells, set.SpeedKmh), withoutTimer{NewCrow(cells, set.SpeedKmh)}} {
				res, err := Analyze(ctx, Study{Settings: set, Stations: tc.stations, Cells: cells}, reach, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := Update(ctx, res, reach, tc.events); err != nil {
					t.Fatal(err)
				}
				for i, a := range res.Access {
					if a.Station < 0 || res.Stations[a.Station].ID != tc.want {
						t.Fatalf("%T: cell %d is served by %+v, want %s", reach, i, a, tc.want)
					}
					if m := set.SpeedKmh.Walk(Distance(cells[i].Pos, east)); a.Minutes != m {
						t.Fatalf("%T: cell %d at %v min, want %v", reach, i, a.Minutes, m)
					}
				}
			}
		})
	}
}

// withoutTimer hides the straight line's CellTimer, so an update takes the
// path of models that search (as the network does) on exact answers.
type withoutTimer struct{ *Crow }

func (w withoutTimer) Bound() Minutes { return 600 }

// TestUpdateAfterABalancedBatch: a batch that closes one station and opens
// another leaves as many stations as before, but not the same ones; the
// next batch must see the stations as they are. Here the second batch
// closes A, and the cells A served must go to C, 300 m east of A, not to B,
// 900 m west (nor to the far stations closed or opened in the first batch).
func TestUpdateAfterABalancedBatch(t *testing.T) {
	ctx := context.Background()
	hub := mustCell(t, orb.Point{121.47, 31.2}, 9)
	a := CellCenter(hub)
	const km = 0.009 // degrees of latitude in a kilometre, near enough
	lonKm := km / math.Cos(a[1]*degToRad)
	var cells []Cell
	for _, c := range hub.GridDisk(1) {
		cells = append(cells, Cell{H3: c, Pos: CellCenter(c), Population: 100})
	}
	slices.SortFunc(cells, func(x, y Cell) int { return cmpCell(x.H3, y.H3) })
	st := []Station{
		{ID: "Y", Pos: orb.Point{a[0], a[1] + 50*km}},
		{ID: "C", Pos: orb.Point{a[0] + 0.3*lonKm, a[1]}},
		{ID: "A", Pos: a},
		{ID: "B", Pos: orb.Point{a[0] - 0.9*lonKm, a[1]}},
	}
	set := Settings{Res: 9, Minutes: 15, SpeedKmh: 4}
	reach := NewCrow(cells, set.SpeedKmh)
	res, err := Analyze(ctx, Study{Settings: set, Stations: st, Cells: cells}, reach, nil)
	if err != nil {
		t.Fatal(err)
	}
	batches := [][]Event{
		{{Action: Close, Station: Station{ID: "Y"}}, {Action: Open, Station: Station{ID: "X", Pos: orb.Point{a[0], a[1] - 50*km}}}},
		{{Action: Close, Station: Station{ID: "A"}}},
	}
	final := st
	for _, evs := range batches {
		if _, err := Update(ctx, res, reach, evs); err != nil {
			t.Fatal(err)
		}
		final = finalStations(final, evs)
	}
	want := bruteAccess(cells, final, set.SpeedKmh)
	toC := 0
	for i := range cells {
		if res.Access[i] != want[i] {
			t.Errorf("cell %v: %+v (station %s), brute force %+v (station %s)", cells[i].H3, res.Access[i], res.Stations[max(res.Access[i].Station, 0)].ID, want[i], final[want[i].Station].ID)
		}
		if final[want[i].Station].ID == "C" {
			toC++
		}
	}
	if toC < 4 {
		t.Fatalf("only %d cells are nearest C: the case does not test the closing", toC)
	}
	full, err := Analyze(ctx, Study{Settings: set, Stations: final, Cells: cells}, NewCrow(cells, set.SpeedKmh), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSameResult(t, res, full)
}

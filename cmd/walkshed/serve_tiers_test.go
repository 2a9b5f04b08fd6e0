package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/format"
)

// serveTierStudy writes a straight-line study with a hierarchy of
// district (12 min), subdistrict (8) and neighbourhood (5) stations, some
// with a capacity, two populations (residents and workers, in halves),
// and two areas; it returns serve's flags for it in tier mode mode with
// E2SFCA accessibility.
func serveTierStudy(t testing.TB, seed uint64, stations int, mode string) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 17))
	dir := t.TempDir()
	centre := h3.LatLngToCell(h3.LatLng{Lat: -30.03, Lng: -51.2}, 9)
	disk := h3.GridDisk(centre, 10)
	var pop strings.Builder
	pop.WriteString("h3,population,workers\n")
	for _, c := range disk {
		fmt.Fprintf(&pop, "%s,%d,%.1f\n", c, rng.IntN(300), float64(rng.IntN(200))/2)
	}
	var st strings.Builder
	st.WriteString("id,name,tier,lon,lat,capacity\n")
	tiers := []string{"district", "subdistrict", "neighbourhood", "neighbourhood"}
	for k := range stations {
		p := coverage.CellCenter(disk[rng.IntN(len(disk))])
		capacity := ""
		if rng.IntN(3) > 0 {
			capacity = fmt.Sprint(50 + rng.IntN(900))
		}
		fmt.Fprintf(&st, "S%d,Station %d,%s,%.7f,%.7f,%s\n", k, k, tiers[rng.IntN(len(tiers))], p[0]+(rng.Float64()-0.5)*0.003, p[1]+(rng.Float64()-0.5)*0.003, capacity)
	}
	areas := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"West","parent":"City"},"geometry":{"type":"Polygon","coordinates":[[[-51.3,-30.1],[-51.2,-30.1],[-51.2,-29.95],[-51.3,-29.95],[-51.3,-30.1]]]}},
{"type":"Feature","properties":{"name":"East","parent":"City"},"geometry":{"type":"Polygon","coordinates":[[[-51.2,-30.1],[-51.1,-30.1],[-51.1,-29.95],[-51.2,-29.95],[-51.2,-30.1]]]}}]}`
	for name, body := range map[string]string{"population.csv": pop.String(), "stations.csv": st.String(), "areas.geojson": areas} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "population.csv")
	return []string{"--stations", filepath.Join(dir, "stations.csv"),
		"--population", "residents=" + p, "--pop-col", "residents=population", "--population", "workers=" + p, "--pop-col", "workers=workers", "--weights", "workers=0.5",
		"--areas", filepath.Join(dir, "areas.geojson"), "--tiers", "district=12,subdistrict=8,neighbourhood=5", "--tier-mode", mode, "--access", "e2sfca",
		"--quiet", "--listen", "127.0.0.1:0"}
}

// fresh is a full analysis of a station list, as walkshed analyze makes
// it: its summary.json and, with a service analysis, every tier's times.
type fresh struct {
	summary []byte
	res     *coverage.Result
	tiers   *coverage.TierResult
}

// freshOf analyses stations from scratch with the server's reach model and
// settings, through analyze's own functions.
func freshOf(t testing.TB, sv *server, stations []coverage.Station) fresh {
	t.Helper()
	ctx := context.Background()
	study := coverage.Study{Settings: sv.res.Settings, Stations: stations, Cells: sv.res.Cells,
		InputPopulation: sv.res.InputPopulation, Areas: sv.cfg.areas, Layers: sv.res.Layers}
	r, err := coverage.Analyze(ctx, study, sv.cfg.reach, nil)
	if err != nil {
		t.Fatal(err)
	}
	share := math.NaN()
	if sv.crow != nil {
		c, err := coverage.Analyze(ctx, coverage.Study{Settings: r.Settings, Stations: stations, Cells: r.Cells}, coverage.NewCrow(r.Cells, r.Settings.SpeedKmh), nil)
		if err != nil {
			t.Fatal(err)
		}
		share = c.Totals().Share()
	}
	ex := summaryExtras(sv.cfg.reach, stations, share)
	var tr *coverage.TierResult
	if sv.cfg.service {
		tf := tierFlags{spec: sv.cfg.spec, named: sv.cfg.named, method: sv.cfg.method}
		if ex.Tiers, err = tf.analyze(ctx, &loaded{study: study, reach: sv.cfg.reach}, r); err != nil {
			t.Fatal(err)
		}
		tr = ex.Tiers.Result
	}
	var b strings.Builder
	if err := format.WriteSummaryJSON(&b, r, ex); err != nil {
		t.Fatal(err)
	}
	return fresh{summary: []byte(b.String()), res: r, tiers: tr}
}

// stationsOf turns the API's stations back into the library's.
func stationsOf(js []stationJSON) []coverage.Station {
	out := make([]coverage.Station, len(js))
	for i, s := range js {
		out[i] = coverage.Station{ID: s.ID, Name: s.Name, Tier: s.Tier, Pos: [2]float64{s.Lon, s.Lat}, Capacity: s.Capacity}
	}
	return out
}

// sameTimes checks every tier's walking times and nearest stations, and
// the result's own, cell for cell against a fresh analysis.
func sameTimes(t testing.TB, what string, sv *server, f fresh) {
	t.Helper()
	sv.mu.RLock()
	defer sv.mu.RUnlock()
	if !reflect.DeepEqual(sv.res.Access, f.res.Access) || !reflect.DeepEqual(sv.res.InReach, f.res.InReach) {
		for i := range f.res.Access {
			if sv.res.Access[i] != f.res.Access[i] {
				t.Fatalf("%s: cell %d: %+v, a fresh analysis %+v", what, i, sv.res.Access[i], f.res.Access[i])
			}
		}
		t.Fatalf("%s: the stations in reach differ from a fresh analysis", what)
	}
	if f.tiers == nil {
		return
	}
	for k, tc := range f.tiers.Tiers {
		got := sv.views[k].Access
		for i := range tc.Access {
			if got[i] != tc.Access[i] {
				t.Fatalf("%s: tier %s, cell %d: %+v, a fresh analysis %+v", what, tc.Tier.Name, i, got[i], tc.Access[i])
			}
		}
	}
}

// scenarioStep is one applied edit as the test models it: the stations
// and summary before it and the stations after it.
type scenarioStep struct {
	before, after []stationJSON
	summary       []byte
}

// modelEdits runs n random edits through the API (openings of every tier
// with and without a capacity, some exactly on another station so that
// times tie, closings, undos and redos) and checks after each one: the
// station list against a model of the scenario kept by the test (an
// opening appends, a closing removes, an undo gives back the list before
// the edit exactly, a redo the list after it), the summary against a fresh
// analysis of the model's list, and every tier's times cell for cell; an
// undo also gives back the summary before the edit exactly.
func modelEdits(t *testing.T, sv *server, base string, seed uint64, n int) {
	c := newClient(t, sv, base)
	rng := rand.New(rand.NewPCG(seed, 2))
	var model []stationJSON
	json.Unmarshal(c.ok("GET", "/api/stations", nil), &model)
	var done, undone []scenarioStep
	tiers := sv.cfg.tiers
	for step := range n {
		before := append([]stationJSON(nil), model...)
		summaryBefore := c.ok("GET", "/api/summary", nil)
		var code int
		var body []byte
		var ch changeJSON
		kind := rng.IntN(10)
		switch {
		case kind < 4 || len(model) == 0:
			in := map[string]any{}
			p := sv.res.Cells[rng.IntN(len(sv.res.Cells))].Pos
			in["lon"], in["lat"] = p[0]+(rng.Float64()-0.5)*0.002, p[1]+(rng.Float64()-0.5)*0.002
			if rng.IntN(4) == 0 && len(model) > 0 {
				o := model[rng.IntN(len(model))]
				in["lon"], in["lat"] = o.Lon, o.Lat
			}
			if tiers != nil {
				in["tier"] = tiers[rng.IntN(len(tiers))]
			}
			if rng.IntN(2) == 0 {
				in["capacity"] = float64(10 + rng.IntN(500))
			}
			code, body = c.do("POST", "/api/stations", in)
			if code != 200 {
				t.Fatalf("step %d: open %v: %d %s", step, in, code, body)
			}
			json.Unmarshal(body, &ch)
			model = append(model, ch.Station)
			done, undone = append(done, scenarioStep{before: before, after: append([]stationJSON(nil), model...), summary: summaryBefore}), nil
		case kind < 7:
			id := model[rng.IntN(len(model))].ID
			code, body = c.do("DELETE", "/api/stations/"+url.PathEscape(id), nil)
			if code != 200 {
				t.Fatalf("step %d: close %s: %d %s", step, id, code, body)
			}
			for j, s := range model {
				if s.ID == id {
					model = append(model[:j:j], model[j+1:]...)
					break
				}
			}
			done, undone = append(done, scenarioStep{before: before, after: append([]stationJSON(nil), model...), summary: summaryBefore}), nil
		case kind < 9:
			code, body = c.do("POST", "/api/undo", nil)
			if len(done) == 0 {
				if code != 400 {
					t.Fatalf("step %d: undo with nothing to undo: %d %s", step, code, body)
				}
				break
			}
			if code != 200 {
				t.Fatalf("step %d: undo: %d %s", step, code, body)
			}
			last := done[len(done)-1]
			done, undone = done[:len(done)-1], append(undone, last)
			model = append([]stationJSON(nil), last.before...)
			sameSummary(t, fmt.Sprintf("step %d: undo gives back the summary before the edit", step), c.ok("GET", "/api/summary", nil), last.summary)
		default:
			code, body = c.do("POST", "/api/redo", nil)
			if len(undone) == 0 {
				if code != 400 {
					t.Fatalf("step %d: redo with nothing to redo: %d %s", step, code, body)
				}
				break
			}
			if code != 200 {
				t.Fatalf("step %d: redo: %d %s", step, code, body)
			}
			next := undone[len(undone)-1]
			undone, done = undone[:len(undone)-1], append(done, next)
			model = append([]stationJSON(nil), next.after...)
		}
		var got []stationJSON
		json.Unmarshal(c.ok("GET", "/api/stations", nil), &got)
		if !reflect.DeepEqual(got, model) {
			t.Fatalf("step %d (%s): /api/stations\n got %v\nwant %v", step, body[:min(len(body), 80)], got, model)
		}
		f := freshOf(t, sv, stationsOf(model))
		what := fmt.Sprintf("step %d (%s)", step, body[:min(len(body), 80)])
		sameSummary(t, what, c.ok("GET", "/api/summary", nil), f.summary)
		sameTimes(t, what, sv, f)
	}
}

func TestServeRandomEditsTiersInclusive(t *testing.T) {
	sv, base := startServe(t, serveTierStudy(t, 7, 14, "inclusive"))
	modelEdits(t, sv, base, 7, 60)
}

func TestServeRandomEditsTiersSeparate(t *testing.T) {
	sv, base := startServe(t, serveTierStudy(t, 8, 14, "separate"))
	modelEdits(t, sv, base, 8, 60)
}

// TestServeRandomEditsUndoOrder: without tiers, undo puts a closed station
// back where it stood, exactly.
func TestServeRandomEditsUndoOrder(t *testing.T) {
	sv, base := startServe(t, serveStudy(t, 9, 8))
	modelEdits(t, sv, base, 9, 60)
}

// failingCrow is the straight line that panics once, after timing left
// cells, half way through an update.
type failingCrow struct {
	*coverage.Crow
	left int
}

func (f *failingCrow) tick() {
	if f.left--; f.left == 0 {
		panic("walking times failed")
	}
}

func (f *failingCrow) TimeCells(p orb.Point, lo, hi int32, below func(int32) coverage.Minutes, fn func(int32, coverage.Minutes)) {
	f.Crow.TimeCells(p, lo, hi, below, func(i int32, m coverage.Minutes) { fn(i, m); f.tick() })
}

func (f *failingCrow) Within(ctx context.Context, p orb.Point, limit coverage.Minutes, fn func(int32, coverage.Minutes)) error {
	return f.Crow.Within(ctx, p, limit, func(i int32, m coverage.Minutes) { fn(i, m); f.tick() })
}

func (f *failingCrow) Nearest(ctx context.Context, stations []orb.Point, cells []int32, out []coverage.Access) error {
	if cells != nil {
		// The cells a closing retimes: half of them are set, then it fails.
		if err := f.Crow.Nearest(ctx, stations, cells[:len(cells)/2], out); err != nil {
			return err
		}
		f.left = 1
		f.tick()
	}
	return f.Crow.Nearest(ctx, stations, cells, out)
}

// TestServeEditPanicLeavesNoHalfEdit: an update that panics half way
// through an opening, or a closing, answers 500 and leaves the scenario as
// it was before the edit: the same summary, stations, history and walking
// times as a fresh analysis of the stations before it; the next edit
// works.
func TestServeEditPanicLeavesNoHalfEdit(t *testing.T) {
	sv, base := startServe(t, serveTierStudy(t, 10, 10, "inclusive"))
	c := newClient(t, sv, base)
	crow := sv.cfg.reach.(*coverage.Crow)
	p := sv.res.Cells[len(sv.res.Cells)/2].Pos
	c.ok("POST", "/api/stations", map[string]any{"id": "A", "lon": p[0], "lat": p[1], "tier": "subdistrict"})
	for _, edit := range []struct {
		name, method, path string
		body               any
		left               int
	}{
		{"opening", "POST", "/api/stations", map[string]any{"id": "B", "lon": sv.res.Cells[3].Pos[0], "lat": sv.res.Cells[3].Pos[1], "tier": "neighbourhood"}, 2},
		{"closing", "DELETE", "/api/stations/A", nil, 1 << 30},
	} {
		summary, stations, history := c.ok("GET", "/api/summary", nil), c.ok("GET", "/api/stations", nil), c.ok("GET", "/api/history", nil)
		sv.mu.Lock()
		sv.cfg.reach = &failingCrow{Crow: crow, left: edit.left}
		sv.mu.Unlock()
		code, body := c.do(edit.method, edit.path, edit.body)
		sv.mu.Lock()
		sv.cfg.reach = crow
		sv.mu.Unlock()
		if code != 500 {
			t.Fatalf("%s: a panicking update answered %d %s, want 500", edit.name, code, body)
		}
		sameSummary(t, edit.name+": after the panic", c.ok("GET", "/api/summary", nil), summary)
		if got := c.ok("GET", "/api/stations", nil); string(got) != string(stations) {
			t.Fatalf("%s: stations after the panic\n got %s\nwant %s", edit.name, got, stations)
		}
		if got := c.ok("GET", "/api/history", nil); string(got) != string(history) {
			t.Fatalf("%s: history after the panic\n got %s\nwant %s", edit.name, got, history)
		}
		var list []stationJSON
		json.Unmarshal(stations, &list)
		f := freshOf(t, sv, stationsOf(list))
		sameSummary(t, edit.name+": after the panic, fresh", summary, f.summary)
		sameTimes(t, edit.name+": after the panic", sv, f)
	}
	c.ok("DELETE", "/api/stations/A", nil)
	var list []stationJSON
	json.Unmarshal(c.ok("GET", "/api/stations", nil), &list)
	f := freshOf(t, sv, stationsOf(list))
	sameSummary(t, "the edit after", c.ok("GET", "/api/summary", nil), f.summary)
	sameTimes(t, "the edit after", sv, f)
}

// TestServeUndoCloseTies: a station opened exactly where another stands
// ties with it everywhere; closing the first hands its cells to the twin,
// and undoing the closing must hand them back (equal times go to the first
// listed), as a fresh analysis of the list in that order says, in every
// tier.
func TestServeUndoCloseTies(t *testing.T) {
	for _, args := range [][]string{serveStudy(t, 11, 5), serveTierStudy(t, 11, 10, "inclusive"), serveTierStudy(t, 12, 10, "separate")} {
		sv, base := startServe(t, args)
		c := newClient(t, sv, base)
		var list []stationJSON
		json.Unmarshal(c.ok("GET", "/api/stations", nil), &list)
		first := list[0]
		c.ok("POST", "/api/stations", map[string]any{"id": "twin", "lon": first.Lon, "lat": first.Lat, "tier": first.Tier})
		c.ok("DELETE", "/api/stations/"+url.PathEscape(first.ID), nil)
		c.ok("POST", "/api/undo", nil)
		var got []stationJSON
		json.Unmarshal(c.ok("GET", "/api/stations", nil), &got)
		want := append(append([]stationJSON(nil), list...), stationJSON{ID: "twin", Name: "", Tier: first.Tier, Lon: first.Lon, Lat: first.Lat})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("stations after the undo\n got %v\nwant %v", got, want)
		}
		f := freshOf(t, sv, stationsOf(got))
		sameSummary(t, "after the undo", c.ok("GET", "/api/summary", nil), f.summary)
		sameTimes(t, "after the undo", sv, f)
		// The cell at the station is the first's again.
		var cj cellJSON
		json.Unmarshal(c.ok("GET", fmt.Sprintf("/api/cell?lon=%v&lat=%v", first.Lon, first.Lat), nil), &cj)
		if cj.Station == nil || cj.Station.ID != first.ID {
			t.Errorf("the cell at %s after the undo: nearest %+v, want %s", first.ID, cj.Station, first.ID)
		}
	}
}

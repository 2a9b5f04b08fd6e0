package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/walkshed/walkshed/coverage/site"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
)

// serveStudy writes a straight-line study into a new folder: a disk of
// res-9 cells in Porto Alegre with random populations, stations, and two
// areas under one parent. It returns serve's flags for it.
func serveStudy(t testing.TB, seed uint64, stations int, extra ...string) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 16))
	dir := t.TempDir()
	centre := h3.LatLngToCell(h3.LatLng{Lat: -30.03, Lng: -51.2}, 9)
	var pop strings.Builder
	pop.WriteString("h3,population\n")
	disk := h3.GridDisk(centre, 12)
	for _, c := range disk {
		fmt.Fprintf(&pop, "%s,%d\n", c, 1+rng.IntN(300))
	}
	var st strings.Builder
	st.WriteString("id,name,lon,lat\n")
	for k := range stations {
		p := coverage.CellCenter(disk[rng.IntN(len(disk))])
		fmt.Fprintf(&st, "S%d,Station %d,%.7f,%.7f\n", k, k, p[0]+(rng.Float64()-0.5)*0.003, p[1]+(rng.Float64()-0.5)*0.003)
	}
	areas := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"West","parent":"City"},"geometry":{"type":"Polygon","coordinates":[[[-51.3,-30.1],[-51.2,-30.1],[-51.2,-29.95],[-51.3,-29.95],[-51.3,-30.1]]]}},
{"type":"Feature","properties":{"name":"East","parent":"City"},"geometry":{"type":"Polygon","coordinates":[[[-51.2,-30.1],[-51.1,-30.1],[-51.1,-29.95],[-51.2,-29.95],[-51.2,-30.1]]]}}]}`
	for name, body := range map[string]string{"population.csv": pop.String(), "stations.csv": st.String(), "areas.geojson": areas} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return append([]string{"--stations", filepath.Join(dir, "stations.csv"), "--population", filepath.Join(dir, "population.csv"),
		"--areas", filepath.Join(dir, "areas.geojson"), "--minutes", "8", "--quiet", "--listen", "127.0.0.1:0"}, extra...)
}

// client talks to a test server with the token.
type client struct {
	t    testing.TB
	base string
	tok  string
	hc   *http.Client
}

func newClient(t testing.TB, sv *server, base string) *client {
	return &client{t: t, base: base, tok: sv.token, hc: &http.Client{}}
}

// do sends a request with the bearer token and returns status and body.
func (c *client) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c *client) ok(method, path string, body any) []byte {
	c.t.Helper()
	code, b := c.do(method, path, body)
	if code != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	return b
}

// freshSummary is summary.json of a full analysis of the server's current
// stations, computed from scratch with the same reach model.
func freshSummary(t testing.TB, sv *server) []byte {
	t.Helper()
	sv.mu.RLock()
	stations := slices.Clone(sv.res.Stations)
	sv.mu.RUnlock()
	r, err := coverage.Analyze(context.Background(), coverage.Study{Settings: sv.res.Settings, Stations: stations, Cells: sv.res.Cells,
		InputPopulation: sv.res.InputPopulation, Areas: sv.cfg.areas}, sv.cfg.reach, nil)
	if err != nil {
		t.Fatal(err)
	}
	share := math.NaN()
	if sv.crow != nil {
		c, err := coverage.Analyze(context.Background(), coverage.Study{Settings: r.Settings, Stations: stations, Cells: r.Cells}, coverage.NewCrow(r.Cells, r.Settings.SpeedKmh), nil)
		if err != nil {
			t.Fatal(err)
		}
		share = c.Totals().Share()
	}
	var b bytes.Buffer
	if err := format.WriteSummaryJSON(&b, r, summaryExtras(sv.cfg.reach, stations, share)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sameSummary compares two summaries member by member, numbers exactly,
// leaving out the creation time.
func sameSummary(t testing.TB, what string, got, want []byte) {
	t.Helper()
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v in %s", what, err, want)
	}
	delete(g, "created")
	delete(w, "created")
	if !reflect.DeepEqual(g, w) {
		var keys []string
		for k := range w {
			if !reflect.DeepEqual(g[k], w[k]) {
				keys = append(keys, k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		t.Fatalf("%s: /api/summary differs from a fresh analysis in %v:\n got %s\nwant %s", what, keys, got, want)
	}
}

// TestServeSummaryEqualsAnalyze checks /api/summary against summary.json
// written by walkshed analyze on the same files.
func TestServeSummaryEqualsAnalyze(t *testing.T) {
	args := serveStudy(t, 1, 6)
	sv, base := startServe(t, args)
	c := newClient(t, sv, base)
	out := t.TempDir()
	study := slices.DeleteFunc(slices.Clone(args), func(s string) bool { return s == "--listen" || s == "127.0.0.1:0" })
	if err := runAnalyze(append(study, "--out", out, "--format", "csv"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	sameSummary(t, "start", c.ok("GET", "/api/summary", nil), want)
}

// TestServeEndpoints exercises every endpoint once and checks each answer
// against an independent computation.
func TestServeEndpoints(t *testing.T) {
	studyArgs := serveStudy(t, 2, 5)
	sv, base := startServe(t, studyArgs)
	c := newClient(t, sv, base)

	var stations []stationJSON
	json.Unmarshal(c.ok("GET", "/api/stations", nil), &stations)
	if len(stations) != 5 || stations[0].ID != "S0" {
		t.Fatalf("GET /api/stations: %v", stations)
	}

	// Open a station with an id, one without; close one.
	cell := sv.res.Cells[len(sv.res.Cells)/3]
	var ch changeJSON
	json.Unmarshal(c.ok("POST", "/api/stations", map[string]any{"id": "mine", "name": "My centre", "lon": cell.Pos[0], "lat": cell.Pos[1]}), &ch)
	if ch.Action != "open" || ch.Station.ID != "mine" || ch.Stations != 6 {
		t.Fatalf("open: %+v", ch)
	}
	sameSummary(t, "after opening", ch.Summary, freshSummary(t, sv))
	cell2 := sv.res.Cells[2*len(sv.res.Cells)/3]
	json.Unmarshal(c.ok("POST", "/api/stations", map[string]any{"lon": cell2.Pos[0], "lat": cell2.Pos[1]}), &ch)
	if ch.Station.ID != "new-1" {
		t.Errorf("a station opened without an id got %q, want new-1", ch.Station.ID)
	}
	json.Unmarshal(c.ok("DELETE", "/api/stations/S1", nil), &ch)
	if ch.Action != "close" || ch.Stations != 6 {
		t.Fatalf("close: %+v", ch)
	}
	sameSummary(t, "after closing", c.ok("GET", "/api/summary", nil), freshSummary(t, sv))

	// Undo and redo.
	c.ok("POST", "/api/undo", nil)
	if _, open := sv.stationByIDLocked("S1"); !open {
		t.Error("undo did not reopen S1")
	}
	sameSummary(t, "after undo", c.ok("GET", "/api/summary", nil), freshSummary(t, sv))
	c.ok("POST", "/api/redo", nil)
	if _, open := sv.stationByIDLocked("S1"); open {
		t.Error("redo did not close S1 again")
	}
	var h historyJSON
	json.Unmarshal(c.ok("GET", "/api/history", nil), &h)
	if len(h.Edits) != 3 || h.Redo != 0 || h.Edits[2].Action != "close" || h.Edits[2].Station.ID != "S1" {
		t.Errorf("history %+v", h)
	}

	// The cell endpoint: minutes by the haversine to every open station.
	q := sv.res.Cells[7]
	var cj cellJSON
	json.Unmarshal(c.ok("GET", fmt.Sprintf("/api/cell?lon=%v&lat=%v", q.Pos[0], q.Pos[1]), nil), &cj)
	best, bestID := math.Inf(1), ""
	for _, st := range sv.res.Stations {
		if m := haversineM(q.Pos, st.Pos) / (4000.0 / 60); m < best {
			best, bestID = m, st.ID
		}
	}
	if cj.H3 != q.H3.String() || cj.Minutes == nil || math.Abs(*cj.Minutes-best) > 1e-9 || cj.Station.ID != bestID || cj.Covered != (best <= 8) || cj.Population != q.Population {
		t.Errorf("cell %s: %+v (station %+v), want %.6f min to %s", q.H3, cj, cj.Station, best, bestID)
	}
	json.Unmarshal(c.ok("GET", "/api/cell?lon=0&lat=0", nil), &cj)
	if cj.Populated || cj.Minutes != nil {
		t.Errorf("a cell with no one in it: %+v", cj)
	}

	// events.csv, replayed by walkshed update on a fresh analysis, gives
	// the same result.
	evs := c.ok("GET", "/api/events.csv", nil)
	dir := t.TempDir()
	args := slices.DeleteFunc(slices.Clone(studyArgs), func(s string) bool { return s == "--listen" || s == "127.0.0.1:0" })
	if err := runAnalyze(append(args, "--out", filepath.Join(dir, "a"), "--format", "gpkg"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "events.csv"), evs, 0o644)
	if err := runUpdate([]string{"--from", filepath.Join(dir, "a"), "--events", filepath.Join(dir, "events.csv"), "--out", filepath.Join(dir, "u"), "--quiet"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("update with the served events.csv: %v\n%s", err, evs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "u", "summary.json"))
	sameSummary(t, "events.csv replayed by update", b, c.ok("GET", "/api/summary", nil))

	// result.gpkg opens as a walkshed result with the same stations and
	// times.
	g := c.ok("GET", "/api/result.gpkg", nil)
	gp := filepath.Join(dir, "served.gpkg")
	os.WriteFile(gp, g, 0o644)
	st, err := gpkg.OpenStore(gp)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if len(st.Result.Stations) != len(sv.res.Stations) || st.Result.Totals() != sv.res.Totals() {
		t.Errorf("result.gpkg: %d stations, totals %+v; served %d, %+v", len(st.Result.Stations), st.Result.Totals(), len(sv.res.Stations), sv.res.Totals())
	}

	// propose: accepting every site covers exactly the objective more.
	var pj proposalJSON
	json.Unmarshal(c.ok("POST", "/api/propose", map[string]int{"add": 2}), &pj)
	if len(pj.Sites) == 0 || !(pj.UpperBound >= pj.Objective-1e-6) {
		t.Fatalf("propose: %+v", pj)
	}
	// Against every pair of the command's candidates: the proposal is
	// proven within 1%, and its bound is no lower than the best pair.
	bestTwo := bestPair(t, sv)
	if !pj.Optimal || pj.GapTolerance != serveProposeGap || pj.Objective < (1-serveProposeGap)*bestTwo-1e-6 || pj.UpperBound < bestTwo-1e-6 {
		t.Fatalf("propose: objective %v, bound %v, optimal %v (tolerance %v); the best pair covers %v", pj.Objective, pj.UpperBound, pj.Optimal, pj.GapTolerance, bestTwo)
	}
	before := sv.res.Totals().CoveredPopulation
	for _, s := range pj.Sites {
		c.ok("POST", "/api/stations", map[string]any{"lon": s.Lon, "lat": s.Lat})
	}
	sameSummary(t, "after accepting the proposal", c.ok("GET", "/api/summary", nil), freshSummary(t, sv))
	if got := sv.res.Totals().CoveredPopulation - before; math.Abs(got-pj.Objective) > 1e-6 {
		t.Errorf("the proposed sites newly cover %v people, the proposal said %v", got, pj.Objective)
	}

	// A tile decodes to its layer.
	for _, l := range []string{"cells", "gaps", "stations", "areas", "streets"} {
		ls, err := mvt.Unmarshal(c.ok("GET", "/tiles/"+l+"/12/1465/2419.mvt", nil))
		if err != nil || len(ls) != 1 || ls[0].Name != l {
			t.Errorf("tile of %s: %v %v", l, ls, err)
		}
	}
	// The page and its files.
	for _, p := range []string{"/", "/static/app.js", "/static/style.css", "/static/vendor/maplibre-gl.js", "/api/info"} {
		c.ok("GET", p, nil)
	}
}

func haversineM(a, b orb.Point) float64 {
	const R = 6371008.8
	la1, la2 := a[1]*math.Pi/180, b[1]*math.Pi/180
	dla, dlo := la2-la1, (b[0]-a[0])*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * R * math.Asin(math.Sqrt(h))
}

// TestServeRefusals checks every refusal: token, Host, Origin, body size,
// bad coordinates, unknown ids, K out of range, bad tiles, and a panic.
func TestServeRefusals(t *testing.T) {
	sv, base := startServe(t, serveStudy(t, 3, 4))
	c := newClient(t, sv, base)
	status := func(method, path, body string, hdr map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	bearer := map[string]string{"Authorization": "Bearer " + sv.token}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"Authorization": "Bearer " + sv.token}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	addr := strings.TrimPrefix(base, "http://")
	port := addr[strings.LastIndex(addr, ":"):]
	cell := sv.res.Cells[0].Pos
	open := fmt.Sprintf(`{"lon":%v,"lat":%v}`, cell[0], cell[1])
	cases := []struct {
		name, method, path, body string
		hdr                      map[string]string
		want                     int
	}{
		{"no token", "GET", "/api/summary", "", nil, 401},
		{"no token for the page", "GET", "/", "", nil, 401},
		{"no token for a tile", "GET", "/tiles/cells/3/1/1.mvt", "", nil, 401},
		{"no token for an edit", "POST", "/api/stations", open, nil, 401},
		{"wrong bearer", "GET", "/api/summary", "", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"wrong query token", "GET", "/?token=nope", "", nil, 401},
		{"other host", "GET", "/api/summary", "", with("Host", "evil.example"+port), 403},
		{"other host, right port, DNS name", "GET", "/api/summary", "", with("Host", "walkshed.evil.example"+port), 403},
		{"other port", "GET", "/api/summary", "", with("Host", "127.0.0.1:1"), 403},
		{"localhost", "GET", "/api/summary", "", with("Host", "localhost"+port), 200},
		{"cross-origin edit", "POST", "/api/stations", open, with("Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"), 403},
		{"cross-origin close", "DELETE", "/api/stations/S0", "", with("Origin", "http://evil.example"), 403},
		{"cross-origin undo", "POST", "/api/undo", "", with("Sec-Fetch-Site", "cross-site"), 403},
		{"body over 64 KiB", "POST", "/api/stations", `{"name":"` + strings.Repeat("x", 70<<10) + `"}`, bearer, 413},
		{"propose body over 64 KiB", "POST", "/api/propose", `{"add":` + strings.Repeat(" ", 70<<10) + `1}`, bearer, 413},
		{"bad JSON", "POST", "/api/stations", `{"lon":`, bearer, 400},
		{"unknown field", "POST", "/api/stations", `{"lon":1,"lat":2,"x":3}`, bearer, 400},
		{"no position", "POST", "/api/stations", `{"name":"a"}`, bearer, 400},
		{"longitude out of range", "POST", "/api/stations", `{"lon":200,"lat":-30}`, bearer, 400},
		{"latitude out of range", "POST", "/api/stations", `{"lon":-51.2,"lat":-95}`, bearer, 400},
		{"outside the study", "POST", "/api/stations", `{"lon":10,"lat":50}`, bearer, 400},
		{"duplicate id", "POST", "/api/stations", fmt.Sprintf(`{"id":"S0","lon":%v,"lat":%v}`, cell[0], cell[1]), bearer, 400},
		{"tier without tiers", "POST", "/api/stations", fmt.Sprintf(`{"tier":"big","lon":%v,"lat":%v}`, cell[0], cell[1]), bearer, 400},
		{"unknown id", "DELETE", "/api/stations/nope", "", bearer, 400},
		{"nothing to undo", "POST", "/api/undo", "", bearer, 400},
		{"nothing to redo", "POST", "/api/redo", "", bearer, 400},
		{"K zero", "POST", "/api/propose", `{"add":0}`, bearer, 400},
		{"K too large", "POST", "/api/propose", `{"add":101}`, bearer, 400},
		{"K missing", "POST", "/api/propose", `{}`, bearer, 400},
		{"K not a number", "POST", "/api/propose", `{"add":"five"}`, bearer, 400},
		{"cell without lat", "GET", "/api/cell?lon=1", "", bearer, 400},
		{"cell lon not a number", "GET", "/api/cell?lon=abc&lat=1", "", bearer, 400},
		{"cell NaN", "GET", "/api/cell?lon=NaN&lat=1", "", bearer, 400},
		{"unknown layer", "GET", "/tiles/roads/3/1/1.mvt", "", bearer, 400},
		{"zoom too deep", "GET", "/tiles/cells/23/1/1.mvt", "", bearer, 400},
		{"tile outside the world", "GET", "/tiles/cells/3/8/1.mvt", "", bearer, 400},
		{"tile not .mvt", "GET", "/tiles/cells/3/1/1.png", "", bearer, 400},
		{"a file path", "GET", "/static/../../go.mod", "", bearer, 404},
	}
	for _, tc := range cases {
		code, body := status(tc.method, tc.path, tc.body, tc.hdr)
		if code != tc.want {
			t.Errorf("%s: %s %s: %d %s, want %d", tc.name, tc.method, tc.path, code, body, tc.want)
		}
		if tc.want >= 400 && tc.want != 404 && !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d without a message: %s", tc.name, code, body)
		}
	}
	// None of the refused edits changed anything.
	var h historyJSON
	json.Unmarshal(c.ok("GET", "/api/history", nil), &h)
	if len(h.Edits) != 0 || len(sv.res.Stations) != 4 {
		t.Errorf("refused requests changed the scenario: %+v, %d stations", h, len(sv.res.Stations))
	}

	// ?token= sets a cookie that then stands for the token.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Get(sv.url())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the printed URL: %d", resp.StatusCode)
	}
	resp, err = hc.Get(base + "/api/summary")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the cookie set by ?token= is not accepted: %d", resp.StatusCode)
	}
	// The page's own edits (same origin) pass.
	req, _ := http.NewRequest("POST", base+"/api/stations", strings.NewReader(open))
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a same-origin edit from the page: %d", resp.StatusCode)
	}

	// A panic in a handler answers 500 and the server keeps serving.
	h2 := sv.guard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := &recorder{header: http.Header{}}
	preq, _ := http.NewRequest("GET", base+"/x", nil)
	preq.Header.Set("Authorization", "Bearer "+sv.token)
	h2.ServeHTTP(rec, preq)
	if rec.code != 500 {
		t.Errorf("a panicking handler answered %d, want 500", rec.code)
	}
	c.ok("GET", "/api/summary", nil)
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = 200
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(c int) { r.code = c }

// randomEdits runs n random edits (open, close, undo, redo) through the
// API and compares the summary with a fresh analysis after each.
func randomEdits(t *testing.T, sv *server, base string, seed uint64, n int) {
	c := newClient(t, sv, base)
	rng := rand.New(rand.NewPCG(seed, 1))
	for step := range n {
		sv.mu.RLock()
		cells, stations := sv.res.Cells, slices.Clone(sv.res.Stations)
		sv.mu.RUnlock()
		var code int
		var body []byte
		switch k := rng.IntN(10); {
		case k < 4:
			p := cells[rng.IntN(len(cells))].Pos
			code, body = c.do("POST", "/api/stations", map[string]any{"lon": p[0] + (rng.Float64()-0.5)*0.002, "lat": p[1] + (rng.Float64()-0.5)*0.002})
		case k < 7 && len(stations) > 0:
			code, body = c.do("DELETE", "/api/stations/"+url.PathEscape(stations[rng.IntN(len(stations))].ID), nil)
		case k < 9:
			code, body = c.do("POST", "/api/undo", nil)
		default:
			code, body = c.do("POST", "/api/redo", nil)
		}
		if code != 200 && code != 400 {
			t.Fatalf("step %d: %d %s", step, code, body)
		}
		sameSummary(t, fmt.Sprintf("step %d (%s)", step, body[:min(len(body), 80)]), c.ok("GET", "/api/summary", nil), freshSummary(t, sv))
	}
}

func TestServeRandomEditsStraightLine(t *testing.T) {
	sv, base := startServe(t, serveStudy(t, 4, 6))
	randomEdits(t, sv, base, 4, 60)
}

func TestServeRandomEditsNetwork(t *testing.T) {
	sv, base := startServe(t, demoServeArgs(t))
	randomEdits(t, sv, base, 5, 30)
	// Far from any street: said so, not opened.
	c := newClient(t, sv, base)
	b := sv.res.Cells[0].Pos
	code, body := c.do("POST", "/api/stations", map[string]any{"lon": b[0] + 0.02, "lat": b[1] + 0.02})
	if code != 400 || !strings.Contains(string(body), "snapping limit") {
		t.Errorf("a station far from any street: %d %s", code, body)
	}
}

// TestServeLoad runs 20 clients at once, each mixing tile requests with
// openings and closings of its own stations and undos, for a fixed number
// of operations: no request fails, every edit is kept, and the final
// summary equals replaying the applied edits in order on the start.
func TestServeLoad(t *testing.T) {
	args := serveStudy(t, 6, 6)
	sv, base := startServe(t, args)
	start, _, err := loadServe(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	const clients, ops = 20, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	opened := 0
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, sv, base)
			rng := rand.New(rand.NewPCG(uint64(k), 9))
			var mine []string
			for op := range ops {
				var code int
				var body []byte
				switch r := rng.IntN(10); {
				case r < 5:
					z := 9 + rng.IntN(6)
					p := sv.res.Cells[rng.IntN(len(sv.res.Cells))].Pos
					x, y := tileOf(p, z)
					code, body = c.do("GET", fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", []string{"cells", "gaps", "stations", "areas"}[rng.IntN(4)], z, x, y), nil)
				case r < 8 || len(mine) == 0:
					p := sv.res.Cells[rng.IntN(len(sv.res.Cells))].Pos
					id := fmt.Sprintf("c%d-%d", k, op)
					code, body = c.do("POST", "/api/stations", map[string]any{"id": id, "lon": p[0], "lat": p[1]})
					if code == 200 {
						mine = append(mine, id)
						mu.Lock()
						opened++
						mu.Unlock()
					}
				default:
					id := mine[len(mine)-1]
					mine = mine[:len(mine)-1]
					code, body = c.do("DELETE", "/api/stations/"+id, nil)
				}
				if code != 200 {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("client %d op %d: %d %s", k, op, code, body))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d requests failed:\n%s", len(failures), strings.Join(failures[:min(10, len(failures))], "\n"))
	}
	opens := 0
	for _, ev := range sv.applied {
		if ev.Action == coverage.Open {
			opens++
		}
	}
	if opens != opened {
		t.Errorf("%d openings answered 200 but %d are in the scenario", opened, opens)
	}
	// Replay the scenario on the start, one event at a time.
	for _, ev := range sv.applied {
		if _, err := coverage.Update(context.Background(), start.res, start.cfg.reach, []coverage.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	if err := start.rebuildSummary(); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, sv, base)
	sameSummary(t, "after the load", c.ok("GET", "/api/summary", nil), start.summary)
	sameSummary(t, "after the load, fresh", c.ok("GET", "/api/summary", nil), freshSummary(t, sv))
}

// tileOf is the tile of zoom z holding p (Web Mercator).
func tileOf(p orb.Point, z int) (int, int) {
	n := math.Exp2(float64(z))
	lat := p[1] * math.Pi / 180
	x := (p[0] + 180) / 360 * n
	y := (1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2 * n
	return int(x), int(y)
}

// bestPair is the most people two new sites can newly cover in sv's
// current scenario, by trying every pair of the command's candidates.
func bestPair(t *testing.T, sv *server) float64 {
	t.Helper()
	res := sv.res
	covered := make([]bool, len(res.Cells))
	for i := range res.Cells {
		covered[i] = res.Covered(i)
	}
	cands, err := site.DefaultCandidates(res.Cells)
	if err != nil {
		t.Fatal(err)
	}
	p, err := site.Build(context.Background(), sv.cfg.reach, res.Cells, covered, cands, res.Settings.Minutes, nil)
	if err != nil {
		t.Fatal(err)
	}
	mark := make([]int, len(p.Weight))
	best, stamp := 0.0, 0
	for a := 0; a < p.NumSites(); a++ {
		for b := a + 1; b < p.NumSites(); b++ {
			stamp++
			v := 0.0
			for _, set := range [][]int32{p.Set(a), p.Set(b)} {
				for _, i := range set {
					if mark[i] != stamp {
						mark[i] = stamp
						v += p.Weight[i]
					}
				}
			}
			best = max(best, v)
		}
	}
	t.Logf("best pair of %d useful candidates: %v", p.NumSites(), best)
	return best
}

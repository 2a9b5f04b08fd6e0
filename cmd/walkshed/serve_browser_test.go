package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/testenv"
)

// demoServeArgs are serve's flags for the demo study in data/demo.
func demoServeArgs(t testing.TB) []string {
	dir := filepath.Join(testenv.ModuleRoot(t), "data", "demo")
	return []string{"--network", filepath.Join(dir, "streets.osm.gz"), "--stations", filepath.Join(dir, "stations.csv"),
		"--population", filepath.Join(dir, "population.csv"), "--areas", filepath.Join(dir, "areas.geojson"), "--quiet", "--listen", "127.0.0.1:0"}
}

// startServe loads a study and serves it on a free loopback port, as
// runServe does; the server stops with the test.
func startServe(t testing.TB, args []string) (*server, string) {
	t.Helper()
	sv, listen, err := loadServe(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	sv.setAddr(ln.Addr().String())
	srv := &http.Server{Handler: sv.handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sv, "http://" + ln.Addr().String()
}

// TestServeBrowser drives the page on the demo in headless Chromium: the
// map renders, a click inside the largest gap opens a station there and
// the panel's covered population equals a fresh analyze with that
// station; a click on a station closes it; undo brings it back; the page
// logs no error.
func TestServeBrowser(t *testing.T) {
	chromium := testenv.Command(t, "chromium", "apt-get install chromium")
	sv, _ := startServe(t, demoServeArgs(t))

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 120*time.Second)
	defer cancel()

	var mu sync.Mutex
	var consoleErrors []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			consoleErrors = append(consoleErrors, fmt.Sprintf("exception: %s %+v", e.ExceptionDetails.Text, e.ExceptionDetails.Exception))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value))
				}
				consoleErrors = append(consoleErrors, "console.error: "+strings.Join(parts, " "))
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	waitFor := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// pixel is where lon,lat is drawn on the page.
	pixel := func(lon, lat float64) (float64, float64) {
		p, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ X, Y float64 }](fmt.Sprintf("walkshed.map.project([%v, %v])", lon, lat)))
		if err != nil {
			t.Fatal(err)
		}
		return p.X, p.Y
	}
	click := func(x, y float64) {
		if err := chromedp.Do(ctx, chromedp.MouseClickXY(x, y)); err != nil {
			t.Fatal(err)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(sv.url())); err != nil {
		t.Fatal(err)
	}
	waitFor("the map to render", `document.body.dataset.ready === "1" && walkshed.map.loaded()`)
	if n := text("#stations"); n != "21" {
		t.Fatalf("panel shows %s stations, the demo has 21", n)
	}

	// A click inside the largest gap opens a station there.
	sv.mu.RLock()
	gap := sv.res.Gaps[0]
	sv.mu.RUnlock()
	x, y := pixel(gap.Point[0], gap.Point[1])
	before := text("#covered")
	click(x, y)
	waitFor("the station to open", `document.querySelector("#stations").textContent === "22"`)
	sv.mu.RLock()
	opened := sv.applied[len(sv.applied)-1].Station
	sv.mu.RUnlock()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`Number(document.querySelector("#covered").dataset.value)`))
	if err != nil {
		t.Fatal(err)
	}
	want := analyzeWithExtra(t, opened.Pos[0], opened.Pos[1])
	if got != want {
		t.Errorf("after opening at %.7f,%.7f the panel says %v people covered; a fresh analyze with that station says %v (before: %s)", opened.Pos[0], opened.Pos[1], got, want, before)
	}

	// A click on a station closes it.
	sv.mu.RLock()
	st := sv.res.Stations[0]
	sv.mu.RUnlock()
	x, y = pixel(st.Pos[0], st.Pos[1])
	click(x, y)
	waitFor("the station to close", `document.querySelector("#stations").textContent === "21"`)
	if _, open := sv.stationByIDLocked(st.ID); open {
		t.Errorf("station %s is still open after a click on it", st.ID)
	}
	// Undo reopens it.
	if err := chromedp.Do(ctx, chromedp.Click("#undo")); err != nil {
		t.Fatal(err)
	}
	waitFor("undo", `document.querySelector("#stations").textContent === "22"`)
	if _, open := sv.stationByIDLocked(st.ID); !open {
		t.Errorf("station %s is not open again after undo", st.ID)
	}
	waitFor("the map to settle", `walkshed.map.loaded() && walkshed.map.areTilesLoaded()`)

	pageErrors, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`walkshed.errors`))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	all := append(consoleErrors, pageErrors...)
	mu.Unlock()
	if len(all) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(all, "\n"))
	}
	if *update {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "serve.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// stationByIDLocked is stationByID under the read lock.
func (s *server) stationByIDLocked(id string) (coverage.Station, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, j := s.stationByID(id)
	return st, j >= 0
}

// analyzeWithExtra runs walkshed analyze on the demo with one more station
// at lon,lat and returns its covered population.
func analyzeWithExtra(t *testing.T, lon, lat float64) float64 {
	t.Helper()
	dir := filepath.Join(testenv.ModuleRoot(t), "data", "demo")
	b, err := os.ReadFile(filepath.Join(dir, "stations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, filepath.Join(dir, "stations.csv"))
	header := strings.SplitN(string(b), "\n", 2)[0]
	cols := strings.Split(strings.TrimSpace(header), ",")
	var sb strings.Builder
	sb.WriteString(strings.Join(cols, ",") + "\n")
	for _, r := range rows {
		var f []string
		for _, c := range cols {
			f = append(f, strconv.Quote(r[c]))
		}
		sb.WriteString(strings.Join(f, ",") + "\n")
	}
	var f []string
	for _, c := range cols {
		switch c {
		case "id":
			f = append(f, "extra")
		case "lon":
			f = append(f, strconv.FormatFloat(lon, 'f', 7, 64))
		case "lat":
			f = append(f, strconv.FormatFloat(lat, 'f', 7, 64))
		default:
			f = append(f, `""`)
		}
	}
	sb.WriteString(strings.Join(f, ",") + "\n")
	tmp := t.TempDir()
	st := filepath.Join(tmp, "stations.csv")
	if err := os.WriteFile(st, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out")
	err = runAnalyze([]string{"--network", filepath.Join(dir, "streets.osm.gz"), "--stations", st, "--population", filepath.Join(dir, "population.csv"),
		"--areas", filepath.Join(dir, "areas.geojson"), "--quiet", "--format", "csv", "--out", out}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Covered float64 `json:"population_covered"`
	}
	b, err = os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	return sum.Covered
}

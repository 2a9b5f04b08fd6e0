package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/walkshed/walkshed/coverage/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// walkshed runs the command line in-process and returns its exit status and
// output.
func walkshed(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func small(name string) string { return filepath.Join("testdata", "small", name) }

// sharedData returns ../shared/data beside the project, or skips.
func sharedData(t *testing.T, sub string) string { return testenv.SharedData(t, sub) }

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// haversine is the test's own great-circle distance, written from the
// formula with R = 6,371,008.8 m, independent of the library's.
func haversine(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6371008.8
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Pow(math.Sin(dp/2), 2) + math.Cos(p1)*math.Cos(p2)*math.Pow(math.Sin(dl/2), 2)
	return 2 * r * math.Atan2(math.Sqrt(a), math.Sqrt(1-a))
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

func TestAnalyzeSmallStudyGolden(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"),
		"--areas", small("areas.geojson"), "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"15-minute walk at 4.0 km/h = 1,000 m", "6,478 people", "47.6%", "gaps        4"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	// Independent check of every cell: H3 centre (as written, to 1e-7°, so
	// within 0.0003 min) → nearest station by the
	// test's own haversine, at 4 km/h.
	stations := readCSV(t, small("stations.csv"))
	var pop float64
	for _, c := range readCSV(t, filepath.Join(out, "cells.csv")) {
		lon, lat := num(t, c["lon"]), num(t, c["lat"])
		best, bestID := math.Inf(1), ""
		for _, s := range stations {
			if d := haversine(lon, lat, num(t, s["lon"]), num(t, s["lat"])); d < best {
				best, bestID = d, s["id"]
			}
		}
		minutes := best * 60 / 4000
		if got := num(t, c["minutes"]); math.Abs(got-minutes) > 0.0003 || c["nearest_station"] != bestID {
			t.Errorf("cell %s: %v min to %s, brute force %.4f to %s", c["h3"], got, c["nearest_station"], minutes, bestID)
		}
		if want := map[bool]string{true: "1", false: "0"}[minutes <= 15]; c["covered"] != want {
			t.Errorf("cell %s covered=%s at %.4f min", c["h3"], c["covered"], minutes)
		}
		pop += num(t, c["population"])
	}
	if pop != 6478 {
		t.Errorf("cells hold %v people, the input 6,478", pop)
	}
	for _, name := range []string{"cells.csv", "areas.csv", "summary.json", "gaps.geojson"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "summary.json" {
			got = regexp.MustCompile(`"created": "[^"]*"`).ReplaceAll(got, []byte(`"created": "(time)"`))
		}
		golden := filepath.Join("testdata", "golden", "small-"+name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run go test ./cmd/walkshed -run Golden -update after checking the change)", name, golden)
		}
	}
	var sum map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"mode", "minutes", "speed_kmh", "res", "population_total", "population_covered", "share_covered", "cells", "cells_covered", "stations", "unreachable_cells", "gaps"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary.json lacks %q", k)
		}
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodSt, goodPop := small("stations.csv"), small("population.csv")
	cases := []struct {
		name      string
		args      []string
		code      int
		wantParts []string
	}{
		{"missing lat column", []string{"--stations", write("s1.csv", "id,lon\nA,10.7\n"), "--population", goodPop}, 1, []string{"s1.csv:1", "latitude"}},
		{"non-numeric lon", []string{"--stations", write("s2.csv", "id,lon,lat\nA,ten,59.9\n"), "--population", goodPop}, 1, []string{"s2.csv:2", "ten"}},
		{"NaN population", []string{"--stations", goodSt, "--population", write("p1.csv", "lon,lat,population\n10.7,59.9,NaN\n")}, 1, []string{"p1.csv:2"}},
		{"Inf lat", []string{"--stations", write("s3.csv", "id,lon,lat\nA,10.7,Inf\n"), "--population", goodPop}, 1, []string{"s3.csv:2"}},
		{"latitude out of range", []string{"--stations", write("s4.csv", "id,lon,lat\nA,10.7,59.9\nB,10.7,95\n"), "--population", goodPop}, 1, []string{"s4.csv:3", "latitude"}},
		{"longitude out of range", []string{"--stations", write("s5.csv", "id,lon,lat\nA,190.7,59.9\n"), "--population", goodPop}, 1, []string{"s5.csv:2", "longitude"}},
		{"swapped columns", []string{"--stations", write("s6.csv", "id,lat,lon\nA,121.47,31.23\nB,121.48,31.22\n"), "--population", goodPop}, 1, []string{"s6.csv", "swapped"}},
		{"empty stations file", []string{"--stations", write("s7.csv", ""), "--population", goodPop}, 1, []string{"s7.csv", "empty"}},
		{"header only", []string{"--stations", write("s8.csv", "id,lon,lat\n"), "--population", goodPop}, 1, []string{"s8.csv"}},
		{"duplicate station id", []string{"--stations", write("s9.csv", "id,lon,lat\nA,10.7,59.9\nA,10.8,59.9\n"), "--population", goodPop}, 1, []string{"s9.csv:3", `"A"`}},
		{"negative population", []string{"--stations", goodSt, "--population", write("p2.csv", "lon,lat,population\n10.7,59.9,5\n10.7,59.9,-3\n")}, 1, []string{"p2.csv:3", "negative"}},
		{"invalid H3", []string{"--stations", goodSt, "--population", write("p3.csv", "h3,population\n89099938627ffff,5\nzz99938627ffff,4\n")}, 1, []string{"p3.csv:3"}},
		{"mixed H3 resolutions", []string{"--stations", goodSt, "--population", write("p4.csv", "h3,population\n89099938627ffff,5\n88099938ebfffff,4\n")}, 1, []string{"p4.csv:3", "resolution"}},
		{"unknown population column", []string{"--stations", goodSt, "--population", write("p5.csv", "lon,lat,people_count\n10.7,59.9,5\n")}, 1, []string{"p5.csv:1", "population"}},
		{"missing file", []string{"--stations", filepath.Join(dir, "nope.csv"), "--population", goodPop}, 1, []string{"nope.csv"}},
		{"res too high", []string{"--stations", goodSt, "--population", goodPop, "--res", "13"}, 2, []string{"resolution 13"}},
		{"res too low", []string{"--stations", goodSt, "--population", goodPop, "--res", "6"}, 2, []string{"resolution 6"}},
		{"zero minutes", []string{"--stations", goodSt, "--population", goodPop, "--minutes", "0"}, 2, []string{"minutes"}},
		{"negative speed", []string{"--stations", goodSt, "--population", goodPop, "--speed-kmh", "-4"}, 2, []string{"speed"}},
		{"NaN speed", []string{"--stations", goodSt, "--population", goodPop, "--speed-kmh", "NaN"}, 2, []string{"speed"}},
		{"unknown flag", []string{"--stations", goodSt, "--population", goodPop, "--colour", "red"}, 2, []string{"colour"}},
		{"no stations flag", []string{"--population", goodPop}, 2, []string{"--stations"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			// A previous result in --out must survive a failed run untouched.
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			prev := filepath.Join(out, "cells.csv")
			if err := os.WriteFile(prev, []byte("previous\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := walkshed(t, append([]string{"analyze", "--quiet", "--out", out}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			for _, p := range tc.wantParts {
				if !strings.Contains(stderr, p) {
					t.Errorf("error %q does not mention %q", strings.TrimSpace(stderr), p)
				}
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); tc.code == 1 && n > 0 {
				t.Errorf("want one line of error, got:\n%s", stderr)
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != 1 {
				t.Errorf("output folder holds %d entries after a failed run, want only the previous file", len(entries))
			}
			if b, _ := os.ReadFile(prev); string(b) != "previous\n" {
				t.Errorf("the previous output was replaced")
			}
		})
	}
}

func TestPortoAlegreCrowMatchesBruteForce(t *testing.T) {
	data := sharedData(t, "porto_alegre")
	grid := filepath.Join(data, "poa_hexgrid.csv")
	out := t.TempDir()
	code, stdout, stderr := walkshed(t, "analyze", "--stations", grid, "--stations-where", "healthcare>0",
		"--population", grid, "--out", out, "--quiet", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Stations: the centres of the grid rows with healthcare > 0, read here
	// with the standard library.
	var st [][2]float64
	var total float64
	for _, r := range readCSV(t, grid) {
		if h, _ := strconv.ParseFloat(r["healthcare"], 64); h > 0 {
			st = append(st, [2]float64{num(t, r["lon"]), num(t, r["lat"])})
		}
		total += num(t, r["population"])
	}
	if total != 812935 {
		t.Fatalf("the grid file holds %v people, SOURCE.md says 812,935", total)
	}
	cells := readCSV(t, filepath.Join(out, "cells.csv"))
	var sum, covered float64
	for _, c := range cells {
		lon, lat := num(t, c["lon"]), num(t, c["lat"])
		best := math.Inf(1)
		for _, s := range st {
			best = math.Min(best, haversine(lon, lat, s[0], s[1]))
		}
		if got := num(t, c["minutes"]); math.Abs(got-best*60/4000) > 0.0003 {
			t.Fatalf("cell %s: %v min, brute force %.5f", c["h3"], got, best*60/4000)
		}
		sum += num(t, c["population"])
		if c["covered"] == "1" {
			covered += num(t, c["population"])
		}
	}
	if sum != 812935 {
		t.Fatalf("cells.csv holds %v people, want 812,935", sum)
	}
	t.Logf("Porto Alegre, straight line: %d stations, %.1f%% of 812,935 covered", len(st), 100*covered/sum)
	if !strings.Contains(stdout, "812,935") {
		t.Errorf("summary does not report the total:\n%s", stdout)
	}
}

// The command speaks to people: one line naming the command, and none of
// the library's package names, however deep the error is wrapped.
func TestErrorsForPeople(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"format: a.csv:3: negative population -1", "a.csv:3: negative population -1"},
		{"gpkg: writing x.gpkg: format: y: bad", "writing x.gpkg: y: bad"},
		{"walknet: streets.osm.pbf: coverage: no node", "streets.osm.pbf: no node"},
		{"two\nlines", "two lines"},
		{"a sitemap: not a package", "a sitemap: not a package"},
		{"formats: csv", "formats: csv"},
	} {
		if got := forPeople(errors.New(tc.in)); got != tc.want {
			t.Errorf("%q printed as %q, want %q", tc.in, got, tc.want)
		}
	}
	out := t.TempDir()
	bad := filepath.Join(out, "pop.csv")
	os.WriteFile(bad, []byte("h3,population\n89309820003ffff,-4\n"), 0o644)
	code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", bad, "--out", filepath.Join(out, "r"), "--quiet")
	if code != 1 || stderr != "walkshed analyze: "+bad+":2: negative population -4\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		if code, stdout, _ := walkshed(t, arg); code != 0 || stdout != "walkshed "+version+"\n" {
			t.Errorf("walkshed %s: exit %d, %q", arg, code, stdout)
		}
	}
}

// Settings outside walking get a warning in words; the run goes on.
func TestSettingWarnings(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--speed-kmh", "200"}, "warning: --speed-kmh 200 is outside walking speeds (2 to 7 km/h)"},
		{[]string{"--speed-kmh", "1.2"}, "warning: --speed-kmh 1.2 is outside walking speeds (2 to 7 km/h); 1.2 m/s would be 4.32 km/h"},
		{[]string{"--minutes", "1e9"}, "warning: --minutes 1e+09 is more than a 3-hour walk"},
		{[]string{"--minutes", "900"}, "did you mean 15?"},
		{nil, ""},
	} {
		args := append([]string{"analyze", "--stations", small("stations.csv"), "--population", small("population.csv"), "--format", "csv", "--quiet", "--out", t.TempDir()}, tc.args...)
		code, _, stderr := walkshed(t, args...)
		if code != 0 || (tc.want == "" && strings.Contains(stderr, "warning")) || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
}

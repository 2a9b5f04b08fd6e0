package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
)

// smallStations are testdata/small's stations: id, name, lon, lat.
var smallStations = [][4]string{
	{"A", "北站", "10.7500", "59.9200"},
	{"B", "南站", "10.7700", "59.9050"},
	{"C", "西站", "10.7200", "59.9120"},
}

// dirFiles reads every file of dir, for before/after comparisons.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names(t, dir) {
		out[n] = string(mustRead(t, filepath.Join(dir, n)))
	}
	return out
}

// The files planners have, through the command line: each either gives
// the same cells as the plain file, or is refused (or warned about) with
// its own message, a non-zero exit and the previous outputs untouched.
func TestPlannersFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var plain strings.Builder
	plain.WriteString("id,name,lon,lat\n")
	for _, s := range smallStations {
		fmt.Fprintf(&plain, "%s,%s,%s,%s\n", s[0], s[1], s[2], s[3])
	}
	plainPath := write("plain.csv", []byte(plain.String()))

	// GBK, as Chinese Excel saves it, with Chinese headers.
	var zh strings.Builder
	zh.WriteString("编号,名称,经度,纬度\r\n")
	for _, s := range smallStations {
		fmt.Fprintf(&zh, "%s,%s,%s,%s\r\n", s[0], s[1], s[2], s[3])
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(zh.String()))
	if err != nil {
		t.Fatal(err)
	}
	// Semicolons with decimal commas, old Mac line ends, Excel's sep= line.
	var semi strings.Builder
	semi.WriteString("sep=;\rid;lon;lat\r")
	for _, s := range smallStations {
		fmt.Fprintf(&semi, "%s;%s;%s\r", s[0], strings.Replace(s[2], ".", ",", 1), strings.Replace(s[3], ".", ",", 1))
	}
	// A zip holding the CSV; a gzipped population.
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	f, _ := zw.Create("stations/plain.csv")
	f.Write([]byte(plain.String()))
	zw.Close()
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(mustRead(t, small("population.csv")))
	gw.Close()
	// UTM zone 32N metres (Oslo), as a national grid export gives them.
	utm, err := crs.ByEPSG(32632)
	if err != nil {
		t.Fatal(err)
	}
	var metres strings.Builder
	metres.WriteString("id,x,y\n")
	for _, s := range smallStations {
		x, y, err := utm.FromWGS84(num(t, s[2]), num(t, s[3]))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&metres, "%s,%.3f,%.3f\n", s[0], x, y)
	}
	var swapped, odd strings.Builder
	swapped.WriteString("id,lon,lat\n")
	odd.WriteString("id,E_deg,N_deg\n")
	for _, s := range smallStations {
		fmt.Fprintf(&swapped, "%s,%s,%s\n", s[0], s[3], s[2])
		fmt.Fprintf(&odd, "%s,%s,%s\n", s[0], s[2], s[3])
	}
	c, err := coverage.CellOf(orb.Point{10.75, 59.92}, 9)
	if err != nil {
		t.Fatal(err)
	}

	// The plain run every accepted case must equal, and a result folder to
	// check that refusals leave it as it was.
	ref := filepath.Join(dir, "ref")
	args := func(stations, pop, out string, more ...string) []string {
		return append([]string{"analyze", "--stations", stations, "--population", pop, "--format", "csv", "--quiet", "--out", out}, more...)
	}
	if code, _, stderr := walkshed(t, args(plainPath, small("population.csv"), ref)...); code != 0 {
		t.Fatal(stderr)
	}
	refCells := string(mustRead(t, filepath.Join(ref, "cells.csv")))

	for _, tc := range []struct {
		name       string
		stations   string
		population string
		more       []string
		code       int
		want       string // in stderr
		sameCells  bool   // cells.csv equals the plain run's
	}{
		{"GBK with Chinese headers", write("zh.csv", gbk), "", nil, 0, "", true},
		{"semicolons, decimal commas, CR line ends, sep=", write("semi.csv", []byte(semi.String())), "", nil, 0, "", true},
		{"zipped stations", write("stations.zip", zbuf.Bytes()), "", nil, 0, "", true},
		{"gzipped population", plainPath, write("population.csv.gz", gz.Bytes()), nil, 0, "", true},
		{"columns named on the command line", write("odd.csv", []byte(odd.String())), "", []string{"--lon-col", "E_deg", "--lat-col", "N_deg"}, 0, "", true},
		{"projected metres without a CRS", write("metres.csv", []byte(metres.String())), "", nil, 1,
			"look like projected coordinates in metres", false},
		{"projected metres named by the zone", write("metres.csv", []byte(metres.String())), "", nil, 1, "EPSG:32632", false},
		{"projected metres with --crs", write("metres.csv", []byte(metres.String())), "", []string{"--crs", "EPSG:32632"}, 0, "", true},
		{"swapped columns", write("swapped.csv", []byte(swapped.String())), "", nil, 1, "look swapped", false},
		{"a station at (0, 0)", write("zero.csv", []byte(plain.String()+"Z,zero,0,0\n")), "", nil, 1, "position (0, 0)", false},
		{"one H3 row with 1e12 people", plainPath, write("huge.csv", []byte("h3,population\n"+c.String()+",1e12\n")), nil, 1,
			"more than any place on Earth holds", false},
		{"a repeated H3 row", plainPath, write("repeat.csv", []byte("h3,population\n"+c.String()+",10\n"+c.String()+",5\n")), nil, 0,
			"warning: " + filepath.Join(dir, "repeat.csv") + ":3: 1 row repeats the H3 cell of an earlier row", false},
		{"an unknown --crs", plainPath, "", []string{"--crs", "EPSG:99999"}, 2, "--crs EPSG:99999", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pop := tc.population
			if pop == "" {
				pop = small("population.csv")
			}
			out := filepath.Join(t.TempDir(), "out")
			if code, _, stderr := walkshed(t, args(plainPath, small("population.csv"), out)...); code != 0 {
				t.Fatal(stderr)
			}
			before := dirFiles(t, out)
			code, _, stderr := walkshed(t, args(tc.stations, pop, out, tc.more...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if strings.Contains(stderr, "format:") || strings.Contains(stderr, "coverage:") {
				t.Errorf("message names a package: %q", stderr)
			}
			if tc.code != 0 {
				if after := dirFiles(t, out); len(after) != len(before) || after["cells.csv"] != before["cells.csv"] || after[manifestName] != before[manifestName] {
					t.Error("a refused run changed the previous outputs")
				}
				if n := strings.Count(strings.TrimSpace(stderr), "\n"); tc.code == 1 && n > 0 {
					t.Errorf("want one line of error, got:\n%s", stderr)
				}
				return
			}
			if !tc.sameCells {
				return
			}
			got := readCSV(t, filepath.Join(out, "cells.csv"))
			want := readCSV(t, filepath.Join(ref, "cells.csv"))
			if len(got) != len(want) {
				t.Fatalf("%d cells, the plain file gives %d", len(got), len(want))
			}
			for i := range got {
				if got[i]["h3"] != want[i]["h3"] || got[i]["nearest_station"] != want[i]["nearest_station"] || got[i]["covered"] != want[i]["covered"] ||
					math.Abs(num(t, got[i]["minutes"])-num(t, want[i]["minutes"])) > 1.5e-4 { // one unit of the 4th decimal
					t.Fatalf("cell %d: %v, the plain file gives %v", i, got[i], want[i])
				}
			}
			if tc.more == nil && string(mustRead(t, filepath.Join(out, "cells.csv"))) != refCells {
				t.Error("cells.csv differs from the plain run's byte for byte")
			}
		})
	}

	// Names come out as valid UTF-8 everywhere: the GeoPackage of the GBK
	// file holds the Chinese names.
	out := filepath.Join(dir, "zh")
	if code, _, stderr := walkshed(t, "analyze", "--stations", filepath.Join(dir, "zh.csv"), "--population", small("population.csv"), "--format", "gpkg", "--quiet", "--out", out); code != 0 {
		t.Fatal(stderr)
	}
	st, err := gpkg.ReadStations(filepath.Join(out, "walkshed.gpkg"), "id", "name", gpkg.ReadOptions{Layer: "stations"})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		if s.ID != smallStations[i][0] || s.Name != smallStations[i][1] {
			t.Errorf("station %d: %q %q, want %q %q", i, s.ID, s.Name, smallStations[i][0], smallStations[i][1])
		}
	}
}

// Porto Alegre's real health facilities with longitude and latitude
// exchanged under a lon,lat header: both values are in range, and the
// command says they look swapped instead of reporting 0% covered.
func TestPortoAlegreSwappedStations(t *testing.T) {
	grid := filepath.Join(sharedData(t, "porto_alegre"), "poa_hexgrid.csv")
	var st strings.Builder
	st.WriteString("id,lon,lat\n")
	n := 0
	for _, r := range readCSV(t, grid) {
		if r["healthcare"] != "0" && r["healthcare"] != "" {
			fmt.Fprintf(&st, "%s,%s,%s\n", r["id"], r["lat"], r["lon"])
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d facilities in the grid", n)
	}
	swapped := filepath.Join(t.TempDir(), "swapped.csv")
	os.WriteFile(swapped, []byte(st.String()), 0o644)
	code, _, stderr := walkshed(t, "analyze", "--stations", swapped, "--population", grid, "--quiet", "--out", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "look swapped") || !strings.Contains(stderr, swapped) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

package format

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// The fuzz targets feed arbitrary bytes to the readers: each call must end
// with a value that passes the readers' own promises, or with an error that
// starts "format: FILE" and fits on one line. Seeds are the files under
// testdata/read and the bad-input table's contents.

func addSeeds(f *testing.F, ext string, reader string) {
	files, err := filepath.Glob(filepath.Join("testdata", "read", "*"+ext))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, c := range badCases {
		if c.reader == reader || reader == "" && strings.HasSuffix(c.file, "json") {
			f.Add([]byte(c.content))
		}
	}
}

// fuzzInput writes b to a fresh file in dir.
func fuzzInput(t *testing.T, dir, ext string, b []byte) string {
	fh, err := os.CreateTemp(dir, "in-*"+ext)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(fh.Name()) })
	return fh.Name()
}

// checkRejection: the error starts "format: PATH", fits on one line, and
// when it names a line ("format: PATH:N: …"), N is a line of the input b.
func checkRejection(t *testing.T, path string, b []byte, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "format: "+path) {
		t.Fatalf("error %q does not start with %q", msg, "format: "+path)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error %q spans lines", msg)
	}
	if rest := msg[len("format: "+path):]; strings.HasPrefix(rest, ":") && !strings.HasPrefix(rest, ": ") {
		if n := lineOf(msg, path); n < 1 || n > inputLines(b) {
			t.Fatalf("error %q names line %d of a %d-line input", msg, n, inputLines(b))
		}
	}
}

func validPos(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && math.Abs(p[0]) <= 180 && math.Abs(p[1]) <= 90
}

func checkStations(t *testing.T, st []coverage.Station) {
	t.Helper()
	if len(st) == 0 {
		t.Fatal("no stations and no error")
	}
	seen := map[string]bool{}
	for _, s := range st {
		if s.ID == "" || seen[s.ID] {
			t.Fatalf("empty or repeated id %q", s.ID)
		}
		seen[s.ID] = true
		if !validPos(s.Pos) {
			t.Fatalf("station %q at invalid position %v", s.ID, s.Pos)
		}
	}
}

func checkPopulation(t *testing.T, pop coverage.Population) {
	t.Helper()
	if len(pop.Points)+len(pop.Cells)+len(pop.Polygons) == 0 {
		t.Fatal("no population and no error")
	}
	ok := func(n float64) bool { return n >= 0 && !math.IsInf(n, 0) }
	for _, p := range pop.Points {
		if !ok(p.Population) || !validPos(p.Pos) {
			t.Fatalf("bad point %+v", p)
		}
	}
	for _, c := range pop.Cells {
		if !ok(c.Population) || !c.H3.IsValid() || c.H3.Resolution() != pop.Cells[0].H3.Resolution() {
			t.Fatalf("bad cell %+v", c)
		}
	}
	for _, p := range pop.Polygons {
		if !ok(p.Population) {
			t.Fatalf("bad polygon population %v", p.Population)
		}
		checkMultiPolygon(t, p.Geom)
	}
}

func checkMultiPolygon(t *testing.T, mp orb.MultiPolygon) {
	t.Helper()
	if len(mp) == 0 {
		t.Fatal("empty multipolygon")
	}
	for _, poly := range mp {
		if len(poly) == 0 {
			t.Fatal("polygon without rings")
		}
		for _, r := range poly {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				t.Fatalf("open or short ring %v", r)
			}
			for _, p := range r {
				if !validPos(p) {
					t.Fatalf("invalid position %v", p)
				}
			}
		}
	}
}

// FuzzReadStationsCSV: accepted stations have distinct ids and valid
// positions, no more than the file has data lines, and a plain rewrite
// (id,name,tier,lon,lat with every digit) reads back the same stations.
func FuzzReadStationsCSV(f *testing.F) {
	addSeeds(f, ".csv", "stations")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".csv", b)
		for _, opt := range []PointOptions{{}, {Where: "healthcare>0"}} {
			st, err := ReadStations(path, opt)
			if err != nil {
				checkRejection(t, path, b, err)
				continue
			}
			checkStations(t, st)
			if isJSONInput(b) {
				continue
			}
			if len(st) > inputLines(b)-1 {
				t.Fatalf("%d stations from %d lines", len(st), inputLines(b))
			}
			rows := [][]string{{"id", "name", "tier", "lon", "lat"}}
			for _, s := range st {
				rows = append(rows, []string{s.ID, s.Name, s.Tier, exact(s.Pos[0]), exact(s.Pos[1])})
			}
			again, err := ReadStations(fuzzInput(t, dir, ".csv", csvBytes(t, rows)), PointOptions{})
			if err != nil || !reflect.DeepEqual(again, st) {
				t.Fatalf("stations %+v rewritten read as %+v (%v)", st, again, err)
			}
		}
	})
}

// FuzzReadPopulationCSV: accepted populations are finite, not negative, at
// valid positions or cells of one resolution, no more than the data lines,
// and a plain rewrite (lon,lat,population or h3,population) reads back the
// same rows.
func FuzzReadPopulationCSV(f *testing.F) {
	addSeeds(f, ".csv", "population")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".csv", b)
		pop, err := ReadPopulation(path, PopulationOptions{})
		if err != nil {
			checkRejection(t, path, b, err)
			return
		}
		checkPopulation(t, pop)
		if isJSONInput(b) {
			return
		}
		if n := len(pop.Points) + len(pop.Cells); n > inputLines(b)-1 || len(pop.Polygons) > 0 {
			t.Fatalf("%d rows and %d polygons from %d lines", n, len(pop.Polygons), inputLines(b))
		}
		rows := [][]string{{"lon", "lat", "population"}}
		for _, p := range pop.Points {
			rows = append(rows, []string{exact(p.Pos[0]), exact(p.Pos[1]), exact(p.Population)})
		}
		if len(pop.Cells) > 0 {
			rows = [][]string{{"h3", "population"}}
			for _, c := range pop.Cells {
				rows = append(rows, []string{c.H3.String(), exact(c.Population)})
			}
		}
		again, err := ReadPopulation(fuzzInput(t, dir, ".csv", csvBytes(t, rows)), PopulationOptions{})
		if err != nil || !reflect.DeepEqual(again, pop) {
			t.Fatalf("population %+v rewritten read as %+v (%v)", pop, again, err)
		}
	})
}

// isJSONInput: the readers take a file whose first byte that is not white
// space (after a byte order mark) is '{' as GeoJSON.
func isJSONInput(b []byte) bool {
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

func exact(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func csvBytes(t *testing.T, rows [][]string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzReadGeoJSON(f *testing.F) {
	addSeeds(f, ".geojson", "")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".geojson", b)
		if st, err := ReadStations(path, PointOptions{}); err != nil {
			checkRejection(t, path, b, err)
		} else {
			checkStations(t, st)
		}
		if pop, err := ReadPopulation(path, PopulationOptions{Where: "population>=0"}); err != nil {
			checkRejection(t, path, b, err)
		} else {
			checkPopulation(t, pop)
		}
		if areas, err := ReadAreas(path, AreaOptions{}); err != nil {
			checkRejection(t, path, b, err)
		} else {
			for _, a := range areas {
				if a.Name == "" {
					t.Fatal("area without a name")
				}
				checkMultiPolygon(t, a.Geom)
			}
		}
	})
}

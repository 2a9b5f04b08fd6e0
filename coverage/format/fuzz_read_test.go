package format

import (
	"math"
	"os"
	"path/filepath"
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

func checkRejection(t *testing.T, path string, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "format: "+path) {
		t.Fatalf("error %q does not start with %q", msg, "format: "+path)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error %q spans lines", msg)
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

func FuzzReadStationsCSV(f *testing.F) {
	addSeeds(f, ".csv", "stations")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".csv", b)
		for _, opt := range []PointOptions{{}, {Where: "healthcare>0"}} {
			st, err := ReadStations(path, opt)
			if err != nil {
				checkRejection(t, path, err)
				continue
			}
			checkStations(t, st)
		}
	})
}

func FuzzReadPopulationCSV(f *testing.F) {
	addSeeds(f, ".csv", "population")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".csv", b)
		pop, err := ReadPopulation(path, PopulationOptions{})
		if err != nil {
			checkRejection(t, path, err)
			return
		}
		checkPopulation(t, pop)
	})
}

func FuzzReadGeoJSON(f *testing.F) {
	addSeeds(f, ".geojson", "")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".geojson", b)
		if st, err := ReadStations(path, PointOptions{}); err != nil {
			checkRejection(t, path, err)
		} else {
			checkStations(t, st)
		}
		if pop, err := ReadPopulation(path, PopulationOptions{Where: "population>=0"}); err != nil {
			checkRejection(t, path, err)
		} else {
			checkPopulation(t, pop)
		}
		if areas, err := ReadAreas(path, AreaOptions{}); err != nil {
			checkRejection(t, path, err)
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

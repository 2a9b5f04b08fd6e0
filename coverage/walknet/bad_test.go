package walknet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

func TestBadFiles(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, data, want string
	}{
		{"not-osm.csv", "id,lon,lat\n1,2,3\n", "not an OSM file"},
		{"empty.osm", "", "not an OSM file"},
		{"broken.osm", "<osm><node id=\"1\" lat=\"0\" lon=\"0\"/><way id=\"2\"><nd ref=\"1\"/>", "broken.osm"},
		{"nowalk.osm", `<osm><node id="1" lat="0" lon="0"/><node id="2" lat="0" lon="1"/>` +
			`<way id="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="motorway"/></way>` +
			`<way id="4"><nd ref="1"/><nd ref="2"/><tag k="waterway" v="river"/></way></osm>`, "no walkable way"},
	}
	for _, c := range cases {
		_, err := LoadReader(ctx, strings.NewReader(c.data), c.name, Options{MinComponent: 1})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: error %v, want one naming the file and saying %q", c.name, err, c.want)
		}
	}
	if _, err := Load(ctx, filepath.Join(t.TempDir(), "missing.pbf"), Options{}); err == nil || !strings.Contains(err.Error(), "missing.pbf") {
		t.Errorf("missing file: %v", err)
	}
}

func TestTruncatedPBF(t *testing.T) {
	dir := sharedData(t, "porto_alegre")
	b, err := os.ReadFile(filepath.Join(dir, "poa_osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{len(b) / 2, len(b) - 1000, 100} {
		path := filepath.Join(t.TempDir(), "cut.osm.pbf")
		if err := os.WriteFile(path, b[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(context.Background(), path, Options{})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("cut at %d bytes: error %v, want one naming the file", n, err)
		} else {
			t.Logf("cut at %d: %v", n, err)
		}
		// The same through a plain reader (held in memory).
		_, err = LoadReader(context.Background(), bytes.NewBuffer(b[:n]), "stream.pbf", Options{})
		if err == nil || !strings.Contains(err.Error(), "stream.pbf") {
			t.Errorf("stream cut at %d bytes: error %v", n, err)
		}
	}
	// Whole, through a non-seekable reader, the graph is the same as from the file.
	g1, err := Load(context.Background(), filepath.Join(dir, "poa_osm.pbf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := LoadReader(context.Background(), bytes.NewBuffer(b), "stream.pbf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g1.Stats() != g2.Stats() {
		t.Errorf("file %+v, stream %+v", g1.Stats(), g2.Stats())
	}
}

// FuzzXML feeds arbitrary bytes to the reader: no panic, no hang, and a
// graph that loads answers a search.
func FuzzXML(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.osm"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<osm><way id="1"><nd ref="1"/><nd ref="1"/><tag k="highway" v=""/></way></osm>`))
	f.Add([]byte(`<osm><node id="1" lat="91" lon="400"/><node id="2" lat="NaN" lon="0"/><way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="path"/></way></osm>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hung := func(err error) {
			t.Helper()
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%d bytes of XML took over 5 s: %v", len(data), err)
			}
		}
		g, err := LoadReader(ctx, bytes.NewReader(data), "fuzz.osm", Options{MinComponent: 1})
		if err != nil {
			hung(err)
			if !strings.Contains(err.Error(), "fuzz.osm") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		r, err := NewReach(ctx, g, cellsAt(orb.Point{0.001, 0.001}, orb.Point{0, 0}), testSpeed, 60, Options{})
		if err != nil {
			hung(err)
			return
		}
		out := make([]coverage.Access, 2)
		if err := r.Nearest(ctx, []orb.Point{{0, 0}}, nil, out); err != nil {
			hung(err)
			t.Fatalf("a loaded graph cannot answer a search: %v", err)
		}
		for i, a := range out {
			// One station: a cell is reached by it, within the bound, or by none.
			reached := a.Minutes.Reached() && a.Minutes >= 0 && a.Minutes <= 60 && a.Station == 0
			if !reached && a != coverage.NoAccess {
				t.Fatalf("cell %d: %+v is neither a time from station 0 within the bound nor no access", i, a)
			}
		}
		err = r.Within(ctx, orb.Point{0, 0}, 30, func(i int32, m coverage.Minutes) {
			if i < 0 || i > 1 || !(m >= 0 && m <= 30) {
				t.Fatalf("Within gave cell %d at %v min, outside 0..30", i, m)
			}
		})
		hung(err)
	})
}

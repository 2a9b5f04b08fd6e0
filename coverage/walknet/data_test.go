package walknet

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"github.com/walkshed/walkshed/coverage/testenv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// sharedData is ../shared/data/<sub> beside the module root, or a skip.
func sharedData(t testing.TB, sub string) string { return testenv.SharedData(t, sub) }

func TestPortoAlegre(t *testing.T) {
	dir := sharedData(t, "porto_alegre")
	f, err := os.ReadFile(filepath.Join(dir, "poa_hexgrid.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var stations []orb.Point
	var cells []coverage.Cell
	for _, r := range rows[1:] {
		lon, _ := strconv.ParseFloat(r[col["lon"]], 64)
		lat, _ := strconv.ParseFloat(r[col["lat"]], 64)
		if hc, _ := strconv.ParseFloat(r[col["healthcare"]], 64); hc > 0 {
			stations = append(stations, orb.Point{lon, lat})
		}
		if pop, _ := strconv.ParseFloat(r[col["population"]], 64); pop > 0 {
			h, err := coverage.CellOf(orb.Point{lon, lat}, 9)
			if err != nil {
				t.Fatal(err)
			}
			cells = append(cells, coverage.Cell{H3: h, Pos: coverage.CellCenter(h), Population: pop})
		}
	}
	ctx := context.Background()
	g, err := Load(ctx, filepath.Join(dir, "poa_osm.pbf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("graph %+v", g.Stats())
	const threshold coverage.Minutes = 15
	r, err := NewReach(ctx, g, cells, testSpeed, 4*threshold, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]coverage.Access, len(cells))
	if err := r.Nearest(ctx, stations, nil, out); err != nil {
		t.Fatal(err)
	}
	var pop, netCov, crowCov float64
	for i, c := range cells {
		crow := math.Inf(1)
		for _, s := range stations {
			crow = math.Min(crow, float64(coverage.Distance(c.Pos, s)))
		}
		crowMin := testSpeed.Walk(coverage.Meters(crow))
		if out[i].Minutes.Reached() && float64(out[i].Minutes) < float64(crowMin)-1e-9 {
			t.Errorf("cell %v: network %.6f min < straight line %.6f min", c.H3, out[i].Minutes, crowMin)
		}
		pop += c.Population
		if out[i].Minutes <= threshold {
			netCov += c.Population
		}
		if crowMin <= threshold {
			crowCov += c.Population
		}
	}
	t.Logf("%d stations (%d unsnapped), %d cells; covered in 15 min at 4 km/h: network %.1f%%, straight line %.1f%%",
		len(stations), r.UnsnappedStations(), len(cells), 100*netCov/pop, 100*crowCov/pop)
	t.Logf("network stats %v", r.Stats())
	if netCov > crowCov {
		t.Errorf("network covers more (%.0f) than the straight line (%.0f)", netCov, crowCov)
	}
}

func TestShanghaiCentral(t *testing.T) {
	dir := sharedData(t, "shanghai_central")
	b, err := os.ReadFile(filepath.Join(dir, "sh_busstop.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry struct {
				Type        string    `json:"type"`
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	var stops []orb.Point
	for _, f := range fc.Features {
		if f.Geometry.Type == "Point" && len(f.Geometry.Coordinates) >= 2 {
			stops = append(stops, orb.Point{f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]})
		}
	}
	osmPath := filepath.Join(dir, "shanghai_central_drive.osm")
	// The extract's bounds, from its <bounds> element.
	head, err := os.ReadFile(osmPath)
	if err != nil {
		t.Fatal(err)
	}
	bounds := parseBounds(t, string(head[:min(len(head), 4096)]))

	ctx := context.Background()
	g, err := Load(ctx, osmPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("graph %+v", g.Stats())
	// Cells: the H3 res-9 cells of the stops, so some lie outside too.
	seen := map[string]bool{}
	var cells []coverage.Cell
	for _, p := range stops {
		h, err := coverage.CellOf(p, 9)
		if err != nil {
			t.Fatal(err)
		}
		if !seen[h.String()] {
			seen[h.String()] = true
			cells = append(cells, coverage.Cell{H3: h, Pos: coverage.CellCenter(h), Population: 1})
		}
	}
	r, err := NewReach(ctx, g, cells, testSpeed, 60, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]coverage.Access, len(cells))
	if err := r.Nearest(ctx, stops, nil, out); err != nil {
		t.Fatal(err)
	}
	inside, outside := 0, 0
	snaps := r.SnapStations(stops)
	unsnapped := 0
	for i, p := range stops {
		if !snaps[i].Snapped {
			unsnapped++
		}
		if bounds.Contains(p) {
			inside++
			if !snaps[i].Snapped || snaps[i].Leg > 100 {
				t.Errorf("stop %d at %v inside the extract snaps %.1f m away", i, p, snaps[i].Leg)
			}
		} else {
			outside++
		}
	}
	if r.UnsnappedStations() != unsnapped {
		t.Errorf("UnsnappedStations %d, SnapStations counts %d", r.UnsnappedStations(), unsnapped)
	}
	if outside > 0 && unsnapped == 0 {
		t.Errorf("%d stops outside the extract, none reported unsnapped", outside)
	}
	reached := 0
	for _, a := range out {
		if a.Minutes.Reached() {
			reached++
		}
	}
	t.Logf("%d stops: %d inside the extract, %d outside, %d unsnapped; %d of %d cells reached; stats %v",
		len(stops), inside, outside, unsnapped, reached, len(cells), r.Stats())
}

func parseBounds(t *testing.T, head string) orb.Bound {
	i := strings.Index(head, "<bounds")
	if i < 0 {
		t.Fatal("no <bounds> element")
	}
	j := strings.Index(head[i:], "/>")
	attr := func(k string) float64 {
		s := head[i : i+j]
		p := strings.Index(s, k+`="`)
		if p < 0 {
			t.Fatalf("bounds without %s", k)
		}
		s = s[p+len(k)+2:]
		v, err := strconv.ParseFloat(s[:strings.IndexByte(s, '"')], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return orb.Bound{Min: orb.Point{attr("minlon"), attr("minlat")}, Max: orb.Point{attr("maxlon"), attr("maxlat")}}
}

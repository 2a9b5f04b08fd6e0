package walknet

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/testenv"
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
	// Every cell's walk and nearest station against brute force (snaps by
	// scanning the streets near each point, a plain Dijkstra per station),
	// and Within from every tenth station.
	r, out, walk := crossCheckCells(t, g, cells, stations, 4*threshold, float64(DefaultMaxSnap), 10)
	if n := r.UnsnappedStations(); n != 0 {
		t.Errorf("%d stations unsnapped, want none", n)
	}
	thresholdM := float64(threshold) * testSpeed.MetersPerMinute()
	var pop, netCov, bruteCov, onEdge, crowCov float64
	reached, bruteReached := 0, 0
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
		if out[i].Minutes.Reached() {
			reached++
		}
		switch {
		case math.Abs(walk[i]-thresholdM) < 1e-6:
			onEdge += c.Population
		case walk[i] < thresholdM:
			bruteCov += c.Population
		}
		if walk[i] <= 4*thresholdM {
			bruteReached++
		}
		if crowMin <= threshold {
			crowCov += c.Population
		}
	}
	t.Logf("%d stations, %d cells (%d reached); covered in 15 min at 4 km/h: network %.2f%% (brute force %.2f%%), straight line %.2f%%",
		len(stations), len(cells), reached, 100*netCov/pop, 100*bruteCov/pop, 100*crowCov/pop)
	// The shares agree with brute force (up to cells on the threshold to a
	// micrometre), and the walk leaves people out that the straight line
	// covers, but not everyone: a result where nothing or everything is
	// reached fails here.
	if netCov < bruteCov || netCov > bruteCov+onEdge || reached != bruteReached {
		t.Errorf("network covers %.0f people and reaches %d cells; brute force %.0f (+%.0f on the threshold) and %d", netCov, reached, bruteCov, onEdge, bruteReached)
	}
	if netCov > crowCov || netCov < 0.5*pop || crowCov-netCov < 0.05*pop || reached < len(cells)*9/10 {
		t.Errorf("network covers %.0f of %.0f people and reaches %d of %d cells, the straight line covers %.0f", netCov, pop, reached, len(cells), crowCov)
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
	// Every cell's walk against brute force, and Within from every stop.
	r, out, walk := crossCheckCells(t, g, cells, stops, 60, float64(DefaultMaxSnap), 1)
	inside, outside := 0, 0
	snaps := r.SnapStations(stops)
	unsnapped := 0
	for i, p := range stops {
		if !snaps[i].Snapped {
			unsnapped++
		}
		// The leg against brute force, however far the stop is.
		if bs := bruteSnapNear(g, p, float64(snaps[i].Leg), nil); !near(float64(snaps[i].Leg), bs.leg, 1e-6) || snaps[i].Snapped != (bs.leg <= float64(DefaultMaxSnap)) {
			t.Errorf("stop %d at %v: leg %.6f m (snapped %v), brute force %.6f m", i, p, snaps[i].Leg, snaps[i].Snapped, bs.leg)
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
	reached, bruteReached := 0, 0
	for i, a := range out {
		if a.Minutes.Reached() {
			reached++
		}
		if walk[i] <= 60*testSpeed.MetersPerMinute() {
			bruteReached++
		}
	}
	t.Logf("%d stops: %d inside the extract, %d outside, %d unsnapped; %d of %d cells reached; stats %v",
		len(stops), inside, outside, unsnapped, reached, len(cells), r.Stats())
	// The extract holds only some stops: some cells are reached, not all.
	if reached != bruteReached || reached == 0 || reached == len(cells) {
		t.Errorf("%d of %d cells reached, brute force %d", reached, len(cells), bruteReached)
	}
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

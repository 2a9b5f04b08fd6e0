package gpkg

import (
	"github.com/walkshed/walkshed/coverage/testenv"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
)

// fixture is a small hand-made result: a disk of cells around two
// stations, and 3 km east a ring of six uncovered cells around an empty
// centre, so the one gap has a hole.
type fixture struct {
	r        *coverage.Result
	opt      WriteOptions
	ring     []int32 // indices of the gap's cells
	minutes  []coverage.Minutes
	nearest  []int // independent nearest station per cell, -1 none
	unreach  map[int]bool
	gapHole  orb.Ring
	areaGeom orb.MultiPolygon
}

func mustCell(t testing.TB, p orb.Point) h3.Cell {
	t.Helper()
	c, err := coverage.CellOf(p, 9)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	set := coverage.Settings{Res: 9, Minutes: 15, SpeedKmh: 4}
	c0 := mustCell(t, orb.Point{121.4737, 31.2304})
	c1 := mustCell(t, orb.Point{121.5050, 31.2304})
	ringCells := h3.GridDiskDistances(c1, 1)[1]
	all := append(h3.GridDisk(c0, 2), ringCells...)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	stations := []coverage.Station{
		{ID: "S1", Name: "Renmin Square station", Tier: "district", Pos: orb.Point{121.4741, 31.2309}},
		{ID: "S2", Name: "Xizang Road station", Tier: "subdistrict", Pos: orb.Point{121.4790, 31.2330}},
	}
	f := &fixture{unreach: map[int]bool{}}
	r := &coverage.Result{Settings: set, Mode: "crow", Bound: coverage.Unreached, Stations: stations,
		Created: time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)}
	inRing := map[h3.Cell]bool{}
	for _, c := range ringCells {
		inRing[c] = true
	}
	var snap []float64
	for i, c := range all {
		r.Cells = append(r.Cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: float64(100 + 7*i)})
		best, bi := math.Inf(1), -1
		reach := int32(0)
		for s, st := range stations {
			m := float64(set.SpeedKmh.Walk(coverage.Distance(r.Cells[i].Pos, st.Pos)))
			if m < best {
				best, bi = m, s
			}
			if m <= float64(set.Minutes) {
				reach++
			}
		}
		acc := coverage.Access{Minutes: coverage.Minutes(best), Station: int32(bi)}
		if inRing[c] && len(f.unreach) < 2 {
			// As a network model's bound would: no station reached.
			acc, bi = coverage.NoAccess, -1
			f.unreach[i] = true
		}
		if inRing[c] {
			f.ring = append(f.ring, int32(i))
		}
		r.Access = append(r.Access, acc)
		r.InReach = append(r.InReach, reach)
		f.minutes = append(f.minutes, acc.Minutes)
		f.nearest = append(f.nearest, bi)
		if i%5 == 0 {
			snap = append(snap, math.NaN())
		} else {
			snap = append(snap, float64(i)*3.25)
		}
	}
	var gpop float64
	maxm := coverage.Minutes(0)
	var gcells []h3.Cell
	for _, i := range f.ring {
		gpop += r.Cells[i].Population
		gcells = append(gcells, r.Cells[i].H3)
		if !r.Access[i].Minutes.Reached() || r.Access[i].Minutes > maxm {
			maxm = r.Access[i].Minutes
		}
	}
	outline := dissolve(t, gcells)
	if len(outline) != 2 {
		t.Fatalf("fixture gap outline has %d rings, want outer + hole", len(outline))
	}
	f.gapHole = outline[1]
	r.Gaps = []coverage.Gap{{ID: 1, Population: gpop, Cells: f.ring, Point: r.Cells[f.ring[0]].Pos, Outline: outline, MaxMinutes: coverage.Unreached}}
	b := orb.Bound{Min: orb.Point{121.45, 31.21}, Max: orb.Point{121.53, 31.25}}
	f.areaGeom = orb.MultiPolygon{b.ToPolygon()}
	r.Areas = []coverage.AreaSummary{
		{Level: "area", Name: "Huangpu", Parent: "Shanghai", Population: 1000, CoveredPopulation: 600, Cells: len(all), Stations: 2, Gaps: 1, Geom: f.areaGeom},
		{Level: "parent", Name: "Shanghai", Population: 1000, CoveredPopulation: 600, Cells: len(all), Stations: 2, Gaps: 1},
	}
	f.opt = WriteOptions{
		Snap: snap,
		Proposals: []Proposal{
			{Rank: 1, ID: "c1", H3: r.Cells[f.ring[2]].H3.String(), Pos: r.Cells[f.ring[2]].Pos, Added: 400, Covered: 1400, Share: 0.8},
			{Rank: 2, ID: "c2", H3: r.Cells[f.ring[4]].H3.String(), Pos: r.Cells[f.ring[4]].Pos, Added: 100, Covered: 1500, Share: 0.9},
		},
		Run: []KeyValue{{"version", "test"}, {"stations_file", "stations.csv"}, {"stations_file_bytes", "1234"}},
	}
	f.r = r
	return f
}

// dissolve merges the cells' boundaries the slow, obvious way: drop every
// edge that also appears reversed, then chain what is left into rings.
func dissolve(t testing.TB, cells []h3.Cell) orb.Polygon {
	type key [2]int64
	k := func(p orb.Point) key { return key{int64(math.Round(p[0] * 1e9)), int64(math.Round(p[1] * 1e9))} }
	type edge struct{ a, b orb.Point }
	edges := map[[2]key]edge{}
	for _, c := range cells {
		r := coverage.CellRing(c)
		for i := 0; i+1 < len(r); i++ {
			e := [2]key{k(r[i]), k(r[i+1])}
			rev := [2]key{e[1], e[0]}
			if _, ok := edges[rev]; ok {
				delete(edges, rev)
				continue
			}
			edges[e] = edge{r[i], r[i+1]}
		}
	}
	next := map[key]edge{}
	for e, v := range edges {
		next[e[0]] = v
	}
	var rings []orb.Ring
	for len(next) > 0 {
		var start key
		for s := range next {
			start = s
			break
		}
		var ring orb.Ring
		cur := start
		for {
			e, ok := next[cur]
			if !ok {
				t.Fatal("dissolve: open ring")
			}
			delete(next, cur)
			ring = append(ring, e.a)
			cur = k(e.b)
			if cur == start {
				break
			}
		}
		ring = append(ring, ring[0])
		rings = append(rings, ring)
	}
	var p orb.Polygon
	for _, r := range rings {
		if shoelace(r) > 0 {
			p = append(orb.Polygon{r}, p...)
		} else {
			p = append(p, r)
		}
	}
	return p
}

func shoelace(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s / 2
}

// moduleRoot is the folder with go.mod.
func moduleRoot(t testing.TB) string { return testenv.ModuleRoot(t) }

// sharedData is ../shared/data/<rel> beside the module, or a skip.
func sharedData(t testing.TB, rel string) string { return testenv.SharedData(t, rel) }

const installHint = "install with: apt-get install gdal-bin python3-gdal qgis qgis-providers python3-qgis"

// needTool returns path if it exists (or is on PATH), skips otherwise,
// and fails when CI=true, where the tools must be installed.
func needTool(t testing.TB, path string) string { return testenv.Command(t, path, testenv.GIS) }

func needQGIS(t testing.TB) { testenv.Python(t, testenv.GIS, "qgis.core") }

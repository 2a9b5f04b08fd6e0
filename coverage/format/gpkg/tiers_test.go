package gpkg

import (
	"context"
	"database/sql"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/testenv"
)

// tierStudy is a small tiered study: a disk of 19 cells around a district
// centre D and, 2.9 km east, a disk of 7 cells around a subdistrict centre
// S, with a neighbourhood station in each disk (N1 of unknown capacity,
// N2). D reaches both disks within the district threshold, so its
// catchment has two pieces.
type tierStudy struct {
	cells    []coverage.Cell
	stations []coverage.Station
	own      []int // each station's tier, by hand
	spec     coverage.TierSpec
	speed    coverage.Speed
}

func newTierStudy(t *testing.T, separate bool) tierStudy {
	t.Helper()
	c0 := mustCell(t, orb.Point{121.4737, 31.2304})
	c1 := mustCell(t, orb.Point{121.5037, 31.2304})
	all := append(h3.GridDisk(c0, 2), h3.GridDisk(c1, 1)...)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	var s tierStudy
	for i, c := range all {
		s.cells = append(s.cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: float64(100 + 13*i)})
	}
	ringA := h3.GridDiskDistances(c0, 2)[2]
	ringB := h3.GridDiskDistances(c1, 1)[1]
	off := func(c h3.Cell, dx, dy float64) orb.Point {
		p := coverage.CellCenter(c)
		return orb.Point{p[0] + dx, p[1] + dy}
	}
	s.stations = []coverage.Station{
		{ID: "D", Name: "district centre", Tier: "district", Pos: off(c0, 0.0003, 0.0001), Capacity: 8000},
		{ID: "S", Name: "subdistrict centre", Tier: "subdistrict", Pos: off(c1, -0.0002, 0.0004), Capacity: 800},
		{ID: "N1", Name: "west corner", Tier: "neighbourhood", Pos: off(ringA[3], 0.0001, -0.0002)},
		{ID: "N2", Name: "east corner", Tier: "neighbourhood", Pos: off(ringB[1], 0.0002, 0.0001), Capacity: 20000},
	}
	s.own = []int{0, 1, 2, 2}
	s.spec = coverage.TierSpec{Separate: separate, Tiers: []coverage.Tier{
		{Name: "district", Minutes: 60}, {Name: "subdistrict", Minutes: 15}, {Name: "neighbourhood", Minutes: 5}}}
	if separate {
		// A tier no station has: nobody reaches it, nobody is fully served.
		s.spec.Tiers = append(s.spec.Tiers, coverage.Tier{Name: "kiosk", Minutes: 3})
	}
	s.speed = 4
	return s
}

// haversine is the great-circle distance in metres on the model's sphere.
func haversine(a, b orb.Point) float64 {
	rad := math.Pi / 180
	dlat, dlon := (b[1]-a[1])*rad, (b[0]-a[0])*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a[1]*rad)*math.Cos(b[1]*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * float64(coverage.EarthRadius) * math.Asin(math.Sqrt(h))
}

// expectTiers is what the file must say, found by brute force over every
// station and cell.
type expectTiers struct {
	minutes   [][]float64 // [tier][cell], +Inf: no serving station
	nearest   [][]int     // [tier][cell], -1: none
	covered   [][]bool
	full      []bool
	served    []float64 // per station
	potential []float64
	load      []float64 // NaN: unknown
	access    []float64
	catch     [][]int // per station, the cells it serves at its own tier
}

func (s tierStudy) expect(t *testing.T, enhanced bool) expectTiers {
	t.Helper()
	nt, nc, ns := len(s.spec.Tiers), len(s.cells), len(s.stations)
	walk := make([][]float64, ns) // [station][cell] minutes
	for j, st := range s.stations {
		walk[j] = make([]float64, nc)
		for i, c := range s.cells {
			walk[j][i] = haversine(st.Pos, c.Pos) / (float64(s.speed) * 1000 / 60)
		}
	}
	serves := func(own, tier int) bool {
		if s.spec.Separate {
			return own == tier
		}
		return own <= tier
	}
	e := expectTiers{full: make([]bool, nc), served: make([]float64, ns), potential: make([]float64, ns),
		load: make([]float64, ns), access: make([]float64, nc), catch: make([][]int, ns)}
	for i := range e.full {
		e.full[i] = true
	}
	for tier := range nt {
		lim := float64(s.spec.Tiers[tier].Minutes)
		ms, near, cov := make([]float64, nc), make([]int, nc), make([]bool, nc)
		for i := range nc {
			ms[i], near[i] = math.Inf(1), -1
			second := math.Inf(1)
			for j := range ns {
				if !serves(s.own[j], tier) {
					continue
				}
				if m := walk[j][i]; m < ms[i] {
					second, ms[i], near[i] = ms[i], m, j
				} else if m < second {
					second = m
				}
			}
			if second-ms[i] < 1e-6 || math.Abs(ms[i]-lim) < 1e-6 {
				t.Fatalf("study: cell %d is a tie or on the threshold of tier %d", i, tier)
			}
			cov[i] = ms[i] <= lim
			e.full[i] = e.full[i] && cov[i]
			if cov[i] && s.own[near[i]] == tier {
				e.served[near[i]] += s.cells[i].Population
				e.catch[near[i]] = append(e.catch[near[i]], i)
			}
		}
		e.minutes, e.nearest, e.covered = append(e.minutes, ms), append(e.nearest, near), append(e.covered, cov)
	}
	weight := func(m, lim float64) float64 {
		if m > lim {
			return 0
		}
		if !enhanced {
			return 1
		}
		g := func(r float64) float64 { return math.Exp(-r * r / 2) }
		return (g(m/lim) - g(1)) / (1 - g(1))
	}
	for j, st := range s.stations {
		lim := float64(s.spec.Tiers[s.own[j]].Minutes)
		var demand float64
		for i, c := range s.cells {
			if walk[j][i] <= lim {
				e.potential[j] += c.Population
			}
			demand += weight(walk[j][i], lim) * c.Population
		}
		e.load[j] = math.NaN()
		if st.Capacity > 0 {
			e.load[j] = e.served[j] / st.Capacity
		}
		supply := st.Capacity
		if supply == 0 {
			supply = 1
		}
		for i := range s.cells {
			if demand > 0 {
				e.access[i] += 1000 * weight(walk[j][i], lim) * supply / demand
			}
		}
	}
	return e
}

// writeTiers analyses s through the library and writes the GeoPackage.
func writeTiers(t *testing.T, s tierStudy, method coverage.AccessMethod) (*coverage.Result, *Tiers, string) {
	t.Helper()
	ctx := context.Background()
	reach := coverage.NewCrow(s.cells, s.speed)
	set := coverage.Settings{Res: 9, Minutes: s.spec.Tiers[len(s.spec.Tiers)-1].Minutes, SpeedKmh: s.speed}
	r, err := coverage.Analyze(ctx, coverage.Study{Settings: set, Stations: s.stations, Cells: s.cells}, reach, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := coverage.AnalyzeTiers(ctx, s.cells, s.stations, s.spec, reach)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := coverage.ReachFromStations(ctx, tr, reach)
	if err != nil {
		t.Fatal(err)
	}
	tx := &Tiers{Result: tr, Named: true, Catchments: coverage.Catchments(tr, sr)}
	if tx.Access, err = coverage.Accessibility(ctx, tr, sr, method); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "walkshed.gpkg")
	if err := Write(path, r, WriteOptions{Tiers: tx}); err != nil {
		t.Fatal(err)
	}
	return r, tx, path
}

func columnNames(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query("SELECT name FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

// close2 compares two numbers where NaN stands for NULL.
func close2(got sql.NullFloat64, want, tol float64) bool {
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return !got.Valid
	}
	return got.Valid && math.Abs(got.Float64-want) <= tol*math.Max(1, math.Abs(want))
}

func TestWriteTiers(t *testing.T) {
	for _, c := range []struct {
		name     string
		separate bool
		method   coverage.AccessMethod
	}{{"inclusive 2SFCA", false, coverage.TwoStep}, {"separate E2SFCA", true, coverage.EnhancedTwoStep}} {
		t.Run(c.name, func(t *testing.T) {
			s := newTierStudy(t, c.separate)
			e := s.expect(t, c.method == coverage.EnhancedTwoStep)
			r, _, path := writeTiers(t, s, c.method)
			db := openDB(t, path)
			checkTierCells(t, db, s, e)
			checkTierStations(t, db, s, e)
			checkCatchments(t, db, s, e)
			if c.separate {
				return
			}
			// The study is built so that every load band and both pieces of a
			// catchment occur.
			if !(e.load[0] > 0.8 && e.load[0] < 1) || !(e.load[1] > 1) || !math.IsNaN(e.load[2]) || !(e.load[3] < 0.8) {
				t.Errorf("study loads %v do not span the style's bands", e.load)
			}
			if len(r.Stations) != 4 {
				t.Fatal("study lost stations")
			}
		})
	}
}

func checkTierCells(t *testing.T, db *sql.DB, s tierStudy, e expectTiers) {
	t.Helper()
	want := []string{"fid", "geom", "h3", "lon", "lat", "population", "minutes", "nearest_station", "covered", "stations_in_reach"}
	var sel []string
	for _, tr := range s.spec.Tiers {
		want = append(want, "minutes_"+tr.Name, "covered_"+tr.Name)
		sel = append(sel, `"minutes_`+tr.Name+`"`, `"covered_`+tr.Name+`"`)
	}
	want = append(want, "fully_served", "access")
	if got := columnNames(t, db, "cells"); !reflect.DeepEqual(got, want) {
		t.Fatalf("cells columns %v, want %v", got, want)
	}
	rows, err := db.Query("SELECT h3, " + strings.Join(sel, ", ") + ", fully_served, access FROM cells ORDER BY fid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	nt := len(s.spec.Tiers)
	i := 0
	for ; rows.Next(); i++ {
		var h string
		ms := make([]sql.NullFloat64, nt)
		cov := make([]int64, nt)
		var full int64
		var acc sql.NullFloat64
		dst := []any{&h}
		for k := range nt {
			dst = append(dst, &ms[k], &cov[k])
		}
		dst = append(dst, &full, &acc)
		if err := rows.Scan(dst...); err != nil {
			t.Fatal(err)
		}
		if h != s.cells[i].H3.String() {
			t.Fatalf("cell %d is %s, want %s", i, h, s.cells[i].H3)
		}
		for k := range nt {
			if !close2(ms[k], e.minutes[k][i], 1e-7) {
				t.Errorf("cell %d minutes_%s %v, want %v", i, s.spec.Tiers[k].Name, ms[k], e.minutes[k][i])
			}
			if (cov[k] == 1) != e.covered[k][i] || cov[k] > 1 || cov[k] < 0 {
				t.Errorf("cell %d covered_%s %d, want %v", i, s.spec.Tiers[k].Name, cov[k], e.covered[k][i])
			}
		}
		if (full == 1) != e.full[i] || full > 1 || full < 0 {
			t.Errorf("cell %d fully_served %d, want %v", i, full, e.full[i])
		}
		if !close2(acc, e.access[i], 1e-9) {
			t.Errorf("cell %d access %v, want %v", i, acc, e.access[i])
		}
	}
	if i != len(s.cells) {
		t.Errorf("%d cells, want %d", i, len(s.cells))
	}
	// The study exercises both answers of every flag the file carries.
	var some, none int
	for _, f := range e.full {
		if f {
			some++
		} else {
			none++
		}
	}
	if none == 0 || (some == 0 && !s.spec.Separate) {
		t.Errorf("study: %d cells fully served, %d not", some, none)
	}
}

func checkTierStations(t *testing.T, db *sql.DB, s tierStudy, e expectTiers) {
	t.Helper()
	want := []string{"fid", "geom", "id", "name", "tier", "cells_nearest", "population_nearest",
		"capacity", "served_population", "potential_population", "load", "overloaded"}
	if got := columnNames(t, db, "stations"); !reflect.DeepEqual(got, want) {
		t.Fatalf("stations columns %v, want %v", got, want)
	}
	rows, err := db.Query("SELECT id, tier, capacity, served_population, potential_population, load, overloaded FROM stations ORDER BY fid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	j := 0
	for ; rows.Next(); j++ {
		var id, tier string
		var capacity, load sql.NullFloat64
		var served, potential float64
		var over int64
		if err := rows.Scan(&id, &tier, &capacity, &served, &potential, &load, &over); err != nil {
			t.Fatal(err)
		}
		st := s.stations[j]
		if id != st.ID || tier != s.spec.Tiers[s.own[j]].Name {
			t.Errorf("station %d: %s %s, want %s %s", j, id, tier, st.ID, s.spec.Tiers[s.own[j]].Name)
		}
		wantCap := st.Capacity
		if wantCap == 0 {
			wantCap = math.NaN()
		}
		if !close2(capacity, wantCap, 0) {
			t.Errorf("station %s capacity %v, want %v", id, capacity, wantCap)
		}
		if math.Abs(served-e.served[j]) > 1e-9 || math.Abs(potential-e.potential[j]) > 1e-9 {
			t.Errorf("station %s served %v potential %v, want %v %v", id, served, potential, e.served[j], e.potential[j])
		}
		if !close2(load, e.load[j], 1e-12) {
			t.Errorf("station %s load %v, want %v", id, load, e.load[j])
		}
		if wantOver := e.load[j] > 1; (over == 1) != wantOver || over > 1 || over < 0 {
			t.Errorf("station %s overloaded %d, want %v", id, over, wantOver)
		}
	}
	if j != len(s.stations) {
		t.Errorf("%d stations, want %d", j, len(s.stations))
	}
}

func checkCatchments(t *testing.T, db *sql.DB, s tierStudy, e expectTiers) {
	t.Helper()
	var gt string
	if err := db.QueryRow(`SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'catchments'`).Scan(&gt); err != nil || gt != "MULTIPOLYGON" {
		t.Fatalf("catchments geometry type %q (%v), want MULTIPOLYGON", gt, err)
	}
	want := []string{"fid", "geom", "station_id", "tier", "cells", "served_population", "load"}
	if got := columnNames(t, db, "catchments"); !reflect.DeepEqual(got, want) {
		t.Fatalf("catchments columns %v, want %v", got, want)
	}
	var stations []int // the stations that serve any cell, in order
	for j, cs := range e.catch {
		if len(cs) > 0 {
			stations = append(stations, j)
		}
	}
	rows, err := db.Query("SELECT station_id, tier, cells, served_population, load, geom FROM catchments ORDER BY fid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	k := 0
	pieces := map[string]int{}
	for ; rows.Next(); k++ {
		var id, tier string
		var n int64
		var served float64
		var load sql.NullFloat64
		var blob []byte
		if err := rows.Scan(&id, &tier, &n, &served, &load, &blob); err != nil {
			t.Fatal(err)
		}
		if k >= len(stations) {
			t.Fatalf("catchment %d (%s) beyond the %d stations that serve cells", k+1, id, len(stations))
		}
		j := stations[k]
		if id != s.stations[j].ID || tier != s.spec.Tiers[s.own[j]].Name || int(n) != len(e.catch[j]) ||
			math.Abs(served-e.served[j]) > 1e-9 || !close2(load, e.load[j], 1e-12) {
			t.Errorf("catchment %d: %s %s %d cells %v people load %v; want %s %s %d %v %v", k+1, id, tier, n, served, load,
				s.stations[j].ID, s.spec.Tiers[s.own[j]].Name, len(e.catch[j]), e.served[j], e.load[j])
		}
		g, _, err := decodeGeometry(blob)
		if err != nil {
			t.Fatal(err)
		}
		mp, ok := g.(orb.MultiPolygon)
		if !ok {
			t.Fatalf("catchment %s is a %T", id, g)
		}
		pieces[id] = len(mp)
		// The outline holds exactly the centres of the cells served.
		in := map[int]bool{}
		var cellArea, h3Area float64
		for _, i := range e.catch[j] {
			in[i] = true
			cellArea += geo.Area(orb.Polygon{coverage.CellRing(s.cells[i].H3)})
			h3Area += h3.CellAreaM2(s.cells[i].H3)
		}
		for i, c := range s.cells {
			if got := planar.MultiPolygonContains(mp, c.Pos); got != in[i] {
				t.Errorf("catchment %s: cell %d inside %v, want %v", id, i, got, in[i])
			}
		}
		area := geo.Area(mp)
		if math.Abs(area-cellArea) > 1e-6*cellArea {
			t.Errorf("catchment %s: %.3f m², want its cells' %.3f m²", id, area, cellArea)
		}
		if math.Abs(area-h3Area) > 0.01*h3Area {
			t.Errorf("catchment %s: %.1f m², H3 gives its cells %.1f m²", id, area, h3Area)
		}
	}
	if k != len(stations) {
		t.Errorf("%d catchments, want %d", k, len(stations))
	}
	if !s.spec.Separate && pieces["D"] != 2 {
		t.Errorf("the district centre's catchment has %d pieces, want the 2 disks", pieces["D"])
	}
}

// Without tiers the layers are as before: no tier columns, no catchments.
func TestWriteWithoutTiers(t *testing.T) {
	s := newTierStudy(t, false)
	r, tx, _ := writeTiers(t, s, coverage.TwoStep)
	plain := filepath.Join(t.TempDir(), "plain.gpkg")
	if err := Write(plain, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, plain)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'catchments'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("catchments table without tiers (%d, %v)", n, err)
	}
	if got, want := columnNames(t, db, "stations"), []string{"fid", "geom", "id", "name", "tier", "cells_nearest", "population_nearest"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stations columns %v, want %v", got, want)
	}
	if got := columnNames(t, db, "cells"); slices.Contains(got, "access") || slices.Contains(got, "fully_served") {
		t.Errorf("cells columns %v", got)
	}
	// Access alone, unnamed tiers: one access column, no tier columns.
	only := filepath.Join(t.TempDir(), "access.gpkg")
	if err := Write(only, r, WriteOptions{Tiers: &Tiers{Result: tx.Result, Access: tx.Access}}); err != nil {
		t.Fatal(err)
	}
	got := columnNames(t, openDB(t, only), "cells")
	if got[len(got)-1] != "access" || slices.Contains(got, "fully_served") || slices.Contains(got, "minutes_district") {
		t.Errorf("access-only cells columns %v", got)
	}
	// Tier data of another size is refused.
	bad := *tx
	bad.Access = tx.Access[1:]
	if err := Write(filepath.Join(t.TempDir(), "bad.gpkg"), r, WriteOptions{Tiers: &bad}); err == nil {
		t.Error("access of the wrong length accepted")
	}
	bad = *tx
	bad.Catchments = tx.Catchments[1:]
	if err := Write(filepath.Join(t.TempDir(), "bad2.gpkg"), r, WriteOptions{Tiers: &bad}); err == nil {
		t.Error("catchments of the wrong length accepted")
	}
}

func TestWriteTierStyles(t *testing.T) {
	s := newTierStudy(t, false)
	_, _, path := writeTiers(t, s, coverage.TwoStep)
	db := openDB(t, path)
	qml := map[string]string{}
	rows, err := db.Query(`SELECT f_table_name, styleQML FROM layer_styles`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, q string
		if err := rows.Scan(&n, &q); err != nil {
			t.Fatal(err)
		}
		qml[n] = q
	}
	st := qml["stations"]
	if !strings.Contains(st, `type="graduatedSymbol" attr="coalesce(&#34;load&#34;, -1)"`) {
		t.Errorf("stations are not graded by load:\n%s", st)
	}
	var got [][2]float64
	for _, m := range regexp.MustCompile(`<range lower="([^"]+)" upper="([^"]+)"`).FindAllStringSubmatch(st, -1) {
		lo, _ := strconv.ParseFloat(m[1], 64)
		hi, _ := strconv.ParseFloat(m[2], 64)
		got = append(got, [2]float64{lo, hi})
	}
	if want := [][2]float64{{-1, -1}, {0, 0.8}, {0.8, 1}, {1, 1e12}}; !reflect.DeepEqual(got, want) {
		t.Errorf("load ranges %v, want %v", got, want)
	}
	colours := regexp.MustCompile(`<prop k="color" v="([^"]+)"/>`).FindAllStringSubmatch(st, -1)
	var cs []string
	for _, c := range colours {
		cs = append(cs, c[1])
	}
	if want := []string{noReach.String(), loadOK.String(), loadHigh.String(), loadOver.String()}; !reflect.DeepEqual(cs, want) {
		t.Errorf("load colours %v, want grey, green, orange, red %v", cs, want)
	}
	if c := qml["catchments"]; !strings.Contains(c, `<prop k="style" v="no"/>`) || !strings.Contains(c, `<prop k="outline_style" v="solid"/>`) {
		t.Errorf("catchments are not outlines:\n%s", c)
	}
}

func TestWriteTiersVerifiedByGDAL(t *testing.T) {
	testenv.Command(t, "ogrinfo", testenv.GIS)
	testenv.Command(t, "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py", testenv.GIS)
	script := testenv.SharedTool(t, "verify_gpkg.sh")
	s := newTierStudy(t, false)
	r, _, path := writeTiers(t, s, coverage.TwoStep)
	plain, _ := exec.Command("ogrinfo", "-ro", "-al", "-so", path).CombinedOutput()
	for _, line := range strings.Split(string(plain), "\n") {
		if strings.HasPrefix(line, "Warning") || strings.HasPrefix(line, "ERROR") {
			t.Errorf("ogrinfo: %s", line)
		}
	}
	n := strconv.Itoa
	out, err := exec.Command("sh", script, path,
		"stations:Point:"+n(len(r.Stations))+":4326", "cells:Polygon:"+n(len(r.Cells))+":4326",
		"catchments:Multi Polygon:4:4326").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK: ") {
		t.Fatalf("verify_gpkg.sh: %v\n%s", err, out)
	}
}

func TestWriteTiersOpensInQGIS(t *testing.T) {
	needQGIS(t)
	script := testenv.SharedTool(t, "qgis_check_gpkg.py")
	s := newTierStudy(t, false)
	_, _, path := writeTiers(t, s, coverage.TwoStep)
	png := filepath.Join(t.TempDir(), "map.png")
	out, err := exec.Command("/usr/bin/python3", script, path, png, "--require-style", "--layers=stations,cells,gaps,catchments").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\nOK") {
		t.Fatalf("qgis_check_gpkg.py: %v\n%s", err, out)
	}
	for _, want := range []string{"catchments: MultiPolygon", "stations: Point"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("QGIS output lacks %q:\n%s", want, out)
		}
	}
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Errorf("no rendered map: %v", err)
	}
}

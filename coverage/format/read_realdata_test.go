package format

import (
	"bufio"
	"encoding/json"
	"github.com/walkshed/walkshed/coverage/testenv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/walkshed/walkshed/coverage"
)

// sharedData is ../shared/data/<parts> beside the module root, or a skip.
func sharedData(t *testing.T, parts ...string) string { return testenv.SharedData(t, parts...) }

// plainRows reads a simple CSV (no quoted commas) by splitting lines, as an
// independent check of the reader.
func plainRows(t *testing.T, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimRight(sc.Text(), "\r"), ",")
		for i := range fields {
			fields[i] = strings.Trim(fields[i], `"`)
		}
		if header == nil {
			header = fields
			continue
		}
		rows = append(rows, fields)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return header, rows
}

func TestRealPortoAlegrePopulation(t *testing.T) {
	path := sharedData(t, "porto_alegre", "poa_hexgrid.csv")
	pop, err := ReadPopulation(path, PopulationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pop.Points) != 0 || len(pop.Polygons) != 0 {
		t.Errorf("read %d points and %d polygons, want an H3 table only", len(pop.Points), len(pop.Polygons))
	}
	if len(pop.Cells) != 1227 {
		t.Errorf("read %d cells, want 1,227", len(pop.Cells))
	}
	if got := pop.Total(); got != 812935 {
		t.Errorf("population total %v, want 812,935", got)
	}
	_, rows := plainRows(t, path)
	for i, c := range pop.Cells {
		if c.H3.String() != rows[i][0] || c.H3.Resolution() != 9 {
			t.Fatalf("cell %d is %s (res %d), the file has %s at res 9", i, c.H3, c.H3.Resolution(), rows[i][0])
		}
		if want, _ := strconv.ParseFloat(rows[i][3], 64); c.Population != want {
			t.Fatalf("cell %d population %v, the file has %v", i, c.Population, want)
		}
	}
}

func TestRealPortoAlegreHealthcareStations(t *testing.T) {
	path := sharedData(t, "porto_alegre", "poa_hexgrid.csv")
	st, err := ReadStations(path, PointOptions{Where: "healthcare>0"})
	if err != nil {
		t.Fatal(err)
	}
	header, rows := plainRows(t, path)
	if strings.Join(header, ",") != "id,lon,lat,population,schools,jobs,healthcare" {
		t.Fatalf("unexpected header %v", header)
	}
	var want []coverage.Station
	for _, r := range rows {
		if h, err := strconv.ParseFloat(r[6], 64); err == nil && h > 0 {
			lon, _ := strconv.ParseFloat(r[1], 64)
			lat, _ := strconv.ParseFloat(r[2], 64)
			want = append(want, coverage.Station{ID: r[0], Pos: [2]float64{lon, lat}})
		}
	}
	if len(st) != len(want) || len(want) != 117 {
		t.Fatalf("read %d stations, a plain scan finds %d (SOURCE.md: 117)", len(st), len(want))
	}
	for i := range want {
		if st[i] != want[i] {
			t.Fatalf("station %d: got %+v, want %+v", i, st[i], want[i])
		}
	}
}

func TestRealPortoAlegrePointsOfInterest(t *testing.T) {
	// Columns id,lat,lon: latitude first.
	path := sharedData(t, "porto_alegre", "poa_points_of_interest.csv")
	st, err := ReadStations(path, PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, rows := plainRows(t, path)
	if len(st) != len(rows) || len(st) != 15 {
		t.Fatalf("read %d stations, the file has %d rows (SOURCE.md: 15)", len(st), len(rows))
	}
	for i, r := range rows {
		lat, _ := strconv.ParseFloat(r[1], 64)
		lon, _ := strconv.ParseFloat(r[2], 64)
		if st[i].ID != r[0] || st[i].Pos[0] != lon || st[i].Pos[1] != lat {
			t.Errorf("station %d: got %+v, want id %s at lon %v lat %v", i, st[i], r[0], lon, lat)
		}
	}
}

func TestRealSaoPauloPopulation(t *testing.T) {
	path := sharedData(t, "sao_paulo", "spo_hexgrid.csv")
	pop, err := ReadPopulation(path, PopulationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, rows := plainRows(t, path)
	var total float64
	for _, r := range rows {
		v, _ := strconv.ParseFloat(r[3], 64)
		total += v
	}
	if len(pop.Cells) != len(rows) || pop.Total() != total {
		t.Errorf("read %d cells totalling %v, a plain scan finds %d rows totalling %v", len(pop.Cells), pop.Total(), len(rows), total)
	}
}

func TestRealShanghaiBusStops(t *testing.T) {
	path := sharedData(t, "shanghai_central", "sh_busstop.json")
	st, err := ReadStations(path, PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Independent decode: the stops have no ids and repeat their names (one
	// stop per direction), so ids are feature numbers and names stopname.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Properties struct {
				Stopname string `json:"stopname"`
			} `json:"properties"`
			Geometry struct {
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(raw, &fc); err != nil {
		t.Fatal(err)
	}
	if len(st) != len(fc.Features) || len(st) != 49 {
		t.Fatalf("read %d stops, the file has %d features (SOURCE.md: 49)", len(st), len(fc.Features))
	}
	for i, f := range fc.Features {
		c := f.Geometry.Coordinates
		if st[i].ID != strconv.Itoa(i+1) || st[i].Name != f.Properties.Stopname || st[i].Pos[0] != c[0] || st[i].Pos[1] != c[1] {
			t.Errorf("stop %d: got %+v, want id %d %s at %v", i, st[i], i+1, f.Properties.Stopname, c)
		}
	}
	// The first stop, by hand from the file: 延安东路外滩 at the geometry's
	// position (the lat/lon properties hold another datum and are ignored).
	if st[0].Name != "延安东路外滩" || st[0].Pos[0] != 121.486884693167838 || st[0].Pos[1] != 31.23484102475723 {
		t.Errorf("first stop %+v", st[0])
	}
}

func TestRealShanghaiOutlineAndLines(t *testing.T) {
	areas, err := ReadAreas(sharedData(t, "shanghai_central", "sh_shanghai.json"), AreaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(areas) != 1 || areas[0].Name != "上海市" || areas[0].Parent != "" || len(areas[0].Geom) == 0 {
		t.Fatalf("got %d areas, first %q parent %q with %d polygons; want one, 上海市", len(areas), areas[0].Name, areas[0].Parent, len(areas[0].Geom))
	}
	b := areas[0].Geom.Bound() // SOURCE.md: extent 120.852620, 30.677790 to 122.242919, 31.874625
	for _, v := range [][2]float64{{b.Min[0], 120.852620}, {b.Min[1], 30.677790}, {b.Max[0], 122.242919}, {b.Max[1], 31.874625}} {
		if math.Abs(v[0]-v[1]) > 5e-7 {
			t.Errorf("extent %v, want 120.852620 30.677790 122.242919 31.874625", b)
		}
	}

	// The bus lines are LineStrings: not stations.
	path := sharedData(t, "shanghai_central", "sh_busline.json")
	_, err = ReadStations(path, PointOptions{})
	if err == nil || !strings.Contains(err.Error(), path+": feature 1: geometry is LineString, want a Point") {
		t.Errorf("got %v, want a LineString rejection of feature 1", err)
	}
}

func TestRealSanFranciscoStores(t *testing.T) {
	path := sharedData(t, "sf_spopt", "SF_store_site_16_longlat.csv")
	// Columns "",OBJECTID,NAME,long,lat: no id column, so ids are row numbers
	// and NAME is the name (names are not taken as ids: they need not be unique).
	st, err := ReadStations(path, PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, rows := plainRows(t, path)
	if len(st) != 16 || len(rows) != 16 {
		t.Fatalf("read %d stores, the file has %d rows, want 16", len(st), len(rows))
	}
	for i, r := range rows {
		lon, _ := strconv.ParseFloat(r[3], 64)
		lat, _ := strconv.ParseFloat(r[4], 64)
		if st[i].ID != strconv.Itoa(i+1) || st[i].Name != r[2] || st[i].Pos[0] != lon || st[i].Pos[1] != lat {
			t.Errorf("store %d: got %+v, want id %d, %s at %v %v", i, st[i], i+1, r[2], lon, lat)
		}
	}
	if st[0].Name != "Store_1" || st[0].Pos[0] != -122.510018182 || st[0].Pos[1] != 37.7723636370001 {
		t.Errorf("first store %+v", st[0])
	}
	byName, err := ReadStations(path, PointOptions{IDCol: "NAME"})
	if err != nil {
		t.Fatal(err)
	}
	if byName[7].ID != "Store_11" || byName[15].ID != "Store_19" {
		t.Errorf("ids from NAME: %q, %q; want Store_11, Store_19", byName[7].ID, byName[15].ID)
	}
}

func TestRealSanFranciscoTracts(t *testing.T) {
	// Tract centroids with an ID column of tract codes (not H3) beside
	// long/lat: points, with the population column named explicitly.
	path := sharedData(t, "sf_spopt", "SF_demand_205_centroid_uniform_weight.csv")
	pop, err := ReadPopulation(path, PopulationOptions{PopCol: "POP2000"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pop.Points) != 205 || len(pop.Cells) != 0 || pop.Total() != 955113 {
		t.Errorf("read %d points, %d cells, total %v; want 205 points totalling 955,113 (SOURCE.md)", len(pop.Points), len(pop.Cells), pop.Total())
	}
	if p := pop.Points[0]; p.Pos[0] != -122.488653101 || p.Pos[1] != 37.650807231 || p.Population != 4135 {
		t.Errorf("first tract %+v", p)
	}
	_, err = ReadPopulation(path, PopulationOptions{})
	if err == nil || !strings.Contains(err.Error(), path+":1: no population column") || !strings.Contains(err.Error(), `"POP2000"`) {
		t.Errorf("got %v, want a missing population column naming POP2000 among the columns", err)
	}
}

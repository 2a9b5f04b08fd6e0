package format

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// writeInput writes content to a fresh file named name and returns its path.
func writeInput(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadStationsCSV(t *testing.T) {
	tests := []struct {
		name    string
		content string
		opt     PointOptions
		want    []coverage.Station
	}{
		{
			name: "usual columns in any case, values trimmed",
			content: "ID,Name,Tier,Longitude,Latitude\n" +
				"A1, Library ,2,121.4737,31.2304\n" +
				"B7,Clinic,,-0.1276,51.5072\n",
			want: []coverage.Station{
				{ID: "A1", Name: "Library", Tier: "2", Pos: orb.Point{121.4737, 31.2304}},
				{ID: "B7", Name: "Clinic", Pos: orb.Point{-0.1276, 51.5072}},
			},
		},
		{
			name:    "lat before lon, lng spelling, no id column: ids are data row numbers",
			content: "stop_name,lat,lng\nnorth,60.5,179.9\nsouth,-60.5,-179.9\n",
			want: []coverage.Station{
				{ID: "1", Name: "north", Pos: orb.Point{179.9, 60.5}},
				{ID: "2", Name: "south", Pos: orb.Point{-179.9, -60.5}},
			},
		},
		{
			name:    "where skips rows but row-number ids stay those of the file",
			content: "x,y,beds\n1,1,0\n2,2,\n3,3,5\n4,4,12\n",
			opt:     PointOptions{Where: "beds>=5"},
			want: []coverage.Station{
				{ID: "3", Pos: orb.Point{3, 3}},
				{ID: "4", Pos: orb.Point{4, 4}},
			},
		},
		{
			name:    "where on text, rows it skips are not validated",
			content: "id,kind,lon,lat\na,clinic,10,10\nb,shop,,\nc,clinic,20,20\n",
			opt:     PointOptions{Where: "kind = clinic"},
			want: []coverage.Station{
				{ID: "a", Pos: orb.Point{10, 10}},
				{ID: "c", Pos: orb.Point{20, 20}},
			},
		},
		{
			name:    "where != compares numbers as numbers",
			content: "id,tier,lon,lat\na,1.0,1,1\nb,2,2,2\n",
			opt:     PointOptions{Where: "tier!=1", TierCol: "tier"},
			want:    []coverage.Station{{ID: "b", Tier: "2", Pos: orb.Point{2, 2}}},
		},
		{
			name:    "explicit columns, semicolon delimiter, byte order mark",
			content: "\ufeffcode;label;E;N\nS1;Un;2.35;48.85\n",
			opt:     PointOptions{IDCol: "code", NameCol: "label", LonCol: "E", LatCol: "N"},
			want:    []coverage.Station{{ID: "S1", Name: "Un", Pos: orb.Point{2.35, 48.85}}},
		},
		{
			name:    "quoted field across lines",
			content: "id,name,lon,lat\n1,\"two\nlines\",5,6\n",
			want:    []coverage.Station{{ID: "1", Name: "two\nlines", Pos: orb.Point{5, 6}}},
		},
		{
			name:    "values within range both ways are taken as written",
			content: "id,lon,lat\na,-30.1,-51.2\n",
			want:    []coverage.Station{{ID: "a", Pos: orb.Point{-30.1, -51.2}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadStations(writeInput(t, "stations.csv", tc.content), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReadStationsGeoJSON(t *testing.T) {
	fc := `{"type":"FeatureCollection","features":[
 {"type":"Feature","id":7,"properties":{"name":"Hall","tier":"district"},"geometry":{"type":"Point","coordinates":[121.5,31.25,4.0]}},
 {"type":"Feature","id":"x-2","properties":{"name":"Desk","tier":2},"geometry":{"type":"Point","coordinates":[-179.5,-45]}}
]}`
	got, err := ReadStations(writeInput(t, "s.geojson", fc), PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []coverage.Station{
		{ID: "7", Name: "Hall", Tier: "district", Pos: orb.Point{121.5, 31.25}},
		{ID: "x-2", Name: "Desk", Tier: "2", Pos: orb.Point{-179.5, -45}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	// No feature ids: the id property, then a Where on a property.
	fc = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"ID":"a","open":1},"geometry":{"type":"Point","coordinates":[1,2]}},
 {"type":"Feature","properties":{"ID":"b","open":0},"geometry":{"type":"Point","coordinates":[3,4]}}
]}`
	got, err = ReadStations(writeInput(t, "s.geojson", fc), PointOptions{Where: "open=1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []coverage.Station{{ID: "a", Pos: orb.Point{1, 2}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}

	// A lone Feature, without ids: numbered from 1.
	got, err = ReadStations(writeInput(t, "s.json", `  {"type":"Feature","properties":null,"geometry":{"type":"Point","coordinates":[0,0.5]}}`), PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []coverage.Station{{ID: "1", Pos: orb.Point{0, 0.5}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestReadPopulationCSV(t *testing.T) {
	tests := []struct {
		name    string
		content string
		opt     PopulationOptions
		want    coverage.Population
	}{
		{
			name:    "points, zero kept",
			content: "lon,lat,pop\n0.5,0.5,10\n-179.99,60,0\n179.99,60,2.5\n",
			want: coverage.Population{Points: []coverage.PopPoint{
				{Pos: orb.Point{0.5, 0.5}, Population: 10},
				{Pos: orb.Point{-179.99, 60}, Population: 0},
				{Pos: orb.Point{179.99, 60}, Population: 2.5},
			}},
		},
		{
			name:    "h3 column, lon/lat ignored (even out of range)",
			content: "h3,lon,lat,Population\n8928308280fffff,999,999,120\n8928308280bffff,,,30\n",
			want: coverage.Population{Cells: []coverage.PopCell{
				{H3: 0x8928308280fffff, Population: 120},
				{H3: 0x8928308280bffff, Population: 30},
			}},
		},
		{
			name:    "id column holding H3 indexes beside lon/lat",
			content: "id,lon,lat,population\n8828308281fffff,-122.4,37.8,7\n",
			want:    coverage.Population{Cells: []coverage.PopCell{{H3: 0x8828308281fffff, Population: 7}}},
		},
		{
			name:    "id column not H3 beside lon/lat: points",
			content: "id,lon,lat,population\n8828308281fffff,-122.4,37.8,7\nblock-2,-122.5,37.7,3\n",
			want: coverage.Population{Points: []coverage.PopPoint{
				{Pos: orb.Point{-122.4, 37.8}, Population: 7},
				{Pos: orb.Point{-122.5, 37.7}, Population: 3},
			}},
		},
		{
			name:    "explicit columns and where",
			content: "cell,people,kind\n8928308280fffff,5,home\n8928308280bffff,9,work\n",
			opt:     PopulationOptions{H3Col: "cell", PopCol: "people", Where: "kind=home"},
			want:    coverage.Population{Cells: []coverage.PopCell{{H3: 0x8928308280fffff, Population: 5}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadPopulation(writeInput(t, "pop.csv", tc.content), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReadNegativeZeroPopulation(t *testing.T) {
	pop, err := ReadPopulation(writeInput(t, "pop.csv", "lon,lat,pop\n1,1,-0\n"), PopulationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := pop.Points[0].Population; n != 0 || math.Signbit(n) {
		t.Errorf("population %v, want +0", n)
	}
}

func TestReadPopulationGeoJSON(t *testing.T) {
	fc := `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"POP":12},"geometry":{"type":"Point","coordinates":[10,20]}},
 {"type":"Feature","properties":{"POP":"0"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
 {"type":"Feature","properties":{"POP":3.5},"geometry":{"type":"MultiPolygon","coordinates":[
   [[[0,0],[2,0],[2,2],[0,2],[0,0]],[[0.5,0.5],[0.5,1],[1,1],[0.5,0.5]]],
   [[[5,5],[6,5],[6,6],[5,5]]]]}}
]}`
	got, err := ReadPopulation(writeInput(t, "pop.geojson", fc), PopulationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := coverage.Population{
		Points: []coverage.PopPoint{{Pos: orb.Point{10, 20}, Population: 12}},
		Polygons: []coverage.PopPolygon{
			{Geom: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}, Population: 0},
			{Geom: orb.MultiPolygon{
				{{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}, {{0.5, 0.5}, {0.5, 1}, {1, 1}, {0.5, 0.5}}},
				{{{5, 5}, {6, 5}, {6, 6}, {5, 5}}},
			}, Population: 3.5},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got.Total() != 15.5 {
		t.Errorf("total %v, want 15.5", got.Total())
	}
}

func TestReadAreas(t *testing.T) {
	sq := `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`
	tests := []struct {
		name    string
		content string
		opt     AreaOptions
		want    []coverage.Area
	}{
		{
			name: "subdistrict with its district as parent",
			content: `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"subdistrict":"Nanjing East Road","district":"Huangpu"},"geometry":` + sq + `}]}`,
			want: []coverage.Area{{Name: "Nanjing East Road", Parent: "Huangpu", Geom: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}}},
		},
		{
			name: "district alone is a name, not its own parent",
			content: `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"district":"Huangpu"},"geometry":` + sq + `}]}`,
			want: []coverage.Area{{Name: "Huangpu", Geom: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}}},
		},
		{
			name: "NAME and explicit parent, MultiPolygon kept",
			content: `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"NAME":"A","up":"P"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,2]]]]}},
 {"type":"Feature","properties":{"NAME":"B"},"geometry":` + sq + `}]}`,
			opt: AreaOptions{ParentCol: "up"},
			want: []coverage.Area{
				{Name: "A", Parent: "P", Geom: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, {{{2, 2}, {3, 2}, {3, 3}, {2, 2}}}}},
				{Name: "B", Geom: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAreas(writeInput(t, "areas.geojson", tc.content), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// badCase is an input that must be rejected. where is what the message must
// locate ("" for the whole file, ":3:" for line 3, ": feature 2:" for the
// second feature); want are phrases the message must contain.
type badCase struct {
	name    string
	reader  string // "stations", "population" or "areas"
	file    string // file name, which matters only for its extension in messages
	content string
	where   string
	want    []string
	not     string // a phrase the message must not contain
	stOpt   PointOptions
	popOpt  PopulationOptions
	areaOpt AreaOptions
}

func (b badCase) read(path string) error {
	var err error
	switch b.reader {
	case "stations":
		_, err = ReadStations(path, b.stOpt)
	case "population":
		_, err = ReadPopulation(path, b.popOpt)
	case "areas":
		_, err = ReadAreas(path, b.areaOpt)
	default:
		panic("unknown reader " + b.reader)
	}
	return err
}

func pointFC(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func ptFeature(props, coords string) string {
	return `{"type":"Feature","properties":` + props + `,"geometry":{"type":"Point","coordinates":` + coords + `}}`
}

func polyFeature(props, coords string) string {
	return `{"type":"Feature","properties":` + props + `,"geometry":{"type":"Polygon","coordinates":` + coords + `}}`
}

var badCases = []badCase{
	// Empty files.
	{name: "empty file", reader: "stations", content: "", want: []string{"empty file"}},
	{name: "blank file", reader: "population", content: " \n\r\n\t", want: []string{"empty file"}},
	{name: "header only", reader: "stations", content: "id,lon,lat\n", where: ":1:", want: []string{"no data rows"}},
	{name: "empty feature collection", reader: "stations", file: "s.geojson", content: `{"type":"FeatureCollection","features":[]}`, want: []string{"no features"}},

	// Columns.
	{name: "no longitude column", reader: "stations", content: "id,lat\n1,2\n", where: ":1:",
		want: []string{`no longitude column`, `columns found: "id", "lat"`, "accepted names: lon, lng, long, longitude, x"}},
	{name: "no latitude column", reader: "stations", content: "id,lon,northing\n1,2,3\n", where: ":1:",
		want: []string{`no latitude column`, `"northing"`, "accepted names: lat, latitude, y"}},
	{name: "explicit id column absent", reader: "stations", content: "id,lon,lat\n1,2,3\n", stOpt: PointOptions{IDCol: "code"}, where: ":1:",
		want: []string{`no id column named "code"`, `columns found: "id", "lon", "lat"`}},
	{name: "ambiguous lat column", reader: "stations", content: "id,lon,lat,LAT\n1,2,3,4\n", where: ":1:",
		want: []string{`latitude column "lat" appears twice`}},
	{name: "no population column", reader: "population", content: "lon,lat,people\n1,2,3\n", where: ":1:",
		want: []string{"no population column", `"people"`, "accepted names: population, pop, pop_total, total, count, value"}},
	{name: "no position columns", reader: "population", content: "name,population\na,1\n", where: ":1:",
		want: []string{"no position columns", `columns found: "name", "population"`}},
	{name: "explicit pop column absent", reader: "population", content: "lon,lat,pop\n1,2,3\n", popOpt: PopulationOptions{PopCol: "POP2000"}, where: ":1:",
		want: []string{`no population column named "POP2000"`}},

	// Rows and values.
	{name: "wrong field count", reader: "stations", content: "id,lon,lat\na,1,2\nb,1\n", where: ":3:", want: []string{"row has 2 fields, the header has 3"}},
	{name: "stray quote", reader: "stations", content: "id,lon,lat\na,1,2\nb\"x,1,2\n", where: ":3:", want: []string{"malformed CSV"}},
	{name: "line counts a quoted newline", reader: "stations", content: "id,name,lon,lat\na,\"two\nlines\",1,2\nb,c,east,2\n", where: ":4:",
		want: []string{`longitude (column "lon") "east" is not a number`}},
	{name: "non-numeric longitude", reader: "stations", content: "id,lon,lat\na,1,2\nb,east,3\n", where: ":3:",
		want: []string{`longitude (column "lon") "east" is not a number`}},
	{name: "NaN latitude", reader: "stations", content: "id,lon,lat\na,1,NaN\n", where: ":2:", want: []string{`latitude (column "lat") "NaN" is not a finite number`}},
	{name: "Inf longitude", reader: "population", content: "lon,lat,pop\n-Inf,1,3\n", where: ":2:", want: []string{`"-Inf" is not a finite number`}},
	{name: "overflowing number", reader: "population", content: "lon,lat,pop\n1,1,1e999\n", where: ":2:", want: []string{`population (column "pop") "1e999" is out of range`}},
	{name: "empty latitude", reader: "stations", content: "id,lon,lat\na,1, \n", where: ":2:", want: []string{`empty latitude (column "lat")`}},
	{name: "latitude beyond 90, not a swap", reader: "stations", content: "id,lon,lat\na,-51.2,-30.0\nb,-51.2,-30.1\nc,-51.2,-95\n", where: ":4:",
		want: []string{"latitude -95 outside ±90"}, not: "swapped"},
	{name: "latitude beyond 90 in a file that cannot be swapped", reader: "stations", content: "id,lon,lat\na,121.4,31.2\nb,31.2,121.4\n", where: ":3:",
		want: []string{"latitude 121.4 outside ±90"}, not: "swapped"},
	{name: "longitude beyond 180", reader: "stations", content: "id,lon,lat\na,181,0\n", where: ":2:", want: []string{"longitude 181 outside ±180"}},
	{name: "whole file swapped", reader: "stations", content: "id,lon,lat\na,31.23,121.48\nb,31.22,121.47\n", where: ":2:",
		want: []string{"latitude 121.48 outside ±90", "latitude and longitude look swapped"}},
	{name: "swapped population points", reader: "population", content: "lat,lon,pop\n-122.4,37.8,5\n", where: ":2:",
		want: []string{"latitude and longitude look swapped"}},
	{name: "duplicate station id", reader: "stations", content: "id,lon,lat\na,1,1\nb,2,2\na,3,3\n", where: ":4:",
		want: []string{`duplicate station id "a" (also on line 2)`}},
	{name: "empty station id", reader: "stations", content: "id,lon,lat\na,1,1\n ,2,2\n", where: ":3:", want: []string{`empty station id (column "id")`}},
	{name: "negative population", reader: "population", content: "lon,lat,pop\n1,1,4\n1,1,-5\n", where: ":3:", want: []string{"negative population -5"}},
	{name: "population not a number", reader: "population", content: "lon,lat,pop\n1,1,\n1,1,n/a\n", where: ":3:", want: []string{`population (column "pop") "n/a" is not a number`}},
	{name: "invalid H3 index", reader: "population", content: "h3,population\n8928308280fffff,10\nzzz,5\n", where: ":3:",
		want: []string{`invalid H3 index "zzz" in column "h3"`}},
	{name: "id without positions must be H3", reader: "population", content: "id,population\n8928308280fffff,10\n17,5\n", where: ":3:",
		want: []string{`invalid H3 index "17" in column "id"`}},
	{name: "mixed H3 resolutions", reader: "population", content: "h3,population\n8928308280fffff,10\n8928308280bffff,1\n8828308281fffff,5\n", where: ":4:",
		want: []string{"H3 index 8828308281fffff has resolution 8", "resolution 9 (line 2)", "mixed resolutions"}},

	// Where.
	{name: "where unknown column", reader: "stations", content: "id,lon,lat\na,1,1\n", stOpt: PointOptions{Where: "beds>1"}, where: ":1:",
		want: []string{`where "beds>1": no column "beds"`, `columns found: "id", "lon", "lat"`}},
	{name: "where without comparison", reader: "stations", content: "id,lon,lat\na,1,1\n", stOpt: PointOptions{Where: "healthcare"},
		want: []string{`where "healthcare": no comparison`}},
	{name: "where without column", reader: "population", content: "lon,lat,pop\n1,1,1\n", popOpt: PopulationOptions{Where: ">=2"},
		want: []string{`where ">=2": no column before ">="`}},
	{name: "where needs a number", reader: "stations", content: "id,lon,lat\na,1,1\n", stOpt: PointOptions{Where: "lat>north"},
		want: []string{`where "lat>north": > needs a finite number`}},
	{name: "where lone bang", reader: "stations", content: "id,lon,lat\na,1,1\n", stOpt: PointOptions{Where: "id!x"},
		want: []string{`where "id!x": "!" is not a comparison`}},
	{name: "where two comparisons", reader: "stations", content: "id,lon,lat\na,1,1\n", stOpt: PointOptions{Where: "id=a=b"},
		want: []string{"more than one comparison"}},
	{name: "where value not a number", reader: "stations", content: "id,lon,lat,beds\na,1,1,3\nb,2,2,many\n", stOpt: PointOptions{Where: "beds>0"}, where: ":3:",
		want: []string{`beds value "many" is not a number`, `where "beds>0"`}},
	{name: "where keeps nothing", reader: "stations", content: "id,lon,lat,beds\na,1,1,0\n", stOpt: PointOptions{Where: "beds>0"},
		want: []string{`no row passes where "beds>0"`}},
	{name: "where unknown property", reader: "population", file: "p.geojson", content: pointFC(ptFeature(`{"pop":1}`, `[1,1]`)), popOpt: PopulationOptions{Where: "kind=a"},
		want: []string{`where "kind=a": no feature has a property "kind"`, `properties found: "pop"`}},

	// GeoJSON structure.
	{name: "invalid JSON", reader: "stations", file: "s.geojson", content: "{\"type\":\"FeatureCollection\",\n\"features\":[\n{\"type\":}]}", where: ":3:",
		want: []string{"invalid JSON"}},
	{name: "truncated JSON", reader: "areas", file: "a.geojson", content: `{"type":"FeatureCollection","features":[`, want: []string{"invalid JSON"}},
	{name: "not a FeatureCollection", reader: "stations", file: "s.geojson", content: `{"type":"Point","coordinates":[1,2]}`,
		want: []string{`GeoJSON of type "Point": want a FeatureCollection or a Feature`}},
	{name: "no type", reader: "population", file: "p.geojson", content: `{"features":[]}`, want: []string{`not GeoJSON: no "type"`}},
	{name: "features missing", reader: "stations", file: "s.geojson", content: `{"type":"FeatureCollection"}`, want: []string{`no "features" array`}},
	{name: "features not an array", reader: "stations", file: "s.geojson", content: `{"type":"FeatureCollection","features":{}}`, want: []string{`"features" is not an array`}},
	{name: "feature of wrong type", reader: "stations", file: "s.geojson", content: pointFC(ptFeature(`{}`, `[1,1]`), `{"type":"Feat"}`), where: ": feature 2:",
		want: []string{`type "Feat": want "Feature"`}},
	{name: "feature not an object", reader: "stations", file: "s.geojson", content: pointFC(`7`), where: ": feature 1:", want: []string{"not a JSON object"}},
	{name: "unsupported crs", reader: "population", file: "p.geojson",
		content: `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2154"}},"features":[]}`,
		want:    []string{`crs "urn:ogc:def:crs:EPSG::2154" cannot be converted`, "unsupported coordinate reference system", "convert the file to EPSG:4326 first"}},

	// GeoJSON features.
	{name: "null geometry", reader: "stations", file: "s.geojson",
		content: pointFC(ptFeature(`{}`, `[1,1]`), `{"type":"Feature","properties":{},"geometry":null}`), where: ": feature 2:",
		want: []string{"geometry is null, want a Point"}},
	{name: "line instead of point", reader: "stations", file: "s.geojson",
		content: pointFC(`{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[1,1],[2,2]]}}`), where: ": feature 1:",
		want: []string{"geometry is LineString, want a Point"}},
	{name: "point with one number", reader: "stations", file: "s.geojson", content: pointFC(ptFeature(`{}`, `[5]`)), where: ": feature 1:",
		want: []string{"position [5] needs longitude and latitude, it has 1 number(s)"}},
	{name: "null coordinate", reader: "stations", file: "s.geojson", content: pointFC(ptFeature(`{}`, `[null,5]`)), where: ": feature 1:",
		want: []string{"coordinate null is not a number"}},
	{name: "string coordinate", reader: "population", file: "p.geojson", content: pointFC(ptFeature(`{"pop":1}`, `["1","2"]`)), where: ": feature 1:",
		want: []string{`coordinate "1" is not a number`}},
	{name: "swapped GeoJSON positions", reader: "stations", file: "s.geojson",
		content: pointFC(ptFeature(`{}`, `[31.23,121.48]`), ptFeature(`{}`, `[31.22,121.47]`)), where: ": feature 1:",
		want: []string{"latitude and longitude look swapped"}},
	{name: "GeoJSON longitude beyond 180", reader: "stations", file: "s.geojson", content: pointFC(ptFeature(`{}`, `[200,10]`)), where: ": feature 1:",
		want: []string{"longitude 200 outside ±180"}},
	{name: "duplicate feature ids", reader: "stations", file: "s.geojson",
		content: pointFC(`{"type":"Feature","id":7,"properties":{},"geometry":{"type":"Point","coordinates":[1,1]}}`,
			`{"type":"Feature","id":8,"properties":{},"geometry":{"type":"Point","coordinates":[1,1]}}`,
			`{"type":"Feature","id":"7","properties":{},"geometry":{"type":"Point","coordinates":[1,1]}}`), where: ": feature 3:",
		want: []string{`duplicate station id "7" (also feature 1)`}},
	{name: "feature without id among features with ids", reader: "stations", file: "s.geojson",
		content: pointFC(`{"type":"Feature","id":7,"properties":{},"geometry":{"type":"Point","coordinates":[1,1]}}`, ptFeature(`{}`, `[2,2]`)), where: ": feature 2:",
		want: []string{"no feature id"}},
	{name: "object as feature id", reader: "stations", file: "s.geojson",
		content: pointFC(`{"type":"Feature","id":{},"properties":{},"geometry":{"type":"Point","coordinates":[1,1]}}`), where: ": feature 1:",
		want: []string{"neither a string nor a number"}},
	{name: "ring of three positions", reader: "population", file: "p.geojson",
		content: pointFC(polyFeature(`{"pop":1}`, `[[[0,0],[1,0],[0,0]]]`)), where: ": feature 1:",
		want: []string{"ring 1 has 3 positions, a closed ring needs at least 4"}},
	{name: "unclosed ring", reader: "areas", file: "a.geojson",
		content: pointFC(polyFeature(`{"name":"A"}`, `[[[0,0],[1,0],[1,1],[0,1]]]`)), where: ": feature 1:",
		want: []string{"ring 1 is not closed"}},
	{name: "bad hole in second polygon", reader: "areas", file: "a.geojson",
		content: pointFC(`{"type":"Feature","properties":{"name":"A"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,0],[1,1],[0,0]],[[0,0],[0,0]]]]}}`),
		where:   ": feature 1:", want: []string{"polygon 2: ring 2 has 2 positions"}},
	{name: "polygon nested like a point", reader: "population", file: "p.geojson",
		content: pointFC(polyFeature(`{"pop":1}`, `[0,0]`)), where: ": feature 1:", want: []string{"Polygon coordinates", "nesting is wrong"}},
	{name: "polygon without rings", reader: "areas", file: "a.geojson",
		content: pointFC(polyFeature(`{"name":"A"}`, `[]`)), where: ": feature 1:", want: []string{"polygon has no rings"}},
	{name: "negative population property", reader: "population", file: "p.geojson",
		content: pointFC(ptFeature(`{"population":3}`, `[1,1]`), ptFeature(`{"population":-2}`, `[1,1]`)), where: ": feature 2:",
		want: []string{"negative population -2"}},
	{name: "population property not a number", reader: "population", file: "p.geojson",
		content: pointFC(ptFeature(`{"population":"many"}`, `[1,1]`)), where: ": feature 1:", want: []string{`population (property "population") "many" is not a number`}},
	{name: "population property missing in a feature", reader: "population", file: "p.geojson",
		content: pointFC(ptFeature(`{"population":3}`, `[1,1]`), ptFeature(`{}`, `[1,1]`)), where: ": feature 2:",
		want: []string{`no population property "population"`}},
	{name: "no population property at all", reader: "population", file: "p.geojson",
		content: pointFC(ptFeature(`{"people":3}`, `[1,1]`)), want: []string{`no population property; properties found: "people"`, "accepted names: population, pop"}},
	{name: "population line geometry", reader: "population", file: "p.geojson",
		content: pointFC(`{"type":"Feature","properties":{"pop":1},"geometry":{"type":"MultiPoint","coordinates":[[1,1]]}}`), where: ": feature 1:",
		want: []string{"geometry is MultiPoint, want a Point, Polygon or MultiPolygon"}},

	// Areas.
	{name: "areas from CSV", reader: "areas", content: "name,wkt\na,POLYGON EMPTY\n", want: []string{"areas must be GeoJSON"}},
	{name: "areas without a name property", reader: "areas", file: "a.geojson",
		content: pointFC(polyFeature(`{"code":"310101"}`, `[[[0,0],[1,0],[1,1],[0,0]]]`)),
		want:    []string{`no name property; properties found: "code"`, "accepted names: name, subdistrict, district"}},
	{name: "area with an empty name", reader: "areas", file: "a.geojson",
		content: pointFC(polyFeature(`{"name":"A"}`, `[[[0,0],[1,0],[1,1],[0,0]]]`), polyFeature(`{"name":""}`, `[[[0,0],[1,0],[1,1],[0,0]]]`)),
		where:   ": feature 2:", want: []string{`empty or missing name (property "name")`}},
	{name: "area of a point", reader: "areas", file: "a.geojson", content: pointFC(ptFeature(`{"name":"A"}`, `[1,1]`)), where: ": feature 1:",
		want: []string{"geometry is Point, want Polygon or MultiPolygon"}},
	{name: "area with null geometry", reader: "areas", file: "a.geojson",
		content: pointFC(`{"type":"Feature","properties":{"name":"A"}}`), where: ": feature 1:", want: []string{"geometry is null"}},
	{name: "explicit parent property absent", reader: "areas", file: "a.geojson", areaOpt: AreaOptions{ParentCol: "county"},
		content: pointFC(polyFeature(`{"name":"A"}`, `[[[0,0],[1,0],[1,1],[0,0]]]`)),
		want:    []string{`no feature has a parent property named "county"`, `properties found: "name"`}},
}

func TestReadBadInput(t *testing.T) {
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "input.csv"
			}
			path := writeInput(t, file, tc.content)
			err := tc.read(path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Log(msg)
			if prefix := "format: " + path + tc.where; !strings.HasPrefix(msg, prefix) {
				t.Errorf("message %q does not start with %q", msg, prefix)
			}
			if tc.where == "" && strings.HasPrefix(msg, "format: "+path+": feature") {
				t.Errorf("message %q names a feature, expected the whole file", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if tc.not != "" && strings.Contains(msg, tc.not) {
				t.Errorf("message %q should not contain %q", msg, tc.not)
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	_, err := ReadStations(filepath.Join(t.TempDir(), "nope.csv"), PointOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "format: ") || !strings.Contains(err.Error(), "nope.csv") {
		t.Errorf("got %v, want a format: error naming the file", err)
	}
	if !os.IsNotExist(errorsUnwrapAll(err)) {
		t.Errorf("error %v does not wrap the not-exist error", err)
	}
}

func errorsUnwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

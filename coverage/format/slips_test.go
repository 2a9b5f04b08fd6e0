package format

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
)

// Reference coordinates: three Shanghai stations (those of
// testdata/read/stations_points.csv) and Porto Alegre's public market,
// converted by GDAL 3 / PROJ (gdaltransform -s_srs EPSG:4326 -t_srs
// EPSG:N -output_xy).
var (
	shanghaiLonLat  = [][2]float64{{121.4846, 31.2385}, {121.4905, 31.2433}, {121.4801, 31.2240}}
	shanghaiUTM51N  = [][2]float64{{355684.20602534, 3457024.09989175}, {356253.41202678, 3457548.47183071}, {355233.499478595, 3455422.70341869}}
	shanghaiGK40    = [][2]float64{{40641438.8902895, 3458367.60990669}, {40641993.8633082, 3458907.45783618}, {40641031.6689662, 3456753.94091704}}
	shanghaiWebMerc = [][2]float64{{13523603.8112245, 3663761.79783693}, {13524260.5962202, 3664386.75356448}, {13523102.873516, 3661874.10356645}}
	// public_market, bus_central_station, gasometer_museum in EPSG:32722.
	poaLonLat   = [][2]float64{{-51.227811, -30.027565}, {-51.218856, -30.023285}, {-51.240947, -30.034038}}
	poaUTM22S   = [][2]float64{{478034.201974674, 6678138.36314563}, {478896.749021531, 6678614.30963479}, {476769.119710669, 6677418.50296801}}
	shanghaiBox = orb.Bound{Min: orb.Point{121.40, 31.18}, Max: orb.Point{121.55, 31.30}}
	poaBox      = orb.Bound{Min: orb.Point{-51.2548, -30.1100}, Max: orb.Point{-51.1400, -29.9979}}
)

func xyCSV(header string, xy [][2]float64) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i, p := range xy {
		fmt.Fprintf(&b, "s%d,%s,%s\n", i+1, strconv.FormatFloat(p[0], 'f', -1, 64), strconv.FormatFloat(p[1], 'f', -1, 64))
	}
	return b.String()
}

// closeTo: every station within 1e-7 degrees (about 1 cm) of the reference.
func closeTo(t *testing.T, got []coverage.Station, want [][2]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d stations, want %d", len(got), len(want))
	}
	for i, s := range got {
		if math.Abs(s.Pos[0]-want[i][0]) > 1e-7 || math.Abs(s.Pos[1]-want[i][1]) > 1e-7 {
			t.Errorf("station %d at %.9f, %.9f, want %.9f, %.9f", i, s.Pos[0], s.Pos[1], want[i][0], want[i][1])
		}
	}
}

func mustCRS(t *testing.T, name string) crs.Transform {
	t.Helper()
	tr, err := ParseCRS(name)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestReadProjectedWithCRS(t *testing.T) {
	tests := []struct {
		name    string
		content string
		crs     string
		want    [][2]float64
	}{
		{"UTM 51N", xyCSV("id,x,y", shanghaiUTM51N), "EPSG:32651", shanghaiLonLat},
		{"3-degree Gauss-Kruger zone 40, named by URN", xyCSV("id,x,y", shanghaiGK40), "urn:ogc:def:crs:EPSG::4528", shanghaiLonLat},
		{"Web Mercator, by bare code", xyCSV("id,x,y", shanghaiWebMerc), "3857", shanghaiLonLat},
		{"UTM 22S, by OGC URI, in Chinese columns", xyCSV("编号,经度,纬度", poaUTM22S), "http://www.opengis.net/def/crs/EPSG/0/32722", poaLonLat},
		{"geographic CRS: degrees as they are", xyCSV("id,lon,lat", poaLonLat), "EPSG:4326", poaLonLat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadStations(writeInput(t, "s.csv", tc.content), PointOptions{CRS: mustCRS(t, tc.crs)})
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, got, tc.want)
		})
	}
}

// webMercator is the closed form of EPSG:3857, written out here.
func webMercator(lon, lat float64) (x, y float64) {
	const r = 6378137.0
	return r * lon * math.Pi / 180, r * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
}

func TestReadGeoJSONDeclaredCRS(t *testing.T) {
	var feats []string
	var want [][2]float64
	for _, p := range [][2]float64{{121.4846, 31.2385}, {-51.2278, -30.0276}, {2.35, 48.85}} {
		x, y := webMercator(p[0], p[1])
		feats = append(feats, ptFeature(`{}`, fmt.Sprintf("[%v,%v]", x, y)))
		want = append(want, p)
	}
	fc := func(name string) string {
		return `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"` + name + `"}},"features":[` + strings.Join(feats, ",") + `]}`
	}
	got, err := ReadStations(writeInput(t, "s.geojson", fc("urn:ogc:def:crs:EPSG::3857")), PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, got, want)
	// The same CRS given too: no conflict.
	if got, err = ReadStations(writeInput(t, "s.geojson", fc("EPSG:3857")), PointOptions{CRS: mustCRS(t, "EPSG:3857")}); err != nil {
		t.Fatal(err)
	}
	closeTo(t, got, want)

	// A census polygon of Porto Alegre in UTM 22S: vertices converted.
	ring := func(ps [][2]float64) string {
		var s []string
		for _, p := range append(ps, ps[0]) {
			s = append(s, fmt.Sprintf("[%v,%v]", p[0], p[1]))
		}
		return "[[" + strings.Join(s, ",") + "]]"
	}
	poly := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32722"}},"features":[` +
		polyFeature(`{"pop":120}`, ring(poaUTM22S)) + `]}`
	pop, err := ReadPopulation(writeInput(t, "p.geojson", poly), PopulationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The same polygon as an area, its CRS given instead of declared.
	undeclared := strings.Replace(poly, `"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32722"}},`, "", 1)
	areas, err := ReadAreas(writeInput(t, "a.geojson", strings.Replace(undeclared, `"pop":120`, `"name":"A"`, 1)), AreaOptions{CRS: mustCRS(t, "EPSG:32722")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []orb.Ring{pop.Polygons[0].Geom[0][0], areas[0].Geom[0][0]} {
		for i, p := range append(poaLonLat, poaLonLat[0]) {
			if math.Abs(r[i][0]-p[0]) > 1e-7 || math.Abs(r[i][1]-p[1]) > 1e-7 {
				t.Errorf("vertex %d at %v, want %v", i, r[i], p)
			}
		}
	}
}

func TestReadCRSErrors(t *testing.T) {
	fc3857 := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"features":[` + ptFeature(`{}`, `[13523603.8,3663761.8]`) + `]}`
	tests := []struct {
		badBytes
		crs string
	}{
		{badBytes: badBytes{name: "CRS given for degrees", content: []byte(xyCSV("id,lon,lat", shanghaiLonLat)), where: ":2:",
			want: []string{"coordinates (121.4846, 31.2385) look like longitude and latitude in degrees", "not metres of EPSG:32651 WGS 84 / UTM zone 51N", "drop the CRS option (--crs)"}}, crs: "EPSG:32651"},
		{badBytes: badBytes{name: "declared CRS disagrees with the one given", file: "s.geojson", content: []byte(fc3857),
			want: []string{`the file declares crs "EPSG:3857" (EPSG:3857 WGS 84 / Pseudo-Mercator), but EPSG:32651 WGS 84 / UTM zone 51N is given`}}, crs: "EPSG:32651"},
		{badBytes: badBytes{name: "unknown declared CRS", file: "s.geojson", content: []byte(strings.Replace(fc3857, "EPSG:3857", "EPSG:2154", 1)),
			want: []string{`crs "EPSG:2154" cannot be converted`, "unsupported coordinate reference system", "convert the file to EPSG:4326 first"}}},
		{badBytes: badBytes{name: "outside Mollweide's ellipse", content: []byte("id,x,y\na,1000000,1000000\nb,18000000,8000000\n"), where: ":3:",
			want: []string{"coordinates (18000000, 8000000) cannot be converted from ESRI:54009 World Mollweide", "outside"}}, crs: "ESRI:54009"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "s.csv"
			}
			path := writeBytes(t, file, tc.content)
			var tr crs.Transform
			if tc.crs != "" {
				tr = mustCRS(t, tc.crs)
			}
			_, err := ReadStations(path, PointOptions{CRS: tr})
			checkBad(t, path, tc.where, err, tc.want, tc.not)
		})
	}
}

func TestParseCRS(t *testing.T) {
	utm := "EPSG:32651 WGS 84 / UTM zone 51N"
	for _, tc := range []struct{ in, want string }{
		{"EPSG:32651", utm}, {" epsg::32651 ", utm}, {"32651", utm}, {"urn:ogc:def:crs:EPSG::32651", utm},
		{"urn:ogc:def:crs:EPSG:6.6:32651", utm}, {"http://www.opengis.net/def/crs/EPSG/0/32651", utm},
		{"CRS84", "EPSG:4326 WGS 84"}, {"urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326 WGS 84"},
		{"ESRI:54009", "ESRI:54009 World Mollweide"}, {"EPSG:4549", "EPSG:4549 CGCS2000 / 3-degree Gauss-Kruger CM 120E"},
	} {
		tr, err := ParseCRS(tc.in)
		if err != nil || tr.Name() != tc.want {
			t.Errorf("ParseCRS(%q) = %v, %v; want %s", tc.in, nameOf(tr), err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"EPSG:2154", "unsupported coordinate reference system"},
		{"EPSG:abc", `crs "EPSG:abc": not a CRS name; give EPSG:CODE`},
		{"", `crs "": not a CRS name`},
		{"urn:ogc:def:crs:EPSG", "not a CRS name"},
		{`PROJCS["x",GEOGCS["y"]`, "malformed WKT"},
	} {
		if _, err := ParseCRS(tc.in); err == nil || !strings.HasPrefix(err.Error(), "format: crs") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCRS(%q): error %v, want one with %q", tc.in, err, tc.want)
		}
	}
}

func nameOf(tr crs.Transform) string {
	if tr == nil {
		return "<nil>"
	}
	return tr.Name()
}

// Metres read as degrees: the message says so and names the CRS where the
// values tell it, or where the area the data belong to does.
func TestReadProjectedSlips(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		content string
		near    orb.Bound
		where   string
		want    []string
		not     string
	}{
		{name: "UTM values alone", content: xyCSV("id,x,y", shanghaiUTM51N), where: ":2:",
			want: []string{"coordinates (355684.20602534, 3457024.09989175) look like projected coordinates in metres, not longitude and latitude in degrees (3 of 3 positions are beyond ±180/±90)",
				"they fit UTM eastings and northings", "--crs EPSG:326NN (WGS 84 / UTM zone NN north) or EPSG:327NN (south)"}},
		{name: "UTM values beside Shanghai", content: xyCSV("id,x,y", shanghaiUTM51N), near: shanghaiBox, where: ":2:",
			want: []string{"they fit WGS 84 / UTM zone 51N, which puts them beside the other input: name the file's CRS with --crs EPSG:32651 (this position would then be at longitude 121.484600, latitude 31.238500)"},
			not:  "EPSG:4549"},
		{name: "UTM values beside Porto Alegre", content: xyCSV("id,x,y", poaUTM22S), near: poaBox, where: ":2:",
			want: []string{"they fit WGS 84 / UTM zone 22S", "--crs EPSG:32722 (this position would then be at longitude -51.227811, latitude -30.027565)"}},
		{name: "Gauss-Kruger zone in the eastings", content: xyCSV("id,x,y", shanghaiGK40), where: ":2:",
			want: []string{"--crs EPSG:4528 for CGCS2000 3-degree Gauss-Kruger zone 40, whose number leads the eastings (this position would then be at longitude 121.484600, latitude 31.238500)"}},
		{name: "Gauss-Kruger zone in the eastings, far from the other input", content: xyCSV("id,x,y", shanghaiGK40), near: poaBox, where: ":2:",
			want: []string{"name the file's CRS: --crs EPSG:4528 for CGCS2000 3-degree Gauss-Kruger zone 40"}, not: "beside the other input"},
		{name: "Web Mercator, or a 6-degree zone, alone", content: xyCSV("id,x,y", shanghaiWebMerc), where: ":2:",
			want: []string{"--crs EPSG:4491 for CGCS2000 Gauss-Kruger zone 13 (6-degree)", "or --crs EPSG:3857 for Web Mercator (this position would then be at longitude 121.484600, latitude 31.238500)"}},
		{name: "Web Mercator beside Shanghai", content: xyCSV("id,x,y", shanghaiWebMerc), near: shanghaiBox, where: ":2:",
			want: []string{"they fit Web Mercator, which puts them beside the other input: name the file's CRS with --crs EPSG:3857"}, not: "4491"},
		{name: "most rows in metres", content: "id,x,y\na,121.48,31.23\nb,355684,3457024\nc,356253,3457548\n", where: ":3:",
			want: []string{"(2 of 3 positions are beyond ±180/±90)"}},
		{name: "half the rows in metres is not most", content: "id,x,y\na,121.48,31.23\nb,355684,3457024\n", where: ":3:",
			want: []string{"latitude 3457024 outside ±90"}, not: "projected"},
		{name: "degree slips are not metres", content: "id,x,y\na,181,10\nb,-190,20\n", where: ":2:",
			want: []string{"longitude 181 outside ±180"}, not: "projected"},
		{name: "GeoJSON in metres", file: "s.geojson", content: pointFC(ptFeature(`{}`, `[355684.2,3457024.1]`), ptFeature(`{}`, `[356253.4,3457548.5]`)), where: ": feature 1:",
			want: []string{"look like projected coordinates in metres"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "s.csv"
			}
			path := writeInput(t, file, tc.content)
			_, err := ReadStations(path, PointOptions{Near: tc.near})
			checkBad(t, path, tc.where, err, tc.want, tc.not)
		})
	}
	// Population points and events go through the same check.
	path := writeInput(t, "p.csv", "lon,lat,pop\n355684.2,3457024.1,5\n356253.4,3457548.5,6\n")
	_, err := ReadPopulation(path, PopulationOptions{Near: shanghaiBox})
	checkBad(t, path, ":2:", err, []string{"--crs EPSG:32651"}, "")
	path = writeInput(t, "e.csv", "date,action,id,lon,lat\n2026-01-01,open,a,355684.2,3457024.1\n")
	_, _, err = ReadEventsWith(path, EventOptions{Near: shanghaiBox})
	checkBad(t, path, ":2:", err, []string{"--crs EPSG:32651"}, "")
	if evs, _, err := ReadEventsWith(path, EventOptions{CRS: mustCRS(t, "EPSG:32651")}); err != nil || math.Abs(evs[0].Station.Pos[0]-121.4846) > 1e-5 {
		t.Errorf("events in UTM: %+v, %v", evs, err)
	}
}

func TestReadNullIsland(t *testing.T) {
	tests := []struct {
		name, reader, file, content, where string
	}{
		{"station CSV", "stations", "s.csv", "id,lon,lat\na,1,1\nb,0,0\n", ":3:"},
		{"station CSV, zeros written long", "stations", "s.csv", "id;lon;lat\na;1;1\nb;0,000;-0.0\n", ":3:"},
		{"station GeoJSON", "stations", "s.geojson", pointFC(ptFeature(`{}`, `[0,0]`)), ": feature 1:"},
		{"population points", "population", "p.csv", "lon,lat,pop\n1,1,5\n0,0,3\n", ":3:"},
		{"population GeoJSON point", "population", "p.geojson", pointFC(ptFeature(`{"pop":1}`, `[0.0,0]`)), ": feature 1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeInput(t, tc.file, tc.content)
			err := badCase{reader: tc.reader}.read(path)
			checkBad(t, path, tc.where, err, []string{"position (0, 0)", "a missing position written as zeros", "fill in the position or remove it"}, "")
		})
	}
	// Either coordinate alone at 0 is a real place.
	got, err := ReadStations(writeInput(t, "s.csv", "id,lon,lat\na,0,51.48\nb,-78.5,0\n"), PointOptions{})
	if err != nil || len(got) != 2 {
		t.Errorf("got %+v, %v", got, err)
	}
	// A polygon vertex at (0, 0) is not a missing position.
	if _, err := ReadAreas(writeInput(t, "a.geojson", pointFC(polyFeature(`{"name":"A"}`, `[[[0,0],[1,0],[1,1],[0,0]]]`))), AreaOptions{}); err != nil {
		t.Error(err)
	}
}

// collect returns a Warn function and the warnings it received.
func collect() (func(Warning), *[]Warning) {
	var ws []Warning
	return func(w Warning) { ws = append(ws, w) }, &ws
}

func TestReadPopulationRepeatsAndBlanks(t *testing.T) {
	// Three res-9 cells of Shanghai; the sums worked out by hand.
	const c1, c2, c3 = "89309958adbffff", "89309959dafffff", "89309959d37ffff"
	tests := []struct {
		name    string
		file    string
		content string
		opt     PopulationOptions
		want    coverage.Population
		warns   []Warning
	}{
		{name: "repeated cells added up", file: "p.csv",
			content: "h3,pop\n" + c1 + ",10\n" + c2 + ",5\n" + c1 + ",7\n" + c1 + ",1\n" + c2 + ",2\n" + c3 + ",4\n",
			want:    coverage.Population{Cells: []coverage.PopCell{{H3: mustCell(t, c1), Population: 18}, {H3: mustCell(t, c2), Population: 7}, {H3: mustCell(t, c3), Population: 4}}},
			warns:   []Warning{{Line: 4, Msg: "3 rows repeat the H3 cell of an earlier row (the first, cell " + c1 + ", also on line 2); their populations are added together"}}},
		{name: "one repeat, with the filter skipping another", file: "p.csv",
			content: "h3,pop,keep\n" + c1 + ",10,y\n" + c1 + ",5,n\n" + c1 + ",7,y\n",
			opt:     PopulationOptions{Where: "keep=y"},
			want:    coverage.Population{Cells: []coverage.PopCell{{H3: mustCell(t, c1), Population: 17}}},
			warns:   []Warning{{Line: 4, Msg: "1 row repeats the H3 cell of an earlier row (the first, cell " + c1 + ", also on line 2); their populations are added together"}}},
		{name: "empty values count as zero", file: "p.csv",
			content: "h3,pop\n" + c1 + ",\n" + c2 + ",5\n" + c3 + ",  \n",
			want:    coverage.Population{Cells: []coverage.PopCell{{H3: mustCell(t, c1)}, {H3: mustCell(t, c2), Population: 5}, {H3: mustCell(t, c3)}}},
			warns:   []Warning{{Line: 2, Msg: `2 rows have an empty population (column "pop"), counted as 0 (the first on line 2)`}}},
		{name: "empty value of a point, skipped ones not counted", file: "p.csv",
			content: "lon;lat;pop;kind\n1;1;;home\n2;2;;park\n3;3;4,5;home\n",
			opt:     PopulationOptions{Where: "kind=home"},
			want:    coverage.Population{Points: []coverage.PopPoint{{Pos: orb.Point{1, 1}}, {Pos: orb.Point{3, 3}, Population: 4.5}}},
			warns:   []Warning{{Line: 2, Msg: `1 row has an empty population (column "pop"), counted as 0 (the first on line 2)`}}},
		{name: "null and empty GeoJSON populations", file: "p.geojson",
			content: pointFC(ptFeature(`{"pop":3}`, `[1,1]`), ptFeature(`{"pop":null}`, `[2,2]`), ptFeature(`{"pop":""}`, `[3,3]`)),
			want:    coverage.Population{Points: []coverage.PopPoint{{Pos: orb.Point{1, 1}, Population: 3}, {Pos: orb.Point{2, 2}}, {Pos: orb.Point{3, 3}}}},
			warns:   []Warning{{Feature: 2, Msg: `2 features have an empty population (property "pop"), counted as 0 (the first is feature 2)`}}},
		{name: "nothing odd, no warning", file: "p.csv", content: "h3,pop\n" + c1 + ",1\n",
			want: coverage.Population{Cells: []coverage.PopCell{{H3: mustCell(t, c1), Population: 1}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeInput(t, tc.file, tc.content)
			warn, got := collect()
			opt := tc.opt
			opt.Warn = warn
			pop, err := ReadPopulation(path, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pop, tc.want) {
				t.Errorf("got  %+v\nwant %+v", pop, tc.want)
			}
			for i := range tc.warns {
				tc.warns[i].Path = path
			}
			if !reflect.DeepEqual(*got, tc.warns) {
				t.Errorf("warnings %+v\nwant     %+v", *got, tc.warns)
			}
			// Without a Warn function the same is read.
			opt.Warn = nil
			if again, err := ReadPopulation(path, opt); err != nil || !reflect.DeepEqual(again, pop) {
				t.Errorf("without Warn: %+v, %v", again, err)
			}
		})
	}
}

func mustCell(t *testing.T, s string) h3.Cell {
	t.Helper()
	c, err := coverage.ParseCell(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The density limit, against cell and polygon areas computed here: the
// cell's boundary through orb's spherical area, a longitude/latitude box by
// its closed form on orb's sphere.
func TestReadImplausiblePopulation(t *testing.T) {
	const res9, res12 = "89309958adbffff", "8c309958ad8a1ff"
	cellKm2 := func(s string) float64 {
		return geo.Area(orb.Polygon{coverage.CellRing(mustCell(t, s))}) / 1e6
	}
	a9 := cellKm2(res9)
	if a9 < 0.05 || a9 > 0.2 {
		t.Fatalf("res-9 cell of %v km²: not a res-9 cell", a9)
	}
	if a12 := cellKm2(res12); a12 > 0.001 {
		t.Fatalf("res-12 cell of %v km²", a12)
	}
	limit9 := 1e6 * a9
	// A box of 0.01 by 0.01 degrees at the equator.
	const r = orb.EarthRadius
	boxKm2 := r * r * (0.01 * math.Pi / 180) * math.Sin(0.01*math.Pi/180) / 1e6
	box := polyFeature(`{"pop":%v}`, `[[[10,0],[10.01,0],[10.01,0.01],[10,0.01],[10,0]]]`)
	tests := []struct {
		name, file, content, where string
		ok                         bool
		also                       string
	}{
		{name: "res-9 cell just under the limit", file: "p.csv", content: fmt.Sprintf("h3,pop\n%s,%.0f\n", res9, 0.99*limit9), ok: true},
		{name: "res-9 cell just over the limit", file: "p.csv", content: fmt.Sprintf("h3,pop\n%s,%.0f\n", res9, 1.01*limit9), where: ":2:"},
		{name: "a city's total in one cell", file: "p.csv", content: "h3,pop\n" + res9 + ",5\n89309959dafffff,812935\n", where: ":3:"},
		{name: "tiny cell under the one-hectare floor", file: "p.csv", content: "h3,pop\n" + res12 + ",9900\n", ok: true},
		{name: "tiny cell over the one-hectare floor", file: "p.csv", content: "h3,pop\n" + res12 + ",10100\n", where: ":2:"},
		{name: "repeats that add up over the limit", file: "p.csv",
			content: fmt.Sprintf("h3,pop\n%s,%.0f\n%s,%.0f\n", res9, 0.6*limit9, res9, 0.6*limit9), where: ":3:", also: "H3 cell " + res9 + " summed over its rows from line 2, of "},
		{name: "repeats that add up under the limit", file: "p.csv",
			content: fmt.Sprintf("h3,pop\n%s,%.0f\n%s,%.0f\n", res9, 0.49*limit9, res9, 0.49*limit9), ok: true},
		{name: "polygon just under the limit", file: "p.geojson", content: pointFC(fmt.Sprintf(box, math.Floor(0.99*1e6*boxKm2))), ok: true},
		{name: "polygon just over the limit", file: "p.geojson", content: pointFC(ptFeature(`{"pop":1}`, `[1,1]`), fmt.Sprintf(box, math.Ceil(1.01*1e6*boxKm2))), where: ": feature 2:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeInput(t, tc.file, tc.content)
			_, err := ReadPopulation(path, PopulationOptions{})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			want := []string{"more than any place on Earth holds (at most 1000000 per km²", "is the column a total, a density, or in other units?"}
			if tc.also != "" {
				want = append(want, tc.also)
			}
			checkBad(t, path, tc.where, err, want, "")
		})
	}
}

// A city box from (10, 50) to (10.1, 50.1), and stations around it.
var cityBox = orb.Bound{Min: orb.Point{10, 50}, Max: orb.Point{10.1, 50.1}}

// kmFromBox is the great-circle distance from p to the nearest point of b,
// by the spherical law of cosines on a 6371 km sphere.
func kmFromBox(p orb.Point, b orb.Bound) float64 {
	q := orb.Point{math.Max(b.Min[0], math.Min(p[0], b.Max[0])), math.Max(b.Min[1], math.Min(p[1], b.Max[1]))}
	rad := math.Pi / 180
	c := math.Sin(p[1]*rad)*math.Sin(q[1]*rad) + math.Cos(p[1]*rad)*math.Cos(q[1]*rad)*math.Cos((p[0]-q[0])*rad)
	return 6371.0088 * math.Acos(math.Min(1, c))
}

func TestCheckPlacement(t *testing.T) {
	st := func(pts ...orb.Point) []coverage.Station {
		out := make([]coverage.Station, len(pts))
		for i, p := range pts {
			out[i] = coverage.Station{ID: "s" + strconv.Itoa(i+1), Pos: p}
		}
		return out
	}
	// 0.05° of latitude is 5.6 km, 0.2° is 22 km.
	tests := []struct {
		name     string
		stations []coverage.Station
		err      []string
		warn     string
		farKm    float64 // the distance the warning must give
	}{
		{name: "inside", stations: st(orb.Point{10.05, 50.05}, orb.Point{10.01, 50.09})},
		{name: "just outside is not far", stations: st(orb.Point{10.05, 50.15}, orb.Point{10.15, 49.96})},
		{name: "swapped", stations: st(orb.Point{50.05, 10.05}, orb.Point{50.09, 10.01}),
			err: []string{"format: stations.csv: every station lies far outside the population of pop.csv (the nearest ", "but within it with longitude and latitude exchanged",
				`the longitude and latitude columns look swapped (station "s1" has longitude 50.05, latitude 10.05)`, "--lon-col and --lat-col"}},
		{name: "swapped, one not within 10 km once exchanged", stations: st(orb.Point{50.05, 10.05}, orb.Point{50.3, 10.01}),
			warn: `2 of 2 stations lie more than 10 km outside`, farKm: kmFromBox(orb.Point{50.05, 10.05}, cityBox)},
		{name: "swapped, one only 5.6 km away once exchanged", stations: st(orb.Point{50.05, 10.05}, orb.Point{50.15, 10.01}),
			err: []string{"look swapped"}},
		{name: "far but not swapped", stations: st(orb.Point{10.05, 50.05}, orb.Point{10.05, 50.3}, orb.Point{10.05, 50.5}),
			warn: `2 of 3 stations lie more than 10 km outside the population of pop.csv, where they serve no one (the first, station "s2" at longitude 10.05, latitude 50.3, is `, farKm: kmFromBox(orb.Point{10.05, 50.3}, cityBox)},
		{name: "12 km away is far", stations: st(orb.Point{10.05, 50.05}, orb.Point{10.05, 50.21}),
			warn: `1 of 2 stations lies more than 10 km outside the population of pop.csv, where it serves no one (the first, station "s2" at longitude 10.05, latitude 50.21, is `, farKm: kmFromBox(orb.Point{10.05, 50.21}, cityBox)},
		{name: "9 km away is not far", stations: st(orb.Point{10.05, 50.05}, orb.Point{10.05, 50.18})},
		{name: "all far, swapped or not", stations: st(orb.Point{50.05, 10.05}, orb.Point{12, 52}),
			warn: `2 of 2 stations lie more than 10 km outside`, farKm: kmFromBox(orb.Point{50.05, 10.05}, cityBox)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			warn, ws := collect()
			err := CheckPlacement(tc.stations, "stations.csv", cityBox, "pop.csv", warn)
			if tc.err == nil && err != nil {
				t.Fatalf("error %v", err)
			}
			if tc.err != nil {
				checkBad(t, "stations.csv", "", err, tc.err, "")
				if len(*ws) > 0 {
					t.Errorf("warnings %v beside the error", *ws)
				}
				return
			}
			if tc.warn == "" {
				if len(*ws) > 0 {
					t.Errorf("warnings %v", *ws)
				}
				return
			}
			if len(*ws) != 1 || (*ws)[0].Path != "stations.csv" || !strings.HasPrefix((*ws)[0].Msg, tc.warn) {
				t.Fatalf("warnings %+v, want one starting %q", *ws, tc.warn)
			}
			msg := (*ws)[0].Msg
			i := strings.LastIndex(msg, " is ")
			km, err := strconv.ParseFloat(strings.TrimSuffix(msg[i+4:], " km away)"), 64)
			if err != nil || math.Abs(km-tc.farKm) > 0.1 {
				t.Errorf("warning %q gives %v km, want %.2f", msg, km, tc.farKm)
			}
		})
	}
	// The nearest distance of the swap message, against this test's own.
	err := CheckPlacement(st(orb.Point{50.05, 10.05}, orb.Point{50.09, 10.01}), "s.csv", cityBox, "p.csv", nil)
	want := fmt.Sprintf("(the nearest %.0f km away)", math.Min(kmFromBox(orb.Point{50.05, 10.05}, cityBox), kmFromBox(orb.Point{50.09, 10.01}, cityBox)))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
	if err := CheckPlacement(nil, "s.csv", cityBox, "p.csv", nil); err != nil {
		t.Error(err)
	}
}

func TestPopulationExtent(t *testing.T) {
	c := mustCell(t, "89309958adbffff")
	pop := coverage.Population{
		Points:   []coverage.PopPoint{{Pos: orb.Point{121.3, 31.1}}},
		Cells:    []coverage.PopCell{{H3: c}},
		Polygons: []coverage.PopPolygon{{Geom: orb.MultiPolygon{{{{121.6, 31.0}, {121.7, 31.0}, {121.7, 31.05}, {121.6, 31.0}}}}}},
	}
	b, ok := PopulationExtent(pop)
	ring := coverage.CellRing(c)
	maxLat := math.Inf(-1)
	for _, p := range ring {
		maxLat = math.Max(maxLat, p[1])
	}
	if !ok || b.Min != (orb.Point{121.3, 31.0}) || b.Max != (orb.Point{121.7, maxLat}) {
		t.Errorf("extent %v, want (121.3, 31.0)-(121.7, %v)", b, maxLat)
	}
	if _, ok := PopulationExtent(coverage.Population{}); ok {
		t.Error("extent of nothing")
	}
}

package crs

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var leftID = regexp.MustCompile(`[^A-Z](ID|AUTHORITY)\[`)

var idRE = regexp.MustCompile(`,\s*(AUTHORITY|ID)\["[^"]*",\s*"?[0-9]+"?\]`)

// TestFromWKT reads GDAL's WKT1, WKT2 and ESRI WKT of each supported kind
// with every identifier removed, so the projection parameters themselves are
// parsed, and checks the result against ByEPSG (itself checked against PROJ).
func TestFromWKT(t *testing.T) {
	files, _ := filepath.Glob("testdata/wkt_*.txt")
	if len(files) < 30 {
		t.Fatalf("only %d WKT files", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			code, _ := strconv.Atoi(strings.Split(filepath.Base(file), "_")[1])
			want, err := ByEPSG(code)
			if err != nil {
				t.Fatal(err)
			}
			wkt := strings.TrimSpace(string(b))
			bare := idRE.ReplaceAllString(wkt, "")
			if leftID.MatchString(bare) {
				t.Fatalf("identifiers left in %s", bare)
			}
			for _, c := range []struct {
				name string
				tr   func() (Transform, error)
			}{
				{"bare WKT", func() (Transform, error) { return FromWKT(bare) }},
				{"unknown org + bare WKT", func() (Transform, error) { return Lookup("NONE", 0, bare) }},
				{"WKT with id", func() (Transform, error) { return FromWKT(wkt) }},
				{"org and code", func() (Transform, error) { return Lookup("epsg", code, "") }},
			} {
				got, err := c.tr()
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if got.Geographic() != want.Geographic() {
					t.Fatalf("%s: geographic %v, want %v", c.name, got.Geographic(), want.Geographic())
				}
				// A point inside every test CRS's zone.
				lon, lat := 120.7, 31.2
				switch code {
				case 32723, 31983:
					lon, lat = -46.6, -23.5
				case 4499:
					lon = 122.1
				case 4510:
					lon = 122.4
				}
				x1, y1, err1 := got.FromWGS84(lon, lat)
				x2, y2, err2 := want.FromWGS84(lon, lat)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: %v %v", c.name, err1, err2)
				}
				if d := math.Hypot(x1-x2, y1-y2); d > 1e-6 {
					t.Errorf("%s: (%f, %f), ByEPSG (%f, %f)", c.name, x1, y1, x2, y2)
				}
			}
		})
	}
}

func TestFromWKTByName(t *testing.T) {
	// GHS-POP's own definition names Mollweide without any parameter.
	tr, err := FromWKT(`PROJCS["World_Mollweide",GEOGCS["GCS_WGS_1984",DATUM["WGS_1984",SPHEROID["WGS_84",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],UNIT["Meter",1.0]]`)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ByEPSG(54009)
	x1, y1, _ := tr.FromWGS84(121.47, 31.23)
	x2, y2, _ := want.FromWGS84(121.47, 31.23)
	if x1 != x2 || y1 != y2 {
		t.Errorf("Mollweide by name: (%f, %f), want (%f, %f)", x1, y1, x2, y2)
	}
	// US survey feet: false easting given in feet, coordinates in feet.
	ft := 0.3048006096012192
	tm, err := FromWKT(`PROJCS["test TM feet",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",123],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",1640416.667],PARAMETER["false_northing",0],UNIT["US survey foot",0.3048006096012192]]`)
	if err != nil {
		t.Fatal(err)
	}
	utm51, _ := ByEPSG(32651)
	x1, y1, _ = tm.FromWGS84(121.47, 31.23)
	x2, y2, _ = utm51.FromWGS84(121.47, 31.23)
	if d := math.Hypot(x1*ft-x2, y1*ft-y2); d > 0.01 {
		t.Errorf("feet: (%f, %f) ft = (%f, %f) m, want (%f, %f)", x1, y1, x1*ft, y1*ft, x2, y2)
	}
}

func FuzzFromWKT(f *testing.F) {
	files, _ := filepath.Glob("testdata/wkt_*.txt")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := FromWKT(s)
		if err != nil {
			return
		}
		if tr.Name() == "" {
			t.Fatal("an accepted CRS without a name")
		}
		// An accepted CRS is usable: some position on a 5° grid goes to the
		// CRS and back to within a micro-degree, and so does every position
		// within 6° of it (a projection is exact near its centre; transverse
		// Mercator loses accuracy tens of degrees away, so farther positions
		// are not held to it).
		type trip struct{ lon, lat, d float64 }
		var trips []trip
		best := -1
		for lat := -80.0; lat <= 80; lat += 5 {
			for lon := -180.0; lon < 180; lon += 5 {
				x, y, err := tr.FromWGS84(lon, lat)
				if err != nil || math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
					continue
				}
				lon2, lat2, err := tr.ToWGS84(x, y)
				if err != nil {
					continue
				}
				d := math.Max(math.Abs(math.Remainder(lon2-lon, 360)), math.Abs(lat2-lat))
				if math.IsNaN(d) {
					t.Fatalf("%s: (%v, %v) → (%v, %v) → NaN", tr.Name(), lon, lat, x, y)
				}
				if tr.Geographic() && d > 1e-12 {
					t.Fatalf("geographic %s moves (%v, %v) to (%v, %v)", tr.Name(), lon, lat, lon2, lat2)
				}
				trips = append(trips, trip{lon, lat, d})
				if best < 0 || d < trips[best].d {
					best = len(trips) - 1
				}
			}
		}
		if best < 0 || trips[best].d > 1e-6 {
			t.Fatalf("%s: no position on a 5° grid survives the round trip", tr.Name())
		}
		b := trips[best]
		for _, p := range trips {
			if math.Abs(math.Remainder(p.lon-b.lon, 360)) <= 6 && math.Abs(p.lat-b.lat) <= 6 && p.d > 1e-6 {
				t.Fatalf("%s: (%v, %v), %v° from the exact (%v, %v), comes back off by %v°", tr.Name(), p.lon, p.lat,
					math.Max(math.Abs(p.lon-b.lon), math.Abs(p.lat-b.lat)), b.lon, b.lat, p.d)
			}
		}
	})
}

package crs

import (
	"bufio"
	"errors"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/walkshed/walkshed/coverage/testenv"
)

// metersBetween is the ground distance between two nearby lon/lat points on
// a sphere of WGS-84's semi-major axis: enough to state a 1 cm tolerance.
func metersBetween(lon1, lat1, lon2, lat2 float64) float64 {
	dlon := math.Remainder(lon2-lon1, 360)
	dx := dlon * deg * 6378137 * math.Cos(lat1*deg)
	dy := (lat2 - lat1) * deg * 6378137
	return math.Hypot(dx, dy)
}

// TestAgainstPROJ compares every supported code with PROJ's answers, made by
// testdata/make_expected.py with gdaltransform: forward in metres and
// inverse in ground metres, both within 1 cm.
func TestAgainstPROJ(t *testing.T) {
	f, err := os.Open("testdata/proj_expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var n int
	codes := map[int]bool{}
	worst := map[string]float64{}
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			t.Fatalf("line %d: %q", line, sc.Text())
		}
		code, _ := strconv.Atoi(fs[0])
		var v [4]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(fs[i+1], 64)
		}
		lon, lat, wx, wy := v[0], v[1], v[2], v[3]
		tr, err := ByEPSG(code)
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		codes[code] = true
		x, y, err := tr.FromWGS84(lon, lat)
		if err != nil {
			t.Errorf("line %d: %s FromWGS84(%v, %v): %v", line, tr.Name(), lon, lat, err)
			continue
		}
		var fwd float64
		if tr.Geographic() {
			fwd = metersBetween(wx, wy, x, y)
		} else {
			fwd = math.Hypot(x-wx, y-wy)
		}
		if fwd > 0.01 {
			t.Errorf("line %d: %s FromWGS84(%v, %v) = (%.4f, %.4f), PROJ (%.4f, %.4f): off by %.4f m", line, tr.Name(), lon, lat, x, y, wx, wy, fwd)
		}
		glon, glat, err := tr.ToWGS84(wx, wy)
		if err != nil {
			t.Errorf("line %d: %s ToWGS84(%v, %v): %v", line, tr.Name(), wx, wy, err)
			continue
		}
		inv := metersBetween(lon, lat, glon, glat)
		if math.Abs(lat) > 89.8 { // longitude is ill-defined at the pole
			inv = math.Abs(glat-lat) * deg * 6378137
		}
		if inv > 0.01 {
			t.Errorf("line %d: %s ToWGS84(%.4f, %.4f) = (%.10f, %.10f), want (%.10f, %.10f): off by %.4f m", line, tr.Name(), wx, wy, glon, glat, lon, lat, inv)
		}
		kind := strings.Fields(tr.Name())[1]
		worst[kind] = math.Max(worst[kind], math.Max(fwd, inv))
		n++
	}
	if n < 6000 || len(codes) < 220 {
		t.Fatalf("only %d points over %d codes read", n, len(codes))
	}
	for k, w := range worst {
		t.Logf("%s: worst difference from PROJ %.2g m", k, w)
	}
}

// TestPROJLive re-asks gdaltransform for a few points, so that the committed
// file cannot drift from PROJ unnoticed.
func TestPROJLive(t *testing.T) {
	if _, err := exec.LookPath("gdaltransform"); err != nil {
		testenv.Missing(t, "gdaltransform not found (apt-get install gdal-bin), so the live PROJ check cannot run")
	}
	cases := []struct {
		name, src, dst string
		code           int
		lon, lat       float64
	}{
		{"UTM 51N Shanghai", "EPSG:4326", "EPSG:32651", 32651, 121.4737, 31.2304},
		{"UTM 23S Sao Paulo", "EPSG:4674", "EPSG:31983", 31983, -46.6333, -23.5505},
		{"GK 3deg zone 40", "EPSG:4490", "EPSG:4528", 4528, 121.4737, 31.2304},
		{"GK 3deg CM 120E", "EPSG:4490", "EPSG:4549", 4549, 121.4737, 31.2304},
		{"GK 6deg zone 21", "EPSG:4490", "EPSG:4499", 4499, 121.4737, 31.2304},
		{"GK 6deg CM 123E", "EPSG:4490", "EPSG:4510", 4510, 121.4737, 31.2304},
		{"Mollweide", "EPSG:4326", "ESRI:54009", 54009, 121.4737, 31.2304},
		{"Web Mercator", "EPSG:4326", "EPSG:3857", 3857, 121.4737, 31.2304},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("gdaltransform", "-s_srs", c.src, "-t_srs", c.dst)
			cmd.Stdin = strings.NewReader(strconv.FormatFloat(c.lon, 'f', -1, 64) + " " + strconv.FormatFloat(c.lat, 'f', -1, 64) + "\n")
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			fs := strings.Fields(string(out))
			wx, _ := strconv.ParseFloat(fs[0], 64)
			wy, _ := strconv.ParseFloat(fs[1], 64)
			tr, err := ByEPSG(c.code)
			if err != nil {
				t.Fatal(err)
			}
			x, y, err := tr.FromWGS84(c.lon, c.lat)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Hypot(x-wx, y-wy); d > 0.01 {
				t.Errorf("got (%.3f, %.3f), PROJ (%.3f, %.3f)", x, y, wx, wy)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	for _, code := range []int{2000, 4214, 32661, 4555, 27700} {
		_, err := ByEPSG(code)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "EPSG:"+strconv.Itoa(code)) {
			t.Errorf("ByEPSG(%d) = %v, want an unsupported error naming the code", code, err)
		}
	}
	_, err := Lookup("EPSG", 2154, `PROJCS["RGF93 / Lambert-93",GEOGCS["RGF93",DATUM["Reseau_Geodesique_Francais_1993",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic_2SP"],UNIT["metre",1]]`)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "EPSG:2154") || !strings.Contains(err.Error(), "RGF93 / Lambert-93") {
		t.Errorf("Lookup Lambert-93: %v", err)
	}
	_, err = Lookup("NONE", 1, `GEOGCS["Beijing 1954",DATUM["Beijing_1954",SPHEROID["Krassowsky 1940",6378245,298.3]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Beijing 1954") {
		t.Errorf("Lookup Beijing 1954: %v", err)
	}
	if _, err := Lookup("EPSG", 99999, "undefined"); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "99999") {
		t.Errorf("Lookup undefined: %v", err)
	}
}

func TestOutOfRange(t *testing.T) {
	tr, _ := ByEPSG(32651)
	if _, _, err := tr.ToWGS84(math.NaN(), 0); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("NaN: %v", err)
	}
	if _, _, err := tr.ToWGS84(5e8, 3e6); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("far easting: %v", err)
	}
	m, _ := ByEPSG(54009)
	if _, _, err := m.ToWGS84(0, 1e8); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Mollweide beyond the pole: %v", err)
	}
	if _, _, err := m.ToWGS84(1.9e7, 8e6); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Mollweide outside the ellipse: %v", err)
	}
}

func BenchmarkUTMToWGS84(b *testing.B) {
	tr, _ := ByEPSG(32651)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _, _ = tr.ToWGS84(350000+float64(i%1000), 3456000)
	}
}

func BenchmarkMollweideToWGS84(b *testing.B) {
	tr, _ := ByEPSG(54009)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _, _ = tr.ToWGS84(1.0e7+float64(i%1000), 3.7e6)
	}
}

package crs

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// Published pairs from independent implementations of the same algorithm
// (wandergis/coordtransform's test suite, reproduced by Hutool's
// CoordinateUtilTest and coordtransform-rs): input lon 116.404, lat 39.915.
func TestPublishedPairs(t *testing.T) {
	in := orb.Point{116.404, 39.915}
	cases := []struct {
		name string
		got  orb.Point
		want orb.Point
		tol  float64 // degrees
	}{
		{"WGS84ToGCJ02", WGS84ToGCJ02(in), orb.Point{116.41024449916938, 39.91640428150164}, 1e-12},
		{"GCJ02ToBD09", GCJ02ToBD09(in), orb.Point{116.41036949371029, 39.92133699351021}, 1e-12},
		{"WGS84ToBD09", WGS84ToBD09(in), orb.Point{116.41662724378733, 39.922699552216216}, 1e-12},
		// The published inverses are one-step approximations; ours iterate
		// to the exact inverse, which lies within a metre of theirs.
		{"GCJ02ToWGS84 (approx. published)", GCJ02ToWGS84(in), orb.Point{116.39775550083061, 39.91359571849836}, 1e-5},
		{"BD09ToGCJ02 (approx. published)", BD09ToGCJ02(in), orb.Point{116.39762729119315, 39.90865673957631}, 1e-5},
	}
	for _, c := range cases {
		if d := math.Max(math.Abs(c.got[0]-c.want[0]), math.Abs(c.got[1]-c.want[1])); d > c.tol {
			t.Errorf("%s = %.14f, %.14f; want %.14f, %.14f (off %.3g°)", c.name, c.got[0], c.got[1], c.want[0], c.want[1], d)
		}
	}
}

// TestRoundTrips checks, at points across mainland China's rectangle, that
// each inverse reproduces the forward transform to 1e-9° and that the round
// trip lands within 1 cm.
func TestRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 2024))
	pts := []orb.Point{{121.4737, 31.2304}, {116.404, 39.915}, {113.2644, 23.1291}, {87.6168, 43.8256}, {126.6424, 45.7567}}
	for range 5000 {
		pts = append(pts, orb.Point{73 + rng.Float64()*62, 18 + rng.Float64()*35})
	}
	var worst float64
	for _, p := range pts {
		for _, c := range []struct {
			name     string
			fwd, inv func(orb.Point) orb.Point
		}{
			{"GCJ-02", WGS84ToGCJ02, GCJ02ToWGS84},
			{"BD-09 from GCJ-02", GCJ02ToBD09, BD09ToGCJ02},
			{"BD-09", WGS84ToBD09, BD09ToWGS84},
		} {
			shifted := c.fwd(p)
			if metersBetween(p[0], p[1], shifted[0], shifted[1]) < 1 {
				t.Fatalf("%s did not shift %v", c.name, p)
			}
			back := c.inv(shifted)
			d := metersBetween(p[0], p[1], back[0], back[1])
			worst = math.Max(worst, d)
			if d > 0.01 {
				t.Errorf("%s round trip of %v lands %.4f m away", c.name, p, d)
			}
			again := c.fwd(c.inv(p))
			if math.Abs(again[0]-p[0]) > 1.5e-9 || math.Abs(again[1]-p[1]) > 1.5e-9 {
				t.Errorf("%s: fwd(inv(%v)) = %v", c.name, p, again)
			}
		}
	}
	t.Logf("worst round trip over %d points: %.2g m", len(pts), worst)
}

func TestOutsideChinaUnchanged(t *testing.T) {
	for _, p := range []orb.Point{{-0.1276, 51.5072}, {139.6917, 35.6895}, {151.2093, -33.8688}, {-46.6333, -23.5505}, {72.0, 30.0}, {100.0, 0.5}, {100, 56}} {
		if g := WGS84ToGCJ02(p); g != p {
			t.Errorf("WGS84ToGCJ02(%v) = %v, want unchanged", p, g)
		}
		if g := GCJ02ToWGS84(p); g != p {
			t.Errorf("GCJ02ToWGS84(%v) = %v, want unchanged", p, g)
		}
	}
}

func TestParse(t *testing.T) {
	cases := map[string]Datum{"wgs84": WGS84, "WGS-84": WGS84, "gcj02": GCJ02, "GCJ-02": GCJ02, "bd09": BD09, "BD-09": BD09}
	for s, want := range cases {
		got, err := Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
		if back, _ := Parse(got.String()); back != got {
			t.Errorf("Parse(%v.String()) = %v", got, back)
		}
	}
	if _, err := Parse("utm"); err == nil {
		t.Error("Parse(utm) succeeded")
	}
	p := orb.Point{121.4737, 31.2304}
	for _, d := range []Datum{WGS84, GCJ02, BD09} {
		if q := d.ToWGS84(d.FromWGS84(p)); metersBetween(p[0], p[1], q[0], q[1]) > 0.01 {
			t.Errorf("%v round trip: %v", d, q)
		}
	}
	// In Shanghai the GCJ-02 offset is about 500 m, as planners see it.
	g := GCJ02.FromWGS84(p)
	if d := metersBetween(p[0], p[1], g[0], g[1]); d < 300 || d > 800 {
		t.Errorf("GCJ-02 offset in Shanghai %.0f m", d)
	}
}

func BenchmarkGCJ02ToWGS84(b *testing.B) {
	p := orb.Point{121.4737, 31.2304}
	b.ReportAllocs()
	for b.Loop() {
		_ = GCJ02ToWGS84(p)
	}
}

package crs

import (
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"
)

// Datum is the coordinate convention of point inputs: WGS-84, or one of the
// deliberately offset systems of Chinese map services.
type Datum int

// The datums of --crs.
const (
	WGS84 Datum = iota // GPS, OpenStreetMap, Google Maps outside China
	GCJ02              // "Mars coordinates": Amap/Gaode, Tencent, Google Maps in China
	BD09               // Baidu Maps: GCJ-02 with a further shift
)

// Parse reads a datum name as given to --crs: wgs84, gcj02 or bd09 (case and
// the separators in "WGS-84", "GCJ-02", "BD-09" do not matter).
func Parse(name string) (Datum, error) {
	switch strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(name))) {
	case "wgs84", "epsg4326", "4326":
		return WGS84, nil
	case "gcj02", "gcj", "mars":
		return GCJ02, nil
	case "bd09", "bd09ll", "baidu":
		return BD09, nil
	}
	return 0, fmt.Errorf("crs: unknown datum %q (want wgs84, gcj02 or bd09)", name)
}

func (d Datum) String() string {
	switch d {
	case WGS84:
		return "wgs84"
	case GCJ02:
		return "gcj02"
	case BD09:
		return "bd09"
	}
	return fmt.Sprintf("Datum(%d)", int(d))
}

// ToWGS84 converts a point given in d to WGS-84.
func (d Datum) ToWGS84(p orb.Point) orb.Point {
	switch d {
	case GCJ02:
		return GCJ02ToWGS84(p)
	case BD09:
		return BD09ToWGS84(p)
	}
	return p
}

// FromWGS84 converts a WGS-84 point to d.
func (d Datum) FromWGS84(p orb.Point) orb.Point {
	switch d {
	case GCJ02:
		return WGS84ToGCJ02(p)
	case BD09:
		return WGS84ToBD09(p)
	}
	return p
}

// The constants of the published GCJ-02 algorithm: the Krasovsky 1940
// ellipsoid's semi-major axis and first eccentricity squared.
const (
	gcjA  = 6378245.0
	gcjEE = 0.00669342162296594323
	bdXPi = math.Pi * 3000.0 / 180.0
)

// OutOfChina reports whether p lies outside the rectangle the GCJ-02
// algorithm shifts (lon 72.004–137.8347, lat 0.8293–55.8271); such points
// are the same in WGS-84, GCJ-02 and BD-09's GCJ step.
func OutOfChina(p orb.Point) bool {
	return !(p[0] >= 72.004 && p[0] <= 137.8347 && p[1] >= 0.8293 && p[1] <= 55.8271)
}

// WGS84ToGCJ02 applies the GCJ-02 offset. Points outside mainland China's
// rectangle are returned unchanged.
func WGS84ToGCJ02(p orb.Point) orb.Point {
	if OutOfChina(p) {
		return p
	}
	dlon, dlat := gcjDelta(p[0], p[1])
	return orb.Point{p[0] + dlon, p[1] + dlat}
}

func gcjDelta(lon, lat float64) (dlon, dlat float64) {
	x, y := lon-105.0, lat-35.0
	dlat = gcjLat(x, y)
	dlon = gcjLon(x, y)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - gcjEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dlat = (dlat * 180.0) / ((gcjA * (1 - gcjEE)) / (magic * sqrtMagic) * math.Pi)
	dlon = (dlon * 180.0) / (gcjA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return dlon, dlat
}

func gcjLat(x, y float64) float64 {
	r := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	r += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return r
}

func gcjLon(x, y float64) float64 {
	r := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	r += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return r
}

// inverseTolerance is how closely the forward transform of an inverse must
// reproduce its input, in degrees (1e-9° ≈ 0.1 mm).
const inverseTolerance = 1e-9

// invert finds q with fwd(q) = p by fixed-point iteration q ← q + (p − fwd(q)),
// starting from start. The offsets change by ~1e-5 per degree, so each step
// gains about five digits; a few steps reach inverseTolerance.
func invert(p, start orb.Point, fwd func(orb.Point) orb.Point) orb.Point {
	q := start
	for range 30 {
		f := fwd(q)
		dx, dy := p[0]-f[0], p[1]-f[1]
		if math.Abs(dx) < inverseTolerance && math.Abs(dy) < inverseTolerance {
			break
		}
		q = orb.Point{q[0] + dx, q[1] + dy}
	}
	return q
}

// GCJ02ToWGS84 inverts WGS84ToGCJ02 iteratively: the result's forward
// transform is within 1e-9 degrees of p. Points outside the rectangle are
// returned unchanged.
func GCJ02ToWGS84(p orb.Point) orb.Point {
	if OutOfChina(p) {
		return p
	}
	dlon, dlat := gcjDelta(p[0], p[1])
	return invert(p, orb.Point{p[0] - dlon, p[1] - dlat}, WGS84ToGCJ02)
}

// GCJ02ToBD09 applies Baidu's BD-09 offset to a GCJ-02 point. Baidu applies
// it everywhere; only the GCJ step has the outside-China rule.
func GCJ02ToBD09(p orb.Point) orb.Point {
	x, y := p[0], p[1]
	z := math.Sqrt(x*x+y*y) + 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) + 0.000003*math.Cos(x*bdXPi)
	return orb.Point{z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006}
}

// BD09ToGCJ02 inverts GCJ02ToBD09. The published inverse formula (used as
// the first guess) is off by up to a few decimetres; the result is refined
// until its forward transform is within 1e-9 degrees of p.
func BD09ToGCJ02(p orb.Point) orb.Point {
	x, y := p[0]-0.0065, p[1]-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	return invert(p, orb.Point{z * math.Cos(theta), z * math.Sin(theta)}, GCJ02ToBD09)
}

// WGS84ToBD09 converts WGS-84 to BD-09 through GCJ-02.
func WGS84ToBD09(p orb.Point) orb.Point { return GCJ02ToBD09(WGS84ToGCJ02(p)) }

// BD09ToWGS84 converts BD-09 to WGS-84: through GCJ-02 for a first guess,
// then refined against the composed forward transform so that
// WGS84ToBD09 of the result is within 1e-9 degrees of p.
func BD09ToWGS84(p orb.Point) orb.Point {
	return invert(p, GCJ02ToWGS84(BD09ToGCJ02(p)), WGS84ToBD09)
}

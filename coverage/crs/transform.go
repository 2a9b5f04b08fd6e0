package crs

import (
	"errors"
	"fmt"
	"math"
)

// Transform converts between a coordinate reference system and WGS-84
// longitude/latitude in degrees. Implementations are immutable values, safe
// for concurrent use.
type Transform interface {
	// ToWGS84 converts x, y (easting, northing in the CRS's linear unit, or
	// longitude, latitude in degrees for a geographic CRS) to WGS-84.
	ToWGS84(x, y float64) (lon, lat float64, err error)
	// FromWGS84 is the inverse of ToWGS84.
	FromWGS84(lon, lat float64) (x, y float64, err error)
	// Name is a human-readable name, e.g. "EPSG:32651 WGS 84 / UTM zone 51N".
	Name() string
	// Geographic reports whether coordinates are longitude/latitude degrees.
	Geographic() bool
}

// ErrUnsupported is wrapped by every error about a CRS this package cannot
// convert; the message names its code or WKT name.
var ErrUnsupported = errors.New("unsupported coordinate reference system")

// ErrOutOfRange is wrapped by errors for coordinates outside a projection's
// domain (e.g. a Web Mercator northing beyond the poles, or NaN).
var ErrOutOfRange = errors.New("coordinate outside the projection's domain")

const (
	deg = math.Pi / 180
	rad = 180 / math.Pi
)

// Ellipsoid is a reference ellipsoid: semi-major axis in metres and inverse
// flattening.
type Ellipsoid struct {
	A    float64
	InvF float64
}

// The ellipsoids of the supported systems.
var (
	WGS84Ellipsoid = Ellipsoid{A: 6378137, InvF: 298.257223563}
	// GRS80 is the ellipsoid of CGCS2000 (whose 1/f, 298.257222101, is
	// GRS80's to the 10th digit) and of SIRGAS 2000.
	GRS80Ellipsoid = Ellipsoid{A: 6378137, InvF: 298.257222101}
)

func (e Ellipsoid) f() float64 {
	if e.InvF == 0 {
		return 0
	}
	return 1 / e.InvF
}

// geographic is a longitude/latitude CRS whose datum is taken as WGS-84.
type geographic struct{ name string }

func (g geographic) ToWGS84(x, y float64) (float64, float64, error) {
	if !(y >= -90 && y <= 90) || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v): %w", g.name, x, y, ErrOutOfRange)
	}
	return x, y, nil
}

func (g geographic) FromWGS84(lon, lat float64) (float64, float64, error) { return g.ToWGS84(lon, lat) }
func (g geographic) Name() string                                         { return g.name }
func (g geographic) Geographic() bool                                     { return true }

// webMercator is the spherical ("pseudo") Mercator of web maps, on a sphere
// of WGS-84's semi-major axis, with WGS-84 latitudes taken as spherical ones.
type webMercator struct{ name string }

func (w webMercator) ToWGS84(x, y float64) (float64, float64, error) {
	const r = 6378137.0
	if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v): %w", w.name, x, y, ErrOutOfRange)
	}
	lon := x / r * rad
	lat := (math.Pi/2 - 2*math.Atan(math.Exp(-y/r))) * rad
	return lon, lat, nil
}

func (w webMercator) FromWGS84(lon, lat float64) (float64, float64, error) {
	const r = 6378137.0
	if !(lat > -90 && lat < 90) || math.IsNaN(lon) || math.IsInf(lon, 0) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v): %w", w.name, lon, lat, ErrOutOfRange)
	}
	return r * lon * deg, r * math.Log(math.Tan(math.Pi/4+lat*deg/2)), nil
}

func (w webMercator) Name() string     { return w.name }
func (w webMercator) Geographic() bool { return false }

// mollweide is the equal-area Mollweide projection on a sphere of the
// ellipsoid's semi-major axis, as PROJ's +proj=moll (and so ESRI:54009 and
// GHS-POP) computes it.
type mollweide struct {
	name           string
	r              float64
	lon0           float64 // degrees
	x0, y0, toMetr float64
}

func (m mollweide) FromWGS84(lon, lat float64) (float64, float64, error) {
	if !(lat >= -90 && lat <= 90) || math.IsNaN(lon) || math.IsInf(lon, 0) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v): %w", m.name, lon, lat, ErrOutOfRange)
	}
	lam := wrapRad((lon - m.lon0) * deg)
	phi := lat * deg
	// Solve 2θ + sin 2θ = π sin φ by Newton's method on t = 2θ.
	k := math.Pi * math.Sin(phi)
	t := phi * 2
	for range 50 {
		d := (t + math.Sin(t) - k) / (1 + math.Cos(t))
		t -= d
		if math.Abs(d) < 1e-15 || math.IsNaN(d) {
			break
		}
	}
	if math.Abs(phi) > math.Pi/2-1e-12 || math.IsNaN(t) {
		t = math.Copysign(math.Pi, phi)
	}
	theta := t / 2
	x := m.r * 2 * math.Sqrt2 / math.Pi * lam * math.Cos(theta)
	y := m.r * math.Sqrt2 * math.Sin(theta)
	return (x + m.x0) / m.toMetr, (y + m.y0) / m.toMetr, nil
}

func (m mollweide) ToWGS84(x, y float64) (float64, float64, error) {
	x = x*m.toMetr - m.x0
	y = y*m.toMetr - m.y0
	s := y / (m.r * math.Sqrt2)
	if !(math.Abs(s) <= 1) || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v): %w", m.name, x, y, ErrOutOfRange)
	}
	theta := math.Asin(s)
	phi := math.Asin(math.Max(-1, math.Min(1, (2*theta+math.Sin(2*theta))/math.Pi)))
	c := math.Cos(theta)
	var lam float64
	if c > 1e-15 {
		lam = math.Pi * x / (2 * math.Sqrt2 * m.r * c)
	}
	if math.Abs(lam) > math.Pi*(1+1e-12) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v) outside the ellipse: %w", m.name, x, y, ErrOutOfRange)
	}
	return wrapDeg(lam*rad + m.lon0), phi * rad, nil
}

func (m mollweide) Name() string     { return m.name }
func (m mollweide) Geographic() bool { return false }

// wrapRad brings an angle into [-π, π].
func wrapRad(a float64) float64 {
	if a >= -math.Pi && a <= math.Pi {
		return a
	}
	return math.Remainder(a, 2*math.Pi)
}

// wrapDeg brings a longitude into [-180, 180].
func wrapDeg(a float64) float64 {
	if a >= -180 && a <= 180 {
		return a
	}
	return math.Remainder(a, 360)
}

package crs

import (
	"fmt"
	"math"
)

// tmerc is the ellipsoidal transverse Mercator projection (UTM, Gauss-Krüger)
// computed with Krüger's series to sixth order in the third flattening n, in
// the form of Karney (2011), "Transverse Mercator with an accuracy of a few
// nanometers", J. Geodesy 85:475–485, eqs. (35) and (36). Within 4,000 km of
// the central meridian the series' error is below 1 mm; PROJ uses the same
// method (its "exact" tmerc), which is what the tests compare against.
type tmerc struct {
	name   string
	lon0   float64 // central meridian, degrees
	k0     float64 // scale on the central meridian
	x0, y0 float64 // false easting and northing, metres
	toMetr float64 // metres per linear unit of the CRS
	e      float64 // eccentricity
	ka     float64 // k0 * A, A the rectifying radius
	alpha  [6]float64
	beta   [6]float64
}

func newTmerc(name string, ell Ellipsoid, lon0, k0, x0, y0 float64) *tmerc {
	f := ell.f()
	n := f / (2 - f)
	n2 := n * n
	n3, n4, n5, n6 := n2*n, n2*n2, n2*n2*n, n2*n2*n2
	a := ell.A / (1 + n) * (1 + n2/4 + n4/64 + n6/256)
	t := &tmerc{
		name: name, lon0: lon0, k0: k0, x0: x0, y0: y0, toMetr: 1,
		e:  math.Sqrt(f * (2 - f)),
		ka: k0 * a,
	}
	t.alpha = [6]float64{
		n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
		13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
		61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
		49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
		34729*n5/80640 - 3418889*n6/1995840,
		212378941 * n6 / 319334400,
	}
	t.beta = [6]float64{
		n/2 - 2*n2/3 + 37*n3/96 - n4/360 - 81*n5/512 + 96199*n6/604800,
		n2/48 + n3/15 - 437*n4/1440 + 46*n5/105 - 1118711*n6/3870720,
		17*n3/480 - 37*n4/840 - 209*n5/4480 + 5569*n6/90720,
		4397*n4/161280 - 11*n5/504 - 830251*n6/7257600,
		4583*n5/161280 - 108847*n6/3991680,
		20648693 * n6 / 638668800,
	}
	return t
}

func (t *tmerc) Name() string     { return t.name }
func (t *tmerc) Geographic() bool { return false }

func (t *tmerc) FromWGS84(lon, lat float64) (float64, float64, error) {
	lam := wrapRad((lon - t.lon0) * deg)
	if !(lat >= -90 && lat <= 90) || math.IsNaN(lam) || math.Abs(lam) >= math.Pi/2 {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v) more than 90° from the central meridian: %w", t.name, lon, lat, ErrOutOfRange)
	}
	phi := lat * deg
	// Conformal latitude as tan χ.
	sp := math.Sin(phi)
	tau := math.Tan(phi)
	if math.Abs(lat) == 90 {
		tau = math.Copysign(math.Inf(1), lat)
	}
	sigma := math.Sinh(t.e * math.Atanh(t.e*sp))
	taup := tau*math.Sqrt(1+sigma*sigma) - sigma*math.Sqrt(1+tau*tau)
	if math.IsInf(tau, 0) {
		taup = tau
	}
	xip := math.Atan2(taup, math.Cos(lam))
	etap := math.Asinh(math.Sin(lam) / math.Hypot(taup, math.Cos(lam)))
	xi, eta := xip, etap
	for j, a := range t.alpha {
		k := 2 * float64(j+1)
		xi += a * math.Sin(k*xip) * math.Cosh(k*etap)
		eta += a * math.Cos(k*xip) * math.Sinh(k*etap)
	}
	x := t.x0 + t.ka*eta
	y := t.y0 + t.ka*xi
	return x / t.toMetr, y / t.toMetr, nil
}

func (t *tmerc) ToWGS84(x, y float64) (float64, float64, error) {
	if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v): %w", t.name, x, y, ErrOutOfRange)
	}
	eta := (x*t.toMetr - t.x0) / t.ka
	xi := (y*t.toMetr - t.y0) / t.ka
	if math.Abs(eta) > 3 || math.Abs(xi) > math.Pi {
		// Beyond ~19,000 km east or one meridian length north: not a point
		// of this projection (often a wrong zone or wrong unit).
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v) far outside the zone: %w", t.name, x, y, ErrOutOfRange)
	}
	xip, etap := xi, eta
	for j, b := range t.beta {
		k := 2 * float64(j+1)
		xip -= b * math.Sin(k*xi) * math.Cosh(k*eta)
		etap -= b * math.Cos(k*xi) * math.Sinh(k*eta)
	}
	se := math.Sinh(etap)
	cx := math.Cos(xip)
	taup := math.Sin(xip) / math.Hypot(se, cx)
	lam := math.Atan2(se, cx)
	tau := t.tauFromTaup(taup)
	lat := math.Atan(tau) * rad
	return wrapDeg(lam*rad + t.lon0), lat, nil
}

// tauFromTaup inverts the conformal latitude by Newton's method (Karney
// 2011, eqs. 19–21): from tan χ to tan φ.
func (t *tmerc) tauFromTaup(taup float64) float64 {
	if math.IsInf(taup, 0) {
		return taup
	}
	e2m := 1 - t.e*t.e
	tau := taup / e2m
	for range 10 {
		s := math.Sinh(t.e * math.Atanh(t.e*tau/math.Sqrt(1+tau*tau)))
		taui := tau*math.Sqrt(1+s*s) - s*math.Sqrt(1+tau*tau)
		d := (taup - taui) * (1 + e2m*tau*tau) / (e2m * math.Sqrt(1+taui*taui) * math.Sqrt(1+tau*tau))
		tau += d
		if math.Abs(d) <= 1e-14*math.Max(1, math.Abs(tau)) {
			break
		}
	}
	return tau
}

package coverage

import (
	"math"

	"github.com/paulmach/orb"
)

const degToRad = math.Pi / 180

// Distance is the haversine great-circle distance between a and b, with
// R = EarthRadius. It is the one distance used for straight-line reach,
// street lengths and snapping legs, so every model agrees on what a metre is.
func Distance(a, b orb.Point) Meters {
	lat1, lat2 := a[1]*degToRad, b[1]*degToRad
	dlat := lat2 - lat1
	dlon := (b[0] - a[0]) * degToRad
	s1 := math.Sin(dlat / 2)
	s2 := math.Sin(dlon / 2)
	h := s1*s1 + math.Cos(lat1)*math.Cos(lat2)*s2*s2
	if h > 1 {
		h = 1
	}
	return Meters(2 * float64(EarthRadius) * math.Asin(math.Sqrt(h)))
}

// wrapLon brings a longitude difference into (-180, 180].
func wrapLon(d float64) float64 {
	for d > 180 {
		d -= 360
	}
	for d <= -180 {
		d += 360
	}
	return d
}

// boxDistance is a lower bound (exact for points) on the great-circle
// distance in metres from p to any point of the lon/lat box [min, max]. It
// handles boxes at any latitude and across the antimeridian of p: a degree box
// is not a metric box, so the bound follows meridians and parallels on the
// sphere rather than scaling degrees.
func boxDistance(p orb.Point, min, max [2]float64) Meters {
	lon, lat := p[0], p[1]
	// Longitude offsets from p to the box's west and east edges, wrapped.
	dw := wrapLon(min[0] - lon)
	de := wrapLon(max[0] - lon)
	inside := (min[0] <= lon && lon <= max[0]) ||
		(min[0] <= lon+360 && lon+360 <= max[0]) ||
		(min[0] <= lon-360 && lon-360 <= max[0])
	if inside {
		switch {
		case lat < min[1]:
			return Meters((min[1] - lat) * degToRad * float64(EarthRadius))
		case lat > max[1]:
			return Meters((lat - max[1]) * degToRad * float64(EarthRadius))
		}
		return 0
	}
	// Nearest meridian edge.
	mlon := min[0]
	dlon := math.Abs(dw)
	if math.Abs(de) < dlon {
		mlon, dlon = max[0], math.Abs(de)
	}
	if dlon >= 90 {
		// The closest point of the meridian's half is a pole-side corner.
		return minMeters(Distance(p, orb.Point{mlon, min[1]}), Distance(p, orb.Point{mlon, max[1]}))
	}
	// Foot of the perpendicular from p onto the meridian great circle.
	phi := lat * degToRad
	dl := dlon * degToRad
	foot := math.Atan(math.Tan(phi)/math.Cos(dl)) / degToRad
	if foot >= min[1] && foot <= max[1] {
		return Meters(math.Asin(math.Min(1, math.Cos(phi)*math.Sin(dl))) * float64(EarthRadius))
	}
	return minMeters(Distance(p, orb.Point{mlon, min[1]}), Distance(p, orb.Point{mlon, max[1]}))
}

func minMeters(a, b Meters) Meters {
	if a < b {
		return a
	}
	return b
}

// boxes is up to two lon/lat boxes (two when a box crosses the antimeridian).
type boxes struct {
	b [2][2][2]float64
	n int
}

// radiusBox returns lon/lat boxes that contain every point within r metres of
// p. Near the antimeridian the box is split in two; near a pole it spans all
// longitudes.
func radiusBox(p orb.Point, r Meters) boxes {
	dlat := float64(r) / float64(EarthRadius) / degToRad
	minLat, maxLat := p[1]-dlat, p[1]+dlat
	if maxLat >= 90 || minLat <= -90 || math.IsInf(dlat, 1) {
		return boxes{b: [2][2][2]float64{{{-180, math.Max(minLat, -90)}, {180, math.Min(maxLat, 90)}}}, n: 1}
	}
	// The widest longitude extent of a spherical cap of angular radius a
	// centred at latitude phi is asin(sin a / cos phi).
	a := float64(r) / float64(EarthRadius)
	s := math.Sin(a) / math.Cos(p[1]*degToRad)
	if s >= 1 || a >= math.Pi/2 {
		return boxes{b: [2][2][2]float64{{{-180, minLat}, {180, maxLat}}}, n: 1}
	}
	dlon := math.Asin(s)/degToRad + 1e-9
	minLon, maxLon := p[0]-dlon, p[0]+dlon
	switch {
	case minLon < -180:
		return boxes{b: [2][2][2]float64{{{minLon + 360, minLat}, {180, maxLat}}, {{-180, minLat}, {maxLon, maxLat}}}, n: 2}
	case maxLon > 180:
		return boxes{b: [2][2][2]float64{{{minLon, minLat}, {180, maxLat}}, {{-180, minLat}, {maxLon - 360, maxLat}}}, n: 2}
	}
	return boxes{b: [2][2][2]float64{{{minLon, minLat}, {maxLon, maxLat}}}, n: 1}
}

// each returns the boxes as a slice backed by the value.
func (b *boxes) each() [][2][2]float64 { return b.b[:b.n] }

// unitVector is p on the unit sphere. Comparing chord lengths between unit
// vectors orders points exactly as great-circle distance does, at a few
// multiplications instead of trigonometry.
func unitVector(p orb.Point) [3]float64 {
	sl, cl := math.Sincos(p[1] * degToRad)
	so, co := math.Sincos(p[0] * degToRad)
	return [3]float64{cl * co, cl * so, sl}
}

func chord2(a, b [3]float64) float64 {
	dx, dy, dz := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return dx*dx + dy*dy + dz*dz
}

// chord2Of is the squared chord of a great-circle distance d.
func chord2Of(d Meters) float64 {
	a := float64(d) / float64(EarthRadius)
	if a >= math.Pi {
		return 4
	}
	c := 2 * math.Sin(a/2)
	return c * c
}

package format

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
)

// This file catches the slips planners' files commonly carry: latitude and
// longitude swapped, coordinates in metres read as degrees, positions left
// as (0, 0), populations no place holds, stations nowhere near the people.

// swapSignal gathers, over a whole file, what its coordinate pairs look
// like, so that a bad pair is reported as what the file shows:
//   - swapped: every pair would be valid with the two exchanged, and at
//     least half have a "latitude" beyond ±90. Only then is a latitude
//     beyond ±90 reported as a swap; a stray value in an otherwise sound
//     file is reported as what it is, and a file whose values are within
//     range both ways is taken as written (CheckPlacement catches those
//     against the other input);
//   - projected: more than half the pairs are beyond ±180/±90, with values
//     in the thousands (see metricMin), and the file does not look swapped:
//     the values are metres of a map projection;
//   - degrees: every pair is within ±180/±90 (which metres of a projected
//     CRS almost never are).
type swapSignal struct {
	seen, beyond int // pairs; pairs with a latitude beyond ±90
	allSwappable bool
	outside      int     // pairs beyond ±180 or ±90
	metric       int     // pairs outside with a value beyond ±metricMin
	minX, maxX   float64 // over the metric pairs
	minY, maxY   float64 // over the metric pairs
}

func newSwapSignal() swapSignal {
	return swapSignal{allSwappable: true, minX: math.Inf(1), maxX: math.Inf(-1), minY: math.Inf(1), maxY: math.Inf(-1)}
}

func (s *swapSignal) see(x, y float64) {
	s.seen++
	if math.Abs(y) > 90 {
		s.beyond++
	}
	if !(math.Abs(x) <= 90 && math.Abs(y) <= 180) {
		s.allSwappable = false
	}
	if !(math.Abs(x) <= 180 && math.Abs(y) <= 90) {
		s.outside++
		if math.Abs(x) > metricMin || math.Abs(y) > metricMin {
			s.metric++
			s.minX, s.maxX = math.Min(s.minX, x), math.Max(s.maxX, x)
			s.minY, s.maxY = math.Min(s.minY, y), math.Max(s.maxY, y)
		}
	}
}

// metricMin is the magnitude from which a coordinate out of degree range
// is taken for metres: projected coordinates are thousands of metres or
// more anywhere but within a kilometre of a projection's origin, while a
// slip in degrees (181, -95) is not.
const metricMin = 1000

func (s swapSignal) evident() bool {
	return s.allSwappable && s.beyond > 0 && 2*s.beyond >= s.seen
}

func (s swapSignal) projected() bool {
	return !s.evident() && 2*s.metric > s.seen
}

func (s swapSignal) degrees() bool { return s.seen > 0 && s.outside == 0 }

// check returns what is wrong with a longitude/latitude pair, or "" when it
// is a valid WGS-84 position.
func (s swapSignal) check(lon, lat float64) string {
	if math.Abs(lat) > 90 {
		if s.evident() {
			return fmt.Sprintf("latitude %s outside ±90 while longitude %s is within it: latitude and longitude look swapped", num(lat), num(lon))
		}
		return fmt.Sprintf("latitude %s outside ±90", num(lat))
	}
	if math.Abs(lon) > 180 {
		return fmt.Sprintf("longitude %s outside ±180", num(lon))
	}
	return ""
}

// num writes a coordinate as it would be written in a file: every digit,
// without an exponent from 1e-4 to 1e21 (metres of a projection read better
// so).
func num(v float64) string {
	if a := math.Abs(v); a == 0 || a >= 1e-4 && a < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// placer turns a file's coordinate pairs into WGS-84 positions, checking
// each. It is made once per file, after seeing every pair (see), so that
// its messages speak of the whole file.
type placer struct {
	sw   swapSignal
	tr   crs.Transform // the file's projected CRS; nil for degrees
	near orb.Bound     // where the data are expected, for messages; zero when unknown
}

// newPlacer takes a geographic CRS (WGS-84, CGCS2000) as degrees.
func newPlacer(tr crs.Transform, near orb.Bound) placer {
	if tr != nil && tr.Geographic() {
		tr = nil
	}
	return placer{sw: newSwapSignal(), tr: tr, near: near}
}

func (pl *placer) see(x, y float64) { pl.sw.see(x, y) }

// errNullIsland is the message for a point at (0, 0).
var errNullIsland = errors.New("position (0, 0), in the ocean off West Africa, is what a missing position written as zeros looks like: fill in the position or remove it")

// point converts and checks the position of a point (a station, a
// population point): besides place's checks, (0, 0) is refused.
func (pl *placer) point(x, y float64) (orb.Point, error) {
	if x == 0 && y == 0 {
		return orb.Point{}, errNullIsland
	}
	return pl.place(x, y)
}

// place converts and checks one coordinate pair.
func (pl *placer) place(x, y float64) (orb.Point, error) {
	if pl.tr != nil {
		if pl.sw.degrees() {
			return orb.Point{}, fmt.Errorf("coordinates (%s, %s) look like longitude and latitude in degrees (every position of the file is within ±180/±90), not metres of %s: drop the CRS option (--crs), or check the columns", num(x), num(y), pl.tr.Name())
		}
		lon, lat, err := pl.tr.ToWGS84(x, y)
		if err != nil {
			return orb.Point{}, fmt.Errorf("coordinates (%s, %s) cannot be converted from %s: %v", num(x), num(y), pl.tr.Name(), err)
		}
		if lon > 180 || lon < -180 {
			lon = math.Remainder(lon, 360)
		}
		if !(math.Abs(lat) <= 90) || math.IsNaN(lon) {
			return orb.Point{}, fmt.Errorf("coordinates (%s, %s) of %s convert to longitude %v, latitude %v, outside ±180/±90", num(x), num(y), pl.tr.Name(), lon, lat)
		}
		return orb.Point{lon, lat}, nil
	}
	if msg := pl.sw.check(x, y); msg != "" {
		if pl.sw.projected() {
			return orb.Point{}, fmt.Errorf("coordinates (%s, %s) look like projected coordinates in metres, not longitude and latitude in degrees (%d of %d positions are beyond ±180/±90); %s", num(x), num(y), pl.sw.metric, pl.sw.seen, pl.guessCRS(x, y))
		}
		return orb.Point{}, errors.New(msg)
	}
	return orb.Point{x, y}, nil
}

// farMeters is the distance beyond which a position is far from where the
// data are expected: ten times the kilometre of a 15-minute walk, so that stations just
// outside the population's extent (a terminal at the city's edge) are not
// far, while a station of another city, or a position in the wrong CRS, is.
const farMeters = 10000

// candidate is a projected CRS that metre values may be in.
type candidate struct {
	code     int
	label    string
	fromNear bool // guessed from where the data are expected, not from the values
}

// guessCRS names the CRS metre values fit: a CGCS2000 Gauss-Krüger zone
// whose number leads the eastings; Web Mercator; and where the data are
// expected (near) is known, the UTM zone (and in China the Gauss-Krüger
// zones) there. Those that put the position near are named first, and
// alone when any does. Each suggestion says where it would put the
// position reported.
func (pl *placer) guessCRS(x, y float64) string {
	s := pl.sw
	var cands []candidate
	utmLike := s.minX >= 100000 && s.maxX <= 900000 && s.minY >= 0 && s.maxY <= 10000000
	if z := math.Floor(s.minX / 1e6); z == math.Floor(s.maxX/1e6) && s.minY >= 0 && s.maxY <= 10000000 {
		switch zone := int(z); {
		case zone >= 25 && zone <= 45:
			cands = append(cands, candidate{4513 + zone - 25, fmt.Sprintf("CGCS2000 3-degree Gauss-Kruger zone %d, whose number leads the eastings", zone), false})
		case zone >= 13 && zone <= 23:
			cands = append(cands, candidate{4491 + zone - 13, fmt.Sprintf("CGCS2000 Gauss-Kruger zone %d (6-degree), whose number leads the eastings", zone), false})
		}
	}
	haveNear := !pl.near.IsZero() && !pl.near.IsEmpty()
	if haveNear && utmLike {
		c := pl.near.Center()
		zone := int(math.Floor((c[0]+180)/6)) + 1
		zone = min(max(zone, 1), 60)
		hemi, code := "N", 32600+zone
		if c[1] < 0 {
			hemi, code = "S", 32700+zone
		}
		cands = append(cands, candidate{code, fmt.Sprintf("WGS 84 / UTM zone %d%s", zone, hemi), true})
		if c[0] >= 73.5 && c[0] <= 136.5 && c[1] > 0 {
			cm3 := 75 + 3*int(math.Round((c[0]-75)/3))
			cands = append(cands, candidate{4534 + (cm3-75)/3, fmt.Sprintf("CGCS2000 / 3-degree Gauss-Kruger CM %dE", cm3), true})
			cm6 := 75 + 6*int(math.Round((c[0]-75)/6))
			cands = append(cands, candidate{4502 + (cm6-75)/6, fmt.Sprintf("CGCS2000 / Gauss-Kruger CM %dE (6-degree)", cm6), true})
		}
	}
	if math.Max(math.Abs(s.minX), math.Abs(s.maxX)) <= 20037508.35 && math.Max(math.Abs(s.minY), math.Abs(s.maxY)) <= 20048966.11 {
		// UTM-like values fit Web Mercator too, somewhere near (0, 0):
		// worth naming only where the data are expected.
		cands = append(cands, candidate{3857, "Web Mercator", utmLike})
	}
	type landing struct {
		candidate
		at orb.Point
	}
	// Those that put the position where the data are expected, if that is
	// known and any does; else those the values alone suggest.
	var near, alone []landing
	for _, c := range cands {
		t, err := crs.ByEPSG(c.code)
		if err != nil {
			continue
		}
		lon, lat, err := t.ToWGS84(x, y)
		if err != nil || !(math.Abs(lon) <= 180 && math.Abs(lat) <= 90) {
			continue
		}
		l := landing{c, orb.Point{lon, lat}}
		if haveNear && distanceToBound(l.at, pl.near) <= farMeters {
			near = append(near, l)
		}
		if !c.fromNear {
			alone = append(alone, l)
		}
	}
	at := func(f landing) string {
		return fmt.Sprintf("this position would then be at longitude %.6f, latitude %.6f", f.at[0], f.at[1])
	}
	others := func(fits []landing) string {
		var alts []string
		for _, f := range fits[1:] {
			alts = append(alts, fmt.Sprintf(", or --crs EPSG:%d for %s (%s)", f.code, f.label, at(f)))
		}
		return strings.Join(alts, "")
	}
	switch {
	case len(near) > 0:
		f := near[0]
		return fmt.Sprintf("they fit %s, which puts them beside the other input: name the file's CRS with --crs EPSG:%d (%s)%s", f.label, f.code, at(f), others(near))
	case len(alone) > 0:
		f := alone[0]
		return fmt.Sprintf("name the file's CRS: --crs EPSG:%d for %s (%s)%s", f.code, f.label, at(f), others(alone))
	case utmLike:
		return "they fit UTM eastings and northings: name the file's CRS with --crs EPSG:326NN (WGS 84 / UTM zone NN north) or EPSG:327NN (south), NN being the UTM zone of the data, 1 + floor((longitude + 180) / 6)"
	}
	return "name the file's CRS with --crs EPSG:CODE"
}

// distanceToBound is the distance in metres from p to the nearest point of
// b in longitude and latitude (0 inside it), on the sphere of
// coverage.Distance.
func distanceToBound(p orb.Point, b orb.Bound) float64 {
	q := orb.Point{math.Min(math.Max(p[0], b.Min[0]), b.Max[0]), math.Min(math.Max(p[1], b.Min[1]), b.Max[1])}
	return float64(coverage.Distance(p, q))
}

// maxPeoplePerKm2 is the density no area of a hectare or more reaches: the
// most crowded neighbourhoods today hold about 300,000 people per km²
// (Dharavi in Mumbai; Mong Kok in Hong Kong about 130,000), and Kowloon
// Walled City held about 1.2 million per km² over its 2.6 hectares before
// it was pulled down in 1994. A million per km² leaves room for the densest
// real blocks while catching a column that is not a head count (a total
// repeated on every row, a density, a value in other units).
const maxPeoplePerKm2 = 1_000_000

// minDensityKm2 is the least area the density limit is applied over: below
// a hectare, densities are those of single buildings (a tower on its
// footprint), which can pass any neighbourhood's.
const minDensityKm2 = 0.01

// checkDensity returns an error when n people over an area of areaKm2()
// (what names it, e.g. "H3 cell 89…ff") are more than any place holds.
// The area is computed only for counts that could pass the limit.
func checkDensity(n float64, areaKm2 func() float64, what string) error {
	if n <= maxPeoplePerKm2*minDensityKm2 {
		return nil
	}
	a := areaKm2()
	limit := maxPeoplePerKm2 * math.Max(a, minDensityKm2)
	if n <= limit {
		return nil
	}
	const why = "is the column a total, a density, or in other units?"
	if a < minDensityKm2 {
		return fmt.Errorf("population %s in %s, of %.4g km², is more than any place on Earth holds (at most %d per km² over at least a hectare, so %.0f here): %s",
			num(n), what, a, maxPeoplePerKm2, limit, why)
	}
	return fmt.Errorf("population %s in %s, of %.4g km², is %.0f people per km², more than any place on Earth holds (at most %d per km², so %.0f here): %s",
		num(n), what, a, n/a, maxPeoplePerKm2, limit, why)
}

// PopulationExtent is the bounding box of a population's points, H3 cells
// (their boundaries) and polygons; ok is false when it has none.
func PopulationExtent(pop coverage.Population) (b orb.Bound, ok bool) {
	add := func(p orb.Point) {
		if !ok {
			b, ok = orb.Bound{Min: p, Max: p}, true
			return
		}
		b = b.Extend(p)
	}
	for _, p := range pop.Points {
		add(p.Pos)
	}
	for _, c := range pop.Cells {
		for _, p := range coverage.CellRing(c.H3) {
			add(p)
		}
	}
	for _, p := range pop.Polygons {
		for _, poly := range p.Geom {
			for _, r := range poly {
				for _, q := range r {
					add(q)
				}
			}
		}
	}
	return b, ok
}

// CheckPlacement compares stations with the extent of the population they
// serve (see PopulationExtent), in two files read separately:
//
//   - when every station lies more than 10 km outside the extent and every
//     one is within 10 km of it with longitude and latitude exchanged, the
//     stations' columns are swapped (values within ±90 read either way,
//     which the readers cannot tell alone): an error naming stationsPath,
//     popPath and one station as an example;
//   - otherwise, stations more than 10 km outside the extent (which serve
//     no one in it) are reported in one warning to warn, with how many, the
//     first of them and its distance.
//
// Either path may name a file of any format; nothing is checked when there
// are no stations or the extent is empty.
func CheckPlacement(stations []coverage.Station, stationsPath string, popExtent orb.Bound, popPath string, warn func(Warning)) error {
	if len(stations) == 0 || popExtent.IsEmpty() {
		return nil
	}
	far, swappedIn := 0, 0
	first, firstDist := -1, 0.0
	nearest := math.Inf(1)
	for i, s := range stations {
		d := distanceToBound(s.Pos, popExtent)
		nearest = math.Min(nearest, d)
		if d <= farMeters {
			continue
		}
		far++
		if first < 0 {
			first, firstDist = i, d
		}
		sw := orb.Point{s.Pos[1], s.Pos[0]}
		if math.Abs(sw[1]) <= 90 && distanceToBound(sw, popExtent) <= farMeters {
			swappedIn++
		}
	}
	if far == len(stations) && swappedIn == len(stations) {
		s := stations[0]
		return fileErr(stationsPath, "every station lies far outside the population of %s (the nearest %.0f km away), but within it with longitude and latitude exchanged: the longitude and latitude columns look swapped (station %q has longitude %v, latitude %v); exchange them in the file, or name the columns with --lon-col and --lat-col",
			popPath, nearest/1000, s.ID, s.Pos[0], s.Pos[1])
	}
	if far > 0 {
		s := stations[first]
		warnf(warn, Warning{Path: stationsPath}, "%d of %d stations %s more than %d km outside the population of %s, where %s no one (the first, station %q at longitude %v, latitude %v, is %.1f km away)",
			far, len(stations), plural(far, "lies", "lie"), farMeters/1000, popPath, plural(far, "it serves", "they serve"), s.ID, s.Pos[0], s.Pos[1], firstDist/1000)
	}
	return nil
}

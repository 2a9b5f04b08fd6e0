package coverage

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// pointCells makes demand cells at arbitrary points (the reach models only
// look at a cell's position).
func pointCells(pts ...orb.Point) []Cell {
	cells := make([]Cell, len(pts))
	for i, p := range pts {
		cells[i] = Cell{Pos: p, Population: 1}
	}
	return cells
}

func TestCrowHandComputed(t *testing.T) {
	// Distances worked out by hand with R = 6,371,008.8 m:
	//   0.009° of arc = 6371008.8 × 0.009 × π/180 = 1000.755722 m → 15.011336 min at 4 km/h.
	//   0.01° of arc = 1111.950802 m → 16.679262 min.
	//   At 60°N, 0.018° of longitude spans 2R·asin(cos60°·sin(0.009°)) = 1000.755719 m.
	//   At 10°N, 0.01° of longitude spans 2R·asin(cos10°·sin(0.005°)) = 1095.057771 m.
	//   Near the pole, 0.005° and 0.01° of arc from it on meridians 90° apart:
	//   cos c = cos 0.005° · cos 0.01° (right spherical triangle), c·R = 1243.198790 m.
	const arc009, arc01 = 1000.755722, 1111.950802
	cases := []struct {
		name     string
		stations []orb.Point
		cell     orb.Point
		want     int32
		meters   float64
	}{
		{"equator north", []orb.Point{{0, 0}, {0.5, 0}}, orb.Point{0, 0.009}, 0, arc009},
		{"equator east", []orb.Point{{1, 1}, {0, 0}}, orb.Point{0.009, 0}, 1, arc009},
		{"60N along the parallel", []orb.Point{{0.030, 60.0085}, {0, 60}}, orb.Point{0.018, 60}, 1, 1000.755719},
		{"antimeridian", []orb.Point{{179.98, 0}, {179.995, 0}}, orb.Point{-179.995, 0}, 1, arc01},
		{"antimeridian west side", []orb.Point{{-179.9, 10}, {179.995, 10}}, orb.Point{-179.995, 10}, 1, 1095.057771},
		{"tie goes to first listed", []orb.Point{{0.009, 0}, {-0.009, 0}}, orb.Point{0, 0}, 0, arc009},
		{"near the pole", []orb.Point{{90, 89.99}, {-90, 89.99}}, orb.Point{0, 89.995}, 0, 1243.198790},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCrow(pointCells(tc.cell), 4)
			out := make([]Access, 1)
			if err := c.Nearest(context.Background(), tc.stations, nil, out); err != nil {
				t.Fatal(err)
			}
			if out[0].Station != tc.want {
				t.Fatalf("nearest station %d, want %d", out[0].Station, tc.want)
			}
			if wantMin := tc.meters * 60 / 4000; math.Abs(float64(out[0].Minutes)-wantMin) > 1e-7 {
				t.Fatalf("minutes %.7f, want %.7f", out[0].Minutes, wantMin)
			}
		})
	}
}

func TestSpeedWalkIsExactAtThreshold(t *testing.T) {
	if m := Speed(4).Walk(1000); m != 15 {
		t.Fatalf("1000 m at 4 km/h = %v min, want exactly 15", m)
	}
	if d := DefaultSettings.Radius(); d != 1000 {
		t.Fatalf("radius %v, want 1000", d)
	}
}

func bruteNearest(stations []orb.Point, p orb.Point) (int32, Meters) {
	best, bd := int32(-1), Meters(math.Inf(1))
	for i, s := range stations {
		if d := Distance(p, s); d < bd {
			best, bd = int32(i), d
		}
	}
	return best, bd
}

func randomPoint(r *rand.Rand, region int) orb.Point {
	switch region {
	case 0: // a city
		return orb.Point{121.4 + r.Float64()*0.2, 31.1 + r.Float64()*0.2}
	case 1: // across the antimeridian
		return orb.Point{wrapLon(179.9 + r.Float64()*0.2), -16.9 + r.Float64()*0.2}
	case 2: // high north
		return orb.Point{r.Float64()*360 - 180, 88 + r.Float64()*2}
	}
	return orb.Point{r.Float64()*360 - 180, r.Float64()*180 - 90}
}

func TestCrowMatchesBruteForce(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		region := int(seed % 4)
		stations := make([]orb.Point, 1+r.IntN(60))
		for i := range stations {
			stations[i] = randomPoint(r, region)
		}
		cellPts := make([]orb.Point, 500)
		for i := range cellPts {
			cellPts[i] = randomPoint(r, region)
		}
		cells := pointCells(cellPts...)
		c := NewCrow(cells, 4.5)
		out := make([]Access, len(cells))
		if err := c.Nearest(context.Background(), stations, nil, out); err != nil {
			t.Fatal(err)
		}
		limit := Minutes(10 + r.Float64()*200)
		in := make([]int32, len(cells))
		if err := c.InReach(context.Background(), stations, limit, in); err != nil {
			t.Fatal(err)
		}
		for i, p := range cellPts {
			s, d := bruteNearest(stations, p)
			if out[i].Station != s || math.Abs(float64(out[i].Minutes-Speed(4.5).Walk(d))) > 1e-9 {
				t.Fatalf("seed %d cell %d: got station %d %.6f min, brute force %d %.6f min",
					seed, i, out[i].Station, out[i].Minutes, s, Speed(4.5).Walk(d))
			}
			var n int32
			for _, st := range stations {
				if Speed(4.5).Walk(Distance(p, st)) <= limit {
					n++
				}
			}
			if in[i] != n {
				t.Fatalf("seed %d cell %d: %d stations in reach, brute force %d", seed, i, in[i], n)
			}
		}
		// Within from each station equals the brute-force set.
		for k, st := range stations[:min(len(stations), 10)] {
			got := map[int32]Minutes{}
			if err := c.Within(context.Background(), st, limit, func(i int32, m Minutes) { got[i] = m }); err != nil {
				t.Fatal(err)
			}
			for i, p := range cellPts {
				m := Speed(4.5).Walk(Distance(st, p))
				gm, ok := got[int32(i)]
				if (m <= limit) != ok || (ok && gm != m) {
					t.Fatalf("seed %d station %d cell %d: within=%v (%.4f), brute force %.4f (limit %.4f)", seed, k, i, ok, gm, m, limit)
				}
			}
		}
	}
}

func TestCrowSubsetLeavesOthersAlone(t *testing.T) {
	cells := pointCells(orb.Point{0, 0}, orb.Point{0, 0.01}, orb.Point{0, 0.02})
	c := NewCrow(cells, 4)
	out := []Access{{Minutes: 1, Station: 9}, {Minutes: 1, Station: 9}, {Minutes: 1, Station: 9}}
	if err := c.Nearest(context.Background(), []orb.Point{{0, 0.02}}, []int32{2}, out); err != nil {
		t.Fatal(err)
	}
	if out[0].Station != 9 || out[1].Station != 9 || out[2].Station != 0 || out[2].Minutes != 0 {
		t.Fatalf("subset update wrong: %+v", out)
	}
	if err := c.Nearest(context.Background(), nil, nil, out); err != nil {
		t.Fatal(err)
	}
	for _, a := range out {
		if a != NoAccess {
			t.Fatalf("no stations should give NoAccess, got %+v", a)
		}
	}
}

// exactBoxDistance is the great-circle distance from p to the nearest point
// of the lon/lat box [lo, hi] (lo[0] <= hi[0], no antimeridian crossing),
// found without the bound's formulas: 0 when p is inside; else the nearest
// point lies on the box's edge. Along a parallel the distance grows with the
// longitude gap, so the nearest point of a parallel edge is the one whose
// longitude is nearest p's; along a meridian the cosine of the distance is a
// sinusoid in latitude, one-peaked over the edge, so a scan then a
// golden-section search finds its minimum.
func exactBoxDistance(p orb.Point, lo, hi [2]float64) Meters {
	inLon := func(lon float64) bool {
		for _, l := range []float64{lon, lon - 360, lon + 360} {
			if lo[0] <= l && l <= hi[0] {
				return true
			}
		}
		return false
	}
	if inLon(p[0]) && lo[1] <= p[1] && p[1] <= hi[1] {
		return 0
	}
	best := Meters(math.Inf(1))
	// Parallel edges: the longitude of the box nearest p's.
	nearLon := p[0]
	if !inLon(p[0]) {
		nearLon = lo[0]
		if math.Abs(wrapLon(hi[0]-p[0])) < math.Abs(wrapLon(lo[0]-p[0])) {
			nearLon = hi[0]
		}
	}
	for _, lat := range []float64{lo[1], hi[1]} {
		best = min(best, Distance(p, orb.Point{nearLon, lat}))
	}
	// Meridian edges.
	for _, lon := range []float64{lo[0], hi[0]} {
		f := func(lat float64) Meters { return Distance(p, orb.Point{lon, lat}) }
		const n = 64
		k := 0
		for i := 1; i <= n; i++ {
			if f(lo[1]+(hi[1]-lo[1])*float64(i)/n) < f(lo[1]+(hi[1]-lo[1])*float64(k)/n) {
				k = i
			}
		}
		a := lo[1] + (hi[1]-lo[1])*float64(max(k-1, 0))/n
		b := lo[1] + (hi[1]-lo[1])*float64(min(k+1, n))/n
		g := (math.Sqrt(5) - 1) / 2
		for range 200 {
			c, d := b-g*(b-a), a+g*(b-a)
			if f(c) < f(d) {
				b = d
			} else {
				a = c
			}
		}
		best = min(best, f(lo[1]), f(hi[1]), f((a+b)/2))
	}
	return best
}

// TestBoxDistanceIsExact checks the box distance both ways: never more than
// the distance to any point of the box (sampled inside it), and equal to the
// exact minimum over the box found by search.
func TestBoxDistanceIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for k := 0; k < 3000; k++ {
		p := randomPoint(r, k%4)
		lo := [2]float64{r.Float64()*360 - 180, r.Float64()*170 - 85}
		hi := [2]float64{math.Min(180, lo[0]+r.Float64()*30), math.Min(90, lo[1]+r.Float64()*10)}
		if k%5 == 0 { // a small box near p, the common case
			lo = [2]float64{p[0] + (r.Float64()-0.5)*0.2, math.Min(89.95, math.Max(-90, p[1]+(r.Float64()-0.5)*0.2))}
			hi = [2]float64{math.Min(180, lo[0]+r.Float64()*0.05), math.Min(90, lo[1]+r.Float64()*0.05)}
		}
		bd := boxDistance(p, lo, hi)
		for s := 0; s < 40; s++ {
			q := orb.Point{lo[0] + r.Float64()*(hi[0]-lo[0]), lo[1] + r.Float64()*(hi[1]-lo[1])}
			if d := Distance(p, q); d < bd-1e-6 {
				t.Fatalf("box distance %.3f exceeds a point's distance %.3f (p=%v box=%v..%v q=%v)", bd, d, p, lo, hi, q)
			}
		}
		want := exactBoxDistance(p, lo, hi)
		if math.Abs(float64(bd-want)) > 1e-6+1e-9*float64(want) {
			t.Fatalf("box distance %.6f m, the nearest point of the box is %.6f m away (p=%v box=%v..%v)", bd, want, p, lo, hi)
		}
	}
	// By hand: 0.01° of arc is 6371008.8 × 0.01 × π/180 = 1111.9508 m; a
	// point inside is at 0.
	cases := []struct {
		name   string
		p      orb.Point
		lo, hi [2]float64
		want   Meters
	}{
		{"inside", orb.Point{10, 10}, [2]float64{9, 9}, [2]float64{11, 11}, 0},
		{"due north of the box", orb.Point{0.5, 1.01}, [2]float64{0, 0}, [2]float64{1, 1}, 1111.9508},
		{"due east on the equator", orb.Point{1.01, 0}, [2]float64{0, -1}, [2]float64{1, 1}, 1111.9508},
		{"across the antimeridian", orb.Point{-179.995, 0}, [2]float64{179, -1}, [2]float64{179.995, 1}, 1111.9508},
	}
	for _, tc := range cases {
		if got := boxDistance(tc.p, tc.lo, tc.hi); math.Abs(float64(got-tc.want)) > 1e-4 {
			t.Errorf("%s: %.4f m, want %.4f m", tc.name, got, tc.want)
		}
	}
}

// capExtent is the exact lon/lat extent of the points within rad of p, found
// by walking the circle of radius rad: the northmost and southmost points
// are due north and south (clamped at a pole), and the widest longitude
// offset is found by a bearing scan refined by golden-section search.
func capExtent(p orb.Point, rad Meters) (dlatN, dlatS, dlon float64) {
	lonOff := func(b float64) float64 { return math.Abs(wrapLon(destination(p, float64(rad), b)[0] - p[0])) }
	dlatN = destination(p, float64(rad), 0)[1] - p[1]
	dlatS = p[1] - destination(p, float64(rad), math.Pi)[1]
	const n = 360
	k := 0
	for i := 0; i <= n/2; i++ {
		if lonOff(math.Pi*float64(i)/(n/2)) > lonOff(math.Pi*float64(k)/(n/2)) {
			k = i
		}
	}
	a, b := math.Pi*float64(max(k-1, 0))/(n/2), math.Pi*float64(min(k+1, n/2))/(n/2)
	g := (math.Sqrt(5) - 1) / 2
	for range 200 {
		c, d := b-g*(b-a), a+g*(b-a)
		if lonOff(c) > lonOff(d) {
			b = d
		} else {
			a = c
		}
	}
	return dlatN, dlatS, lonOff((a + b) / 2)
}

// TestRadiusBoxIsTheCapsExtent checks the radius box both ways: it holds
// every point within the radius (points just inside the circle in random
// directions) and is no larger than the circle's exact extent, unless the
// circle holds a pole, where every longitude is needed.
func TestRadiusBoxIsTheCapsExtent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	in := func(boxes [][2][2]float64, q orb.Point) bool {
		for _, b := range boxes {
			if q[0] >= b[0][0] && q[0] <= b[1][0] && q[1] >= b[0][1] && q[1] <= b[1][1] {
				return true
			}
		}
		return false
	}
	for k := 0; k < 3000; k++ {
		p := randomPoint(r, k%4)
		rad := Meters(100 + r.Float64()*50000)
		bx := radiusBox(p, rad)
		boxes := bx.each()
		for range 4 {
			bearing := r.Float64() * 2 * math.Pi
			if q := destination(p, float64(rad)*0.999999, bearing); !in(boxes, q) {
				t.Fatalf("point %v at %.1f m from %v is outside %v", q, rad, p, boxes)
			}
		}
		dlatN, dlatS, dlon := capExtent(p, rad)
		a := float64(rad) / float64(EarthRadius) / degToRad // the radius in degrees of arc
		if p[1]+a >= 90 || p[1]-a <= -90 {
			// The circle holds a pole: one box of every longitude, down
			// (or up) to the far side's latitude.
			if len(boxes) != 1 || boxes[0][0][0] != -180 || boxes[0][1][0] != 180 {
				t.Fatalf("p=%v r=%.0f: circle around a pole in %v, want all longitudes", p, rad, boxes)
			}
			if p[1] > 0 && math.Abs(boxes[0][0][1]-(p[1]-dlatS)) > 1e-9 || p[1] < 0 && math.Abs(boxes[0][1][1]-(p[1]+dlatN)) > 1e-9 {
				t.Fatalf("p=%v r=%.0f: box %v, the circle reaches %.9f..%.9f", p, rad, boxes, p[1]-dlatS, p[1]+dlatN)
			}
			continue
		}
		// Latitudes exactly; longitudes to a micro-degree and a millionth
		// above, and to the rounding of the circle walk (a few
		// nanodegrees near a pole) below.
		var minLat, maxLat, west, east = math.Inf(1), math.Inf(-1), 0.0, 0.0
		for _, b := range boxes {
			minLat, maxLat = math.Min(minLat, b[0][1]), math.Max(maxLat, b[1][1])
		}
		if len(boxes) == 1 {
			west, east = p[0]-boxes[0][0][0], boxes[0][1][0]-p[0]
		} else { // split at the antimeridian: the part east of it and the part west
			west, east = wrapLon(p[0]-boxes[0][0][0]), wrapLon(boxes[1][1][0]-p[0])
			if boxes[0][1][0] != 180 || boxes[1][0][0] != -180 {
				t.Fatalf("p=%v: split boxes %v do not meet at the antimeridian", p, boxes)
			}
		}
		if math.Abs(maxLat-(p[1]+dlatN)) > 1e-9 || math.Abs(minLat-(p[1]-dlatS)) > 1e-9 {
			t.Fatalf("p=%v r=%.0f: box latitudes %.9f..%.9f, the circle spans %.9f..%.9f", p, rad, minLat, maxLat, p[1]-dlatS, p[1]+dlatN)
		}
		for _, side := range []float64{west, east} {
			if side < dlon-1e-8 || side > dlon*(1+1e-6)+1e-6 {
				t.Fatalf("p=%v r=%v: box reaches %.12f° of longitude, the circle %.12f°", p, float64(rad), side, dlon)
			}
		}
	}
}

// destination moves d metres from p along an initial bearing (spherical).
func destination(p orb.Point, d, bearing float64) orb.Point {
	a := d / float64(EarthRadius)
	lat1, lon1 := p[1]*degToRad, p[0]*degToRad
	lat2 := math.Asin(math.Sin(lat1)*math.Cos(a) + math.Cos(lat1)*math.Sin(a)*math.Cos(bearing))
	lon2 := lon1 + math.Atan2(math.Sin(bearing)*math.Sin(a)*math.Cos(lat1), math.Cos(a)-math.Sin(lat1)*math.Sin(lat2))
	return orb.Point{wrapLon(lon2 / degToRad), lat2 / degToRad}
}

// TestCrowTieGoesToFirstListed places cells on the meridian between two
// stations mirrored across it, so that both are at exactly the same
// distance from every cell (the same floating-point operations on mirrored
// values): the station listed first among the two must win, whatever else
// is listed and in whatever order the cells are asked for. The first cell
// of a run is searched best-first, the others from their neighbour's
// radius, so both searches meet the tie.
func TestCrowTieGoesToFirstListed(t *testing.T) {
	// On the prime meridian chords tie exactly as haversines do; away from
	// it they can differ in the last bits while the times are equal.
	for _, lon := range []float64{0, 121, -73.99, 179.99} {
		t.Run(fmt.Sprint("meridian ", lon), func(t *testing.T) { crowTieAt(t, lon) })
	}
}

func crowTieAt(t *testing.T, lon float64) {
	const x = 0.004
	east, west := orb.Point{lon + x, 31.2}, orb.Point{lon - x, 31.2}
	if lon == 0 {
		east[1], west[1] = 0, 0
	}
	far := orb.Point{lon + 0.5, east[1] + 3} // listed, but never nearest
	var pts []orb.Point
	for k := -40; k <= 40; k++ {
		p := orb.Point{lon, east[1] + float64(k)*0.0013}
		// Only the cells whose two walking times are equal to the bit.
		if Speed(4).Walk(Distance(p, east)) == Speed(4).Walk(Distance(p, west)) {
			pts = append(pts, p)
		}
	}
	if len(pts) < 10 {
		t.Fatalf("only %d cells at exactly equal times: the fixture does not test ties", len(pts))
	}
	cells := pointCells(pts...)
	c := NewCrow(cells, 4)
	cases := []struct {
		name     string
		stations []orb.Point
		want     int32
	}{
		{"east first", []orb.Point{east, west}, 0},
		{"west first", []orb.Point{west, east}, 0},
		{"after another station", []orb.Point{far, west, east}, 1},
		{"split by another station", []orb.Point{east, far, west}, 0},
		{"listed twice", []orb.Point{far, east, east}, 1},
		{"three at the same distance", []orb.Point{far, west, east, west}, 1},
	}
	subset := []int32{7, 3, int32(len(pts) - 1), 0, 5, 9}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, ask := range [][]int32{nil, subset} {
				out := make([]Access, len(cells))
				for i := range out {
					out[i] = Access{Minutes: -1, Station: -7}
				}
				if err := c.Nearest(context.Background(), tc.stations, ask, out); err != nil {
					t.Fatal(err)
				}
				want := ask
				if want == nil {
					want = make([]int32, len(cells))
					for i := range want {
						want[i] = int32(i)
					}
				}
				for _, i := range want {
					m := Speed(4).Walk(Distance(pts[i], east))
					if out[i].Station != tc.want || out[i].Minutes != m {
						t.Fatalf("cell %d (asked %v): station %d at %.9f min, want station %d at %.9f min", i, ask, out[i].Station, out[i].Minutes, tc.want, m)
					}
				}
			}
		})
	}
}

package coverage

import (
	"context"
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
	//   0.009° of arc = 6371008.8 × 0.009 × π/180 = 1000.7543 m → 15.0113 min at 4 km/h.
	//   0.01° of arc = 1111.9505 m → 16.6793 min.
	//   At 60°N, 0.018° of longitude spans 2R·asin(cos60°·sin(0.009°)) = 1000.7542 m.
	const arc009 = 1000.7543
	cases := []struct {
		name     string
		stations []orb.Point
		cell     orb.Point
		want     int32
		meters   float64
	}{
		{"equator north", []orb.Point{{0, 0}, {0.5, 0}}, orb.Point{0, 0.009}, 0, arc009},
		{"equator east", []orb.Point{{1, 1}, {0, 0}}, orb.Point{0.009, 0}, 1, arc009},
		{"60N along the parallel", []orb.Point{{0.030, 60.0085}, {0, 60}}, orb.Point{0.018, 60}, 1, 1000.7542},
		{"antimeridian", []orb.Point{{179.98, 0}, {179.995, 0}}, orb.Point{-179.995, 0}, 1, 1111.9505},
		{"antimeridian west side", []orb.Point{{-179.9, 10}, {179.995, 10}}, orb.Point{-179.995, 10}, 1, 1111.9505 * math.Cos(10*math.Pi/180)},
		{"tie goes to first listed", []orb.Point{{0.009, 0}, {-0.009, 0}}, orb.Point{0, 0}, 0, arc009},
		{"near the pole", []orb.Point{{90, 89.99}, {-90, 89.99}}, orb.Point{0, 89.995}, 0, 0},
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
			if tc.meters > 0 {
				wantMin := tc.meters * 60 / 4000
				if math.Abs(float64(out[0].Minutes)-wantMin) > 0.0001 {
					t.Fatalf("minutes %.5f, want %.5f", out[0].Minutes, wantMin)
				}
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

func TestBoxDistanceIsALowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for k := 0; k < 3000; k++ {
		p := randomPoint(r, k%4)
		lo := [2]float64{r.Float64()*360 - 180, r.Float64()*170 - 85}
		hi := [2]float64{math.Min(180, lo[0]+r.Float64()*30), math.Min(90, lo[1]+r.Float64()*10)}
		bd := boxDistance(p, lo, hi)
		for s := 0; s < 40; s++ {
			q := orb.Point{lo[0] + r.Float64()*(hi[0]-lo[0]), lo[1] + r.Float64()*(hi[1]-lo[1])}
			if d := Distance(p, q); d < bd-1e-6 {
				t.Fatalf("box distance %.3f exceeds a point's distance %.3f (p=%v box=%v..%v q=%v)", bd, d, p, lo, hi, q)
			}
		}
	}
}

func TestRadiusBoxContainsTheCap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for k := 0; k < 3000; k++ {
		p := randomPoint(r, k%4)
		rad := Meters(100 + r.Float64()*50000)
		bx := radiusBox(p, rad)
		boxes := bx.each()
		// A point at distance just under rad in a random direction lies in a box.
		bearing := r.Float64() * 2 * math.Pi
		q := destination(p, float64(rad)*0.999999, bearing)
		in := false
		for _, b := range boxes {
			if q[0] >= b[0][0] && q[0] <= b[1][0] && q[1] >= b[0][1] && q[1] <= b[1][1] {
				in = true
			}
		}
		if !in {
			t.Fatalf("point %v at %.1f m from %v is outside %v", q, rad, p, boxes)
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

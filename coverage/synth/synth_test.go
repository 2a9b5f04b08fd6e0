package synth

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

func TestGenerateSmallIsExactAndDeterministic(t *testing.T) {
	cfg := Config{Center: orb.Point{121.47, 31.23}, AreaKm2: 50, Population: 100000, Stations: 40, Res: 9, Seed: 3}
	a, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(cfg)
	var sum float64
	for i, c := range a.Cells {
		sum += c.Population
		if c.Population < 1 {
			t.Fatalf("cell %v has no people", c.H3)
		}
		if d := b.Cells[i]; c.H3 != d.H3 || c.Pos != d.Pos || c.Population != d.Population {
			t.Fatalf("cell %d differs between runs", i)
		}
		if i > 0 && a.Cells[i-1].H3 >= c.H3 {
			t.Fatal("cells not sorted by H3")
		}
	}
	if sum != 100000 {
		t.Fatalf("population %v, want 100000", sum)
	}
	// The populated cells cover most of the 50 km² disc, less the empty
	// blocks (5 % at the centre to 35 % at the edge).
	var km2 float64
	for _, c := range a.Cells {
		km2 += h3.CellAreaKm2(c.H3)
	}
	if km2 < 25 || km2 > 48 {
		t.Fatalf("cells cover %.1f km², want 25..48", km2)
	}
	if len(a.Stations) != 40 || a.Stations[7] != b.Stations[7] {
		t.Fatal("stations differ")
	}
}

// The Shanghai-scale city has Shanghai's hierarchy: 16 district centres,
// 215 subdistrict centres, 6,000 neighbourhood stations and 6,226 others,
// each with its capacity; small cities keep a district centre.
func TestHierarchy(t *testing.T) {
	count := map[string]int{}
	capacity := map[string]float64{}
	for k := range 12457 {
		tier, c := Hierarchy(k, 12457)
		count[tier]++
		capacity[tier] = c
	}
	want := map[string]int{"district": 16, "subdistrict": 215, "neighbourhood": 6000, "building": 6226}
	for tier, n := range want {
		if count[tier] != n {
			t.Errorf("%s: %d stations, want %d", tier, count[tier], n)
		}
	}
	if capacity["district"] != 40000 || capacity["building"] != 300 {
		t.Errorf("capacities %v", capacity)
	}
	if tier, _ := Hierarchy(0, 10); tier != "district" {
		t.Errorf("a city of 10 stations starts with %q, want a district centre", tier)
	}
	if got := TierSpec(); got != "district=30,subdistrict=15,neighbourhood=10,building=5" {
		t.Errorf("TierSpec() = %q", got)
	}
}

package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// Config describes a synthetic city.
type Config struct {
	Center     orb.Point // city centre, lon/lat
	AreaKm2    float64   // area of the disc of demand cells
	Population int       // people, spread exactly over the cells
	Stations   int       // stations to place
	Res        int       // H3 resolution of the demand cells
	Seed       uint64
}

// Shanghai is a Shanghai-scale study: 6,340 km² around People's Square, 25
// million residents on H3 resolution-10 cells (~420k) and 12,457 stations,
// the size of the city's party-mass service station network.
var Shanghai = Config{
	Center:     orb.Point{121.4737, 31.2304},
	AreaKm2:    6340,
	Population: 25_000_000,
	Stations:   12_457,
	Res:        10,
	Seed:       15,
}

// Study is a generated study.
type Study struct {
	Stations []coverage.Station
	Cells    []coverage.Cell // sorted by H3 index, every one populated
}

// subcentre is a secondary peak of density (new towns, district centres).
type subcentre struct {
	dx, dy float64 // km from the centre
	peak   float64 // relative peak density
	scale  float64 // km
}

// Generate builds the study described by cfg.
func Generate(cfg Config) (Study, error) {
	if cfg.AreaKm2 <= 0 || cfg.Population <= 0 || cfg.Stations < 0 || cfg.Res < 0 || cfg.Res > 15 {
		return Study{}, fmt.Errorf("synth: invalid config %+v", cfg)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	radiusKm := math.Sqrt(cfg.AreaKm2 / math.Pi)
	kmPerDegLat := 111.195
	kmPerDegLon := kmPerDegLat * math.Cos(cfg.Center[1]*math.Pi/180)
	disc := make(orb.Ring, 0, 128)
	for i := 0; i < 128; i++ {
		a := 2 * math.Pi * float64(i) / 128
		disc = append(disc, orb.Point{
			cfg.Center[0] + radiusKm*math.Cos(a)/kmPerDegLon,
			cfg.Center[1] + radiusKm*math.Sin(a)/kmPerDegLat,
		})
	}
	ids, err := coverage.PolygonCells(disc, cfg.Res)
	if err != nil {
		return Study{}, fmt.Errorf("synth: %w", err)
	}
	if len(ids) == 0 {
		return Study{}, fmt.Errorf("synth: no cells")
	}
	slices.Sort(ids)
	subs := []subcentre{{0, 0, 1, 6}}
	for i := 0; i < 9; i++ {
		a := rng.Float64() * 2 * math.Pi
		d := radiusKm * (0.25 + 0.55*rng.Float64())
		subs = append(subs, subcentre{d * math.Cos(a), d * math.Sin(a), 0.25 + 0.35*rng.Float64(), 2 + 3*rng.Float64()})
	}
	// About a quarter of the land holds nobody (water, parks, farmland,
	// industry), more of it towards the edge: whole resolution-8 blocks are
	// left empty, by a hash of the block so the pattern is stable.
	kept := ids[:0]
	for _, id := range ids {
		p := coverage.CellCenter(id)
		d := math.Hypot((p[0]-cfg.Center[0])*kmPerDegLon, (p[1]-cfg.Center[1])*kmPerDegLat) / radiusKm
		block := id
		if cfg.Res > 8 {
			block = id.Parent(8)
		}
		if blockNoise(uint64(block), cfg.Seed) < 0.05+0.3*d {
			continue
		}
		kept = append(kept, id)
	}
	ids = kept
	cells := make([]coverage.Cell, len(ids))
	weights := make([]float64, len(ids))
	var sum float64
	for i, id := range ids {
		p := coverage.CellCenter(id)
		x := (p[0] - cfg.Center[0]) * kmPerDegLon
		y := (p[1] - cfg.Center[1]) * kmPerDegLat
		w := 0.02 // rural floor
		for _, s := range subs {
			d := math.Hypot(x-s.dx, y-s.dy)
			w += s.peak * math.Exp(-d/s.scale)
		}
		w *= 0.5 + rng.Float64() // block-to-block variation
		cells[i] = coverage.Cell{H3: id, Pos: p}
		weights[i] = w
		sum += w
	}
	// Whole people, summing exactly to cfg.Population (largest remainder),
	// and at least one person per cell so every cell is demand.
	extra := cfg.Population - len(cells)
	if extra < 0 {
		return Study{}, fmt.Errorf("synth: fewer people (%d) than cells (%d)", cfg.Population, len(cells))
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(cells))
	assigned := 0
	for i, w := range weights {
		exact := float64(extra) * w / sum
		n := math.Floor(exact)
		cells[i].Population = 1 + n
		assigned += int(n)
		rems[i] = rem{i, exact - n}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; k < extra-assigned; k++ {
		cells[rems[k].i].Population++
	}
	// Stations: cells drawn in proportion to population, each station at a
	// random point near its cell's centre.
	cum := make([]float64, len(cells))
	var c float64
	for i, cell := range cells {
		c += cell.Population
		cum[i] = c
	}
	stations := make([]coverage.Station, cfg.Stations)
	for k := range stations {
		i := sort.SearchFloat64s(cum, rng.Float64()*c)
		if i >= len(cells) {
			i = len(cells) - 1
		}
		p := cells[i].Pos
		p[0] += (rng.Float64() - 0.5) * 0.1 / kmPerDegLon
		p[1] += (rng.Float64() - 0.5) * 0.1 / kmPerDegLat
		// One draw per station is kept from earlier versions, so that the
		// same seed still places every station where it did.
		_ = rng.IntN(5)
		tier, capacity := Hierarchy(k, cfg.Stations)
		stations[k] = coverage.Station{ID: fmt.Sprintf("S%05d", k+1), Tier: tier, Capacity: capacity, Pos: p}
	}
	return Study{Stations: stations, Cells: cells}, nil
}

// Tiers is the synthetic city's station hierarchy, from the top, as
// Shanghai's: 16 district centres, 215 subdistrict and town centres, about
// 6,000 neighbourhood stations, and the rest in office towers, parks and
// waterfronts, of 12,457 in all; with the walking threshold a planner would
// give each (GB 50180-2018's nested life circles) and the people each kind
// is built to serve.
var Tiers = []struct {
	Name     string
	Minutes  float64
	Share    float64 // of all stations
	Capacity float64 // people
}{
	{"district", 30, 16.0 / 12457, 40000},
	{"subdistrict", 15, 215.0 / 12457, 8000},
	{"neighbourhood", 10, 6000.0 / 12457, 1500},
	{"building", 5, 0, 300}, // the rest
}

// TierSpec is Tiers as walkshed's --tiers flag takes it.
func TierSpec() string {
	var parts []string
	for _, t := range Tiers {
		parts = append(parts, fmt.Sprintf("%s=%g", t.Name, t.Minutes))
	}
	return strings.Join(parts, ",")
}

// Hierarchy gives station k of n its tier and capacity: the stations are
// placed independently, so the first ones in the list take the top tiers
// in their shares (at least one district centre in any city of four or
// more stations).
func Hierarchy(k, n int) (string, float64) {
	top := 0
	for _, t := range Tiers[:len(Tiers)-1] {
		count := int(math.Round(t.Share * float64(n)))
		if count == 0 && t.Name == "district" && n >= 4 {
			count = 1
		}
		top += count
		if k < top {
			return t.Name, t.Capacity
		}
	}
	last := Tiers[len(Tiers)-1]
	return last.Name, last.Capacity
}

// blockNoise maps a block id to [0, 1) with a SplitMix64 finaliser.
func blockNoise(id, seed uint64) float64 {
	z := id ^ seed*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

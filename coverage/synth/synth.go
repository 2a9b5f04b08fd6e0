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
	// WorkerShare is the number of workers (daytime jobs) as a share of
	// Population; 0 makes no workers layer.
	WorkerShare float64
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
	// Shanghai counts about 12 million jobs for its 25 million residents.
	WorkerShare: 0.5,
}

// Study is a generated study.
type Study struct {
	Stations []coverage.Station
	Cells    []coverage.Cell // sorted by H3 index, every one populated
	// Workers holds the whole workers (daytime jobs) of Cells[i] in
	// Workers[i], zero in many cells; nil when Config.WorkerShare is 0.
	Workers []float64
	// Centres are the peaks of density, the main centre first.
	Centres []Centre
}

// Centre is a peak of density: the city centre or a subcentre (new towns,
// district centres). A cell d km away from it gets Peak·exp(-d/ScaleKm)
// residents' weight, and Peak·exp(-d/(ScaleKm·WorkerScale)) workers'.
type Centre struct {
	DX, DY  float64 // km east and north of Config.Center
	Peak    float64 // relative peak density
	ScaleKm float64
}

const (
	// WorkerScale narrows each centre's reach for workers: jobs crowd
	// into the centres (offices, malls, industrial parks) more tightly
	// than homes spread around them.
	WorkerScale = 0.4
	// residentFloor and WorkerFloor are the weights every cell gets
	// whatever its distance to the centres (villages, farms, workshops).
	residentFloor = 0.02
	WorkerFloor   = 0.005
)

// subcentre is a peak of density (Centre in the package's own terms).
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
		w := residentFloor
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
	st := Study{Stations: stations, Cells: cells}
	for _, s := range subs {
		st.Centres = append(st.Centres, Centre{DX: s.dx, DY: s.dy, Peak: s.peak, ScaleKm: s.scale})
	}
	if cfg.WorkerShare > 0 {
		st.Workers = workers(cfg, cells, subs, kmPerDegLon, kmPerDegLat)
	}
	return st, nil
}

// workers spreads round(WorkerShare·Population) whole workers over the
// populated cells, by the centres' narrower workers' weights with the same
// block-to-block variation as residents. It draws from a stream of its own,
// so that residents and stations stay what they are without workers.
func workers(cfg Config, cells []coverage.Cell, subs []subcentre, kmPerDegLon, kmPerDegLat float64) []float64 {
	rng := rand.New(rand.NewPCG(cfg.Seed^0x6a09e667f3bcc909, cfg.Seed+0xbb67ae8584caa73b))
	weights := make([]float64, len(cells))
	var sum float64
	for i, c := range cells {
		x := (c.Pos[0] - cfg.Center[0]) * kmPerDegLon
		y := (c.Pos[1] - cfg.Center[1]) * kmPerDegLat
		w := WorkerFloor
		for _, s := range subs {
			w += s.peak * math.Exp(-math.Hypot(x-s.dx, y-s.dy)/(s.scale*WorkerScale))
		}
		w *= 0.5 + rng.Float64()
		weights[i] = w
		sum += w
	}
	return largestRemainder(weights, sum, int(math.Round(cfg.WorkerShare*float64(cfg.Population))))
}

// largestRemainder gives whole numbers in proportion to weights (summing
// to sum), totalling exactly total; ties go to the earlier index.
func largestRemainder(weights []float64, sum float64, total int) []float64 {
	out := make([]float64, len(weights))
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(weights))
	assigned := 0
	for i, w := range weights {
		exact := float64(total) * w / sum
		n := math.Floor(exact)
		out[i] = n
		assigned += int(n)
		rems[i] = rem{i, exact - n}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; k < total-assigned; k++ {
		out[rems[k].i]++
	}
	return out
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

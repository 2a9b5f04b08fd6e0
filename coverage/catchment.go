package coverage

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// StationReach lists, for every station, the cells it reaches within its
// own tier's threshold and their walking times, ascending by cell: the
// catchments from which potential populations and accessibility are
// computed.
type StationReach struct {
	Limit []Minutes // each station's own tier's threshold
	off   []int     // station j's entries: [off[j], off[j+1])
	cells []int32
	mins  []Minutes
}

// Cells returns the cells station j reaches within its limit, ascending,
// and their walking times. The slices belong to s.
func (s *StationReach) Cells(j int) ([]int32, []Minutes) {
	lo, hi := s.off[j], s.off[j+1]
	return s.cells[lo:hi:hi], s.mins[lo:hi:hi]
}

// Pairs is the number of station–cell pairs held.
func (s *StationReach) Pairs() int { return len(s.cells) }

// cellTime is one cell reached from a station.
type cellTime struct {
	cell int32
	m    Minutes
}

// stationChunk is the number of stations one worker takes at a time.
const stationChunk = 32

// ReachFromStations asks reach, from every station of tr in parallel, for
// the cells within the station's own tier's threshold. reach must be the
// model tr was computed with (AnalyzeTiers checked the thresholds against
// its bound). Each station's cells are sorted, so the result does not
// depend on the order in which the model reports them.
func ReachFromStations(ctx context.Context, tr *TierResult, reach Reach) (*StationReach, error) {
	return ReachFromSomeStations(ctx, tr, reach, nil)
}

// ReachFromSomeStations is ReachFromStations for the stations where want
// is true alone; the others reach no cell in the result. A nil want asks
// for every station.
func ReachFromSomeStations(ctx context.Context, tr *TierResult, reach Reach, want []bool) (*StationReach, error) {
	n := len(tr.Stations)
	if want != nil && len(want) != n {
		return nil, fmt.Errorf("coverage: %d stations wanted of %d", len(want), n)
	}
	sr := &StationReach{Limit: make([]Minutes, n), off: make([]int, n+1)}
	for j, t := range tr.StationTier {
		sr.Limit[j] = tr.Spec.Tiers[t].Minutes
	}
	chunks := (n + stationChunk - 1) / stationChunk
	parts := make([][]cellTime, chunks)
	counts := make([]int, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(runtime.GOMAXPROCS(0), chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := int(next.Add(1)) - 1
				if k >= chunks {
					return
				}
				var buf []cellTime
				for j := k * stationChunk; j < min(n, (k+1)*stationChunk); j++ {
					if want != nil && !want[j] {
						continue
					}
					start := len(buf)
					err := reach.Within(ctx, tr.Stations[j].Pos, sr.Limit[j], func(c int32, m Minutes) {
						buf = append(buf, cellTime{c, m})
					})
					if err != nil {
						errOnce.Do(func() {
							firstErr = fmt.Errorf("coverage: cells within reach of station %q: %w", tr.Stations[j].ID, err)
							cancel()
						})
						return
					}
					slices.SortFunc(buf[start:], func(a, b cellTime) int { return int(a.cell) - int(b.cell) })
					counts[j] = len(buf) - start
				}
				parts[k] = buf
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for j, c := range counts {
		sr.off[j+1] = sr.off[j] + c
	}
	total := sr.off[n]
	sr.cells = make([]int32, 0, total)
	sr.mins = make([]Minutes, 0, total)
	for _, p := range parts {
		for _, ct := range p {
			sr.cells = append(sr.cells, ct.cell)
			sr.mins = append(sr.mins, ct.m)
		}
	}
	return sr, nil
}

// Catchment is what one station serves.
type Catchment struct {
	Tier int // the station's own tier, an index into TierSpec.Tiers
	// Served is the population of the cells covered for the station's own
	// tier whose nearest station serving that tier it is (equal times: the
	// first listed). A district centre that also serves the tiers below
	// counts here its district's people only; ServedIn has the rest.
	Served float64
	// ServedIn is Served for every tier (indexed as TierSpec.Tiers), zero
	// in tiers the station does not serve. Over all stations, ServedIn[t]
	// sums to tier t's covered population.
	ServedIn []float64
	// Potential is the population of the cells within the own tier's
	// threshold, whichever station is nearer to them.
	Potential float64
	Capacity  float64 // the station's Capacity: 0 when unknown
	Load      float64 // Served ÷ Capacity; NaN when the capacity is unknown
}

// Overloaded reports whether the station serves more than its capacity
// (false when the capacity is unknown).
func (c Catchment) Overloaded() bool { return c.Load > 1 }

// Catchments gives every station of tr its served and potential
// population and its load. sr must come from ReachFromStations(tr).
func Catchments(tr *TierResult, sr *StationReach) []Catchment {
	return CatchmentsWith(tr, sr, nil)
}

// CatchmentsWith is Catchments when some potential populations are known:
// a station's potential depends on its position, its tier's threshold and
// the people around it alone, not on other stations, so one kept from an
// earlier analysis of the same cells stands. known[j] is station j's
// potential, NaN when unknown; sr must hold the stations whose potential
// is unknown (ReachFromSomeStations). A nil known is Catchments.
func CatchmentsWith(tr *TierResult, sr *StationReach, known []float64) []Catchment {
	n, nt := len(tr.Stations), len(tr.Tiers)
	servedIn := make([]float64, n*nt)
	for t, tc := range tr.Tiers {
		lim := tc.Tier.Minutes
		for i, a := range tc.Access {
			if a.Minutes <= lim { // Unreached is +Inf
				servedIn[int(a.Station)*nt+t] += tr.Cells[i].Population
			}
		}
	}
	out := make([]Catchment, n)
	for j, st := range tr.Stations {
		own := int(tr.StationTier[j])
		c := Catchment{
			Tier:     own,
			ServedIn: servedIn[j*nt : (j+1)*nt : (j+1)*nt],
			Capacity: st.Capacity,
			Load:     math.NaN(),
		}
		c.Served = c.ServedIn[own]
		if known != nil && !math.IsNaN(known[j]) {
			c.Potential = known[j]
		} else {
			cells, _ := sr.Cells(j)
			for _, i := range cells {
				c.Potential += tr.Cells[i].Population
			}
		}
		if st.Capacity > 0 {
			c.Load = c.Served / st.Capacity
		}
		out[j] = c
	}
	return out
}

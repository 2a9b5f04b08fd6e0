package coverage

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Action is what happens to a station.
type Action int

const (
	Open Action = iota + 1
	Close
)

func (a Action) String() string {
	switch a {
	case Open:
		return "open"
	case Close:
		return "close"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Event is a station opening or closing. A close needs only the station's
// id; Line is where the event came from, for error messages.
type Event struct {
	Date    time.Time
	Action  Action
	Station Station
	Source  string // file and line, e.g. "events.csv:4"
}

// Change is what one event did.
type Change struct {
	Event          Event
	NewlyCovered   []int32 // cells covered after the event and not before
	NoLonger       []int32 // cells covered before and not after
	Gained, Lost   float64 // their populations
	CellsRetimed   int     // cells whose walking time changed
	CoveredAfter   float64 // covered population after the event
	StationsActive int     // stations open after the event
}

// Update applies events, in the given order, to r, whose times came from
// reach (bound to r.Cells). An opening searches from the new station alone
// and keeps the smaller time; a closing recomputes only the cells whose
// nearest station it was, from only the stations that can reach them. The
// result equals a full recomputation with the final station list (the
// original stations in order without the closed ones, then the opened ones
// in event order), cell for cell. Gaps and area summaries are recomputed at
// the end. On error r is left unchanged.
func Update(ctx context.Context, r *Result, reach Reach, events []Event) ([]Change, error) {
	u, err := newUpdater(r, reach)
	if err != nil {
		return nil, err
	}
	changes := make([]Change, 0, len(events))
	for _, ev := range events {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ch Change
		var err error
		switch ev.Action {
		case Open:
			ch, err = u.open(ctx, ev)
		case Close:
			ch, err = u.close(ctx, ev)
		default:
			err = fmt.Errorf("coverage: %s: unknown action %v", ev.Source, ev.Action)
		}
		if err != nil {
			return nil, err
		}
		changes = append(changes, ch)
	}
	u.commit()
	return changes, nil
}

// updater holds the working copy of a result while events are applied.
type updater struct {
	r        *Result
	reach    Reach
	stations []Station
	closed   []bool
	byID     map[string]int32
	tree     rtree.RTreeG[int32] // open stations
	access   []Access
	inReach  []int32
	covered  float64
	active   int
}

func newUpdater(r *Result, reach Reach) (*updater, error) {
	u := &updater{
		r:        r,
		reach:    reach,
		stations: slices.Clone(r.Stations),
		closed:   make([]bool, len(r.Stations)),
		byID:     make(map[string]int32, len(r.Stations)),
		access:   slices.Clone(r.Access),
		active:   len(r.Stations),
	}
	if r.InReach != nil {
		if _, ok := reach.(Counter); ok {
			u.inReach = slices.Clone(r.InReach)
		}
	}
	for i, s := range r.Stations {
		if _, dup := u.byID[s.ID]; dup {
			return nil, fmt.Errorf("coverage: station id %q appears twice in the result", s.ID)
		}
		u.byID[s.ID] = int32(i)
		u.tree.Insert(s.Pos, s.Pos, int32(i))
	}
	u.covered = r.Totals().CoveredPopulation
	return u, nil
}

func (u *updater) isCovered(a Access) bool {
	return a.Minutes.Reached() && a.Minutes <= u.r.Settings.Minutes
}

// record notes a cell's change of access into ch.
func (u *updater) record(ch *Change, i int32, before, after Access) {
	if before.Minutes != after.Minutes {
		ch.CellsRetimed++
	}
	b, a := u.isCovered(before), u.isCovered(after)
	pop := u.r.Cells[i].Population
	switch {
	case a && !b:
		ch.NewlyCovered = append(ch.NewlyCovered, i)
		ch.Gained += pop
		u.covered += pop
	case b && !a:
		ch.NoLonger = append(ch.NoLonger, i)
		ch.Lost += pop
		u.covered -= pop
	}
}

func (u *updater) finishChange(ch *Change) {
	slices.Sort(ch.NewlyCovered)
	slices.Sort(ch.NoLonger)
	ch.CoveredAfter = u.covered
	ch.StationsActive = u.active
}

func (u *updater) open(ctx context.Context, ev Event) (Change, error) {
	ch := Change{Event: ev}
	if ev.Station.ID == "" {
		return ch, fmt.Errorf("coverage: %s: an opening needs a station id", ev.Source)
	}
	if _, ok := u.byID[ev.Station.ID]; ok {
		return ch, fmt.Errorf("coverage: %s: station %q is already open", ev.Source, ev.Station.ID)
	}
	if !validLonLat(ev.Station.Pos) {
		return ch, fmt.Errorf("coverage: %s: station %q has no valid position", ev.Source, ev.Station.ID)
	}
	s := int32(len(u.stations))
	u.stations = append(u.stations, ev.Station)
	u.closed = append(u.closed, false)
	u.byID[ev.Station.ID] = s
	u.tree.Insert(ev.Station.Pos, ev.Station.Pos, s)
	u.active++
	// Only cells now slower than the new station can change: search
	// up to the slowest current time (the model's bound caps it).
	limit := u.reach.Bound()
	var slowest Minutes
	for _, a := range u.access {
		if !a.Minutes.Reached() {
			slowest = Unreached
			break
		}
		slowest = max(slowest, a.Minutes)
	}
	limit = min(limit, slowest) // +Inf only for an unbounded model with unserved cells: search everywhere
	err := u.reach.Within(ctx, ev.Station.Pos, limit, func(i int32, m Minutes) {
		before := u.access[i]
		if before.Better(m, s) {
			u.access[i] = Access{Minutes: m, Station: s}
			u.record(&ch, i, before, u.access[i])
		}
	})
	if err != nil {
		return ch, err
	}
	if u.inReach != nil {
		err := u.reach.Within(ctx, ev.Station.Pos, u.r.Settings.Minutes, func(i int32, _ Minutes) { u.inReach[i]++ })
		if err != nil {
			return ch, err
		}
	}
	u.finishChange(&ch)
	return ch, nil
}

func (u *updater) close(ctx context.Context, ev Event) (Change, error) {
	ch := Change{Event: ev}
	s, ok := u.byID[ev.Station.ID]
	if !ok {
		return ch, fmt.Errorf("coverage: %s: no open station has id %q", ev.Source, ev.Station.ID)
	}
	pos := u.stations[s].Pos
	if ev.Station.Pos != (orb.Point{}) && Distance(ev.Station.Pos, pos) > 1 {
		return ch, fmt.Errorf("coverage: %s: station %q is at %.7f,%.7f, not at %.7f,%.7f", ev.Source, ev.Station.ID, pos[0], pos[1], ev.Station.Pos[0], ev.Station.Pos[1])
	}
	delete(u.byID, ev.Station.ID)
	u.closed[s] = true
	u.tree.Delete(pos, pos, s)
	u.active--
	if u.inReach != nil {
		err := u.reach.Within(ctx, pos, u.r.Settings.Minutes, func(i int32, _ Minutes) { u.inReach[i]-- })
		if err != nil {
			return ch, err
		}
	}
	var affected []int32
	var farthest Meters
	for i, a := range u.access {
		if a.Station == s {
			affected = append(affected, int32(i))
			farthest = max(farthest, Distance(pos, u.r.Cells[i].Pos))
		}
	}
	before := make([]Access, len(affected))
	for k, i := range affected {
		before[k] = u.access[i]
		u.access[i] = NoAccess
	}
	if len(affected) > 0 && u.active > 0 {
		if err := u.renearest(ctx, pos, farthest, affected); err != nil {
			return ch, err
		}
	}
	for k, i := range affected {
		u.record(&ch, i, before[k], u.access[i])
	}
	u.finishChange(&ch)
	return ch, nil
}

// renearest recomputes the nearest open station of the affected cells, all
// within farthest of the closed station at pos, asking the reach model about
// nearby stations only. A station t outside radius ρ of pos is at least
// ρ − farthest from every affected cell (triangle inequality), and walking
// is never shorter than the straight line; so once every affected cell's new
// time is within ρ − farthest, or ρ covers the model's bound, no station
// outside could do better. ρ doubles until that holds.
func (u *updater) renearest(ctx context.Context, pos orb.Point, farthest Meters, affected []int32) error {
	speed := u.r.Settings.SpeedKmh
	bound := u.reach.Bound()
	rho := 2*farthest + speed.Distance(u.r.Settings.Minutes)
	if bound.Reached() {
		rho = min(rho, farthest+speed.Distance(bound))
	}
	out := make([]Access, len(u.access))
	var cand []int32
	for {
		cand = cand[:0]
		bx := radiusBox(pos, rho*(1+1e-9)+1e-3)
		for _, b := range bx.each() {
			u.tree.Search(b[0], b[1], func(_, _ [2]float64, t int32) bool {
				if Distance(pos, u.stations[t].Pos) <= rho {
					cand = append(cand, t)
				}
				return true
			})
		}
		slices.Sort(cand)
		pts := make([]orb.Point, len(cand))
		for k, t := range cand {
			pts[k] = u.stations[t].Pos
		}
		if err := u.reach.Nearest(ctx, pts, affected, out); err != nil {
			return err
		}
		safe := speed.Walk(rho - farthest)
		ok := true
		for _, i := range affected {
			if m := out[i].Minutes; !m.Reached() || m > safe {
				ok = false
				break
			}
		}
		enough := ok || (bound.Reached() && rho >= farthest+speed.Distance(bound)) || len(cand) == u.active
		if enough {
			for _, i := range affected {
				a := out[i]
				if a.Station >= 0 {
					a.Station = cand[a.Station]
				}
				u.access[i] = a
			}
			return nil
		}
		rho *= 2
		if math.IsInf(float64(rho), 1) {
			return fmt.Errorf("coverage: no station found for %d cells", len(affected))
		}
	}
}

// commit compacts the station list (closed stations removed, order kept)
// and writes the working copy back into the result.
func (u *updater) commit() {
	remap := make([]int32, len(u.stations))
	var kept []Station
	for i, s := range u.stations {
		if u.closed[i] {
			remap[i] = -1
			continue
		}
		remap[i] = int32(len(kept))
		kept = append(kept, s)
	}
	for i, a := range u.access {
		if a.Station >= 0 {
			u.access[i].Station = remap[a.Station]
		}
	}
	u.r.Stations = kept
	u.r.Access = u.access
	if u.inReach != nil {
		u.r.InReach = u.inReach
	} else {
		u.r.InReach = nil
	}
	u.r.Created = time.Now().UTC()
	u.r.Finish(u.r.AreaInputs())
}

package coverage

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
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
			u.rollback()
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
			u.rollback()
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
	vec      [][3]float64 // stations on the unit sphere, filled on the first closing
	// The cells each station served, filled on the first closing: the
	// original stations' in CSR arrays, later changes appended in extra.
	// Lists may hold cells that moved on since; readers check.
	servedOff, servedCells []int32
	servedExtra            map[int32][]int32

	undo      []undoAccess // every change to access, to restore r on error
	undoReach []undoCount
	access    []Access
	inReach   []int32
	covered   float64
	active    int
	changed   []int32 // cells whose access changed, possibly repeated

	// With a model that times cells directly (the straight line), openings
	// visit only blocks of cells that one could improve.
	timer  CellTimer
	blocks []block
}

type undoAccess struct {
	i int32
	a Access
}

type undoCount struct{ i, n int32 }

// withinThreshold calls fn for every cell within the threshold time of p:
// through the blocks near p when the model times cells directly, else
// through the model's own search.
func (u *updater) withinThreshold(ctx context.Context, p orb.Point, fn func(i int32)) error {
	limit := u.r.Settings.Minutes
	if u.blocks == nil {
		return u.reach.Within(ctx, p, limit, func(i int32, _ Minutes) { fn(i) })
	}
	below := Minutes(math.Nextafter(float64(limit), math.Inf(1))) // m < below ⟺ m <= limit
	bound := func(int32) Minutes { return below }
	speed := u.r.Settings.SpeedKmh
	for bi := range u.blocks {
		b := &u.blocks[bi]
		dlat := max(0, b.Min[1]-p[1], p[1]-b.Max[1])
		if speed.Walk(Meters(dlat*degToRad*float64(EarthRadius))) > limit || speed.Walk(boxDistance(p, b.Min, b.Max)) > limit {
			continue
		}
		u.timer.TimeCells(p, b.Lo, b.Hi, bound, func(i int32, _ Minutes) { fn(i) })
	}
	return nil
}

// current is cell i's time now: a new station must be faster to matter
// (it is listed last, so it loses every tie).
func (u *updater) current(i int32) Minutes { return u.access[i].Minutes }

// set changes cell i's access, logging the old value.
func (u *updater) set(i int32, a Access) {
	u.undo = append(u.undo, undoAccess{i, u.access[i]})
	u.access[i] = a
}

// count adds d to cell i's stations in reach, logging the old value.
func (u *updater) count(i int32, d int32) {
	u.undoReach = append(u.undoReach, undoCount{i, u.inReach[i]})
	u.inReach[i] += d
}

// rollback restores the result's arrays after a failed update.
func (u *updater) rollback() {
	for k := len(u.undo) - 1; k >= 0; k-- {
		u.access[u.undo[k].i] = u.undo[k].a
	}
	for k := len(u.undoReach) - 1; k >= 0; k-- {
		u.inReach[u.undoReach[k].i] = u.undoReach[k].n
	}
}

func (u *updater) refreshBlock(b *block) {
	// Unreached is +Inf, so the plain maximum covers it.
	var slowest Minutes
	for _, a := range u.access[b.Lo:b.Hi] {
		if a.Minutes > slowest {
			slowest = a.Minutes
		}
	}
	b.slowest, b.dirty = slowest, false
}

// raise notes that cell i got slower.
func (u *updater) raise(i int32) {
	if u.blocks == nil {
		return
	}
	b := &u.blocks[i/cellBlockSize]
	b.slowest = max(b.slowest, u.access[i].Minutes)
}

func newUpdater(r *Result, reach Reach) (*updater, error) {
	u := &updater{
		r:        r,
		reach:    reach,
		stations: r.Stations[:len(r.Stations):len(r.Stations)], // openings append to a copy
		closed:   make([]bool, len(r.Stations)),
		byID:     make(map[string]int32, len(r.Stations)),
		access:   r.Access, // changed in place, with an undo log
		active:   len(r.Stations),
	}
	if r.InReach != nil {
		if _, ok := reach.(Counter); ok {
			u.inReach = r.InReach
		}
	}
	for i, s := range r.Stations {
		if _, dup := u.byID[s.ID]; dup {
			return nil, fmt.Errorf("coverage: station id %q appears twice in the result", s.ID)
		}
		u.byID[s.ID] = int32(i)
	}
	ix := r.index()
	u.covered = ix.covered
	if t, ok := reach.(CellTimer); ok && !reach.Bound().Reached() {
		u.timer = t
		u.blocks = slices.Clone(ix.blocks) // the result's own stay as they are until commit
	}
	return u, nil
}

func (u *updater) isCovered(a Access) bool {
	return a.Minutes.Reached() && a.Minutes <= u.r.Settings.Minutes
}

// record notes a cell's change of access into ch.
func (u *updater) record(ch *Change, i int32, before, after Access) {
	if before != after {
		u.changed = append(u.changed, i)
		if u.servedOff != nil && after.Station >= 0 {
			u.servedExtra[after.Station] = append(u.servedExtra[after.Station], i)
		}
	}
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
	if u.vec != nil {
		u.vec = append(u.vec, unitVector(ev.Station.Pos))
	}
	u.active++
	improve := func(i int32, m Minutes) {
		before := u.access[i]
		if before.Better(m, s) {
			u.set(i, Access{Minutes: m, Station: s})
			u.record(&ch, i, before, u.access[i])
		}
	}
	if u.blocks != nil {
		// Only cells now slower than the new station can change. A block
		// whose nearest point is farther than its slowest cell's time
		// cannot hold one; the others are timed cell by cell.
		p := ev.Station.Pos
		speed := u.r.Settings.SpeedKmh
		for bi := range u.blocks {
			b := &u.blocks[bi]
			if b.dirty {
				u.refreshBlock(b)
			}
			// The latitude gap alone is a cheap first lower bound.
			dlat := max(0, b.Min[1]-p[1], p[1]-b.Max[1])
			if speed.Walk(Meters(dlat*degToRad*float64(EarthRadius))) >= b.slowest ||
				speed.Walk(boxDistance(p, b.Min, b.Max)) >= b.slowest {
				continue
			}
			n := len(ch.NewlyCovered) + len(ch.NoLonger) + ch.CellsRetimed
			u.timer.TimeCells(p, b.Lo, b.Hi, u.current, improve)
			if len(ch.NewlyCovered)+len(ch.NoLonger)+ch.CellsRetimed != n {
				b.dirty = true
			}
		}
	} else {
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
		if err := u.reach.Within(ctx, ev.Station.Pos, limit, improve); err != nil {
			return ch, err
		}
	}
	if u.inReach != nil {
		err := u.withinThreshold(ctx, ev.Station.Pos, func(i int32) { u.count(i, 1) })
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
	u.active--
	if u.inReach != nil {
		err := u.withinThreshold(ctx, pos, func(i int32) { u.count(i, -1) })
		if err != nil {
			return ch, err
		}
	}
	// The cells s serves now.
	var affected []int32
	var farthest Meters
	take := func(cells []int32) {
		for _, i := range cells {
			if u.access[i].Station == s {
				affected = append(affected, i)
				farthest = max(farthest, Distance(pos, u.r.Cells[i].Pos))
			}
		}
	}
	if u.blocks != nil {
		// A cell served by s is at least as far from s in time as the block
		// is; blocks whose slowest cell is nearer cannot hold one.
		speed := u.r.Settings.SpeedKmh
		for bi := range u.blocks {
			b := &u.blocks[bi]
			dlat := max(0, b.Min[1]-pos[1], pos[1]-b.Max[1])
			if speed.Walk(Meters(dlat*degToRad*float64(EarthRadius))) > b.slowest ||
				speed.Walk(boxDistance(pos, b.Min, b.Max)) > b.slowest {
				continue
			}
			for i := b.Lo; i < b.Hi; i++ {
				if u.access[i].Station == s {
					affected = append(affected, i)
					farthest = max(farthest, Distance(pos, u.r.Cells[i].Pos))
				}
			}
		}
	} else {
		if u.servedOff == nil {
			u.buildServed()
		}
		if int(s)+1 < len(u.servedOff) {
			take(u.servedCells[u.servedOff[s]:u.servedOff[s+1]])
		}
		take(u.servedExtra[s])
		delete(u.servedExtra, s)
	}
	slices.Sort(affected)
	affected = slices.Compact(affected)
	before := make([]Access, len(affected))
	for k, i := range affected {
		before[k] = u.access[i]
		u.set(i, NoAccess)
	}
	if len(affected) > 0 && u.active > 0 {
		if err := u.renearest(ctx, pos, farthest, affected); err != nil {
			return ch, err
		}
	}
	for k, i := range affected {
		u.record(&ch, i, before[k], u.access[i])
		u.raise(i)
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
	// The affected cells were set to NoAccess (and logged) by the caller,
	// so the search writes straight into the access array.
	out := u.access
	var cand []int32
	for {
		cand = cand[:0]
		if u.vec == nil {
			u.vec = u.r.stationVectors(u.stations)
		}
		// Stations within ρ of pos, by chord length with a margin for
		// rounding; the ρ test itself is then exact on the haversine.
		pv, lim := unitVector(pos), chord2Of(rho)*(1+1e-9)+1e-18
		for t, v := range u.vec {
			if !u.closed[t] && chord2(pv, v) <= lim && Distance(pos, u.stations[t].Pos) <= rho {
				cand = append(cand, int32(t))
			}
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
				if out[i].Station >= 0 {
					out[i].Station = cand[out[i].Station]
				}
			}
			return nil
		}
		rho *= 2
		if math.IsInf(float64(rho), 1) {
			return fmt.Errorf("coverage: no station found for %d cells", len(affected))
		}
	}
}

// buildServed lists the cells each station serves (a counting sort).
func (u *updater) buildServed() {
	n := len(u.stations)
	u.servedOff = make([]int32, n+1)
	for _, a := range u.access {
		if a.Station >= 0 {
			u.servedOff[a.Station+1]++
		}
	}
	for k := 1; k <= n; k++ {
		u.servedOff[k] += u.servedOff[k-1]
	}
	u.servedCells = make([]int32, u.servedOff[n])
	next := slices.Clone(u.servedOff[:n])
	for i, a := range u.access {
		if a.Station >= 0 {
			u.servedCells[next[a.Station]] = int32(i)
			next[a.Station]++
		}
	}
	u.servedExtra = map[int32][]int32{}
}

// commit compacts the station list (closed stations removed, order kept)
// and writes the working copy back into the result.
func (u *updater) commit() {
	remap := make([]int32, len(u.stations))
	kept := make([]Station, 0, u.active)
	first := -1 // the first closed station: indices below it do not move
	for i, s := range u.stations {
		if u.closed[i] {
			remap[i] = -1
			if first < 0 {
				first = i
			}
			continue
		}
		remap[i] = int32(len(kept))
		kept = append(kept, s)
	}
	if first >= 0 {
		splitRange(len(u.access), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if s := u.access[i].Station; s > int32(first) {
					u.access[i].Station = remap[s]
				}
			}
		})
	}
	u.r.Stations = kept
	u.r.Access = u.access
	if u.inReach != nil {
		u.r.InReach = u.inReach
	} else {
		u.r.InReach = nil
	}
	u.r.Created = time.Now().UTC()
	u.r.Gaps = UpdateGaps(u.r, u.r.Gaps, u.changed)
	if u.blocks != nil {
		ix := &cellIndex{blocks: u.blocks, covered: u.covered}
		if u.vec != nil {
			ix.stationVec = make([][3]float64, 0, len(kept))
			for t, v := range u.vec {
				if !u.closed[t] {
					ix.stationVec = append(ix.stationVec, v)
				}
			}
		}
		u.r.idx = ix
	} else {
		u.r.idx = nil // rebuilt from the times when next needed
	}
	u.r.Areas = summarizeAreas(u.r, u.r.AreaInputs(), u.r.cellArea)
}

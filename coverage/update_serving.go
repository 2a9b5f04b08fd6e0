package coverage

import (
	"context"
	"fmt"
)

// UpdateServing is Update for a result whose walking times are those of
// some of its stations only: the stations for which serves is true (in a
// hierarchy of separate tiers, the bottom tier's own stations). r.Stations
// lists every station and r.Access indexes that list. The events change the
// list as Update does (closed stations removed, opened ones appended in
// event order); an event about a station that does not serve changes no
// walking time, and its Change has no cells. The result equals a full
// recomputation of the serving stations' times with the final list, cell
// for cell. A nil serves is Update itself. On error r is left unchanged.
func UpdateServing(ctx context.Context, r *Result, reach Reach, events []Event, serves func(Station) bool) ([]Change, error) {
	if serves == nil {
		return Update(ctx, r, reach, events)
	}
	// The full list the events lead to, checked as Update checks it, and
	// which events are about a serving station.
	open := make(map[string]Station, len(r.Stations))
	for _, st := range r.Stations {
		if _, dup := open[st.ID]; dup {
			return nil, fmt.Errorf("coverage: station id %q appears twice in the result", st.ID)
		}
		open[st.ID] = st
	}
	serving := make([]bool, len(events))
	var sub []Event
	for k, ev := range events {
		switch ev.Action {
		case Open:
			if ev.Station.ID == "" {
				return nil, fmt.Errorf("coverage: %s: an opening needs a station id", ev.Source)
			}
			if _, ok := open[ev.Station.ID]; ok {
				return nil, fmt.Errorf("coverage: %s: station %q is already open", ev.Source, ev.Station.ID)
			}
			if !validLonLat(ev.Station.Pos) {
				return nil, fmt.Errorf("coverage: %s: station %q has no valid position", ev.Source, ev.Station.ID)
			}
			open[ev.Station.ID] = ev.Station
			serving[k] = serves(ev.Station)
		case Close:
			st, ok := open[ev.Station.ID]
			if !ok {
				return nil, fmt.Errorf("coverage: %s: no open station has id %q", ev.Source, ev.Station.ID)
			}
			delete(open, ev.Station.ID)
			serving[k] = serves(st)
		default:
			return nil, fmt.Errorf("coverage: %s: unknown action %v", ev.Source, ev.Action)
		}
		if serving[k] {
			sub = append(sub, ev)
		}
	}

	// The view: the serving stations alone, the times indexing them.
	toSub := make([]int32, len(r.Stations))
	var stations []Station
	for j, st := range r.Stations {
		toSub[j] = -1
		if serves(st) {
			toSub[j] = int32(len(stations))
			stations = append(stations, st)
		}
	}
	for i, a := range r.Access {
		if a.Station >= 0 && toSub[a.Station] < 0 {
			return nil, fmt.Errorf("coverage: cell %d is timed to station %q, which does not serve", i, r.Stations[a.Station].ID)
		}
	}
	fromSub := make([]int32, len(stations))
	for j, k := range toSub {
		if k >= 0 {
			fromSub[k] = int32(j)
		}
	}
	remap := func(m []int32) {
		splitRange(len(r.Access), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if s := r.Access[i].Station; s >= 0 {
					r.Access[i].Station = m[s]
				}
			}
		})
	}
	coveredBefore := r.index().covered
	remap(toSub)
	view := *r
	view.Stations = stations
	changed, err := Update(ctx, &view, reach, sub)
	if err != nil {
		remap(fromSub) // Update left the times as they were
		return nil, err
	}

	// Back to the full list, replayed as Update orders it: the original
	// stations still open in order, then the openings in event order.
	full := append([]Station(nil), r.Stations...)
	active := make([]int, len(events))
	for k, ev := range events {
		if ev.Action == Close {
			for j := range full {
				if full[j].ID == ev.Station.ID {
					full = append(full[:j], full[j+1:]...)
					break
				}
			}
		} else {
			full = append(full, ev.Station)
		}
		active[k] = len(full)
	}
	back := make([]int32, 0, len(view.Stations))
	for j, st := range full {
		if serves(st) {
			back = append(back, int32(j))
		}
	}
	if len(back) != len(view.Stations) {
		return nil, fmt.Errorf("coverage: %d serving stations after the events, the update kept %d", len(back), len(view.Stations))
	}
	*r = view
	r.Stations = full
	remap(back)
	// The areas count every station in them, not only those that serve.
	if len(r.Areas) > 0 {
		r.Areas = summarizeAreas(r, r.AreaInputs(), r.cellArea)
	}

	// Every event gets a change; one about a station that does not serve
	// keeps the covered population of the event before it.
	changes := make([]Change, len(events))
	n := 0
	for k, ev := range events {
		if serving[k] {
			changes[k] = changed[n]
			n++
		} else {
			changes[k] = Change{Event: ev, CoveredAfter: coveredBefore}
		}
		coveredBefore = changes[k].CoveredAfter
		changes[k].StationsActive = active[k]
	}
	return changes, nil
}

package coverage

import (
	"context"
	"fmt"
	"slices"
)

// MoveStation moves the station at index from in r.Stations to index to,
// the others keeping their order, as if it had been listed there from the
// start: the cells it reaches exactly as fast as their nearest station, and
// before that station in the new order, become its (equal times: the first
// listed). With it, reopening a closed station puts it back where it stood
// (Update appends an opening at the end). serves says which stations r's
// times are of, as for UpdateServing (nil: every station); a station that
// does not serve only changes place. On error r is left unchanged.
func MoveStation(ctx context.Context, r *Result, reach Reach, from, to int, serves func(Station) bool) error {
	n := len(r.Stations)
	if from < 0 || from >= n || to < 0 || to >= n {
		return fmt.Errorf("coverage: move station %d to %d: %d stations", from, to, n)
	}
	if from == to {
		return nil
	}
	// where maps an old index to its new one.
	where := func(j int32) int32 {
		switch {
		case j == int32(from):
			return int32(to)
		case from < to && j > int32(from) && j <= int32(to):
			return j - 1
		case to < from && j >= int32(to) && j < int32(from):
			return j + 1
		}
		return j
	}
	st := r.Stations[from]
	// The cells where the station ties: found before anything changes.
	var ties []int32
	if serves == nil || serves(st) {
		var slowest Minutes
		for _, a := range r.Access {
			if a.Minutes.Reached() && a.Minutes > slowest {
				slowest = a.Minutes
			}
		}
		limit := min(reach.Bound(), slowest)
		err := reach.Within(ctx, st.Pos, limit, func(i int32, m Minutes) {
			if a := r.Access[i]; a.Station >= 0 && a.Station != int32(from) && m == a.Minutes && where(a.Station) > int32(to) {
				ties = append(ties, i)
			}
		})
		if err != nil {
			return err
		}
	}
	stations := slices.Clone(r.Stations)
	stations = slices.Delete(stations, from, from+1)
	stations = slices.Insert(stations, to, st)
	splitRange(len(r.Access), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if s := r.Access[i].Station; s >= 0 {
				r.Access[i].Station = where(s)
			}
		}
	})
	for _, i := range ties {
		r.Access[i].Station = int32(to)
	}
	r.Stations = stations
	if r.idx != nil && len(r.idx.stationVec) == n {
		v := r.idx.stationVec[from]
		vec := slices.Delete(slices.Clone(r.idx.stationVec), from, from+1)
		r.idx.stationVec = slices.Insert(vec, to, v)
	}
	return nil
}

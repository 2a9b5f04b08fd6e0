package format

import (
	"io"
	"math"
	"strconv"

	"github.com/walkshed/walkshed/coverage"
)

// WriteTimelineCSV writes timeline.csv: one row per event date with the
// stations open, the population covered and its share at the end of that
// date, and the population gained and lost that date.
func WriteTimelineCSV(w io.Writer, r *coverage.Result, before coverage.Totals, changes []coverage.Change) error {
	bw := newErrWriter(w)
	bw.str("date,stations,population_covered,share_covered,population_gained,population_lost,events\n")
	total := before.Population
	buf := make([]byte, 0, 128)
	for i := 0; i < len(changes); {
		d := changes[i].Event.Date
		var gained, lost float64
		j := i
		for ; j < len(changes) && changes[j].Event.Date.Equal(d); j++ {
			gained += changes[j].Gained
			lost += changes[j].Lost
		}
		last := changes[j-1]
		buf = buf[:0]
		buf = append(buf, d.Format("2006-01-02")...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(last.StationsActive), 10)
		buf = append(buf, ',')
		buf = appendNumber(buf, roundPeople(last.CoveredAfter))
		buf = append(buf, ',')
		share := 0.0
		if total > 0 {
			share = last.CoveredAfter / total
		}
		buf = strconv.AppendFloat(buf, share, 'f', 6, 64)
		buf = append(buf, ',')
		buf = appendNumber(buf, roundPeople(gained))
		buf = append(buf, ',')
		buf = appendNumber(buf, roundPeople(lost))
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(j-i), 10)
		buf = append(buf, '\n')
		bw.bytes(buf)
		i = j
	}
	return bw.err
}

// roundPeople trims the float noise of running sums to 1e-6 people,
// rounding halves away from zero. From 2^33 on, adjacent floats are more
// than 1e-6 apart, so v is already the float nearest its rounding and is
// returned as it is (no count of millionths is formed: above 9.2e12 it
// would overflow an int64). Below, v·1e6 is under 2^53 and is rounded to a
// whole number of millionths.
func roundPeople(v float64) float64 {
	if !(math.Abs(v) < 1<<33) { // NaN and ±Inf too
		return v
	}
	if v < 0 {
		return -math.Floor(-v*1e6+0.5) / 1e6
	}
	return math.Floor(v*1e6+0.5) / 1e6
}

// WriteChangesCSV writes changes.csv: one row per event and cell whose
// coverage changed (change "covered" or "uncovered"), with the cell's
// population; events that changed no cell get one row with an empty cell.
func WriteChangesCSV(w io.Writer, r *coverage.Result, changes []coverage.Change) error {
	bw := newErrWriter(w)
	bw.str("date,action,station_id,change,h3,population,cells_newly_covered,cells_no_longer_covered,population_gained,population_lost\n")
	buf := make([]byte, 0, 256)
	row := func(ch coverage.Change, kind string, cell int32) {
		buf = buf[:0]
		buf = append(buf, ch.Event.Date.Format("2006-01-02")...)
		buf = append(buf, ',')
		buf = append(buf, ch.Event.Action.String()...)
		buf = append(buf, ',')
		buf = appendCSVField(buf, ch.Event.Station.ID)
		buf = append(buf, ',')
		buf = append(buf, kind...)
		buf = append(buf, ',')
		if cell >= 0 {
			buf = append(buf, r.Cells[cell].H3.String()...)
			buf = append(buf, ',')
			buf = appendNumber(buf, r.Cells[cell].Population)
		} else {
			buf = append(buf, ',')
		}
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(len(ch.NewlyCovered)), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(len(ch.NoLonger)), 10)
		buf = append(buf, ',')
		buf = appendNumber(buf, roundPeople(ch.Gained))
		buf = append(buf, ',')
		buf = appendNumber(buf, roundPeople(ch.Lost))
		buf = append(buf, '\n')
		bw.bytes(buf)
	}
	for _, ch := range changes {
		for _, c := range ch.NewlyCovered {
			row(ch, "covered", c)
		}
		for _, c := range ch.NoLonger {
			row(ch, "uncovered", c)
		}
		if len(ch.NewlyCovered)+len(ch.NoLonger) == 0 {
			row(ch, "none", -1)
		}
	}
	return bw.err
}

package format

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
)

// dateLayouts are the accepted event dates.
var dateLayouts = []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006/01/02"}

// EventOptions say how to read an events file: Encoding, CRS, Near and
// Warn work as in PointOptions.
type EventOptions struct {
	Encoding string
	CRS      crs.Transform
	Near     orb.Bound
	Warn     func(Warning)
}

// ReadEvents reads station events from a CSV file with the columns
// date,action,id,lon,lat and optional name,tier,capacity. action is open or close; a
// close needs only the id. Events are returned in date order (stable, so
// events of one date keep the file's order); sorted reports whether the file
// was out of order. It is ReadEventsWith with no options.
func ReadEvents(path string) (events []coverage.Event, sorted bool, err error) {
	return ReadEventsWith(path, EventOptions{})
}

// ReadEventsWith is ReadEvents with options. The file is unpacked and
// decoded as in ReadStations; columns may have Chinese names (日期 date,
// 操作 or 动作 action, and those of PointOptions); an opening at (0, 0) is
// an error (a closing there reads as one without a position, which it
// does not need).
func ReadEventsWith(path string, opt EventOptions) (events []coverage.Event, sorted bool, err error) {
	in, err := loadInput(path, opt.Encoding, opt.Warn)
	if err != nil {
		return nil, false, err
	}
	path = in.path
	if in.isJSON {
		return nil, false, fileErr(path, "events must be a CSV file with columns date,action,id,lon,lat")
	}
	t, err := readCSVTable(in)
	if err != nil {
		return nil, false, err
	}
	dateCol, err := t.column("date", "", []string{"date", "日期"}, true)
	if err != nil {
		return nil, false, err
	}
	actCol, err := t.column("action", "", []string{"action", "操作", "动作"}, true)
	if err != nil {
		return nil, false, err
	}
	idCol, err := t.column("id", "", idNames, true)
	if err != nil {
		return nil, false, err
	}
	lonCol, err := t.column("longitude", "", lonNames, false)
	if err != nil {
		return nil, false, err
	}
	latCol, err := t.column("latitude", "", latNames, false)
	if err != nil {
		return nil, false, err
	}
	if (lonCol < 0) != (latCol < 0) {
		return nil, false, lineErr(path, t.headerLine, "a longitude column needs a latitude column and the other way round")
	}
	nameCol, _ := t.column("name", "", nameNames, false)
	tierCol, _ := t.column("tier", "", tierNames, false)
	capCol, _ := t.column("capacity", "", capacityNames, false)
	if len(t.rows) == 0 {
		return nil, false, fileErr(path, "no events after the header")
	}
	pl := newPlacer(opt.CRS, opt.Near)
	if lonCol >= 0 {
		pl = *t.placer(lonCol, latCol, opt.CRS, opt.Near)
	}
	for i, row := range t.rows {
		line := t.lines[i]
		var ev coverage.Event
		ev.Source = path + ":" + strconv.Itoa(line)
		ds := strings.TrimSpace(row[dateCol])
		ok := false
		for _, l := range dateLayouts {
			if d, err := time.Parse(l, ds); err == nil {
				ev.Date, ok = d, true
				break
			}
		}
		if !ok {
			return nil, false, lineErr(path, line, "date %q is not a date (want YYYY-MM-DD)", ds)
		}
		switch a := strings.ToLower(strings.TrimSpace(row[actCol])); a {
		case "open", "opened":
			ev.Action = coverage.Open
		case "close", "closed":
			ev.Action = coverage.Close
		default:
			return nil, false, lineErr(path, line, "unknown action %q (want open or close)", row[actCol])
		}
		ev.Station.ID = strings.TrimSpace(row[idCol])
		if ev.Station.ID == "" {
			return nil, false, lineErr(path, line, "empty station id")
		}
		if nameCol >= 0 {
			ev.Station.Name = strings.TrimSpace(row[nameCol])
		}
		if tierCol >= 0 {
			ev.Station.Tier = strings.TrimSpace(row[tierCol])
		}
		if capCol >= 0 {
			v := row[capCol]
			if t.decimalComma {
				v = fromDecimalComma(v)
			}
			if ev.Station.Capacity, err = parseCapacity(v, t.header[capCol]); err != nil {
				return nil, false, lineErr(path, line, "%w", err)
			}
		}
		hasPos := lonCol >= 0 && (strings.TrimSpace(row[lonCol]) != "" || strings.TrimSpace(row[latCol]) != "")
		if hasPos && ev.Action == coverage.Close {
			// A closing needs no position; zeros there mean none.
			x, err1 := t.number(row[lonCol], "")
			y, err2 := t.number(row[latCol], "")
			hasPos = !(err1 == nil && err2 == nil && x == 0 && y == 0)
		}
		if hasPos {
			pos, err := t.lonLat(i, lonCol, latCol, &pl)
			if err != nil {
				return nil, false, err
			}
			ev.Station.Pos = pos
		} else if ev.Action == coverage.Open {
			return nil, false, lineErr(path, line, "opening station %q needs lon and lat", ev.Station.ID)
		}
		events = append(events, ev)
	}
	sorted = !slices.IsSortedFunc(events, func(a, b coverage.Event) int { return a.Date.Compare(b.Date) })
	if sorted {
		slices.SortStableFunc(events, func(a, b coverage.Event) int { return a.Date.Compare(b.Date) })
	}
	return events, sorted, nil
}

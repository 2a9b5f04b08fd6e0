package format

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/coverage"
)

// eventsCSV writes events as an events file: a header naming the columns in
// cols (a permutation of date, action, id, lon, lat, name, tier, spelled in
// any case), fields separated by comma, with dates in the given layouts. It
// returns the file and, for each event, the line its row starts on.
// Positions are written in full (strconv's shortest exact form); a close at
// (0, 0) gets empty lon and lat.
func eventsCSV(t testing.TB, evs []coverage.Event, cols []string, comma rune, layout func(i int) string) ([]byte, []int) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = comma
	if err := w.Write(cols); err != nil {
		t.Fatal(err)
	}
	line := 1 + strings.Count(strings.Join(cols, ""), "\n")
	lines := make([]int, len(evs))
	for i, ev := range evs {
		row := make([]string, len(cols))
		for k, c := range cols {
			switch strings.ToLower(c) {
			case "date":
				row[k] = ev.Date.Format(layout(i))
			case "action":
				row[k] = ev.Action.String()
			case "id":
				row[k] = ev.Station.ID
			case "name":
				row[k] = ev.Station.Name
			case "tier":
				row[k] = ev.Station.Tier
			case "lon", "lat":
				if ev.Action == coverage.Close && ev.Station.Pos == (orb.Point{}) {
					continue
				}
				v := ev.Station.Pos[0]
				if strings.EqualFold(c, "lat") {
					v = ev.Station.Pos[1]
				}
				row[k] = strconv.FormatFloat(v, 'g', -1, 64)
			}
		}
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
		line++
		lines[i] = line
		line += strings.Count(strings.Join(row, ""), "\n")
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), lines
}

var eventCols = []string{"date", "action", "id", "lon", "lat", "name", "tier"}

// TestReadEventsGenerated writes random events (names with separators,
// quotes and line breaks, every accepted date layout, closes with and
// without a position, columns in any order and case, three separators)
// and reads them back: the events are exactly those written, each with the
// line of its row, in date order with the file's order kept within a date.
func TestReadEventsGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 2026))
	names := []string{"Hall", "North, gate", `"Big" clinic`, "two\nlines", "Säule; Nord", "tab\there", ""}
	for k := range 60 {
		n := 1 + rng.IntN(40)
		base := time.Date(2020+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		days := 1 + rng.IntN(5) // few dates: many events share one
		evs := make([]coverage.Event, n)
		for i := range evs {
			ev := coverage.Event{Date: base.AddDate(0, 0, rng.IntN(days)), Action: coverage.Action(1 + rng.IntN(2))}
			ev.Station.ID = fmt.Sprintf("S%d,%d", k, rng.IntN(1000))
			ev.Station.Name = names[rng.IntN(len(names))]
			ev.Station.Tier = []string{"", "district", "1"}[rng.IntN(3)]
			if ev.Action == coverage.Open || rng.IntN(2) == 0 {
				ev.Station.Pos = orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90}
			}
			evs[i] = ev
		}
		cols := slices.Clone(eventCols)
		rng.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
		if i := rng.IntN(len(cols)); rng.IntN(2) == 0 {
			cols[i] = strings.ToUpper(cols[i])
		}
		// The separator is sniffed from the header line alone: the
		// fields may hold the other two.
		comma := []rune{',', ';', '\t'}[rng.IntN(3)]
		layouts := []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006/01/02"}
		data, lines := eventsCSV(t, evs, cols, comma, func(int) string { return layouts[rng.IntN(len(layouts))] })
		path := writeInput(t, "events.csv", string(data))
		got, sorted, err := ReadEvents(path)
		if err != nil {
			t.Fatalf("file %d: %v\n%s", k, err, data)
		}
		// The expected order: by date, file order within a date (an
		// insertion sort, stable by construction).
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		for i := 1; i < n; i++ {
			for j := i; j > 0 && evs[order[j]].Date.Before(evs[order[j-1]].Date); j-- {
				order[j], order[j-1] = order[j-1], order[j]
			}
		}
		wantSorted := false
		for i := 1; i < n; i++ {
			wantSorted = wantSorted || evs[i].Date.Before(evs[i-1].Date)
		}
		if sorted != wantSorted {
			t.Errorf("file %d: sorted = %v, want %v", k, sorted, wantSorted)
		}
		if len(got) != n {
			t.Fatalf("file %d: %d events, want %d", k, len(got), n)
		}
		for i, o := range order {
			want := evs[o]
			want.Source = path + ":" + strconv.Itoa(lines[o])
			if g := got[i]; !g.Date.Equal(want.Date) || g.Action != want.Action || g.Station != want.Station || g.Source != want.Source {
				t.Fatalf("file %d event %d:\n got %+v\nwant %+v\n%s", k, i, g, want, data)
			}
		}
	}
}

// TestReadEventsLines: each error names the line of the row at fault,
// counted in the file's lines (a quoted name across lines included).
func TestReadEventsLines(t *testing.T) {
	head := "date,action,id,lon,lat,name\n2026-01-02,open,A,1,2,\"two\nlines\"\n"
	for _, c := range []struct {
		row  string
		line int
		says string
	}{
		{"2026-13-01,open,B,1,2,x\n", 4, "is not a date"},
		{"2026-01-03,move,B,1,2,x\n", 4, "unknown action"},
		{"2026-01-03,open, ,1,2,x\n", 4, "empty station id"},
		{"2026-01-03,open,B,,,x\n", 4, "needs lon and lat"},
		{"2026-01-03,open,B,1,95,x\n", 4, "latitude 95 outside ±90"},
		{"\n\n2026-01-03,close,B,1,x,x\n", 6, "is not a number"},
	} {
		path := writeInput(t, "events.csv", head+c.row)
		_, _, err := ReadEvents(path)
		if want := fmt.Sprintf("format: %s:%d: ", path, c.line); err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%q: error %v, want %q… %q", c.row, err, want, c.says)
		}
	}
}

// canonicalEvents rewrites accepted events as a plain events file (comma,
// all columns, RFC 3339 dates with any fraction of a second).
func canonicalEvents(t testing.TB, evs []coverage.Event) []byte {
	data, _ := eventsCSV(t, evs, eventCols, ',', func(int) string { return time.RFC3339Nano })
	return data
}

// lineOf returns the line number an error names after "format: PATH:",
// or 0 when it names none.
func lineOf(msg, path string) int {
	rest, ok := strings.CutPrefix(msg, "format: "+path+":")
	if !ok {
		return 0
	}
	digits, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 0
	}
	return n
}

func inputLines(b []byte) int { return 1 + bytes.Count(b, []byte("\n")) }

// checkEventsRead is the property of any events file: either one error
// naming the file (and, when it names a line, a line of the file), or events
// from distinct rows of the file, in date order, that read back the same
// from a plain rewrite.
func checkEventsRead(t *testing.T, p string, b []byte, evs []coverage.Event, err error) {
	t.Helper()
	if err != nil {
		checkRejection(t, p, b, err)
		return
	}
	seen := map[string]bool{}
	for k, ev := range evs {
		if ev.Station.ID == "" || strings.TrimSpace(ev.Station.ID) != ev.Station.ID || (ev.Action != coverage.Open && ev.Action != coverage.Close) {
			t.Fatalf("event %d accepted with %+v", k, ev)
		}
		if !validPos(ev.Station.Pos) {
			t.Fatalf("event %d at %v", k, ev.Station.Pos)
		}
		if k > 0 && ev.Date.Before(evs[k-1].Date) {
			t.Fatal("events not in date order")
		}
		line := lineOf("format: "+ev.Source+":", p)
		if line < 2 || line > inputLines(b) || seen[ev.Source] {
			t.Fatalf("event %d from %q: not a data line of a %d-line file, or repeated", k, ev.Source, inputLines(b))
		}
		seen[ev.Source] = true
	}
	if len(evs) == 0 {
		t.Fatal("no events and no error")
	}
	data := canonicalEvents(t, evs)
	p2 := p + ".plain.csv"
	if err := os.WriteFile(p2, data, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p2)
	again, sorted, err := ReadEvents(p2)
	if err != nil || sorted || len(again) != len(evs) {
		t.Fatalf("rewritten events: %d events, sorted %v, %v\n%s", len(again), sorted, err, data)
	}
	for k, ev := range evs {
		if g := again[k]; !g.Date.Equal(ev.Date) || g.Action != ev.Action || g.Station != ev.Station {
			t.Fatalf("event %d: %+v, rewritten and read as %+v", k, ev, g)
		}
	}
}

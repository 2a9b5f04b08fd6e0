package format

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
)

// The writers' outputs are read back with encoding/csv and encoding/json
// and compared with the values written: positions to 7 decimals, minutes to
// 4, distances and snaps to 1, shares to 4 (areas) or 6 (timeline),
// populations exactly, station ids and names unchanged whatever they hold.

// snapTable is a Snapper from a slice: NaN means beyond the snapping limit.
type snapTable []float64

func (s snapTable) CellSnap(i int32) (coverage.Meters, bool) {
	return coverage.Meters(s[i]), !math.IsNaN(s[i])
}

var awkwardIDs = []string{"S1", "with,comma", `with "quotes"`, "two\nlines", " padded ", "", "Zürich-Ост", `"`, "cr\rinside"}

// writerResult is a random result: a disk of cells in H3 order, stations
// with awkward ids, times that sit on the threshold, just beyond it, on
// rounding edges or anywhere, some cells unreached.
func writerResult(rng *rand.Rand, cells int) *coverage.Result {
	set := coverage.Settings{Res: 9, Minutes: coverage.Minutes([]float64{15, 12.5, 0.1}[rng.IntN(3)]), SpeedKmh: coverage.Speed([]float64{4, 4.5, 3.3}[rng.IntN(3)])}
	r := &coverage.Result{Settings: set, Mode: "crow", Bound: coverage.Unreached, Created: time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)}
	for i, id := range awkwardIDs {
		r.Stations = append(r.Stations, coverage.Station{ID: id, Name: "n" + strconv.Itoa(i), Pos: orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90}})
	}
	c0 := h3.LatLngToCell(h3.LatLng{Lat: rng.Float64()*170 - 85, Lng: rng.Float64()*360 - 180}, set.Res)
	disk := h3.GridDisk(c0, 6)
	sort.Slice(disk, func(i, j int) bool { return disk[i] < disk[j] })
	disk = disk[:min(cells, len(disk))]
	th := float64(set.Minutes)
	for _, c := range disk {
		pop := []float64{0, float64(rng.IntN(100000)), rng.Float64() * 1000, 0.30000000000000004, 1e15 + 2, 1e20, 123456789.125}[rng.IntN(7)]
		r.Cells = append(r.Cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: pop})
		a := coverage.NoAccess
		if rng.IntN(5) > 0 {
			m := []float64{th, math.Nextafter(th, 1e9), math.Nextafter(th, 0), rng.Float64() * 3 * th, 0, 1.00005, 2.99995, 7.123456789}[rng.IntN(8)]
			a = coverage.Access{Minutes: coverage.Minutes(m), Station: int32(rng.IntN(len(r.Stations)))}
		}
		r.Access = append(r.Access, a)
	}
	return r
}

// fixed checks that s is a decimal with exactly decimals digits after the
// point (none and no point when decimals is 0) within half a unit of the
// last place of want.
func fixed(t *testing.T, what, s string, decimals int, want float64) {
	t.Helper()
	pat := `^-?[0-9]+$`
	if decimals > 0 {
		pat = `^-?[0-9]+\.[0-9]{` + strconv.Itoa(decimals) + `}$`
	}
	if !regexp.MustCompile(pat).MatchString(s) {
		t.Fatalf("%s: %q is not a number with %d decimals", what, s, decimals)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if d := math.Abs(v - want); d > 0.5*math.Pow(10, -float64(decimals))*(1+1e-9)+math.Abs(want)*1e-15 {
		t.Fatalf("%s: %q for %v (off by %g)", what, s, want, d)
	}
}

// exactNumber checks that s reads as exactly want, without a fraction when
// want is a whole number below 10^15.
func exactNumber(t *testing.T, what, s string, want float64) {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != want {
		t.Fatalf("%s: %q for %v (%v)", what, s, want, err)
	}
	if want == math.Trunc(want) && math.Abs(want) < 1e15 && strings.ContainsAny(s, ".eE") {
		t.Fatalf("%s: %q for the whole number %v", what, s, want)
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, b)
	}
	return rows
}

// csvText is s as encoding/csv reads it back: a line break written as CR LF
// inside quotes reads as LF (a limit of CSV readers, not of the writer).
func csvText(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// checkCellsCSV reads cells.csv back and compares every field with r.
func checkCellsCSV(t *testing.T, r *coverage.Result, snap snapTable, b []byte) {
	t.Helper()
	rows := readCSV(t, b)
	head := []string{"h3", "lon", "lat", "population", "minutes", "nearest_station", "covered", "distance_m"}
	if r.InReach != nil {
		head = append(head, "stations_in_reach")
	}
	if snap != nil {
		head = append(head, "snap_m")
	}
	if len(rows) == 0 || !slices.Equal(rows[0], head) {
		t.Fatalf("header %q, want %q", rows[:min(1, len(rows))], head)
	}
	if len(rows)-1 != len(r.Cells) {
		t.Fatalf("%d rows for %d cells", len(rows)-1, len(r.Cells))
	}
	th := float64(r.Settings.Minutes)
	for i, row := range rows[1:] {
		c, a := r.Cells[i], r.Access[i]
		m := float64(a.Minutes)
		reached := !math.IsInf(m, 1)
		if row[0] != c.H3.String() {
			t.Fatalf("row %d: h3 %q, want %s", i, row[0], c.H3)
		}
		fixed(t, "lon", row[1], 7, c.Pos[0])
		fixed(t, "lat", row[2], 7, c.Pos[1])
		exactNumber(t, "population", row[3], c.Population)
		if reached {
			fixed(t, "minutes", row[4], 4, m)
			fixed(t, "distance_m", row[7], 1, m*float64(r.Settings.SpeedKmh)*1000/60)
		} else if row[4] != "" || row[7] != "" {
			t.Fatalf("row %d: unreached cell with minutes %q, distance %q", i, row[4], row[7])
		}
		wantID := ""
		if a.Station >= 0 {
			wantID = csvText(r.Stations[a.Station].ID)
		}
		if row[5] != wantID {
			t.Fatalf("row %d: nearest station %q, want %q", i, row[5], wantID)
		}
		if want := map[bool]string{true: "1", false: "0"}[reached && m <= th]; row[6] != want {
			t.Fatalf("row %d: covered %q for %v minutes, threshold %v", i, row[6], m, th)
		}
		k := 8
		if r.InReach != nil {
			if row[k] != strconv.Itoa(int(r.InReach[i])) {
				t.Fatalf("row %d: stations in reach %q, want %d", i, row[k], r.InReach[i])
			}
			k++
		}
		if snap != nil {
			if math.IsNaN(snap[i]) {
				if row[k] != "" {
					t.Fatalf("row %d: snap %q beyond the limit", i, row[k])
				}
			} else {
				fixed(t, "snap_m", row[k], 1, snap[i])
			}
		}
	}
}

func TestWriteCellsCSVReadsBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 2026))
	for k := range 30 {
		r := writerResult(rng, 1+rng.IntN(127))
		var snap snapTable
		if k%3 == 0 {
			r.InReach = make([]int32, len(r.Cells))
			for i := range r.InReach {
				r.InReach[i] = int32(rng.IntN(12))
			}
		}
		if k%2 == 0 {
			snap = make(snapTable, len(r.Cells))
			for i := range snap {
				snap[i] = []float64{math.NaN(), 0, rng.Float64() * 500, 12.25, 0.05}[rng.IntN(5)]
			}
		}
		ex := Extras{}
		if snap != nil {
			ex.Snap = snap
		}
		var buf bytes.Buffer
		if err := WriteCellsCSV(&buf, r, ex); err != nil {
			t.Fatal(err)
		}
		checkCellsCSV(t, r, snap, buf.Bytes())

		// summary.json's totals are the sums over cells.csv's rows.
		r.Finish(nil)
		var sb bytes.Buffer
		if err := WriteSummaryJSON(&sb, r, ex); err != nil {
			t.Fatal(err)
		}
		var sum struct {
			PopulationTotal   float64 `json:"population_total"`
			PopulationCovered float64 `json:"population_covered"`
			Cells             int     `json:"cells"`
			CellsCovered      int     `json:"cells_covered"`
			UnreachableCells  int     `json:"unreachable_cells"`
			Stations          int     `json:"stations"`
		}
		if err := json.Unmarshal(sb.Bytes(), &sum); err != nil {
			t.Fatal(err)
		}
		var pop, cov float64
		var cells, covered, unreached int
		for _, row := range readCSV(t, buf.Bytes())[1:] {
			p, _ := strconv.ParseFloat(row[3], 64)
			pop += p
			cells++
			if row[6] == "1" {
				cov += p
				covered++
			}
			if row[4] == "" {
				unreached++
			}
		}
		if math.Abs(sum.PopulationTotal-pop) > 1e-9*pop || math.Abs(sum.PopulationCovered-cov) > 1e-9*pop ||
			sum.Cells != cells || sum.CellsCovered != covered || sum.UnreachableCells != unreached || sum.Stations != len(r.Stations) {
			t.Fatalf("summary %+v; cells.csv sums: population %v, covered %v, %d cells, %d covered, %d unreached", sum, pop, cov, cells, covered, unreached)
		}
	}
}

// FuzzWriteCellsCSV: one cell with any id, population, time and settings
// beside an unreached cell; cells.csv reads back as written.
func FuzzWriteCellsCSV(f *testing.F) {
	f.Add("S1", 120.0, 12.345678, 15.0, 4.0, int32(3), 80.25)
	f.Add("a,\"b\"\nc", 0.30000000000000004, 15.0, 15.0, 4.5, int32(0), math.NaN())
	f.Add("", 1e20, 15.000000000000002, 15.0, 3.3, int32(-1), 0.05)
	f.Add("x\r\ny", 7.0, 0.00005, 0.1, 1e6, int32(1<<30), 1e9)
	f.Add(" ", 5e-324, math.Inf(1), 30.0, 0.001, int32(2), math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, id string, pop, minutes, threshold, speed float64, inReach int32, snap float64) {
		set := coverage.Settings{Res: 9, Minutes: coverage.Minutes(threshold), SpeedKmh: coverage.Speed(speed)}
		if set.Validate() != nil || !(pop >= 0) || math.IsInf(pop, 0) || !(minutes >= 0) || math.Abs(snap) > 1e12 || pop > 1e300 || minutes > 1e12 && !math.IsInf(minutes, 1) {
			t.Skip()
		}
		c0 := h3.LatLngToCell(h3.LatLng{Lat: 31.23, Lng: 121.47}, 9)
		c1 := h3.LatLngToCell(h3.LatLng{Lat: -33.9, Lng: 18.4}, 9)
		cs := []h3.Cell{c0, c1}
		sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
		r := &coverage.Result{Settings: set, Mode: "crow", Bound: coverage.Unreached,
			Stations: []coverage.Station{{ID: "first"}, {ID: id}}, InReach: []int32{inReach, 0}}
		for _, c := range cs {
			r.Cells = append(r.Cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: pop})
		}
		a := coverage.NoAccess
		if !math.IsInf(minutes, 1) {
			a = coverage.Access{Minutes: coverage.Minutes(minutes), Station: 1}
		}
		r.Access = []coverage.Access{a, coverage.NoAccess}
		st := snapTable{snap, math.NaN()}
		var buf bytes.Buffer
		if err := WriteCellsCSV(&buf, r, Extras{Snap: st}); err != nil {
			t.Fatal(err)
		}
		checkCellsCSV(t, r, st, buf.Bytes())
	})
}

func TestWriteAreasCSVReadsBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 2026))
	r := writerResult(rng, 40)
	names := []string{"Huangpu", "Jing'an, north", `"Old" town`, "two\nlines", "", "Ünter"}
	for i := range 12 {
		a := coverage.AreaSummary{Level: []string{"area", "parent"}[rng.IntN(2)], Name: names[rng.IntN(len(names))], Parent: names[rng.IntN(len(names))],
			Population: []float64{0, 1000, rng.Float64() * 1e6, 0.30000000000000004}[rng.IntN(4)],
			Cells:      rng.IntN(100), Stations: rng.IntN(10), Gaps: rng.IntN(5)}
		a.CoveredPopulation = a.Population * []float64{0, 1, 0.123456, 0.99995}[rng.IntN(4)]
		for range rng.IntN(6) {
			a.Worst = append(a.Worst, int32(rng.IntN(len(r.Cells))))
		}
		if i == 0 {
			a.Population, a.CoveredPopulation = 3, 2 // share 0.6666…
		}
		r.Areas = append(r.Areas, a)
	}
	var buf bytes.Buffer
	if err := WriteAreasCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, buf.Bytes())
	if want := []string{"level", "name", "parent", "population", "covered_population", "share_covered", "cells", "stations", "gaps", "worst_cells"}; !slices.Equal(rows[0], want) {
		t.Fatalf("header %q", rows[0])
	}
	if len(rows)-1 != len(r.Areas) {
		t.Fatalf("%d rows for %d areas", len(rows)-1, len(r.Areas))
	}
	for i, row := range rows[1:] {
		a := r.Areas[i]
		if row[0] != a.Level || row[1] != a.Name || row[2] != a.Parent {
			t.Fatalf("row %d: %q", i, row[:3])
		}
		exactNumber(t, "population", row[3], a.Population)
		exactNumber(t, "covered_population", row[4], a.CoveredPopulation)
		share := 0.0
		if a.Population > 0 {
			share = a.CoveredPopulation / a.Population
		}
		fixed(t, "share_covered", row[5], 4, share)
		if row[6] != strconv.Itoa(a.Cells) || row[7] != strconv.Itoa(a.Stations) || row[8] != strconv.Itoa(a.Gaps) {
			t.Fatalf("row %d: counts %q, want %d %d %d", i, row[6:9], a.Cells, a.Stations, a.Gaps)
		}
		var worst []string
		for _, c := range a.Worst {
			worst = append(worst, r.Cells[c].H3.String())
		}
		if row[9] != strings.Join(worst, " ") {
			t.Fatalf("row %d: worst cells %q, want %q", i, row[9], worst)
		}
	}
	if rows[1][5] != "0.6667" {
		t.Errorf("share of 2 in 3 written %q", rows[1][5])
	}
}

// randomChanges returns events over a few dates, in date order, each
// with cells newly covered or no longer covered (no cell in both), their
// populations summed into Gained and Lost, and running totals.
func randomChanges(rng *rand.Rand, r *coverage.Result) ([]coverage.Change, coverage.Totals) {
	before := coverage.Totals{Population: 0}
	for _, c := range r.Cells {
		before.Population += c.Population
	}
	covered := before.Population * rng.Float64()
	active := 5
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []coverage.Change
	for range 1 + rng.IntN(20) {
		if rng.IntN(3) == 0 {
			day = day.AddDate(0, 0, 1+rng.IntN(40))
		}
		ch := coverage.Change{Event: coverage.Event{Date: day, Action: coverage.Action(1 + rng.IntN(2))}}
		ch.Event.Station.ID = awkwardIDs[rng.IntN(len(awkwardIDs))]
		perm := rng.Perm(len(r.Cells))
		nNew, nOld := rng.IntN(4), rng.IntN(4)
		if ch.Event.Action == coverage.Open {
			nOld = 0
			active++
		} else {
			nNew = 0
			active--
		}
		for _, i := range perm[:nNew] {
			ch.NewlyCovered = append(ch.NewlyCovered, int32(i))
			ch.Gained += r.Cells[i].Population
		}
		for _, i := range perm[nNew : nNew+nOld] {
			ch.NoLonger = append(ch.NoLonger, int32(i))
			ch.Lost += r.Cells[i].Population
		}
		covered += ch.Gained - ch.Lost
		ch.CoveredAfter, ch.StationsActive = covered, active
		out = append(out, ch)
	}
	return out, before
}

func TestWriteTimelineCSVReadsBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2026))
	for range 20 {
		r := writerResult(rng, 60)
		for i := range r.Cells {
			r.Cells[i].Population = float64(rng.IntN(5000)) + []float64{0, 0.1, 0.25}[rng.IntN(3)]
		}
		changes, before := randomChanges(rng, r)
		var buf bytes.Buffer
		if err := WriteTimelineCSV(&buf, r, before, changes); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, buf.Bytes())
		if want := []string{"date", "stations", "population_covered", "share_covered", "population_gained", "population_lost", "events"}; !slices.Equal(rows[0], want) {
			t.Fatalf("header %q", rows[0])
		}
		// Group the changes by date, by hand.
		type day struct {
			date         string
			gained, lost float64
			events       int
			last         coverage.Change
		}
		var days []day
		for _, ch := range changes {
			d := ch.Event.Date.Format("2006-01-02")
			if len(days) == 0 || days[len(days)-1].date != d {
				days = append(days, day{date: d})
			}
			x := &days[len(days)-1]
			x.gained += ch.Gained
			x.lost += ch.Lost
			x.events++
			x.last = ch
		}
		if len(rows)-1 != len(days) {
			t.Fatalf("%d rows for %d dates", len(rows)-1, len(days))
		}
		var gainedRows, eventRows float64
		for i, row := range rows[1:] {
			d := days[i]
			if row[0] != d.date || row[1] != strconv.Itoa(d.last.StationsActive) || row[6] != strconv.Itoa(d.events) {
				t.Fatalf("row %d: %q, want %s, %d stations, %d events", i, row, d.date, d.last.StationsActive, d.events)
			}
			people(t, "population_covered", row[2], d.last.CoveredAfter)
			fixed(t, "share_covered", row[3], 6, d.last.CoveredAfter/before.Population)
			people(t, "population_gained", row[4], d.gained)
			people(t, "population_lost", row[5], d.lost)
			g, _ := strconv.ParseFloat(row[4], 64)
			n, _ := strconv.Atoi(row[6])
			gainedRows += g
			eventRows += float64(n)
		}
		var gainedAll float64
		for _, ch := range changes {
			gainedAll += ch.Gained
		}
		if math.Abs(gainedRows-gainedAll) > 1e-6*float64(len(days)) || int(eventRows) != len(changes) {
			t.Fatalf("rows sum to %v people gained in %v events; the changes to %v in %d", gainedRows, eventRows, gainedAll, len(changes))
		}
	}
}

// people checks a head count written to a millionth of a person.
func people(t *testing.T, what, s string, want float64) {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Abs(v-want) > 5.000001e-7+math.Abs(want)*1e-15 {
		t.Fatalf("%s: %q for %v (%v)", what, s, want, err)
	}
}

func TestWriteChangesCSVReadsBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2026))
	for range 20 {
		r := writerResult(rng, 60)
		for i := range r.Cells {
			// Keep head counts where a millionth of a person is still
			// a distinct float, so that sums read back exactly.
			r.Cells[i].Population = min(r.Cells[i].Population, 1e9+0.125)
		}
		changes, _ := randomChanges(rng, r)
		var buf bytes.Buffer
		if err := WriteChangesCSV(&buf, r, changes); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, buf.Bytes())
		if want := []string{"date", "action", "station_id", "change", "h3", "population", "cells_newly_covered", "cells_no_longer_covered", "population_gained", "population_lost"}; !slices.Equal(rows[0], want) {
			t.Fatalf("header %q", rows[0])
		}
		k := 1
		for e, ch := range changes {
			var want [][2]string // change, h3
			for _, c := range ch.NewlyCovered {
				want = append(want, [2]string{"covered", r.Cells[c].H3.String()})
			}
			for _, c := range ch.NoLonger {
				want = append(want, [2]string{"uncovered", r.Cells[c].H3.String()})
			}
			if len(want) == 0 {
				want = append(want, [2]string{"none", ""})
			}
			var gainedRows, lostRows float64
			for _, w := range want {
				if k >= len(rows) {
					t.Fatalf("event %d: rows end early", e)
				}
				row := rows[k]
				k++
				if row[0] != ch.Event.Date.Format("2006-01-02") || row[1] != ch.Event.Action.String() || row[2] != csvText(ch.Event.Station.ID) ||
					row[3] != w[0] || row[4] != w[1] || row[6] != strconv.Itoa(len(ch.NewlyCovered)) || row[7] != strconv.Itoa(len(ch.NoLonger)) {
					t.Fatalf("event %d: row %q, want %v of %+v", e, row, w, ch.Event)
				}
				people(t, "population_gained", row[8], ch.Gained)
				people(t, "population_lost", row[9], ch.Lost)
				if w[1] == "" {
					if row[5] != "" {
						t.Fatalf("event %d: population %q without a cell", e, row[5])
					}
					continue
				}
				c, err := coverage.ParseCell(w[1])
				if err != nil {
					t.Fatal(err)
				}
				p := r.Cells[r.CellIndex(c)].Population
				exactNumber(t, "population", row[5], p)
				if w[0] == "covered" {
					gainedRows += p
				} else {
					lostRows += p
				}
			}
			// The cells' rows add up to the event's gain and loss.
			if math.Abs(gainedRows-ch.Gained) > 1e-6+1e-12*ch.Gained || math.Abs(lostRows-ch.Lost) > 1e-6+1e-12*ch.Lost {
				t.Fatalf("event %d: rows sum to +%v −%v, event +%v −%v", e, gainedRows, lostRows, ch.Gained, ch.Lost)
			}
		}
		if k != len(rows) {
			t.Fatalf("%d rows after the last event", len(rows)-k)
		}
	}
}

// summary.json merges the reach model's and the tiers' members into the
// same object, indented as the rest: every top-level key two spaces in.
func TestSummaryJSONIndent(t *testing.T) {
	r := &coverage.Result{Settings: coverage.DefaultSettings, Mode: "network"}
	var b bytes.Buffer
	ex := Extras{Stats: map[string]any{"nodes": 3}, More: map[string]any{"crow_share_covered": 0.5, "access": "2sfca"}}
	if err := WriteSummaryJSON(&b, r, ex); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		for _, k := range []string{`"access"`, `"crow_share_covered"`, `"network"`, `"mode"`} {
			if strings.HasPrefix(strings.TrimLeft(line, " "), k+":") && !strings.HasPrefix(line, "  "+k) {
				t.Errorf("top-level %s indented as %q", k, line)
			}
		}
	}
	if m["access"] != "2sfca" || m["network"].(map[string]any)["nodes"] != float64(3) {
		t.Errorf("summary %v", m)
	}
}

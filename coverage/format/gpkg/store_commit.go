package gpkg

import (
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// CommitStats counts what a commit wrote.
type CommitStats struct {
	CellRows          int // rows of the cells layer changed
	StationsOpened    int // rows added to the stations layer
	StationsClosed    int // rows deleted from it
	StationCounts     int // stations whose cells_nearest or population_nearest changed
	StateChunks       int // chunks of the cells' stored state rewritten
	GapRows, AreaRows int // rows of the gaps and areas layers, rewritten whole
}

// Commit writes what coverage.Update changed in s.Result since the store
// was opened, given the changes it returned (the events in the order
// applied), and sets the run table's rows in run, in the store's one
// transaction; then it commits. Only what changed is written: the cells
// layer rows whose minutes, nearest station, covered flag or stations in
// reach changed; the stations closed (deleted) and opened (inserted with
// new, larger fids, so that fid order stays the station order) and the
// stations whose counts changed; the state chunks holding changed cells;
// the gaps and areas layers (small) whole; the run figures, the extents in
// gpkg_contents and the events table, which gains one row per event. The
// store cannot be committed twice.
func (s *Store) Commit(changes []coverage.Change, run []KeyValue) (CommitStats, error) {
	var cs CommitStats
	if s.tx == nil {
		return cs, fmt.Errorf("gpkg: %s: the store is closed", s.path)
	}
	if err := s.commit(changes, run, &cs); err != nil {
		s.Close()
		return cs, fmt.Errorf("gpkg: updating %s: %w", s.path, err)
	}
	err := s.tx.Commit()
	s.tx = nil
	if err != nil {
		s.Close()
		return cs, fmt.Errorf("gpkg: updating %s: %w", s.path, err)
	}
	return cs, s.Close()
}

// slot is a station of the list being replayed: its fid (0 until inserted)
// and its index in the list as opened (-1 for an opening).
type slot struct {
	fid int64
	old int
	st  coverage.Station
}

func (s *Store) commit(changes []coverage.Change, run []KeyValue, cs *CommitStats) error {
	ctx, tx, r := s.ctx, s.tx, s.Result
	when := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")

	// The station list the events lead to, replayed from the list as
	// opened: it must be the updated result's, station for station.
	list := make([]slot, len(s.stations))
	for i, st := range s.stations {
		list[i] = slot{s.fids[i], i, st}
	}
	var deleted []int64
	subject := make([]coverage.Station, len(changes)) // the station each event is about
	for k, ch := range changes {
		switch ch.Event.Action {
		case coverage.Close:
			j := -1
			for x := range list {
				if list[x].st.ID == ch.Event.Station.ID {
					j = x
					break
				}
			}
			if j < 0 {
				return fmt.Errorf("%s: no open station has id %q", ch.Event.Source, ch.Event.Station.ID)
			}
			subject[k] = list[j].st
			if list[j].fid > 0 {
				deleted = append(deleted, list[j].fid)
			}
			list = append(list[:j], list[j+1:]...)
		case coverage.Open:
			subject[k] = ch.Event.Station
			list = append(list, slot{0, -1, ch.Event.Station})
		default:
			return fmt.Errorf("%s: unknown action %v", ch.Event.Source, ch.Event.Action)
		}
	}
	if len(list) != len(r.Stations) {
		return fmt.Errorf("the events leave %d stations, the result has %d", len(list), len(r.Stations))
	}
	for j := range list {
		if list[j].st.ID != r.Stations[j].ID || list[j].st.Pos != r.Stations[j].Pos {
			return fmt.Errorf("station %d of the result (%q) is not the one the events leave there (%q)", j+1, r.Stations[j].ID, list[j].st.ID)
		}
	}

	// Stations: closed rows deleted, opened rows inserted after them (so
	// their fids exceed every fid used before), changed counts updated.
	oldCells, oldPop := stationCounts(r.Cells, s.access, len(s.stations))
	newCells, newPop := stationCounts(r.Cells, r.Access, len(r.Stations))
	if len(deleted) > 0 {
		del, err := tx.PrepareContext(ctx, `DELETE FROM stations WHERE fid = ?`)
		if err != nil {
			return err
		}
		defer del.Close()
		for _, fid := range deleted {
			if _, err := del.ExecContext(ctx, fid); err != nil {
				return fmt.Errorf("stations layer: deleting feature %d: %w", fid, err)
			}
		}
		cs.StationsClosed = len(deleted)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO stations (geom, id, name, tier, cells_nearest, population_nearest) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("stations layer: %w", err)
	}
	defer ins.Close()
	upd, err := tx.PrepareContext(ctx, `UPDATE stations SET cells_nearest = ?, population_nearest = ? WHERE fid = ?`)
	if err != nil {
		return fmt.Errorf("stations layer: %w", err)
	}
	defer upd.Close()
	enc := newEncoder()
	newFids := make([]int64, len(list))
	extent := emptyBound()
	for j, sl := range list {
		st := sl.st
		extent = extent.Union(st.Pos.Bound())
		if sl.fid == 0 {
			blob, _, err := enc.encode(st.Pos, srsWGS84)
			if err != nil {
				return fmt.Errorf("station %q: %w", st.ID, err)
			}
			res, err := ins.ExecContext(ctx, blob, st.ID, st.Name, st.Tier, newCells[j], newPop[j])
			if err != nil {
				return fmt.Errorf("stations layer: adding %q: %w", st.ID, err)
			}
			if sl.fid, err = res.LastInsertId(); err != nil {
				return err
			}
			cs.StationsOpened++
		} else if oldCells[sl.old] != newCells[j] || math.Float64bits(oldPop[sl.old]) != math.Float64bits(newPop[j]) {
			if _, err := upd.ExecContext(ctx, newCells[j], newPop[j], sl.fid); err != nil {
				return fmt.Errorf("stations layer: feature %d: %w", sl.fid, err)
			}
			cs.StationCounts++
		}
		newFids[j] = sl.fid
	}
	if err := setExtent(s, "stations", extent, when); err != nil {
		return err
	}

	// Cells: the layer's rows whose shown values changed, and the state
	// chunks of every cell whose stored state changed (a nearest station
	// that closed and reopened keeps its id but not its fid).
	if err := s.commitCells(newFids, when, cs); err != nil {
		return err
	}

	// Gaps and areas: rewritten whole, with their state.
	n, err := rewriteLayer(s, gapsLayer(r), when)
	if err != nil {
		return err
	}
	cs.GapRows = n
	if err := writeGapState(ctx, tx, r.Gaps); err != nil {
		return fmt.Errorf("%s: %w", tableGaps, err)
	}
	if len(r.Areas) > 0 {
		if cs.AreaRows, err = rewriteLayer(s, areasLayer(r), when); err != nil {
			return err
		}
	}

	if s.tiers != nil {
		if err := s.commitTiers(newFids, when); err != nil {
			return err
		}
	}

	// The run table's figures, then the events.
	t := r.Totals()
	kv := []KeyValue{
		{"population_total", fnum(t.Population)},
		{"population_covered", fnum(t.CoveredPopulation)},
		{"share_covered", fnum(t.Share())},
		{"updated", when},
	}
	if err := setRun(ctx, tx, append(kv, run...)); err != nil {
		return err
	}
	if err := s.appendEvents(changes, subject, when); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE gpkg_contents SET last_change = ? WHERE table_name IN ('run', ?)`, when, tableEvents)
	return err
}

// commitCells writes the changed cells.
func (s *Store) commitCells(newFids []int64, when string, cs *CommitStats) error {
	ctx, tx, r := s.ctx, s.tx, s.Result
	rows := newRowUpdater(s, r.InReach != nil)
	defer rows.close()
	chunk, err := tx.PrepareContext(ctx, `UPDATE `+tableState+` SET data = ? WHERE chunk = ?`)
	if err != nil {
		return err
	}
	defer chunk.Close()
	oldFid := func(a coverage.Access) int64 {
		if a.Station < 0 {
			return 0
		}
		return s.fids[a.Station]
	}
	newFid := func(a coverage.Access) int64 {
		if a.Station < 0 {
			return 0
		}
		return newFids[a.Station]
	}
	dirty := -1 // the chunk holding changed cells not yet written
	var buf []byte
	flush := func() error {
		if dirty < 0 {
			return nil
		}
		lo := dirty * s.chunk
		var err error
		if buf, err = packState(buf[:0], r, newFids, lo, min(lo+s.chunk, len(r.Cells))); err != nil {
			return err
		}
		if _, err := chunk.ExecContext(ctx, buf, dirty); err != nil {
			return fmt.Errorf("%s chunk %d: %w", tableState, dirty, err)
		}
		cs.StateChunks++
		dirty = -1
		return nil
	}
	for i := range r.Cells {
		before, after := s.access[i], r.Access[i]
		var reachBefore, reachAfter int32
		if r.InReach != nil {
			reachBefore, reachAfter = s.inReach[i], r.InReach[i]
		}
		timed := math.Float64bits(float64(before.Minutes)) != math.Float64bits(float64(after.Minutes))
		if !timed && reachBefore == reachAfter && oldFid(before) == newFid(after) {
			continue
		}
		if k := i / s.chunk; k != dirty {
			if err := flush(); err != nil {
				return err
			}
			dirty = k
		}
		var idBefore, idAfter string
		if before.Station >= 0 {
			idBefore = s.stations[before.Station].ID
		}
		if after.Station >= 0 {
			idAfter = r.Stations[after.Station].ID
		}
		if !timed && reachBefore == reachAfter && idBefore == idAfter && (before.Station < 0) == (after.Station < 0) {
			continue
		}
		var nearest any
		if after.Station >= 0 {
			nearest = idAfter
		}
		covered := int64(0)
		if r.Covered(i) {
			covered = 1
		}
		if err := rows.add(int64(i+1), nullable(after.Minutes), nearest, covered, int64(reachAfter)); err != nil {
			return err
		}
		cs.CellRows++
	}
	if err := flush(); err != nil {
		return err
	}
	if err := rows.flush(); err != nil {
		return err
	}
	if cs.CellRows > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET last_change = ? WHERE table_name = 'cells'`, when); err != nil {
			return err
		}
	}
	return nil
}

// rowUpdater updates rows of the cells layer in batches: one UPDATE … FROM
// (VALUES …) statement per batch costs far less than one statement per row.
type rowUpdater struct {
	s       *Store
	inReach bool
	args    []any
	full    *sql.Stmt // the statement for a full batch
}

const rowBatch = 128

func newRowUpdater(s *Store, inReach bool) *rowUpdater {
	return &rowUpdater{s: s, inReach: inReach}
}

func (u *rowUpdater) width() int {
	if u.inReach {
		return 5
	}
	return 4
}

// add queues the new values of feature fid.
func (u *rowUpdater) add(fid int64, minutes, nearest any, covered, inReach int64) error {
	u.args = append(u.args, fid, minutes, nearest, covered)
	if u.inReach {
		u.args = append(u.args, inReach)
	}
	if len(u.args) == rowBatch*u.width() {
		return u.flush()
	}
	return nil
}

func (u *rowUpdater) statement(n int) string {
	q := `UPDATE cells SET minutes = v.column2, nearest_station = v.column3, covered = v.column4`
	row := "(?, ?, ?, ?)"
	if u.inReach {
		q += `, stations_in_reach = v.column5`
		row = "(?, ?, ?, ?, ?)"
	}
	return q + ` FROM (VALUES ` + strings.Repeat(row+", ", n-1) + row + `) AS v WHERE cells.fid = v.column1`
}

// flush writes the queued rows.
func (u *rowUpdater) flush() error {
	n := len(u.args) / u.width()
	if n == 0 {
		return nil
	}
	var err error
	if n == rowBatch {
		if u.full == nil {
			if u.full, err = u.s.tx.PrepareContext(u.s.ctx, u.statement(rowBatch)); err != nil {
				return fmt.Errorf("cells layer: %w", err)
			}
		}
		_, err = u.full.ExecContext(u.s.ctx, u.args...)
	} else {
		_, err = u.s.tx.ExecContext(u.s.ctx, u.statement(n), u.args...)
	}
	if err != nil {
		return fmt.Errorf("cells layer: features %v…: %w", u.args[0], err)
	}
	u.args = u.args[:0]
	return nil
}

func (u *rowUpdater) close() {
	if u.full != nil {
		u.full.Close()
	}
}

// stationCounts counts, per station, the populated cells whose nearest it
// is and their people, summing in cell order as the stations layer does.
func stationCounts(cells []coverage.Cell, access []coverage.Access, n int) ([]int64, []float64) {
	count := make([]int64, n)
	pop := make([]float64, n)
	for i, a := range access {
		if s := a.Station; s >= 0 && int(s) < n {
			count[s]++
			pop[s] += cells[i].Population
		}
	}
	return count, pop
}

func emptyBound() orb.Bound {
	return orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
}

// setExtent sets a layer's extent in gpkg_contents (NULL when it has no
// geometry) and its last change.
func setExtent(s *Store, table string, b orb.Bound, when string) error {
	var ext [4]any
	if b.Min[0] <= b.Max[0] {
		ext = [4]any{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
	}
	_, err := s.tx.ExecContext(s.ctx, `UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, last_change = ? WHERE table_name = ?`,
		ext[0], ext[1], ext[2], ext[3], when, table)
	return err
}

// rewriteLayer replaces every row of a feature table with l's rows, fid =
// row number, as a fresh write numbers them; the table's R-tree triggers
// keep its index in step. It returns the number of rows.
func rewriteLayer(s *Store, l layer, when string) (int, error) {
	if _, err := s.tx.ExecContext(s.ctx, `DELETE FROM `+quoteID(l.name)); err != nil {
		return 0, fmt.Errorf("%s layer: %w", l.name, err)
	}
	extent, err := insertRows(s, l, true)
	if err != nil {
		return 0, err
	}
	return l.n, setExtent(s, l.name, extent, when)
}

// insertRows adds l's rows to its feature table, numbered from 1 when
// numbered is set, else with new fids; the table's R-tree triggers keep
// its index in step. It returns the rows' extent.
func insertRows(s *Store, l layer, numbered bool) (orb.Bound, error) {
	extent := emptyBound()
	lead := 1 // the geometry, and the fid before it when numbered
	q := `INSERT INTO ` + quoteID(l.name) + ` ("geom"`
	marks := "?"
	if numbered {
		lead = 2
		q = `INSERT INTO ` + quoteID(l.name) + ` ("fid", "geom"`
		marks = "?, ?"
	}
	for _, c := range l.cols {
		q += ", " + quoteID(c.name)
		marks += ", ?"
	}
	st, err := s.tx.PrepareContext(s.ctx, q+") VALUES ("+marks+")")
	if err != nil {
		return extent, fmt.Errorf("%s layer: %w", l.name, err)
	}
	defer st.Close()
	enc := newEncoder()
	args := make([]any, lead+len(l.cols))
	for i := 0; i < l.n; i++ {
		if numbered {
			args[0] = int64(i + 1)
		}
		g := l.row(i, args[lead:])
		args[lead-1] = nil
		if g != nil && !isEmpty(g) {
			blob, b, err := enc.encode(g, srsWGS84)
			if err != nil {
				return extent, fmt.Errorf("%s layer: feature %d: %w", l.name, i+1, err)
			}
			args[lead-1] = blob
			extent = extent.Union(b)
		}
		if _, err := st.ExecContext(s.ctx, args...); err != nil {
			return extent, fmt.Errorf("%s layer: feature %d: %w", l.name, i+1, err)
		}
	}
	return extent, nil
}

// eventsTable is the attributes table of applied events.
const eventsTable = `CREATE TABLE IF NOT EXISTS "events" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "date" TEXT NOT NULL, "action" TEXT NOT NULL, "station_id" TEXT NOT NULL, "name" TEXT, "lon" REAL, "lat" REAL, "people_gained" REAL, "people_lost" REAL, "applied_at" DATETIME)`

// appendEvents adds one row per change to the events table, creating it on
// first use; subject[k] is the station change k opened or closed.
func (s *Store) appendEvents(changes []coverage.Change, subject []coverage.Station, when string) error {
	ctx, tx := s.ctx, s.tx
	if _, err := tx.ExecContext(ctx, eventsTable); err != nil {
		return fmt.Errorf("events table: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) VALUES (?, 'attributes', ?, 'station events applied by walkshed update, in order; people gained and lost by each', ?)`,
		tableEvents, tableEvents, when); err != nil {
		return fmt.Errorf("events table: %w", err)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO "events" ("date", "action", "station_id", "name", "lon", "lat", "people_gained", "people_lost", "applied_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("events table: %w", err)
	}
	defer st.Close()
	for k, ch := range changes {
		ev := ch.Event
		date := ev.Date.UTC().Format(eventDateLayout)
		if ev.Date.Location() == time.UTC && ev.Date.Equal(ev.Date.Truncate(24*time.Hour)) {
			date = ev.Date.Format("2006-01-02")
		}
		p := subject[k]
		var lon, lat any
		if !math.IsNaN(p.Pos[0]) && p.Pos != (orb.Point{}) {
			lon, lat = p.Pos[0], p.Pos[1]
		}
		name := sql.NullString{String: p.Name, Valid: p.Name != ""}
		if _, err := st.ExecContext(ctx, date, ev.Action.String(), p.ID, name, lon, lat, ch.Gained, ch.Lost, when); err != nil {
			return fmt.Errorf("events table: %w", err)
		}
	}
	return nil
}

package gpkg

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/uber/h3-go/v4"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// ServiceFacts is what a result's service analysis was made with, as the
// run table and the stations layer keep it: the tier spec and mode, the
// accessibility method, and whether stations carry capacities.
type ServiceFacts struct {
	Tiers    string // name=minutes,… from the top; "" without tiers
	TierMode string // inclusive or separate
	Access   string // 2sfca, e2sfca or ""
	Capacity bool   // the stations layer has a capacity column
}

// Any reports whether the result has any service analysis to keep.
func (f ServiceFacts) Any() bool { return f.Tiers != "" || f.Access != "" || f.Capacity }

// serviceFacts reads the facts from the run table and the stations
// layer's columns.
func (s *Store) serviceFacts(run map[string]string) error {
	s.Service = ServiceFacts{Tiers: run["tiers"], TierMode: run["tier_mode"], Access: run["access"]}
	cols, err := s.columns("stations")
	if err != nil {
		return err
	}
	s.Service.Capacity = cols["capacity"]
	return nil
}

// columns lists a table's column names.
func (s *Store) columns(table string) (map[string]bool, error) {
	rows, err := s.tx.QueryContext(s.ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("%s layer: %w", table, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// readCapacities sets each station's capacity from the stations layer's
// capacity column (NULL: unknown, 0), and keeps the potential populations
// the layer shows (KnownPotentials).
func (s *Store) readCapacities(r *coverage.Result) error {
	rows, err := s.tx.QueryContext(s.ctx, `SELECT capacity, potential_population FROM stations ORDER BY fid`)
	if err != nil {
		return fmt.Errorf("stations layer: %w", err)
	}
	defer rows.Close()
	j := 0
	s.potential = make([]float64, len(r.Stations))
	for rows.Next() {
		var c, p sql.NullFloat64
		if err := rows.Scan(&c, &p); err != nil {
			return fmt.Errorf("stations layer: capacity: %w", err)
		}
		if j < len(r.Stations) {
			if c.Valid {
				r.Stations[j].Capacity = c.Float64
			}
			s.potential[j] = math.NaN()
			if p.Valid {
				s.potential[j] = p.Float64
			}
		}
		j++
	}
	return rows.Err()
}

// KnownPotentials gives, for each of stations, the potential population
// the stations layer held for it when the store was opened, or NaN: for a
// station opened since, or one whose position or tier is not the one
// stored. A potential depends only on the station's place, its tier's
// threshold and the cells, so it stands after other stations open or
// close.
func (s *Store) KnownPotentials(stations []coverage.Station) []float64 {
	type key struct {
		id, tier string
		pos      orb.Point
	}
	at := make(map[key]float64, len(s.stations))
	for i, st := range s.stations {
		if i < len(s.potential) {
			at[key{st.ID, st.Tier, st.Pos}] = s.potential[i]
		}
	}
	out := make([]float64, len(stations))
	for j, st := range stations {
		out[j] = math.NaN()
		if p, ok := at[key{st.ID, st.Tier, st.Pos}]; ok {
			out[j] = p
		}
	}
	return out
}

// SetTiers gives the store the service analysis of the updated result (its
// cells and stations, in the same order), to be written by Commit: the
// cells' tier and access columns where they changed, every station's load
// figures, and the catchments and tier gaps layers whole.
func (s *Store) SetTiers(tx *Tiers) { s.tiers = tx }

// commitTiers writes s.tiers; newFids are the stations' fids after the
// update.
func (s *Store) commitTiers(newFids []int64, when string) error {
	tx := s.tiers
	if err := tx.check(s.Result); err != nil {
		return err
	}
	if err := s.commitTierCells(when); err != nil {
		return err
	}
	if sl := tierStations(layer{n: len(s.Result.Stations), row: nowhere}, tx); len(sl.cols) > 0 {
		set := make([]string, len(sl.cols))
		for k, c := range sl.cols {
			set[k] = quoteID(c.name) + " = ?"
		}
		upd, err := s.tx.PrepareContext(s.ctx, `UPDATE stations SET `+strings.Join(set, ", ")+` WHERE fid = ?`)
		if err != nil {
			return fmt.Errorf("stations layer: %w", err)
		}
		defer upd.Close()
		stored, err := s.storedRows("stations", sl.cols)
		if err != nil {
			return err
		}
		args := make([]any, len(sl.cols)+1)
		for j := range s.Result.Stations {
			sl.row(j, args)
			if old, ok := stored[newFids[j]]; ok && sameValues(old, args[:len(sl.cols)]) {
				continue
			}
			args[len(sl.cols)] = newFids[j]
			if _, err := upd.ExecContext(s.ctx, args...); err != nil {
				return fmt.Errorf("stations layer: feature %d: %w", newFids[j], err)
			}
		}
	}
	if tx.Catchments != nil {
		if err := s.commitCatchments(newFids, when); err != nil {
			return err
		}
	}
	if tx.Named && tx.Gaps != nil {
		if _, err := rewriteLayer(s, tierGapsLayer(tx), when); err != nil {
			return err
		}
	}
	return nil
}

func nowhere(int, []any) orb.Geometry { return nil }

// commitTierCells updates the cells whose tier or access columns changed:
// the stored values are read back and compared with the new ones.
func (s *Store) commitTierCells(when string) error {
	l := tierCells(layer{n: len(s.Result.Cells), row: nowhere}, s.tiers)
	if len(l.cols) == 0 {
		return nil
	}
	names := make([]string, len(l.cols))
	set := make([]string, len(l.cols))
	for k, c := range l.cols {
		names[k] = quoteID(c.name)
		set[k] = names[k] + " = ?"
	}
	rows, err := s.tx.QueryContext(s.ctx, `SELECT fid, `+strings.Join(names, ", ")+` FROM cells ORDER BY fid`)
	if err != nil {
		return fmt.Errorf("cells layer: %w", err)
	}
	var changed []int
	old := make([]any, len(l.cols)+1)
	ptrs := make([]any, len(old))
	for k := range old {
		ptrs[k] = &old[k]
	}
	now := make([]any, len(l.cols))
	i := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return fmt.Errorf("cells layer: %w", err)
		}
		if fid, ok := old[0].(int64); !ok || fid != int64(i+1) || i >= len(s.Result.Cells) {
			rows.Close()
			return fmt.Errorf("cells layer: feature %v is not the cell walkshed wrote there; the layer was edited since (rerun analyze)", old[0])
		}
		l.row(i, now)
		if !sameValues(old[1:], now) {
			changed = append(changed, i)
		}
		i++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cells layer: %w", err)
	}
	if i != len(s.Result.Cells) {
		return fmt.Errorf("cells layer: %d features, the result has %d cells (rerun analyze)", i, len(s.Result.Cells))
	}
	if len(changed) == 0 {
		return nil
	}
	upd, err := s.tx.PrepareContext(s.ctx, `UPDATE cells SET `+strings.Join(set, ", ")+` WHERE fid = ?`)
	if err != nil {
		return fmt.Errorf("cells layer: %w", err)
	}
	defer upd.Close()
	args := make([]any, len(l.cols)+1)
	for _, i := range changed {
		l.row(i, args)
		args[len(l.cols)] = int64(i + 1)
		if _, err := upd.ExecContext(s.ctx, args...); err != nil {
			return fmt.Errorf("cells layer: feature %d: %w", i+1, err)
		}
	}
	_, err = s.tx.ExecContext(s.ctx, `UPDATE gpkg_contents SET last_change = ? WHERE table_name = 'cells'`, when)
	return err
}

// sameValue compares a stored SQL value with the value that would be
// written: NULL with nil, numbers by value whether stored as integer or
// real.
func sameValue(stored, v any) bool {
	num := func(x any) (float64, bool) {
		switch x := x.(type) {
		case int64:
			return float64(x), true
		case float64:
			return x, true
		}
		return 0, false
	}
	if stored == nil || v == nil {
		return stored == nil && v == nil
	}
	a, ok1 := num(stored)
	b, ok2 := num(v)
	if ok1 && ok2 {
		return a == b || (math.IsNaN(a) && math.IsNaN(b))
	}
	return fmt.Sprint(stored) == fmt.Sprint(v)
}

// tierGapsLayer holds every tier's gaps, each with its tier and threshold
// (the bottom tier's are also the gaps layer).
func tierGapsLayer(tx *Tiers) layer {
	type ref struct{ t, k int }
	var all []ref
	for t, gs := range tx.Gaps {
		for k := range gs {
			all = append(all, ref{t, k})
		}
	}
	tiers := tx.Result.Spec.Tiers
	return layer{
		name: "tier_gaps", geomType: "POLYGON", qml: gapsQML(),
		description: "each tier's gaps: connected populated cells beyond the tier's threshold from every station serving it, ranked by population within the tier (max_minutes NULL: some cell reaches no such station)",
		cols: []column{{"tier", "TEXT"}, {"minutes", "REAL"}, {"id", "INTEGER"}, {"population", "REAL"}, {"cells", "INTEGER"},
			{"lon", "REAL"}, {"lat", "REAL"}, {"max_minutes", "REAL"}},
		n: len(all),
		row: func(i int, a []any) orb.Geometry {
			r := all[i]
			g := tx.Gaps[r.t][r.k]
			a[0], a[1] = tiers[r.t].Name, float64(tiers[r.t].Minutes)
			a[2], a[3], a[4], a[5], a[6], a[7] = int64(g.ID), g.Population, int64(len(g.Cells)), g.Point[0], g.Point[1], nullable(g.MaxMinutes)
			if len(g.Outline) == 0 {
				return nil
			}
			return g.Outline
		},
	}
}

// tableCatchKeys keeps, per station fid, a fingerprint of the catchment
// the catchments layer shows for it (its served cells and capacity), so
// that an update rewrites only the catchments that changed.
const tableCatchKeys = "walkshed_catchment_keys"

const catchKeysTable = `CREATE TABLE ` + tableCatchKeys + ` (fid INTEGER PRIMARY KEY, key BLOB NOT NULL)`

// catchmentKey fingerprints a station's served cells and capacity: FNV-1a
// 128 over them, with the count. Two different catchments share a key with
// a probability of about 2⁻¹²⁸.
func catchmentKey(cells []h3.Cell, capacity float64) []byte {
	h := fnv.New128a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(capacity))
	h.Write(b[:])
	for _, c := range cells {
		binary.LittleEndian.PutUint64(b[:], uint64(c))
		h.Write(b[:])
	}
	return binary.LittleEndian.AppendUint64(h.Sum(nil), uint64(len(cells)))
}

// writeCatchmentKeys stores the keys of every station of a fresh write
// (fid = index + 1).
func writeCatchmentKeys(ctx context.Context, tx *sql.Tx, t *Tiers) error {
	if _, err := tx.ExecContext(ctx, catchKeysTable); err != nil {
		return fmt.Errorf("%s: %w", tableCatchKeys, err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO `+tableCatchKeys+` (fid, key) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	served := servedCells(t)
	for j, st := range t.Result.Stations {
		if _, err := ins.ExecContext(ctx, j+1, catchmentKey(served[j], st.Capacity)); err != nil {
			return fmt.Errorf("%s: %w", tableCatchKeys, err)
		}
	}
	return nil
}

// commitCatchments replaces the catchments of the stations closed, opened
// or whose served cells changed, found by their keys; the others stay as
// they are.
func (s *Store) commitCatchments(newFids []int64, when string) error {
	ctx, tx := s.ctx, s.tx
	served := servedCells(s.tiers)
	stored := map[int64][]byte{}
	rows, err := tx.QueryContext(ctx, `SELECT fid, key FROM `+tableCatchKeys)
	if err != nil {
		return fmt.Errorf("%s: %w (rerun analyze)", tableCatchKeys, err)
	}
	for rows.Next() {
		var fid int64
		var key []byte
		if err := rows.Scan(&fid, &key); err != nil {
			rows.Close()
			return fmt.Errorf("%s: %w", tableCatchKeys, err)
		}
		stored[fid] = key
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", tableCatchKeys, err)
	}
	open := make(map[int64]bool, len(newFids))
	for _, f := range newFids {
		open[f] = true
	}
	var gone []string // ids whose rows go: closed or changed stations
	for i, f := range s.fids {
		if !open[f] {
			gone = append(gone, s.stations[i].ID)
		}
	}
	var changed []int
	keys := make([][]byte, len(newFids))
	for j, f := range newFids {
		keys[j] = catchmentKey(served[j], s.tiers.Result.Stations[j].Capacity)
		if old, ok := stored[f]; !ok || !bytes.Equal(old, keys[j]) {
			changed = append(changed, j)
			gone = append(gone, s.tiers.Result.Stations[j].ID)
		}
	}
	// The rows to delete, found by fid (station_id has no index).
	rowsOf := map[string][]int64{}
	idRows, err := tx.QueryContext(ctx, `SELECT fid, station_id FROM catchments`)
	if err != nil {
		return fmt.Errorf("catchments layer: %w", err)
	}
	for idRows.Next() {
		var fid int64
		var id sql.NullString
		if err := idRows.Scan(&fid, &id); err != nil {
			idRows.Close()
			return fmt.Errorf("catchments layer: %w", err)
		}
		rowsOf[id.String] = append(rowsOf[id.String], fid)
	}
	idRows.Close()
	if err := idRows.Err(); err != nil {
		return fmt.Errorf("catchments layer: %w", err)
	}
	del, err := tx.PrepareContext(ctx, `DELETE FROM catchments WHERE fid = ?`)
	if err != nil {
		return fmt.Errorf("catchments layer: %w", err)
	}
	defer del.Close()
	for _, id := range gone {
		for _, fid := range rowsOf[id] {
			if _, err := del.ExecContext(ctx, fid); err != nil {
				return fmt.Errorf("catchments layer: %w", err)
			}
		}
		delete(rowsOf, id) // a station both closed and changed is deleted once
	}
	var fresh []int
	for _, j := range changed {
		if len(served[j]) > 0 {
			fresh = append(fresh, j)
		}
	}
	if _, err := insertRows(s, catchmentRows(s.tiers, served, fresh), false); err != nil {
		return err
	}
	// The keys follow the layer.
	delKey, err := tx.PrepareContext(ctx, `DELETE FROM `+tableCatchKeys+` WHERE fid = ?`)
	if err != nil {
		return err
	}
	defer delKey.Close()
	for _, f := range s.fids {
		if !open[f] {
			if _, err := delKey.ExecContext(ctx, f); err != nil {
				return fmt.Errorf("%s: %w", tableCatchKeys, err)
			}
		}
	}
	put, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO `+tableCatchKeys+` (fid, key) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer put.Close()
	for _, j := range changed {
		if _, err := put.ExecContext(ctx, newFids[j], keys[j]); err != nil {
			return fmt.Errorf("%s: %w", tableCatchKeys, err)
		}
	}
	// The extent: the union of the rows' envelopes, from their headers.
	var ext [4]sql.NullFloat64
	if err := tx.QueryRowContext(ctx, `SELECT min(ST_MinX(geom)), min(ST_MinY(geom)), max(ST_MaxX(geom)), max(ST_MaxY(geom)) FROM catchments`).Scan(&ext[0], &ext[1], &ext[2], &ext[3]); err != nil {
		return fmt.Errorf("catchments layer: %w", err)
	}
	b := emptyBound()
	if ext[0].Valid {
		b = orb.Bound{Min: orb.Point{ext[0].Float64, ext[1].Float64}, Max: orb.Point{ext[2].Float64, ext[3].Float64}}
	}
	return setExtent(s, "catchments", b, when)
}

// storedRows reads the given columns of every row of a table, by fid.
func (s *Store) storedRows(table string, cols []column) (map[int64][]any, error) {
	names := make([]string, len(cols))
	for k, c := range cols {
		names[k] = quoteID(c.name)
	}
	rows, err := s.tx.QueryContext(s.ctx, `SELECT fid, `+strings.Join(names, ", ")+` FROM `+quoteID(table))
	if err != nil {
		return nil, fmt.Errorf("%s layer: %w", table, err)
	}
	defer rows.Close()
	out := map[int64][]any{}
	for rows.Next() {
		v := make([]any, len(cols)+1)
		ptrs := make([]any, len(v))
		for k := range v {
			ptrs[k] = &v[k]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s layer: %w", table, err)
		}
		fid, ok := v[0].(int64)
		if !ok {
			return nil, fmt.Errorf("%s layer: fid %v", table, v[0])
		}
		out[fid] = v[1:]
	}
	return out, rows.Err()
}

// sameValues compares stored values with values to write, as sameValue.
func sameValues(stored, v []any) bool {
	for k := range v {
		if !sameValue(stored[k], v[k]) {
			return false
		}
	}
	return true
}

package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
)

// Store is a walkshed GeoPackage opened for update. Opening reads the
// result back at full precision and starts the write transaction (other
// programs can still read the file, none can write it); [Store.Commit]
// writes what changed in that one transaction, [Store.Close] without a
// commit leaves the file as it was.
type Store struct {
	// Result is the stored result; update it in place (coverage.Update),
	// then Commit.
	Result *coverage.Result
	// CRS is the datum the analysis read its point inputs in (wgs84,
	// gcj02, bd09).
	CRS string
	// Network is how the street network was read; nil in straight-line
	// mode.
	Network *NetworkFacts
	// LastEvent is the date of the latest event applied so far (zero when
	// none).
	LastEvent time.Time
	// Service is what the result's tiers, catchments and accessibility
	// were made with; the stations' capacities are in Result.Stations.
	Service ServiceFacts

	tiers     *Tiers    // the service analysis to write, set by SetTiers
	potential []float64 // each station's potential population as opened (NaN: none)

	path  string
	db    *sql.DB
	tx    *sql.Tx
	ctx   context.Context
	chunk int // cells per chunk of the store

	// The result as opened, to find what an update changed.
	fids     []int64 // stations layer fid of each of stations
	stations []coverage.Station
	access   []coverage.Access
	inReach  []int32
}

// OpenStore opens the walkshed GeoPackage at path for update and reads its
// result. A GeoPackage without the store's tables gives an error wrapping
// ErrNotStore.
func OpenStore(path string) (*Store, error) {
	s, err := openForUpdate(path)
	if err != nil {
		return nil, err
	}
	if err := s.requireStore(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.load(); err != nil {
		s.Close()
		return nil, fmt.Errorf("gpkg: %s: %w", path, err)
	}
	return s, nil
}

// MigrateStore opens a GeoPackage that walkshed wrote before it kept its
// result's store in the file (layers stations and cells holding r's
// stations and cells, fid = index + 1), and adds the store for r, which is
// the result read from elsewhere (the former state file), in the pending
// transaction: Commit writes the store with the update's changes, Close
// leaves the file as it was.
func MigrateStore(path string, r *coverage.Result, opt WriteOptions) (*Store, error) {
	s, err := openForUpdate(path)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Store, error) {
		s.Close()
		return nil, fmt.Errorf("gpkg: %s: %w", path, err)
	}
	if err := s.requireStore(); err == nil {
		return fail(errors.New("already holds a walkshed result store"))
	} else if !errors.Is(err, ErrNotStore) {
		s.Close()
		return nil, err
	}
	for _, l := range []struct {
		name string
		n    int
	}{{"stations", len(r.Stations)}, {"cells", len(r.Cells)}} {
		var n, maxFid sql.NullInt64
		q := `SELECT count(*), max(fid) FROM ` + quoteID(l.name)
		if err := s.tx.QueryRowContext(s.ctx, q).Scan(&n, &maxFid); err != nil {
			return fail(fmt.Errorf("layer %s: %w", l.name, err))
		}
		if n.Int64 != int64(l.n) || maxFid.Int64 != int64(l.n) {
			return fail(fmt.Errorf("layer %s has %d rows (largest fid %d), the result %d: it was not written with this result", l.name, n.Int64, maxFid.Int64, l.n))
		}
	}
	if opt.CRS == "" {
		// The run table of those versions names it.
		run, err := s.readRun()
		if err != nil {
			return fail(err)
		}
		opt.CRS = run["crs"]
	}
	if err := writeStore(s.ctx, s.tx, r, opt); err != nil {
		return fail(fmt.Errorf("adding the result's store: %w", err))
	}
	s.Result = r
	s.chunk = storeChunk
	s.CRS = storeCRS(opt)
	s.Network = opt.Network
	s.fids = make([]int64, len(r.Stations))
	for i := range s.fids {
		s.fids[i] = int64(i + 1)
	}
	s.snapshot()
	return s, nil
}

// openForUpdate opens path and begins the write transaction.
func openForUpdate(path string) (*Store, error) {
	abs, err := existing(path)
	if err != nil {
		return nil, err
	}
	registerSpatialFunctions()
	// A rollback journal with full syncs: after a crash at any moment the
	// next opener finds either the old file or the new one.
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(DELETE)")
	q.Add("_pragma", "synchronous(FULL)")
	// Room for every page the update reads or changes, so that none is
	// spilled to the file before the commit; statement journals (for
	// statements that fire triggers) in memory; reads through mmap.
	q.Add("_pragma", "cache_size(-524288)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "mmap_size(1073741824)")
	u := url.URL{Scheme: "file", Path: abs, RawQuery: "mode=rw&" + q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("gpkg: %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	s := &Store{path: path, db: db, ctx: ctx}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name IN ('gpkg_contents', 'gpkg_geometry_columns', 'gpkg_spatial_ref_sys')`).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("gpkg: %s: not a GeoPackage: %w", path, err)
	}
	if n != 3 {
		db.Close()
		return nil, fmt.Errorf("gpkg: %s: not a GeoPackage (gpkg_contents, gpkg_geometry_columns or gpkg_spatial_ref_sys missing)", path)
	}
	if s.tx, err = db.BeginTx(ctx, nil); err != nil {
		db.Close()
		return nil, fmt.Errorf("gpkg: %s: %w", path, err)
	}
	return s, nil
}

// Path is the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close ends the store's use. Without a Commit, the file is left as it was.
func (s *Store) Close() error {
	if s.tx != nil {
		s.tx.Rollback()
		s.tx = nil
	}
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// requireStore checks that the file holds every table of the store.
func (s *Store) requireStore() error {
	names := []string{tableStatic, tableState, tableGaps, tableAreas, "run", "stations", "cells"}
	have := map[string]bool{}
	rows, err := s.tx.QueryContext(s.ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return fmt.Errorf("gpkg: %s: %w", s.path, err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("gpkg: %s: %w", s.path, err)
		}
		have[name] = true
	}
	rows.Close()
	if !have[tableStatic] {
		return fmt.Errorf("gpkg: %s is %w: it has no %s table (walkshed analyze writes one in every walkshed.gpkg)", s.path, ErrNotStore, tableStatic)
	}
	for _, n := range names {
		if !have[n] {
			return fmt.Errorf("gpkg: %s: the walkshed result store lacks its %s table", s.path, n)
		}
	}
	return nil
}

// load reads the stored result.
func (s *Store) load() error {
	run, err := s.readRun()
	if err != nil {
		return err
	}
	if run["store_format"] != StoreFormat {
		return fmt.Errorf("run table: store_format %q, want %q", run["store_format"], StoreFormat)
	}
	if v := run["store_version"]; v != strconv.Itoa(StoreVersion) {
		return fmt.Errorf("result store version %s, this walkshed reads version %d (rerun analyze)", v, StoreVersion)
	}
	num := func(key string) (float64, error) {
		v, err := strconv.ParseFloat(run[key], 64)
		if err != nil {
			return 0, fmt.Errorf("run table: %s %q is not a number", key, run[key])
		}
		return v, nil
	}
	integer := func(key string) (int, error) {
		v, err := strconv.Atoi(run[key])
		if err != nil {
			return 0, fmt.Errorf("run table: %s %q is not an integer", key, run[key])
		}
		return v, nil
	}
	res, err := integer("res")
	if err != nil {
		return err
	}
	minutes, err := num("minutes")
	if err != nil {
		return err
	}
	speed, err := num("speed_kmh")
	if err != nil {
		return err
	}
	set := coverage.Settings{Res: res, Minutes: coverage.Minutes(minutes), SpeedKmh: coverage.Speed(speed)}
	if err := set.Validate(); err != nil {
		return fmt.Errorf("run table: %w", err)
	}
	r := &coverage.Result{Settings: set, Mode: run["mode"], Bound: coverage.Unreached}
	if run["bound_minutes"] != "" {
		b, err := num("bound_minutes")
		if err != nil {
			return err
		}
		r.Bound = coverage.Minutes(b)
	}
	if r.InputPopulation, err = num("population_input"); err != nil {
		return err
	}
	for _, k := range []string{"updated", "created"} {
		if t, err := time.Parse("2006-01-02T15:04:05.000Z", run[k]); err == nil {
			r.Created = t
			break
		}
	}
	s.CRS = run["crs"]
	if run["network_path"] != "" {
		n := &NetworkFacts{Path: run["network_path"], SHA256: run["network_sha256"]}
		b, err := integer("network_bytes")
		if err != nil {
			return err
		}
		n.Bytes = int64(b)
		if n.MaxSnapM, err = num("max_snap_m"); err != nil {
			return err
		}
		if n.MinComponent, err = integer("min_component"); err != nil {
			return err
		}
		s.Network = n
	}
	cells, err := integer("store_cells")
	if err != nil {
		return err
	}
	if s.chunk, err = integer("store_chunk"); err != nil {
		return err
	}
	if s.chunk < 1 {
		return fmt.Errorf("run table: store_chunk %d", s.chunk)
	}
	byFid, err := s.readStations(r)
	if err != nil {
		return err
	}
	if err := s.serviceFacts(run); err != nil {
		return err
	}
	if s.Service.Capacity {
		if err := s.readCapacities(r); err != nil {
			return err
		}
	}
	if err := s.readCells(r, cells, byFid, run["store_in_reach"] == "1"); err != nil {
		return err
	}
	if run["layers"] != "" {
		if r.Layers, err = parseLayers(run["layers"]); err != nil {
			return err
		}
		if err := s.readLayers(r); err != nil {
			return err
		}
	}
	if err := s.readGaps(r); err != nil {
		return err
	}
	areas, err := s.readAreas()
	if err != nil {
		return err
	}
	if len(areas) > 0 {
		in, err := s.readCellAreas(len(r.Cells))
		if err != nil {
			return err
		}
		r.Areas = coverage.SummarizeAreasOf(r, areas, in)
	}
	if s.LastEvent, err = s.lastEvent(); err != nil {
		return err
	}
	s.Result = r
	s.snapshot()
	return nil
}

// snapshot keeps what Commit compares the updated result with.
func (s *Store) snapshot() {
	r := s.Result
	s.stations = slices.Clone(r.Stations)
	s.access = slices.Clone(r.Access)
	s.inReach = slices.Clone(r.InReach)
}

func (s *Store) readRun() (map[string]string, error) {
	rows, err := s.tx.QueryContext(s.ctx, `SELECT "key", "value" FROM "run" ORDER BY fid`)
	if err != nil {
		return nil, fmt.Errorf("run table: %w", err)
	}
	defer rows.Close()
	run := map[string]string{}
	for rows.Next() {
		var k string
		var v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("run table: %w", err)
		}
		run[k] = v.String
	}
	return run, rows.Err()
}

// fidIndex finds a station's index from its fid.
type fidIndex struct {
	dense  []int32 // by fid, -1 for none; nil when the fids are too sparse
	sparse map[uint32]int32
}

func (x *fidIndex) lookup(fid uint32) (int32, bool) {
	if x.dense != nil {
		if int(fid) < len(x.dense) && x.dense[fid] >= 0 {
			return x.dense[fid], true
		}
		return 0, false
	}
	i, ok := x.sparse[fid]
	return i, ok
}

// readStations reads the stations layer in fid order into r.Stations and
// s.fids, and returns the index of each fid.
func (s *Store) readStations(r *coverage.Result) (*fidIndex, error) {
	rows, err := s.tx.QueryContext(s.ctx, `SELECT fid, id, name, tier, geom FROM stations ORDER BY fid`)
	if err != nil {
		return nil, fmt.Errorf("stations layer: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var fid int64
		var id, name, tier sql.NullString
		var blob sql.RawBytes
		if err := rows.Scan(&fid, &id, &name, &tier, &blob); err != nil {
			return nil, fmt.Errorf("stations layer: %w", err)
		}
		p, ok := decodePoint(blob)
		if !ok || !id.Valid || fid <= 0 || fid > math.MaxUint32 {
			return nil, fmt.Errorf("stations layer: feature %d is not a station walkshed wrote (id, point); the layer was edited since (rerun analyze)", fid)
		}
		s.fids = append(s.fids, fid)
		r.Stations = append(r.Stations, coverage.Station{ID: id.String, Name: name.String, Tier: tier.String, Pos: p})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stations layer: %w", err)
	}
	x := &fidIndex{}
	if n := len(s.fids); n == 0 || s.fids[n-1] <= int64(4*n+1<<16) {
		x.dense = make([]int32, 1)
		if n > 0 {
			x.dense = make([]int32, s.fids[n-1]+1)
		}
		for i := range x.dense {
			x.dense[i] = -1
		}
		for i, f := range s.fids {
			x.dense[f] = int32(i)
		}
	} else {
		x.sparse = make(map[uint32]int32, n)
		for i, f := range s.fids {
			x.sparse[uint32(f)] = int32(i)
		}
	}
	return x, nil
}

// decodePoint reads a point from GeoPackage binary: directly when it is a
// plain WKB point, else through the general decoder.
func decodePoint(blob []byte) (orb.Point, bool) {
	if len(blob) >= 8 && blob[0] == 'G' && blob[1] == 'P' && blob[2] == 0 && blob[3]&(flagEmpty|flagExtended) == 0 {
		env := [8]int{0, 32, 48, 48, 64, -1, -1, -1}[(blob[3]>>1)&7]
		if w := blob[min(8+max(env, 0), len(blob)):]; env >= 0 && len(w) == 21 && w[0] == 1 && binary.LittleEndian.Uint32(w[1:]) == 1 {
			p := orb.Point{math.Float64frombits(binary.LittleEndian.Uint64(w[5:])), math.Float64frombits(binary.LittleEndian.Uint64(w[13:]))}
			return p, !math.IsNaN(p[0]) && !math.IsNaN(p[1])
		}
	}
	g, _, err := decodeGeometry(blob)
	p, ok := g.(orb.Point)
	return p, err == nil && ok
}

// chunks calls fn with each chunk of table in order, checking that chunk k
// holds the records of cells [k*s.chunk, …) of n.
func (s *Store) chunks(table string, n, size int, fn func(lo int, data []byte)) error {
	rows, err := s.tx.QueryContext(s.ctx, `SELECT chunk, data FROM `+table+` ORDER BY chunk`)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	defer rows.Close()
	k := 0
	var data sql.RawBytes
	for rows.Next() {
		var chunk int
		if err := rows.Scan(&chunk, &data); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		lo := k * s.chunk
		want := (min(lo+s.chunk, n) - lo) * size
		if chunk != k || lo >= n || len(data) != want {
			return fmt.Errorf("%s: chunk %d (%d bytes) where chunk %d of %d cells was expected", table, chunk, len(data), k, n)
		}
		fn(lo, data)
		k++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	if k*s.chunk < n {
		return fmt.Errorf("%s: %d chunks for %d cells", table, k, n)
	}
	return nil
}

func (s *Store) readCells(r *coverage.Result, n int, byFid *fidIndex, inReach bool) error {
	if n < 0 {
		return fmt.Errorf("run table: store_cells %d", n)
	}
	le := binary.LittleEndian
	r.Cells = make([]coverage.Cell, n)
	var bad error
	err := s.chunks(tableStatic, n, storeStaticSize, func(lo int, d []byte) {
		for k := 0; k < len(d); k += storeStaticSize {
			c := &r.Cells[lo+k/storeStaticSize]
			c.H3 = h3.Cell(le.Uint64(d[k:]))
			c.Pos = orb.Point{math.Float64frombits(le.Uint64(d[k+8:])), math.Float64frombits(le.Uint64(d[k+16:]))}
			c.Population = math.Float64frombits(le.Uint64(d[k+24:]))
		}
	})
	if err != nil {
		return err
	}
	for i := range r.Cells {
		if i > 0 && r.Cells[i].H3 <= r.Cells[i-1].H3 {
			return fmt.Errorf("%s: cells not in H3 order at cell %d", tableStatic, i+1)
		}
		if p := r.Cells[i].Population; !(p >= 0) || math.IsInf(p, 0) {
			return fmt.Errorf("%s: cell %d: population %v", tableStatic, i+1, p)
		}
	}
	r.Access = make([]coverage.Access, n)
	if inReach {
		r.InReach = make([]int32, n)
	}
	err = s.chunks(tableState, n, storeStateSize, func(lo int, d []byte) {
		for k := 0; k < len(d); k += storeStateSize {
			i := lo + k/storeStateSize
			m := coverage.Minutes(math.Float64frombits(le.Uint64(d[k:])))
			fid := le.Uint32(d[k+8:])
			a := coverage.Access{Minutes: m, Station: -1}
			if fid != 0 {
				idx, ok := byFid.lookup(fid)
				if !ok && bad == nil {
					bad = fmt.Errorf("cell %d is nearest to station fid %d, which the stations layer no longer holds; the layer was edited since (rerun analyze)", i+1, fid)
				}
				a.Station = idx
			}
			if !(m >= 0) || (m.Reached() != (fid != 0)) {
				if bad == nil {
					bad = fmt.Errorf("%s: cell %d: walking time %v minutes from station fid %d", tableState, i+1, float64(m), fid)
				}
			}
			r.Access[i] = a
			if inReach {
				r.InReach[i] = int32(le.Uint32(d[k+12:]))
			}
		}
	})
	if err != nil {
		return err
	}
	return bad
}

func (s *Store) readGaps(r *coverage.Result) error {
	rows, err := s.tx.QueryContext(s.ctx, `SELECT id, population, lon, lat, max_minutes, cells, outline FROM `+tableGaps+` ORDER BY id`)
	if err != nil {
		return fmt.Errorf("%s: %w", tableGaps, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g coverage.Gap
		var maxm sql.NullFloat64
		var cells, outline []byte
		if err := rows.Scan(&g.ID, &g.Population, &g.Point[0], &g.Point[1], &maxm, &cells, &outline); err != nil {
			return fmt.Errorf("%s: %w", tableGaps, err)
		}
		if g.ID != len(r.Gaps)+1 || len(cells) == 0 || len(cells)%4 != 0 {
			return fmt.Errorf("%s: gap %d is not gap %d", tableGaps, g.ID, len(r.Gaps)+1)
		}
		g.MaxMinutes = coverage.Unreached
		if maxm.Valid {
			g.MaxMinutes = coverage.Minutes(maxm.Float64)
		}
		g.Cells = make([]int32, len(cells)/4)
		for k := range g.Cells {
			c := int32(binary.LittleEndian.Uint32(cells[4*k:]))
			if c < 0 || int(c) >= len(r.Cells) || (k > 0 && c <= g.Cells[k-1]) {
				return fmt.Errorf("%s: gap %d: cell index %d", tableGaps, g.ID, c)
			}
			g.Cells[k] = c
		}
		if outline != nil {
			geom, _, err := decodeGeometry(outline)
			poly, ok := geom.(orb.Polygon)
			if err != nil || !ok {
				return fmt.Errorf("%s: gap %d: outline is not a polygon", tableGaps, g.ID)
			}
			g.Outline = poly
		}
		r.Tally(&g)
		r.Gaps = append(r.Gaps, g)
	}
	return rows.Err()
}

func (s *Store) readAreas() ([]coverage.Area, error) {
	rows, err := s.tx.QueryContext(s.ctx, `SELECT name, parent, geom FROM `+tableAreas+` ORDER BY idx`)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tableAreas, err)
	}
	defer rows.Close()
	var out []coverage.Area
	for rows.Next() {
		var a coverage.Area
		var blob []byte
		if err := rows.Scan(&a.Name, &a.Parent, &blob); err != nil {
			return nil, fmt.Errorf("%s: %w", tableAreas, err)
		}
		if blob != nil {
			g, _, err := decodeGeometry(blob)
			mp, ok := g.(orb.MultiPolygon)
			if err != nil || !ok {
				return nil, fmt.Errorf("%s: area %q: geometry is not a multipolygon", tableAreas, a.Name)
			}
			a.Geom = mp
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// readCellAreas reads the area of each cell, nil when the file does not
// keep it (the areas are then found again from the polygons).
func (s *Store) readCellAreas(n int) ([]int32, error) {
	var blob []byte
	err := s.tx.QueryRowContext(s.ctx, `SELECT data FROM `+tableInArea+` WHERE id = 1`).Scan(&blob)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), "no such table") {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", tableInArea, err)
	}
	if len(blob) != 4*n {
		return nil, fmt.Errorf("%s: %d bytes for %d cells", tableInArea, len(blob), n)
	}
	in := make([]int32, n)
	for i := range in {
		in[i] = int32(binary.LittleEndian.Uint32(blob[4*i:]))
	}
	return in, nil
}

// eventDateLayout is how the events table writes dates.
const eventDateLayout = "2006-01-02T15:04:05Z07:00"

// lastEvent is the latest date in the events table, zero when it has none.
func (s *Store) lastEvent() (time.Time, error) {
	var last time.Time
	var n int
	if err := s.tx.QueryRowContext(s.ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, tableEvents).Scan(&n); err != nil || n == 0 {
		return last, err
	}
	rows, err := s.tx.QueryContext(s.ctx, `SELECT "date" FROM `+tableEvents)
	if err != nil {
		return last, fmt.Errorf("events table: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d sql.NullString
		if err := rows.Scan(&d); err != nil {
			return last, fmt.Errorf("events table: %w", err)
		}
		for _, layout := range []string{"2006-01-02", eventDateLayout} {
			if t, err := time.Parse(layout, d.String); err == nil {
				if t.After(last) {
					last = t
				}
				break
			}
		}
	}
	return last, rows.Err()
}

// CopyFile copies the GeoPackage src over the file dst while holding a read
// lock on src, so that no writer changes it meanwhile (opening it also
// settles a transaction that a crash left behind). dst is synced.
func CopyFile(src, dst string) error {
	abs, err := filepath.Abs(src)
	if err != nil {
		return fmt.Errorf("gpkg: %s: %w", src, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("gpkg: %w", err)
	}
	u := url.URL{Scheme: "file", Path: abs, RawQuery: "mode=rw&_pragma=busy_timeout(10000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return fmt.Errorf("gpkg: %s: %w", src, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("gpkg: %s: %w", src, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n); err != nil {
		return fmt.Errorf("gpkg: %s: not a GeoPackage: %w", src, err)
	}
	in, err := os.Open(abs)
	if err != nil {
		return fmt.Errorf("gpkg: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("gpkg: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("gpkg: copying %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("gpkg: copying %s: %w", src, err)
	}
	return out.Close()
}

// readLayers reads each cell's people per layer; their sum must be the
// cell's population.
func (s *Store) readLayers(r *coverage.Result) error {
	k := len(r.Layers)
	n := len(r.Cells)
	backing := make([]float64, n*k)
	err := s.chunks(tableLayers, n, 8*k, func(lo int, d []byte) {
		for j := 0; j < len(d)/8; j++ {
			backing[lo*k+j] = math.Float64frombits(binary.LittleEndian.Uint64(d[8*j:]))
		}
	})
	if err != nil {
		return err
	}
	for i := range r.Cells {
		c := &r.Cells[i]
		c.Layers = backing[i*k : (i+1)*k : (i+1)*k]
		sum := 0.0
		for _, v := range c.Layers {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("%s: cell %d: people %v", tableLayers, i+1, v)
			}
			sum += v
		}
		if math.Abs(sum-c.Population) > 1e-9*max(1, c.Population) {
			return fmt.Errorf("%s: cell %d: layers sum to %v, the cell holds %v", tableLayers, i+1, sum, c.Population)
		}
	}
	return nil
}

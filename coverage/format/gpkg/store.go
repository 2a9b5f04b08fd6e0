package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"modernc.org/sqlite"
)

// The result's store: besides its layers, every walkshed GeoPackage holds
// what `walkshed update` needs to continue from it exactly, in tables that
// GeoPackage readers ignore (they are not in gpkg_contents):
//
//   - walkshed_cells: the cells' static part (H3 index, centre, population)
//     in chunks of store_chunk cells (a run table row; storeChunk when
//     written), storeStaticSize bytes per cell;
//   - walkshed_cell_state: their dynamic part in chunks of the same cells:
//     the walking time at full precision (+Inf when no station is in
//     reach), the nearest station as its fid in the stations layer (stable
//     when other stations close; 0 for none) and the stations in reach;
//   - walkshed_gaps: the gaps with their cells and outlines (the gaps layer
//     shows them; this keeps what an update needs to rebuild only the gaps
//     its events touch);
//   - walkshed_areas: the area inputs (name, parent, polygons);
//   - walkshed_cell_layers: with several population layers (run key
//     layers, name=weight,…), each cell's people per layer, a float64 per
//     layer, in chunks of the same cells.
//
// The settings and facts are rows of the run table (storeKeys), the
// stations are the stations layer in fid order. The attributes table events
// lists the events applied so far.
const (
	StoreFormat  = "walkshed-store"
	StoreVersion = 1

	storeStaticSize = 32 // h3 uint64, lon float64, lat float64, population float64
	storeStateSize  = 16 // minutes float64, station fid uint32, stations in reach int32

	tableStatic = "walkshed_cells"
	tableState  = "walkshed_cell_state"
	tableGaps   = "walkshed_gaps"
	tableAreas  = "walkshed_areas"
	tableInArea = "walkshed_cell_areas"
	tableLayers = "walkshed_cell_layers"
	tableEvents = "events"
)

// storeChunk is how many cells a chunk of the store holds when written (a
// variable so that tests can make small studies span many chunks).
var storeChunk = 2048

// ErrNotStore is wrapped by the error of opening a GeoPackage that walkshed
// did not write (or wrote before it kept its result's store in the file).
var ErrNotStore = errors.New("not a walkshed result store")

// NetworkFacts record how a network reach model was built, so that an
// update rebuilds the same graph and refuses a changed street file.
type NetworkFacts struct {
	Path         string // absolute path of the OSM file
	Bytes        int64
	SHA256       string // hex digest of the file's content
	MaxSnapM     float64
	MinComponent int
}

// storeTables creates the store's tables.
var storeTables = []string{
	`CREATE TABLE ` + tableStatic + ` (chunk INTEGER PRIMARY KEY, data BLOB NOT NULL)`,
	`CREATE TABLE ` + tableState + ` (chunk INTEGER PRIMARY KEY, data BLOB NOT NULL)`,
	`CREATE TABLE ` + tableGaps + ` (id INTEGER PRIMARY KEY, population REAL NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL, max_minutes REAL, cells BLOB NOT NULL, outline BLOB)`,
	`CREATE TABLE ` + tableAreas + ` (idx INTEGER PRIMARY KEY, name TEXT NOT NULL, parent TEXT NOT NULL, geom BLOB)`,
	`CREATE TABLE ` + tableInArea + ` (id INTEGER PRIMARY KEY, data BLOB NOT NULL)`,
}

// layersTable holds the cells' people per layer, in a result of several
// population layers only.
const layersTable = `CREATE TABLE ` + tableLayers + ` (chunk INTEGER PRIMARY KEY, data BLOB NOT NULL)`

// storeKeys are the rows of the run table the store reads back. Values are
// written so that they parse back to the same float64.
func storeKeys(r *coverage.Result, opt WriteOptions) []KeyValue {
	inReach := "0"
	if r.InReach != nil {
		inReach = "1"
	}
	kv := []KeyValue{
		{"store_format", StoreFormat},
		{"store_version", strconv.Itoa(StoreVersion)},
		{"store_cells", strconv.Itoa(len(r.Cells))},
		{"store_chunk", strconv.Itoa(storeChunk)},
		{"store_in_reach", inReach},
		{"mode", r.Mode},
		{"res", strconv.Itoa(r.Settings.Res)},
		{"minutes", fnum(float64(r.Settings.Minutes))},
		{"speed_kmh", fnum(float64(r.Settings.SpeedKmh))},
		{"bound_minutes", fnum(float64(r.Bound))}, // "" when unbounded
		{"population_input", fnum(r.InputPopulation)},
		{"crs", storeCRS(opt)},
	}
	if len(r.Layers) > 0 {
		kv = append(kv, KeyValue{"layers", LayersText(r.Layers)})
	}
	if n := opt.Network; n != nil {
		kv = append(kv,
			KeyValue{"network_path", n.Path},
			KeyValue{"network_bytes", strconv.FormatInt(n.Bytes, 10)},
			KeyValue{"network_sha256", n.SHA256},
			KeyValue{"max_snap_m", fnum(n.MaxSnapM)},
			KeyValue{"min_component", strconv.Itoa(n.MinComponent)})
	}
	return kv
}

// storeCRS is the datum of the point inputs as the store records it.
func storeCRS(opt WriteOptions) string {
	if crs := strings.ToLower(strings.TrimSpace(opt.CRS)); crs != "" {
		return crs
	}
	return "wgs84"
}

// writeStore adds the store's tables and run rows for r to the GeoPackage
// being written in tx, whose stations and cells layers hold r's stations
// and cells with fid = index + 1.
func writeStore(ctx context.Context, tx *sql.Tx, r *coverage.Result, opt WriteOptions) error {
	if r.InReach != nil && len(r.InReach) != len(r.Cells) {
		return fmt.Errorf("%d cells but %d in-reach counts", len(r.Cells), len(r.InReach))
	}
	for _, q := range storeTables {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%.50s…: %w", q, err)
		}
	}
	fids := make([]int64, len(r.Stations))
	for i := range fids {
		fids[i] = int64(i + 1)
	}
	n := len(r.Cells)
	static, err := tx.PrepareContext(ctx, `INSERT INTO `+tableStatic+` (chunk, data) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer static.Close()
	state, err := tx.PrepareContext(ctx, `INSERT INTO `+tableState+` (chunk, data) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer state.Close()
	var sbuf, dbuf []byte
	for k := 0; k*storeChunk < n; k++ {
		lo, hi := k*storeChunk, min((k+1)*storeChunk, n)
		sbuf = packStatic(sbuf[:0], r.Cells[lo:hi])
		if _, err := static.ExecContext(ctx, k, sbuf); err != nil {
			return fmt.Errorf("cells chunk %d: %w", k, err)
		}
		if dbuf, err = packState(dbuf[:0], r, fids, lo, hi); err != nil {
			return err
		}
		if _, err := state.ExecContext(ctx, k, dbuf); err != nil {
			return fmt.Errorf("cell state chunk %d: %w", k, err)
		}
	}
	if k := len(r.Layers); k > 0 {
		if _, err := tx.ExecContext(ctx, layersTable); err != nil {
			return fmt.Errorf("%s: %w", tableLayers, err)
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO `+tableLayers+` (chunk, data) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for c := 0; c*storeChunk < n; c++ {
			sbuf = sbuf[:0]
			for _, cell := range r.Cells[c*storeChunk : min((c+1)*storeChunk, n)] {
				if len(cell.Layers) != k {
					return fmt.Errorf("cell %v has %d layers of people, the result %d", cell.H3, len(cell.Layers), k)
				}
				for _, v := range cell.Layers {
					sbuf = binary.LittleEndian.AppendUint64(sbuf, math.Float64bits(v))
				}
			}
			if _, err := ins.ExecContext(ctx, c, sbuf); err != nil {
				return fmt.Errorf("cell layers chunk %d: %w", c, err)
			}
		}
	}
	if err := writeGapState(ctx, tx, r.Gaps); err != nil {
		return err
	}
	if t := opt.Tiers; t != nil && t.Catchments != nil {
		if err := writeCatchmentKeys(ctx, tx, t); err != nil {
			return err
		}
	}
	enc := newEncoder()
	area, err := tx.PrepareContext(ctx, `INSERT INTO `+tableAreas+` (idx, name, parent, geom) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer area.Close()
	for i, a := range r.AreaInputs() {
		var blob any
		if !isEmpty(a.Geom) {
			b, _, err := enc.encode(a.Geom, srsWGS84)
			if err != nil {
				return fmt.Errorf("area %q: %w", a.Name, err)
			}
			blob = b
		}
		if _, err := area.ExecContext(ctx, i, a.Name, a.Parent, blob); err != nil {
			return fmt.Errorf("area %q: %w", a.Name, err)
		}
	}
	// The area of each cell (an int32 per cell, -1 for none), so that an
	// update does not test every cell against the polygons again.
	if in := r.CellAreas(); in != nil {
		buf := make([]byte, 0, 4*len(in))
		for _, a := range in {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(a))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+tableInArea+` (id, data) VALUES (1, ?)`, buf); err != nil {
			return fmt.Errorf("cell areas: %w", err)
		}
	}
	return setRun(ctx, tx, storeKeys(r, opt))
}

// writeGapState replaces the rows of walkshed_gaps with gaps.
func writeGapState(ctx context.Context, tx *sql.Tx, gaps []coverage.Gap) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+tableGaps); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO `+tableGaps+` (id, population, lon, lat, max_minutes, cells, outline) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	enc := newEncoder()
	var cells []byte
	for _, g := range gaps {
		cells = cells[:0]
		for _, c := range g.Cells {
			cells = binary.LittleEndian.AppendUint32(cells, uint32(c))
		}
		var outline any
		if !isEmpty(g.Outline) {
			b, _, err := enc.encode(g.Outline, srsWGS84)
			if err != nil {
				return fmt.Errorf("gap %d: %w", g.ID, err)
			}
			outline = b
		}
		if _, err := st.ExecContext(ctx, g.ID, g.Population, g.Point[0], g.Point[1], nullable(g.MaxMinutes), cells, outline); err != nil {
			return fmt.Errorf("gap %d: %w", g.ID, err)
		}
	}
	return nil
}

// setRun sets each key of the run table to its value: every row with the
// key is changed, or one is added.
func setRun(ctx context.Context, tx *sql.Tx, kv []KeyValue) error {
	upd, err := tx.PrepareContext(ctx, `UPDATE "run" SET "value" = ? WHERE "key" = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO "run" ("key", "value") VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, x := range kv {
		res, err := upd.ExecContext(ctx, x.Value, x.Key)
		if err != nil {
			return fmt.Errorf("run %q: %w", x.Key, err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			continue
		}
		if _, err := ins.ExecContext(ctx, x.Key, x.Value); err != nil {
			return fmt.Errorf("run %q: %w", x.Key, err)
		}
	}
	return nil
}

// packStatic appends the static records of cells to buf.
func packStatic(buf []byte, cells []coverage.Cell) []byte {
	le := binary.LittleEndian
	for _, c := range cells {
		buf = le.AppendUint64(buf, uint64(c.H3))
		buf = le.AppendUint64(buf, math.Float64bits(c.Pos[0]))
		buf = le.AppendUint64(buf, math.Float64bits(c.Pos[1]))
		buf = le.AppendUint64(buf, math.Float64bits(c.Population))
	}
	return buf
}

// packState appends the dynamic records of cells [lo, hi) of r to buf;
// fids maps r's station indices to stations layer fids.
func packState(buf []byte, r *coverage.Result, fids []int64, lo, hi int) ([]byte, error) {
	le := binary.LittleEndian
	for i := lo; i < hi; i++ {
		a := r.Access[i]
		var fid uint32
		if a.Station >= 0 {
			if int(a.Station) >= len(fids) {
				return buf, fmt.Errorf("cell %d names station %d of %d", i+1, a.Station, len(fids))
			}
			f := fids[a.Station]
			if f <= 0 || f > math.MaxUint32 {
				return buf, fmt.Errorf("station fid %d out of range", f)
			}
			fid = uint32(f)
		}
		var reach int32
		if r.InReach != nil {
			reach = r.InReach[i]
		}
		buf = le.AppendUint64(buf, math.Float64bits(float64(a.Minutes)))
		buf = le.AppendUint32(buf, fid)
		buf = le.AppendUint32(buf, uint32(reach))
	}
	return buf, nil
}

var registerSpatial sync.Once

// registerSpatialFunctions gives SQLite the ST_* functions that the
// GeoPackage R-tree triggers (spec Annex F.3) call, so that rows inserted or
// deleted in a feature table keep its index up to date as they do in GDAL.
func registerSpatialFunctions() {
	registerSpatial.Do(func() {
		bound := func(pick func(orb.Bound) float64) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				b, empty, ok := blobBound(args[0])
				if !ok || empty {
					return nil, nil
				}
				return pick(b), nil
			}
		}
		fns := map[string]func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error){
			"ST_MinX": bound(func(b orb.Bound) float64 { return b.Min[0] }),
			"ST_MaxX": bound(func(b orb.Bound) float64 { return b.Max[0] }),
			"ST_MinY": bound(func(b orb.Bound) float64 { return b.Min[1] }),
			"ST_MaxY": bound(func(b orb.Bound) float64 { return b.Max[1] }),
			"ST_IsEmpty": func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				_, empty, ok := blobBound(args[0])
				if !ok {
					return nil, nil
				}
				if empty {
					return int64(1), nil
				}
				return int64(0), nil
			},
		}
		for name, fn := range fns {
			// Another part of the program may have registered them already;
			// any implementation of the spec's functions will do.
			_ = sqlite.RegisterDeterministicScalarFunction(name, 1, fn)
		}
	})
}

// blobBound reads the envelope of a GeoPackage binary geometry: from its
// header when it has one, else from the decoded geometry. ok is false for
// anything that is not a GeoPackage geometry.
func blobBound(v driver.Value) (b orb.Bound, empty, ok bool) {
	blob, isBlob := v.([]byte)
	if !isBlob || len(blob) < 8 || blob[0] != 'G' || blob[1] != 'P' {
		return b, false, false
	}
	flags := blob[3]
	if flags&flagEmpty != 0 {
		return b, true, true
	}
	var order binary.ByteOrder = binary.BigEndian
	if flags&flagLittleEndian != 0 {
		order = binary.LittleEndian
	}
	if code := (flags >> 1) & 7; code >= 1 && code <= 4 && len(blob) >= 40 {
		f := func(k int) float64 { return math.Float64frombits(order.Uint64(blob[8+8*k:])) }
		b = orb.Bound{Min: orb.Point{f(0), f(2)}, Max: orb.Point{f(1), f(3)}}
		if !math.IsNaN(b.Min[0]) && !math.IsNaN(b.Min[1]) {
			return b, false, true
		}
	}
	g, _, err := decodeGeometry(blob)
	if errors.Is(err, errEmptyGeometry) {
		return b, true, true
	}
	if err != nil {
		return b, false, false
	}
	return g.Bound(), false, true
}

// LayersText writes population layers as name=weight,… (the run table's
// layers key).
func LayersText(layers []coverage.Layer) string {
	parts := make([]string, len(layers))
	for i, l := range layers {
		parts[i] = l.Name + "=" + fnum(l.Weight)
	}
	return strings.Join(parts, ",")
}

// parseLayers reads LayersText back.
func parseLayers(s string) ([]coverage.Layer, error) {
	var out []coverage.Layer
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(part, "=")
		v, err := strconv.ParseFloat(w, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("run table: layers %q: want name=weight,…", s)
		}
		out = append(out, coverage.Layer{Name: name, Weight: v})
	}
	if err := coverage.CheckLayers(out); err != nil {
		return nil, fmt.Errorf("run table: layers: %w", err)
	}
	return out, nil
}

package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// GeoPackage identification (spec requirement 2): application_id 'GPKG' and
// user_version 10400 for version 1.4.
const (
	ApplicationID = 0x47504B47
	UserVersion   = 10400
)

// srsWGS84 is the srs_id of every layer the writer produces.
const srsWGS84 = 4326

// Proposal is a proposed new site for the proposals layer.
type Proposal struct {
	Rank    int       // 1 = chosen first
	ID      string    // the candidate's id, when it has one
	H3      string    // the cell the site stands in, when known
	Pos     orb.Point // lon, lat
	Added   float64   // population newly covered by this site
	Covered float64   // covered population after adding sites 1..Rank
	Share   float64   // covered share after adding sites 1..Rank
}

// KeyValue is one row of the run table.
type KeyValue struct{ Key, Value string }

// WriteOptions carry what the Result does not hold.
type WriteOptions struct {
	Snap      []float64  // per-cell snap leg in metres (NaN = none); nil when the model has none
	Proposals []Proposal // nil when not proposing
	Run       []KeyValue // settings, input files and sizes, version, time
}

// failHook, when set by tests, is called after each stage; an error it
// returns aborts the write as a real failure would.
var failHook func(stage string) error

// Write writes r as the GeoPackage path, atomically: the file is built under
// a temporary name in the same directory and renamed over path only once
// complete and synced, so a failure leaves any previous file intact.
func Write(path string, r *coverage.Result, opt WriteOptions) (err error) {
	if r == nil {
		return fmt.Errorf("gpkg: writing %s: nil result", path)
	}
	if len(r.Access) != len(r.Cells) {
		return fmt.Errorf("gpkg: writing %s: %d cells but %d access entries", path, len(r.Cells), len(r.Access))
	}
	if opt.Snap != nil && len(opt.Snap) != len(r.Cells) {
		return fmt.Errorf("gpkg: writing %s: %d cells but %d snap distances", path, len(r.Cells), len(opt.Snap))
	}
	if r.InReach != nil && len(r.InReach) != len(r.Cells) {
		return fmt.Errorf("gpkg: writing %s: %d cells but %d in-reach counts", path, len(r.Cells), len(r.InReach))
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("gpkg: writing %s: %w", path, err)
	}
	name := tmp.Name()
	tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(name)
			os.Remove(name + "-journal")
		}
	}()
	if err = build(name, r, opt); err != nil {
		return fmt.Errorf("gpkg: writing %s: %w", path, err)
	}
	if err = syncFile(name); err != nil {
		return fmt.Errorf("gpkg: writing %s: %w", path, err)
	}
	if err = os.Chmod(name, 0o644); err != nil {
		return fmt.Errorf("gpkg: writing %s: %w", path, err)
	}
	if err = os.Rename(name, path); err != nil {
		return fmt.Errorf("gpkg: writing %s: %w", path, err)
	}
	return nil
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// build fills the (new, empty) database file name in one transaction.
func build(name string, r *coverage.Result, opt WriteOptions) (err error) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The file is private until renamed, and is deleted on failure, so the
	// rollback journal only needs to live in memory; durability comes from
	// the fsync before the rename.
	for _, p := range []string{
		"PRAGMA journal_mode = MEMORY",
		"PRAGMA synchronous = OFF",
		fmt.Sprintf("PRAGMA application_id = %d", ApplicationID),
		fmt.Sprintf("PRAGMA user_version = %d", UserVersion),
	} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	w := &writer{ctx: ctx, tx: tx, enc: newEncoder(), when: timestamp(r.Created)}
	if err := w.core(); err != nil {
		return err
	}
	for _, l := range layersOf(r, opt) {
		if err := w.layer(l); err != nil {
			return fmt.Errorf("layer %s: %w", l.name, err)
		}
		if failHook != nil {
			if err := failHook(l.name); err != nil {
				return err
			}
		}
	}
	if err := w.run(r, opt.Run); err != nil {
		return fmt.Errorf("table run: %w", err)
	}
	return tx.Commit()
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

type writer struct {
	ctx  context.Context
	tx   *sql.Tx
	enc  *encoder
	when string
}

func (w *writer) exec(q string, args ...any) error {
	if _, err := w.tx.ExecContext(w.ctx, q, args...); err != nil {
		return fmt.Errorf("%.60s…: %w", q, err)
	}
	return nil
}

func (w *writer) core() error {
	for _, q := range coreSchema {
		if err := w.exec(q); err != nil {
			return err
		}
	}
	for _, s := range srsRows {
		if err := w.exec(`INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)`, s[:]...); err != nil {
			return err
		}
	}
	return w.exec(`INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', 'default QGIS styles', ?)`, w.when)
}

// column is an attribute of a feature table.
type column struct{ name, sqlType string }

// layer is a feature table: its schema, its rows and its default style.
type layer struct {
	name, geomType, description, qml string
	cols                             []column
	n                                int
	// row fills args (one per column) for feature i and returns its
	// geometry, nil for none.
	row func(i int, args []any) orb.Geometry
}

func (w *writer) layer(l layer) error {
	t := quoteID(l.name)
	ddl := "CREATE TABLE " + t + ` ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "geom" ` + l.geomType
	ins := "INSERT INTO " + t + ` ("fid", "geom"`
	marks := "?, ?"
	for _, c := range l.cols {
		ddl += ", " + quoteID(c.name) + " " + c.sqlType
		ins += ", " + quoteID(c.name)
		marks += ", ?"
	}
	ddl += ")"
	ins += ") VALUES (" + marks + ")"
	rt := "rtree_" + l.name + "_geom"
	for _, q := range []string{
		ddl,
		"CREATE VIRTUAL TABLE " + quoteID(rt) + " USING rtree(id, minx, maxx, miny, maxy)",
	} {
		if err := w.exec(q); err != nil {
			return err
		}
	}
	if err := w.exec(`INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) VALUES (?, 'features', ?, ?, ?, ?)`,
		l.name, l.name, l.description, w.when, srsWGS84); err != nil {
		return err
	}
	if err := w.exec(`INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)`, l.name, l.geomType, srsWGS84); err != nil {
		return err
	}
	if err := w.exec(`INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', ?, 'write-only')`, l.name, rtreeExtensionDef); err != nil {
		return err
	}
	fst, err := w.tx.PrepareContext(w.ctx, ins)
	if err != nil {
		return err
	}
	defer fst.Close()
	rst, err := w.tx.PrepareContext(w.ctx, "INSERT INTO "+quoteID(rt)+" VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer rst.Close()
	args := make([]any, 2+len(l.cols))
	extent := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for i := 0; i < l.n; i++ {
		fid := int64(i + 1)
		args[0] = fid
		g := l.row(i, args[2:])
		args[1] = nil
		var b orb.Bound
		if g != nil && !isEmpty(g) {
			blob, bb, err := w.enc.encode(g, srsWGS84)
			if err != nil {
				return fmt.Errorf("feature %d: %w", fid, err)
			}
			args[1], b = blob, bb
		}
		if _, err := fst.ExecContext(w.ctx, args...); err != nil {
			return fmt.Errorf("feature %d: %w", fid, err)
		}
		if args[1] == nil {
			continue
		}
		extent = extent.Union(b)
		if _, err := rst.ExecContext(w.ctx, fid, b.Min[0], b.Max[0], b.Min[1], b.Max[1]); err != nil {
			return fmt.Errorf("feature %d: r-tree: %w", fid, err)
		}
	}
	if extent.Min[0] <= extent.Max[0] {
		if err := w.exec(`UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?`,
			extent.Min[0], extent.Min[1], extent.Max[0], extent.Max[1], l.name); err != nil {
			return err
		}
	}
	for _, q := range rtreeTriggers(l.name, "geom", "fid") {
		if err := w.exec(q); err != nil {
			return err
		}
	}
	return w.exec(`INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, '', NULL, ?)`,
		l.name, l.name, l.qml, "walkshed default style for "+l.name, w.when)
}

// run writes the attributes table of settings. Settings the Result knows are
// added unless the caller gave them, so the file always says how it was made.
func (w *writer) run(r *coverage.Result, kv []KeyValue) error {
	if err := w.exec(`CREATE TABLE "run" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "key" TEXT NOT NULL, "value" TEXT)`); err != nil {
		return err
	}
	if err := w.exec(`INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) VALUES ('run', 'attributes', 'run', 'settings and inputs of the run', ?)`, w.when); err != nil {
		return err
	}
	have := map[string]bool{}
	for _, x := range kv {
		have[x.Key] = true
	}
	t := r.Totals()
	known := []KeyValue{
		{"mode", r.Mode},
		{"minutes", fnum(float64(r.Settings.Minutes))},
		{"speed_kmh", fnum(float64(r.Settings.SpeedKmh))},
		{"radius_m", fnum(float64(r.Settings.Radius()))},
		{"res", strconv.Itoa(r.Settings.Res)},
		{"bound_minutes", fnum(float64(r.Bound))},
		{"population_total", fnum(t.Population)},
		{"population_covered", fnum(t.CoveredPopulation)},
		{"share_covered", fnum(t.Share())},
		{"created", w.when},
	}
	st, err := w.tx.PrepareContext(w.ctx, `INSERT INTO "run" ("key", "value") VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, x := range kv {
		if _, err := st.ExecContext(w.ctx, x.Key, x.Value); err != nil {
			return fmt.Errorf("key %q: %w", x.Key, err)
		}
	}
	for _, x := range known {
		if have[x.Key] {
			continue
		}
		if _, err := st.ExecContext(w.ctx, x.Key, x.Value); err != nil {
			return fmt.Errorf("key %q: %w", x.Key, err)
		}
	}
	return nil
}

func fnum(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// nullable returns nil (SQL NULL) for a time no station reaches.
func nullable(m coverage.Minutes) any {
	if !m.Reached() {
		return nil
	}
	return float64(m)
}

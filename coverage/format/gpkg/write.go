package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// GeoPackage identification (spec requirement 2): application_id 'GPKG' and
// user_version 10300 for version 1.3. Nothing the writer uses is newer than
// 1.3 (the core tables, the rtree extension and its triggers are those of
// 1.2 and 1.3), and GDAL before 3.8 warns that a 1.4 file "may only be
// partially supported".
const (
	ApplicationID = 0x47504B47
	UserVersion   = 10300
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
	// CRS is the datum the point inputs were read in (wgs84, gcj02, bd09;
	// "" = wgs84), and Network how the street network was read (nil in
	// straight-line mode): the result's store keeps both for updates.
	CRS     string
	Network *NetworkFacts
	// Tiers is a tiered analysis of the same cells and stations, adding
	// tier and access columns to cells, load figures to stations and the
	// catchments layer; nil for none.
	Tiers *Tiers
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
	if err := opt.Tiers.check(r); err != nil {
		return fmt.Errorf("gpkg: writing %s: %w", path, err)
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
func build(name string, r *coverage.Result, opt WriteOptions) error {
	return create(name, timestamp(r.Created), func(w *writer) error {
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
		if err := writeStore(w.ctx, w.tx, r, opt); err != nil {
			return fmt.Errorf("result store: %w", err)
		}
		return nil
	})
}

// create opens the (new, empty) database file name, sets the GeoPackage
// header, and runs fill in one transaction, committed when fill succeeds.
// when stamps last_change and update_time.
func create(name, when string, fill func(*writer) error) (err error) {
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
	w := &writer{ctx: ctx, conn: conn, tx: tx, when: when, workers: max(1, runtime.GOMAXPROCS(0)-1)}
	if err := fill(w); err != nil {
		return err
	}
	return tx.Commit()
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// writer holds the open transaction that builds the file.
type writer struct {
	ctx     context.Context
	conn    *sql.Conn // the connection of tx, for the driver-level inserter
	tx      *sql.Tx
	when    string // last_change and update_time of every row written
	workers int    // goroutines encoding features ahead of the inserts
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
	// geometry, nil for none. The values go to the driver as they are, so
	// they must be int64, float64, string, []byte or nil. row is called
	// from several goroutines at once, each feature once, so it may only
	// read what it shares.
	row func(i int, args []any) orb.Geometry
}

// maxRowsPerInsert bounds the rows of one multi-row INSERT: each statement
// costs a call through the driver, a step and a reset, which dominate when
// paid per row. 256 rows of the widest layer stay far below SQLite's 32766
// bound variables.
const maxRowsPerInsert = 256

// layer writes feature table l with its contents entry, geometry column,
// R-tree index and triggers, and default style. Worker goroutines encode
// the rows and geometries ahead (see encodeRows) while this goroutine
// inserts them, many rows per statement; the R-tree is packed in one go
// after the load (see rtree).
func (w *writer) layer(l layer) error {
	t := quoteID(l.name)
	names := []string{"fid", "geom"}
	ddl := "CREATE TABLE " + t + ` ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "geom" ` + l.geomType
	for _, c := range l.cols {
		ddl += ", " + quoteID(c.name) + " " + c.sqlType
		names = append(names, c.name)
	}
	ddl += ")"
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
	ins := w.inserter(l.name, names)
	defer ins.close()
	extent := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	index := make([]rtreeCell, 0, l.n)
	err := w.encodeRows(l, len(names), func(b *batch) error {
		if err := ins.insert(b.args[:b.n*len(names)]); err != nil {
			return fmt.Errorf("features %d to %d: %w", b.first+1, b.first+b.n, err)
		}
		for k := 0; k < b.n; k++ {
			if b.has[k] {
				extent = extent.Union(b.bound[k])
				index = append(index, rtreeCell{id: int64(b.first + k + 1), box: boxOf(b.bound[k])})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.rtree(rt, index); err != nil {
		return fmt.Errorf("r-tree: %w", err)
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

// batch is a run of consecutive features, encoded for one INSERT.
type batch struct {
	first, n int
	args     []any       // n rows of fid, geom and the columns
	has      []bool      // the feature has a (non-empty) geometry
	bound    []orb.Bound // its bound, where has
	ends     []int       // end of each feature's blob in enc.buf
	enc      *encoder    // holds the batch's geometry blobs
	err      error
}

func newBatch(rows, width int) *batch {
	return &batch{args: make([]any, rows*width), has: make([]bool, rows), bound: make([]orb.Bound, rows),
		ends: make([]int, rows), enc: newEncoder()}
}

// fill encodes features first … first+n-1 of l.
func (b *batch) fill(l layer, width int) {
	b.err = nil
	b.enc.buf.Reset()
	for k := 0; k < b.n; k++ {
		i := b.first + k
		row := b.args[k*width : (k+1)*width]
		row[0] = int64(i + 1)
		row[1] = nil
		g := l.row(i, row[2:])
		b.has[k] = g != nil && !isEmpty(g)
		if b.has[k] {
			bound, err := b.enc.appendGeometry(g, srsWGS84)
			if err != nil {
				b.err = fmt.Errorf("feature %d: %w", i+1, err)
				return
			}
			b.bound[k] = bound
		}
		b.ends[k] = b.enc.buf.Len()
	}
	// The buffer may have moved while growing: slice it once it is whole.
	blobs := b.enc.buf.Bytes()
	start := 0
	for k := 0; k < b.n; k++ {
		if b.has[k] {
			b.args[k*width+1] = blobs[start:b.ends[k]:b.ends[k]]
		}
		start = b.ends[k]
	}
}

// encodeRows encodes l's features in batches of up to maxRowsPerInsert on
// w.workers goroutines and hands the batches to use in order, on the
// calling goroutine. Worker j encodes batches j, j+workers, …, each a few
// batches ahead of use at most, reusing the batches use is done with.
func (w *writer) encodeRows(l layer, width int, use func(*batch) error) error {
	rows := max(1, min(maxRowsPerInsert, l.n))
	nb := (l.n + rows - 1) / rows
	if nb == 0 {
		return nil
	}
	workers := max(1, min(w.workers, nb))
	const ahead = 3 // batches per worker
	stop := make(chan struct{})
	out := make([]chan *batch, workers)
	free := make([]chan *batch, workers)
	var wg sync.WaitGroup
	for j := range workers {
		out[j] = make(chan *batch, ahead)
		free[j] = make(chan *batch, ahead)
		for range ahead {
			free[j] <- newBatch(rows, width)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := j; k < nb; k += workers {
				var b *batch
				select {
				case b = <-free[j]:
				case <-stop:
					return
				}
				b.first, b.n = k*rows, min(rows, l.n-k*rows)
				b.fill(l, width)
				select {
				case out[j] <- b:
				case <-stop:
					return
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for k := range nb {
		b := <-out[k%workers]
		if b.err != nil {
			return b.err
		}
		if err := use(b); err != nil {
			return err
		}
		free[k%workers] <- b
	}
	return nil
}

// inserter inserts rows into one table, maxRowsPerInsert rows a statement.
// It talks to the driver directly, through sql.Conn.Raw on the connection
// that holds the transaction: database/sql would check and convert every
// value and allocate for every call, which cost about a tenth of the time
// of a large write. The values must therefore be the driver's own types:
// int64, float64, string, []byte or nil.
type inserter struct {
	w     *writer
	table string
	cols  []string
	full  driver.Stmt // the maxRowsPerInsert-row statement, prepared on first use
	nv    []driver.NamedValue
}

func (w *writer) inserter(table string, cols []string) *inserter {
	return &inserter{w: w, table: table, cols: cols}
}

func (in *inserter) sql(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(quoteID(in.table))
	b.WriteString(" (")
	for i, c := range in.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteID(c))
	}
	b.WriteString(") VALUES ")
	row := "(?" + strings.Repeat(",?", len(in.cols)-1) + ")"
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// insert inserts len(args)/len(cols) rows, whose values are back to back
// in args.
func (in *inserter) insert(args []any) error {
	width := len(in.cols)
	if len(args)%width != 0 {
		return fmt.Errorf("%d values for rows of %d", len(args), width)
	}
	return in.w.conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare", dc)
		}
		for len(args) > 0 {
			rows := min(len(args)/width, maxRowsPerInsert)
			st := in.full
			if st == nil || rows < maxRowsPerInsert {
				s, err := prep.PrepareContext(in.w.ctx, in.sql(rows))
				if err != nil {
					return err
				}
				if rows == maxRowsPerInsert {
					in.full = s
				} else {
					defer s.Close() // a shorter last run: once per insert
				}
				st = s
			}
			exec, ok := st.(driver.StmtExecContext)
			if !ok {
				return fmt.Errorf("driver statement %T cannot execute", st)
			}
			in.nv = in.nv[:0]
			for i, a := range args[:rows*width] {
				in.nv = append(in.nv, driver.NamedValue{Ordinal: i + 1, Value: a})
			}
			if _, err := exec.ExecContext(in.w.ctx, in.nv); err != nil {
				return err
			}
			args = args[rows*width:]
		}
		return nil
	})
}

func (in *inserter) close() {
	if in.full != nil {
		in.w.conn.Raw(func(any) error { return in.full.Close() })
		in.full = nil
	}
}

// rtree fills the R-tree virtual table rt with the features' boxes by
// writing its three shadow tables directly (the format of SQLite's
// ext/rtree/rtree.c, as GDAL's bulk loader writes it too): %_node holds
// the packed nodes as blobs, %_parent each non-root node's parent, and
// %_rowid each feature's leaf. Inserting through the virtual table instead
// would descend, rewrite and split nodes for every feature, which took
// half of the time of writing a large layer. Node 1, the empty root that
// CREATE VIRTUAL TABLE made, is replaced; its length gives the node size
// SQLite chose for this page size.
func (w *writer) rtree(rt string, cells []rtreeCell) error {
	if len(cells) == 0 {
		return nil
	}
	nodeTable, parentTable, rowidTable := rt+"_node", rt+"_parent", rt+"_rowid"
	var size int
	if err := w.tx.QueryRowContext(w.ctx, "SELECT length(data) FROM "+quoteID(nodeTable)+" WHERE nodeno = 1").Scan(&size); err != nil {
		return err
	}
	capacity := (size - 4) / rtreeCellBytes
	if capacity < 2 {
		return fmt.Errorf("r-tree node of %d bytes", size)
	}
	maxID := int64(0)
	for _, c := range cells {
		maxID = max(maxID, c.id)
	}
	nodes, depth := packRtree(cells, capacity)
	if err := w.exec("DELETE FROM " + quoteID(nodeTable)); err != nil {
		return err
	}
	// Node blobs, back to back in one buffer, maxRowsPerInsert at a time.
	ins := w.inserter(nodeTable, []string{"nodeno", "data"})
	defer ins.close()
	buf := make([]byte, 0, maxRowsPerInsert*size)
	args := make([]any, 0, 2*maxRowsPerInsert)
	for k := 0; k < len(nodes); k += maxRowsPerInsert {
		buf, args = buf[:0], args[:0]
		part := nodes[k:min(k+maxRowsPerInsert, len(nodes))]
		for _, n := range part {
			buf = appendNodeBlob(buf, n, depth, size)
		}
		for i, n := range part {
			args = append(args, n.no, buf[i*size:(i+1)*size:(i+1)*size])
		}
		if err := ins.insert(args); err != nil {
			return err
		}
	}
	args = args[:0]
	for _, n := range nodes {
		if n.parent != 0 {
			args = append(args, n.no, n.parent)
		}
	}
	pins := w.inserter(parentTable, []string{"nodeno", "parentnode"})
	defer pins.close()
	if err := pins.insert(args); err != nil {
		return err
	}
	// Each feature's leaf, in id order so that the table grows at its end.
	leaf := make([]int64, maxID+1)
	for _, n := range nodes {
		if n.leaf {
			for _, c := range n.cells {
				leaf[c.id] = n.no
			}
		}
	}
	args = args[:0]
	for id, no := range leaf {
		if no != 0 {
			args = append(args, int64(id), no)
		}
	}
	rins := w.inserter(rowidTable, []string{"rowid", "nodeno"})
	defer rins.close()
	return rins.insert(args)
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

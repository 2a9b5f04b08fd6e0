package format

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage/crs"
)

// csvTable is a CSV file read whole: the header, and each data row with the
// 1-based line of the file it starts on (header = line 1 unless blank lines
// precede it).
type csvTable struct {
	path       string
	header     []string
	headerLine int
	rows       [][]string
	lines      []int
	// decimalComma: the delimiter is not a comma, so a number may be
	// written with a decimal comma ("121,4737"), as spreadsheets in many
	// locales write them.
	decimalComma bool
}

// readCSVTable parses an input as CSV with a header row. The delimiter is
// the one an Excel "sep=" line names, else the one of comma, semicolon and
// tab the header line has most of outside quotes (a comma on a tie;
// spreadsheets in many locales write ';'). A large file without quotes
// (where every line is a record) is parsed on every core.
func readCSVTable(in *input) (*csvTable, error) {
	comma := in.comma
	if comma == 0 {
		comma = sniffDelimiter(in.data)
	}
	var t *csvTable
	var err error
	if len(in.data) >= parallelMinBytes && runtime.GOMAXPROCS(0) > 1 && bytes.IndexByte(in.data, '"') < 0 {
		t, err = readCSVTableParallel(in.path, in.data, comma)
	} else {
		t, err = readCSVTableSequential(in.path, in.data, comma)
	}
	if err != nil {
		return nil, err
	}
	t.decimalComma = comma != ','
	return t, nil
}

// readCSVTableSequential parses data on one goroutine, quotes and all.
func readCSVTableSequential(path string, data []byte, comma rune) (*csvTable, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.FieldsPerRecord = -1
	t := &csvTable{path: path}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, lineErr(path, pe.Line, "column %d: malformed CSV: %w", pe.Column, pe.Err)
			}
			return nil, fileErr(path, "%w", err)
		}
		line, _ := r.FieldPos(0)
		if t.header == nil {
			for i := range rec {
				rec[i] = strings.TrimSpace(rec[i])
			}
			t.header, t.headerLine = rec, line
			continue
		}
		if len(rec) != len(t.header) {
			return nil, lineErr(path, line, "row has %d fields, the header has %d", len(rec), len(t.header))
		}
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
	}
	if t.header == nil {
		return nil, fileErr(path, "empty file: no header row")
	}
	if len(t.rows) == 0 {
		return nil, lineErr(path, t.headerLine, "no data rows after the header")
	}
	return t, nil
}

// parallelMinBytes is the size from which a CSV file is parsed in parallel.
const parallelMinBytes = 1 << 20

// readCSVTableParallel parses a CSV file that holds no quote character, so
// that every line break ends a record: the header is read first, the rest
// is cut at line breaks into one part per core, and each part is parsed by
// a csv.Reader of its own, with line numbers shifted by the lines before
// it. Errors are those a sequential reading reports first.
func readCSVTableParallel(path string, data []byte, comma rune) (*csvTable, error) {
	t := &csvTable{path: path}
	hr := csv.NewReader(bytes.NewReader(data))
	hr.Comma, hr.FieldsPerRecord = comma, -1
	rec, err := hr.Read()
	if err == io.EOF {
		return nil, fileErr(path, "empty file: no header row")
	}
	if err != nil {
		return nil, fileErr(path, "%w", err)
	}
	t.headerLine, _ = hr.FieldPos(0)
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	t.header = rec
	off := int(hr.InputOffset())
	parts := runtime.GOMAXPROCS(0)
	// Cut points just after a line break, so each part starts a line.
	cuts := []int{off}
	for k := 1; k < parts; k++ {
		c := off + k*(len(data)-off)/parts
		if c < cuts[len(cuts)-1] {
			c = cuts[len(cuts)-1]
		}
		if j := bytes.IndexByte(data[c:], '\n'); j >= 0 {
			c += j + 1
		} else {
			c = len(data)
		}
		cuts = append(cuts, c)
	}
	cuts = append(cuts, len(data))
	type part struct {
		rows  [][]string
		lines []int
		err   error
	}
	res := make([]part, parts)
	var wg sync.WaitGroup
	for k := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk := data[cuts[k]:cuts[k+1]]
			base := bytes.Count(data[:cuts[k]], []byte{'\n'}) // lines before the part
			r := csv.NewReader(bytes.NewReader(chunk))
			r.Comma, r.FieldsPerRecord, r.ReuseRecord = comma, -1, false
			p := &res[k]
			for {
				rec, err := r.Read()
				if err == io.EOF {
					return
				}
				if err != nil {
					var pe *csv.ParseError
					if errors.As(err, &pe) {
						p.err = lineErr(path, base+pe.Line, "column %d: malformed CSV: %w", pe.Column, pe.Err)
					} else {
						p.err = fileErr(path, "%w", err)
					}
					return
				}
				line, _ := r.FieldPos(0)
				line += base
				if len(rec) != len(t.header) {
					p.err = lineErr(path, line, "row has %d fields, the header has %d", len(rec), len(t.header))
					return
				}
				p.rows = append(p.rows, rec)
				p.lines = append(p.lines, line)
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, p := range res {
		if p.err != nil {
			return nil, p.err
		}
		n += len(p.rows)
	}
	t.rows, t.lines = make([][]string, 0, n), make([]int, 0, n)
	for _, p := range res {
		t.rows = append(t.rows, p.rows...)
		t.lines = append(t.lines, p.lines...)
	}
	if len(t.rows) == 0 {
		return nil, lineErr(path, t.headerLine, "no data rows after the header")
	}
	return t, nil
}

func sniffDelimiter(data []byte) rune {
	first := bytes.TrimLeft(data, "\r\n")
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	var n [3]int // ',', ';', '\t' outside quotes
	quoted := false
	for _, c := range first {
		switch c {
		case '"':
			quoted = !quoted
		case ',', ';', '\t':
			if !quoted {
				n[strings.IndexByte(",;\t", c)]++
			}
		}
	}
	best := 0
	for k := 1; k < 3; k++ {
		if n[k] > n[best] {
			best = k
		}
	}
	return rune(",;\t"[best])
}

// column finds a column by the name given in an option (explicit) or by the
// accepted names. A column that is required and absent, or named explicitly
// and absent, is an error listing the columns found and the names accepted.
// It returns -1 for an optional column that is absent.
func (t *csvTable) column(what, explicit string, accepted []string, required bool) (int, error) {
	i := pickName(t.header, explicit, accepted)
	switch {
	case i >= 0:
		if j := t.duplicateOf(i); j >= 0 {
			return -1, lineErr(t.path, t.headerLine, "%s column %q appears twice (columns %d and %d); name the one to use", what, t.header[i], i+1, j+1)
		}
		return i, nil
	case explicit != "":
		return -1, lineErr(t.path, t.headerLine, "no %s column named %q; columns found: %s", what, explicit, quoteList(t.header))
	case required:
		return -1, lineErr(t.path, t.headerLine, "no %s column; columns found: %s; accepted names: %s (or name the column in the options)", what, quoteList(t.header), strings.Join(accepted, ", "))
	}
	return -1, nil
}

// duplicateOf returns another column with the same name as column i
// (case-insensitively), or -1.
func (t *csvTable) duplicateOf(i int) int {
	for j, h := range t.header {
		if j != i && strings.EqualFold(h, t.header[i]) {
			return j
		}
	}
	return -1
}

// filter prepares a Where filter on this table; nil when there is none.
func (t *csvTable) filter(expr string) (*csvFilter, error) {
	w, err := parseWhere(t.path, expr)
	if err != nil || w == nil {
		return nil, err
	}
	col := matchName(t.header, w.col)
	if col < 0 {
		return nil, lineErr(t.path, t.headerLine, "where %q: no column %q; columns found: %s", w.raw, w.col, quoteList(t.header))
	}
	return &csvFilter{w: w, col: col}, nil
}

type csvFilter struct {
	w   *where
	col int
}

// keep tells whether row i passes the filter (always, without one).
func (t *csvTable) keep(f *csvFilter, i int) (bool, error) {
	if f == nil {
		return true, nil
	}
	v := t.rows[i][f.col]
	if t.decimalComma {
		v = fromDecimalComma(v)
	}
	ok, err := f.w.match(v)
	if err != nil {
		return false, lineErr(t.path, t.lines[i], "%w", err)
	}
	return ok, nil
}

// number parses a value of the table: with a delimiter other than a comma,
// a decimal comma is read as a decimal point ("121,4737").
func (t *csvTable) number(s, what string) (float64, error) {
	if t.decimalComma {
		s = fromDecimalComma(s)
	}
	return parseNumber(s, what)
}

// fromDecimalComma turns "121,4737" into "121.4737": a value with one
// comma and no point that reads as a number so; anything else is left as
// it is.
func fromDecimalComma(s string) string {
	i := strings.IndexByte(s, ',')
	if i < 0 || strings.IndexByte(s[i+1:], ',') >= 0 || strings.IndexByte(s, '.') >= 0 {
		return s
	}
	d := s[:i] + "." + s[i+1:]
	if _, err := strconv.ParseFloat(strings.TrimSpace(d), 64); err != nil {
		return s
	}
	return d
}

// xy parses row i's coordinate pair, with the message of a bad value.
func (t *csvTable) xy(i, lonCol, latCol int) (x, y float64, err error) {
	x, err = t.number(t.rows[i][lonCol], "")
	if err != nil {
		// The message is built only for a bad value: formatting it for
		// every row costs a quarter of reading a large table.
		_, err = t.number(t.rows[i][lonCol], fmt.Sprintf("longitude (column %q)", t.header[lonCol]))
		return 0, 0, lineErr(t.path, t.lines[i], "%w", err)
	}
	y, err = t.number(t.rows[i][latCol], "")
	if err != nil {
		_, err = t.number(t.rows[i][latCol], fmt.Sprintf("latitude (column %q)", t.header[latCol]))
		return 0, 0, lineErr(t.path, t.lines[i], "%w", err)
	}
	return x, y, nil
}

// lonLat parses, converts and checks row i's position as a point.
func (t *csvTable) lonLat(i, lonCol, latCol int, pl *placer) (orb.Point, error) {
	x, y, err := t.xy(i, lonCol, latCol)
	if err != nil {
		return orb.Point{}, err
	}
	p, err := pl.point(x, y)
	if err != nil {
		return orb.Point{}, lineErr(t.path, t.lines[i], "%w", err)
	}
	return p, nil
}

// placer sees every row whose position parses, so that its messages speak
// of the whole file (a swap, metres) and a CRS is applied where given.
func (t *csvTable) placer(lonCol, latCol int, tr crs.Transform, near orb.Bound) *placer {
	pl := newPlacer(tr, near)
	for _, row := range t.rows {
		x, err1 := t.number(row[lonCol], "")
		y, err2 := t.number(row[latCol], "")
		if err1 == nil && err2 == nil {
			pl.see(x, y)
		}
	}
	return &pl
}

package format

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
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
}

// readCSVTable parses data as CSV with a header row. The delimiter is a
// comma, or a semicolon or tab when the first line has one of those and no
// comma (spreadsheets in many locales write ';'). A large file without
// quotes (where every line is a record) is parsed on every core.
func readCSVTable(path string, data []byte) (*csvTable, error) {
	comma := sniffDelimiter(data)
	if len(data) >= parallelMinBytes && runtime.GOMAXPROCS(0) > 1 && bytes.IndexByte(data, '"') < 0 {
		return readCSVTableParallel(path, data, comma)
	}
	return readCSVTableSequential(path, data, comma)
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
	first := data
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		first = data[:i]
	}
	if bytes.IndexByte(first, ',') >= 0 {
		return ','
	}
	if bytes.IndexByte(first, ';') >= 0 {
		return ';'
	}
	if bytes.IndexByte(first, '\t') >= 0 {
		return '\t'
	}
	return ','
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
	ok, err := f.w.match(t.rows[i][f.col])
	if err != nil {
		return false, lineErr(t.path, t.lines[i], "%w", err)
	}
	return ok, nil
}

// lonLat parses and checks row i's position.
func (t *csvTable) lonLat(i, lonCol, latCol int, sw swapSignal) (lon, lat float64, err error) {
	lon, err = parseNumber(t.rows[i][lonCol], "")
	if err != nil {
		// The message is built only for a bad value: formatting it for
		// every row costs a quarter of reading a large table.
		_, err = parseNumber(t.rows[i][lonCol], fmt.Sprintf("longitude (column %q)", t.header[lonCol]))
		return 0, 0, lineErr(t.path, t.lines[i], "%w", err)
	}
	lat, err = parseNumber(t.rows[i][latCol], "")
	if err != nil {
		_, err = parseNumber(t.rows[i][latCol], fmt.Sprintf("latitude (column %q)", t.header[latCol]))
		return 0, 0, lineErr(t.path, t.lines[i], "%w", err)
	}
	if msg := sw.check(lon, lat); msg != "" {
		return 0, 0, lineErr(t.path, t.lines[i], "%s", msg)
	}
	return lon, lat, nil
}

// swapSignal scans every row whose position parses, so that a swap is
// reported only when the whole file reads as swapped.
func (t *csvTable) swapSignal(lonCol, latCol int) swapSignal {
	sw := newSwapSignal()
	for _, row := range t.rows {
		lon, err1 := parseNumber(row[lonCol], "")
		lat, err2 := parseNumber(row[latCol], "")
		if err1 == nil && err2 == nil {
			sw.see(lon, lat)
		}
	}
	return sw
}

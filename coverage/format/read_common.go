package format

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// This file holds what the CSV and GeoJSON readers share: loading and
// sniffing a file, error shapes, number and coordinate checks, column name
// detection and the Where filter.

// Accepted column (CSV) or property (GeoJSON) names, matched
// case-insensitively, in order of preference.
var (
	lonNames    = []string{"lon", "lng", "long", "longitude", "x"}
	latNames    = []string{"lat", "latitude", "y"}
	idNames     = []string{"id"}
	nameNames   = []string{"name", "stop_name", "stopname"}
	tierNames   = []string{"tier"}
	popNames    = []string{"population", "pop", "pop_total", "total", "count", "value"}
	h3Names     = []string{"h3"}
	areaNames   = []string{"name", "subdistrict", "district"}
	parentNames = []string{"parent", "district"}
)

// loadInput reads a whole input file and tells whether it is GeoJSON: its
// first byte that is not white space (after an optional UTF-8 byte order
// mark) is '{'. Anything else is taken as CSV.
func loadInput(path string) (data []byte, isJSON bool, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("format: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 {
		return nil, false, fileErr(path, "empty file")
	}
	return data, t[0] == '{', nil
}

func fileErr(path, format string, args ...any) error {
	return fmt.Errorf("format: %s: "+format, append([]any{path}, args...)...)
}

func lineErr(path string, line int, format string, args ...any) error {
	return fmt.Errorf("format: %s:%d: "+format, append([]any{path, line}, args...)...)
}

// featureErr names a GeoJSON feature by its 1-based number in file order.
func featureErr(path string, n int, format string, args ...any) error {
	return fmt.Errorf("format: %s: feature %d: "+format, append([]any{path, n}, args...)...)
}

// parseNumber parses a finite decimal number, surrounding spaces allowed.
// what names the value in the message ("population", "longitude").
func parseNumber(s, what string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty %s", what)
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("%s %q is out of range", what, t)
		}
		return 0, fmt.Errorf("%s %q is not a number", what, t)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s %q is not a finite number", what, t)
	}
	return v, nil
}

// swapSignal tracks, over a whole file, whether latitude and longitude are
// evidently swapped: every position would be valid with the two exchanged,
// and at least half of them have a "latitude" beyond ±90. Only then is a
// latitude beyond ±90 reported as a swap; a stray value in an otherwise sound
// file is reported as what it is, and a file whose values are within range
// both ways is taken as written (there is no guessing which way it is meant).
type swapSignal struct {
	seen, beyond int
	allSwappable bool
}

func newSwapSignal() swapSignal { return swapSignal{allSwappable: true} }

func (s *swapSignal) see(lon, lat float64) {
	s.seen++
	if math.Abs(lat) > 90 {
		s.beyond++
	}
	if !(math.Abs(lon) <= 90 && math.Abs(lat) <= 180) {
		s.allSwappable = false
	}
}

func (s swapSignal) evident() bool {
	return s.allSwappable && s.beyond > 0 && 2*s.beyond >= s.seen
}

// check returns what is wrong with a position, or "" when it is a valid
// WGS-84 longitude and latitude.
func (s swapSignal) check(lon, lat float64) string {
	if math.Abs(lat) > 90 {
		if s.evident() {
			return fmt.Sprintf("latitude %v outside ±90 while longitude %v is within it: latitude and longitude look swapped", lat, lon)
		}
		return fmt.Sprintf("latitude %v outside ±90", lat)
	}
	if math.Abs(lon) > 180 {
		return fmt.Sprintf("longitude %v outside ±180", lon)
	}
	return ""
}

// pickName returns the entry of have that matches explicit, or else the
// first of accepted (in order of preference), comparing case-insensitively
// and preferring an exact match; -1 when none matches.
func pickName(have []string, explicit string, accepted []string) int {
	if explicit != "" {
		return matchName(have, explicit)
	}
	for _, a := range accepted {
		if i := matchName(have, a); i >= 0 {
			return i
		}
	}
	return -1
}

func matchName(have []string, name string) int {
	for i, h := range have {
		if h == name {
			return i
		}
	}
	for i, h := range have {
		if strings.EqualFold(h, name) {
			return i
		}
	}
	return -1
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// sortedKeys lists a set of property names for messages.
func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// where is a parsed row filter: COL>NUM, COL>=NUM, COL<NUM, COL<=NUM,
// COL=TEXT, COL!=TEXT. Numeric comparisons skip rows whose value is empty
// and reject values that are not numbers. = and != compare as numbers when
// both sides are numbers (so tier=1 matches "1.0"), otherwise as text with
// surrounding spaces trimmed; an empty or absent value is the empty text.
type where struct {
	raw   string
	col   string
	op    string
	text  string
	num   float64
	isNum bool
}

var whereOps = []string{">=", "<=", "!=", "==", ">", "<", "="}

func parseWhere(path, s string) (*where, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	i := strings.IndexAny(s, "<>=!")
	if i < 0 {
		return nil, fileErr(path, "where %q: no comparison; use COL>NUM, COL>=NUM, COL<NUM, COL<=NUM, COL=TEXT or COL!=TEXT", s)
	}
	w := &where{raw: s, col: strings.TrimSpace(s[:i])}
	for _, op := range whereOps {
		if strings.HasPrefix(s[i:], op) {
			w.op = op
			break
		}
	}
	if w.op == "" {
		return nil, fileErr(path, "where %q: %q is not a comparison; use >, >=, <, <=, = or !=", s, s[i:i+1])
	}
	if w.op == "==" {
		w.op = "="
		i++
	}
	w.text = strings.TrimSpace(s[i+len(w.op):])
	if w.col == "" {
		return nil, fileErr(path, "where %q: no column before %q", s, w.op)
	}
	if strings.ContainsAny(w.text, "<>=!") {
		return nil, fileErr(path, "where %q: more than one comparison", s)
	}
	v, err := parseNumber(w.text, "value")
	w.num, w.isNum = v, err == nil
	if (w.op != "=" && w.op != "!=") && !w.isNum {
		return nil, fileErr(path, "where %q: %s needs a finite number after it, got %q", s, w.op, w.text)
	}
	return w, nil
}

// match tells whether a value passes the filter.
func (w *where) match(v string) (bool, error) {
	t := strings.TrimSpace(v)
	switch w.op {
	case "=", "!=":
		eq := t == w.text
		if w.isNum {
			if x, err := strconv.ParseFloat(t, 64); err == nil {
				eq = x == w.num
			}
		}
		return eq == (w.op == "="), nil
	}
	if t == "" {
		return false, nil
	}
	x, err := parseNumber(t, "")
	if err != nil {
		_, err = parseNumber(t, w.col+" value") // the message, only for a bad value
		return false, fmt.Errorf("%w (filtering with where %q)", err, w.raw)
	}
	switch w.op {
	case ">":
		return x > w.num, nil
	case ">=":
		return x >= w.num, nil
	case "<":
		return x < w.num, nil
	default: // "<="
		return x <= w.num, nil
	}
}

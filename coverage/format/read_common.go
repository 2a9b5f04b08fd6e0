package format

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// This file holds what the CSV and GeoJSON readers share: loading and
// sniffing a file, error shapes, number and coordinate checks, column name
// detection and the Where filter.

// Accepted column (CSV) or property (GeoJSON) names, matched
// case-insensitively, in order of preference; Chinese exports name them in
// Chinese (编号 number, 名称 name, 经度/纬度 longitude/latitude, 人口
// population, 层级 tier).
var (
	lonNames    = []string{"lon", "lng", "long", "longitude", "x", "经度"}
	latNames    = []string{"lat", "latitude", "y", "纬度"}
	idNames     = []string{"id", "编号", "序号"}
	nameNames   = []string{"name", "stop_name", "stopname", "名称", "站点名称"}
	tierNames   = []string{"tier", "层级", "级别"}
	popNames    = []string{"population", "pop", "pop_total", "total", "count", "value", "人口", "常住人口"}
	h3Names     = []string{"h3"}
	areaNames   = []string{"name", "subdistrict", "district", "名称", "街道"}
	parentNames = []string{"parent", "district", "上级", "区"}
)

// InputError is every error the readers return about a file's content: it
// names the file and, where it can, the line (CSV) or feature (GeoJSON).
// Its message is "format: PATH:LINE: MSG", "format: PATH: feature N: MSG"
// or "format: PATH: MSG"; a caller that prints its own prefix finds the
// parts with errors.As.
type InputError struct {
	Path    string // the file; for a zip member "archive.zip/member.csv"
	Line    int    // 1-based line of a CSV file, 0 when not about a line
	Feature int    // 1-based feature of a GeoJSON file, 0 when not about one
	Err     error  // what is wrong
}

func (e *InputError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("format: %s:%d: %v", e.Path, e.Line, e.Err)
	case e.Feature > 0:
		return fmt.Sprintf("format: %s: feature %d: %v", e.Path, e.Feature, e.Err)
	}
	return fmt.Sprintf("format: %s: %v", e.Path, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// Warning is something odd in an input that does not stop reading it; the
// readers hand each to the options' Warn function (and never print).
type Warning struct {
	Path    string // the file; for a zip member "archive.zip/member.csv"
	Line    int    // 1-based line of a CSV file, 0 when not about a line
	Feature int    // 1-based feature of a GeoJSON file, 0 when not about one
	Msg     string
}

// String renders the warning as "PATH:LINE: MSG", "PATH: feature N: MSG"
// or "PATH: MSG".
func (w Warning) String() string {
	switch {
	case w.Line > 0:
		return fmt.Sprintf("%s:%d: %s", w.Path, w.Line, w.Msg)
	case w.Feature > 0:
		return fmt.Sprintf("%s: feature %d: %s", w.Path, w.Feature, w.Msg)
	}
	return fmt.Sprintf("%s: %s", w.Path, w.Msg)
}

// warnf hands a warning to warn, when there is one.
func warnf(warn func(Warning), w Warning, format string, args ...any) {
	if warn != nil {
		w.Msg = fmt.Sprintf(format, args...)
		warn(w)
	}
}

func fileErr(path, format string, args ...any) error {
	return &InputError{Path: path, Err: fmt.Errorf(format, args...)}
}

func lineErr(path string, line int, format string, args ...any) error {
	return &InputError{Path: path, Line: line, Err: fmt.Errorf(format, args...)}
}

// featureErr names a GeoJSON feature by its 1-based number in file order.
func featureErr(path string, n int, format string, args ...any) error {
	return &InputError{Path: path, Feature: n, Err: fmt.Errorf(format, args...)}
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

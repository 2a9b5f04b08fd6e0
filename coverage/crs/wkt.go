package crs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// wktNode is one KEYWORD[arg, ...] of a WKT string. Args are string (quoted
// text), wktIdent (bare enumeration such as EAST), float64 or *wktNode.
type wktNode struct {
	key  string // upper case
	args []any
}

type wktIdent string

// FromWKT returns the transform of a CRS described in WKT1 (OGC 01-009, or
// ESRI's dialect) or WKT2 (ISO 19162). An EPSG or ESRI identifier on the CRS
// is used when this package knows it; otherwise the projection method and its
// parameters are read for Transverse Mercator, Mollweide and Web Mercator,
// on a datum within centimetres of WGS-84 (WGS 84, CGCS2000, SIRGAS 2000).
func FromWKT(wkt string) (Transform, error) {
	root, err := parseWKT(wkt)
	if err != nil {
		return nil, err
	}
	// A compound or bound CRS carries the horizontal CRS inside.
	for root.key == "COMPD_CS" || root.key == "COMPOUNDCRS" || root.key == "BOUNDCRS" {
		var inner *wktNode
		for _, a := range root.args {
			if n, ok := a.(*wktNode); ok {
				if n.key == "SOURCECRS" {
					n = n.firstNode()
				}
				if n != nil {
					inner = n
					break
				}
			}
		}
		if inner == nil {
			return nil, fmt.Errorf("crs: WKT %q has no horizontal CRS: %w", root.name(), ErrUnsupported)
		}
		root = inner
	}
	name := root.name()
	if name == "" {
		// WKT requires a name; one without still gets a name in messages.
		name = "unnamed " + root.key
	}
	if auth, code, ok := root.id(); ok && (auth == "EPSG" || auth == "ESRI") {
		if t, err := ByEPSG(code); err == nil {
			return t, nil
		}
	}
	switch root.key {
	case "GEOGCS", "GEOGCRS", "GEODCRS", "GEOGRAPHICCRS", "GEODETICCRS":
		if err := checkDatum(root, name); err != nil {
			return nil, err
		}
		if cs := root.child("CS"); cs != nil && len(cs.args) > 0 {
			if id, ok := cs.args[0].(wktIdent); ok && !strings.EqualFold(string(id), "ellipsoidal") {
				return nil, fmt.Errorf("crs: WKT %q: coordinate system %s is not longitude/latitude: %w", name, id, ErrUnsupported)
			}
		}
		return geographic{name: name}, nil
	case "PROJCS", "PROJCRS", "PROJECTEDCRS":
		return projectedFromWKT(root, name)
	}
	return nil, fmt.Errorf("crs: WKT %q (%s): %w", name, root.key, ErrUnsupported)
}

func projectedFromWKT(root *wktNode, name string) (Transform, error) {
	base := root.findAny("GEOGCS", "BASEGEOGCRS", "BASEGEODCRS")
	if base == nil {
		return nil, fmt.Errorf("crs: WKT %q has no geographic base CRS: %w", name, ErrUnsupported)
	}
	if err := checkDatum(base, name); err != nil {
		return nil, err
	}
	ell := WGS84Ellipsoid
	if sph := base.findAny("SPHEROID", "ELLIPSOID"); sph != nil && len(sph.args) >= 3 {
		a, ok1 := sph.args[1].(float64)
		invf, ok2 := sph.args[2].(float64)
		if ok1 && ok2 && a > 6e6 && a < 7e6 && (invf == 0 || invf > 250) {
			ell = Ellipsoid{A: a, InvF: invf}
		}
	}
	unit := 1.0
	for _, a := range root.args {
		n, ok := a.(*wktNode)
		if !ok {
			continue
		}
		switch n.key {
		case "UNIT", "LENGTHUNIT":
			unit = n.factor()
		case "AXIS": // WKT2 puts the unit on each axis
			if u := n.child("LENGTHUNIT"); u != nil {
				unit = u.factor()
			}
		}
	}
	if cs := root.child("CS"); cs != nil {
		if u := cs.findAny("LENGTHUNIT", "UNIT"); u != nil {
			unit = u.factor()
		}
	}
	if !(unit > 0) || math.IsInf(unit, 0) {
		return nil, fmt.Errorf("crs: WKT %q: bad linear unit: %w", name, ErrUnsupported)
	}
	method := ""
	params := root
	if p := root.child("PROJECTION"); p != nil {
		method = p.name()
	} else if c := root.child("CONVERSION"); c != nil {
		params = c
		if m := c.child("METHOD"); m != nil {
			method = m.name()
		}
	}
	p := map[string]float64{}
	for _, a := range params.args {
		n, ok := a.(*wktNode)
		if !ok || n.key != "PARAMETER" || len(n.args) < 2 {
			continue
		}
		v, ok := n.args[1].(float64)
		if !ok {
			continue
		}
		key := normName(n.name())
		if lu := n.child("LENGTHUNIT"); lu != nil {
			v *= lu.factor()
		} else if strings.HasPrefix(key, "FALSE") {
			v *= unit
		}
		p[key] = v
	}
	get := func(def float64, keys ...string) float64 {
		for _, k := range keys {
			if v, ok := p[k]; ok {
				return v
			}
		}
		return def
	}
	lon0 := get(0, "CENTRALMERIDIAN", "LONGITUDEOFNATURALORIGIN", "LONGITUDEOFORIGIN", "LONGITUDEOFCENTER")
	lat0 := get(0, "LATITUDEOFORIGIN", "LATITUDEOFNATURALORIGIN", "LATITUDEOFCENTER")
	x0 := get(0, "FALSEEASTING")
	y0 := get(0, "FALSENORTHING")
	k0 := get(1, "SCALEFACTOR", "SCALEFACTORATNATURALORIGIN")
	m := normName(method)
	nm := normName(name)
	switch {
	case m == "TRANSVERSEMERCATOR" || m == "GAUSSKRUGER":
		if lat0 != 0 {
			return nil, fmt.Errorf("crs: WKT %q: Transverse Mercator with latitude of origin %g: %w", name, lat0, ErrUnsupported)
		}
		t := newTmerc(name, ell, lon0, k0, x0, y0)
		t.toMetr = unit
		return t, nil
	case m == "MOLLWEIDE" || (m == "" && strings.Contains(nm, "MOLLWEIDE")):
		return mollweide{name: name, r: ell.A, lon0: lon0, x0: x0, y0: y0, toMetr: unit}, nil
	case strings.Contains(m, "PSEUDOMERCATOR") || strings.Contains(m, "AUXILIARYSPHERE") || strings.Contains(m, "POPULARVISUALISATION") ||
		(strings.HasPrefix(m, "MERCATOR") && (strings.Contains(nm, "PSEUDOMERCATOR") || strings.Contains(nm, "WEBMERCATOR"))):
		if lon0 != 0 || x0 != 0 || y0 != 0 || unit != 1 {
			return nil, fmt.Errorf("crs: WKT %q: Web Mercator with non-zero origin or non-metre unit: %w", name, ErrUnsupported)
		}
		return webMercator{name: name}, nil
	}
	if method == "" {
		method = "no method"
	}
	return nil, fmt.Errorf("crs: WKT %q: projection %q: %w", name, method, ErrUnsupported)
}

// checkDatum accepts datums within centimetres of WGS-84; others need a datum
// shift this package does not do.
func checkDatum(n *wktNode, crsName string) error {
	d := n.findAny("DATUM", "GEODETICDATUM", "TRF")
	if d == nil {
		if e := n.child("ENSEMBLE"); e != nil {
			d = e
		}
	}
	if d == nil {
		return fmt.Errorf("crs: WKT %q names no datum: %w", crsName, ErrUnsupported)
	}
	dn := normName(d.name())
	for _, ok := range []string{"WGS1984", "WGS84", "WORLDGEODETICSYSTEM1984", "CHINA2000", "CGCS2000", "CHINAGEODETICCOORDINATESYSTEM2000", "SIRGAS2000", "SISTEMADEREFERENCIAGEOCENTRICOPARALASAMERICAS2000"} {
		if strings.Contains(dn, ok) {
			if pm := n.findAny("PRIMEM", "PRIMEMERIDIAN"); pm != nil && len(pm.args) >= 2 {
				if v, ok := pm.args[1].(float64); ok && v != 0 {
					return fmt.Errorf("crs: WKT %q: prime meridian %g: %w", crsName, v, ErrUnsupported)
				}
			}
			return nil
		}
	}
	return fmt.Errorf("crs: WKT %q: datum %q needs a datum shift: %w", crsName, d.name(), ErrUnsupported)
}

func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case 'Ü':
			r = 'U'
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (n *wktNode) name() string {
	if n == nil || len(n.args) == 0 {
		return ""
	}
	s, _ := n.args[0].(string)
	return s
}

func (n *wktNode) child(key string) *wktNode {
	for _, a := range n.args {
		if c, ok := a.(*wktNode); ok && c.key == key {
			return c
		}
	}
	return nil
}

func (n *wktNode) firstNode() *wktNode {
	for _, a := range n.args {
		if c, ok := a.(*wktNode); ok {
			return c
		}
	}
	return nil
}

// findAny searches depth-first for the first node with one of the keys.
func (n *wktNode) findAny(keys ...string) *wktNode {
	for _, a := range n.args {
		c, ok := a.(*wktNode)
		if !ok {
			continue
		}
		for _, k := range keys {
			if c.key == k {
				return c
			}
		}
		if f := c.findAny(keys...); f != nil {
			return f
		}
	}
	return nil
}

// factor is a UNIT node's conversion factor (second argument).
func (n *wktNode) factor() float64 {
	if len(n.args) >= 2 {
		if v, ok := n.args[1].(float64); ok {
			return v
		}
	}
	return math.NaN()
}

// id returns the CRS's own AUTHORITY (WKT1) or ID (WKT2), not a nested one.
func (n *wktNode) id() (string, int, bool) {
	for _, a := range n.args {
		c, ok := a.(*wktNode)
		if !ok || (c.key != "AUTHORITY" && c.key != "ID") || len(c.args) < 2 {
			continue
		}
		auth, _ := c.args[0].(string)
		var code int
		switch v := c.args[1].(type) {
		case float64:
			code = int(v)
		case string:
			code, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if code != 0 {
			return strings.ToUpper(auth), code, true
		}
	}
	return "", 0, false
}

var errWKT = errors.New("malformed WKT")

// parseWKT parses a WKT string into its node tree. Nesting is limited so a
// hostile definition cannot exhaust the stack.
func parseWKT(s string) (*wktNode, error) {
	p := wktParser{s: s}
	n, err := p.node(0)
	if err != nil {
		return nil, fmt.Errorf("crs: %w at byte %d: %v", errWKT, p.i, err)
	}
	return n, nil
}

type wktParser struct {
	s string
	i int
}

func (p *wktParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\r' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *wktParser) node(depth int) (*wktNode, error) {
	if depth > 64 {
		return nil, errors.New("nested too deeply")
	}
	p.skip()
	start := p.i
	for p.i < len(p.s) && (isIdent(p.s[p.i])) {
		p.i++
	}
	if p.i == start {
		return nil, errors.New("keyword expected")
	}
	n := &wktNode{key: strings.ToUpper(p.s[start:p.i])}
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '[' && p.s[p.i] != '(') {
		return nil, errors.New("'[' expected")
	}
	closer := byte(']')
	if p.s[p.i] == '(' {
		closer = ')'
	}
	p.i++
	for {
		p.skip()
		if p.i >= len(p.s) {
			return nil, errors.New("unexpected end")
		}
		c := p.s[p.i]
		switch {
		case c == closer && len(n.args) == 0:
			p.i++
			return n, nil
		case c == '"':
			p.i++
			var b strings.Builder
			for {
				if p.i >= len(p.s) {
					return nil, errors.New("unterminated string")
				}
				if p.s[p.i] == '"' {
					if p.i+1 < len(p.s) && p.s[p.i+1] == '"' {
						b.WriteByte('"')
						p.i += 2
						continue
					}
					p.i++
					break
				}
				b.WriteByte(p.s[p.i])
				p.i++
			}
			n.args = append(n.args, b.String())
		case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
			start := p.i
			for p.i < len(p.s) && strings.IndexByte("+-.0123456789eE", p.s[p.i]) >= 0 {
				p.i++
			}
			v, err := strconv.ParseFloat(p.s[start:p.i], 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", p.s[start:p.i])
			}
			n.args = append(n.args, v)
		case isIdent(c):
			save := p.i
			for p.i < len(p.s) && isIdent(p.s[p.i]) {
				p.i++
			}
			word := p.s[save:p.i]
			p.skip()
			if p.i < len(p.s) && (p.s[p.i] == '[' || p.s[p.i] == '(') {
				p.i = save
				child, err := p.node(depth + 1)
				if err != nil {
					return nil, err
				}
				n.args = append(n.args, child)
			} else {
				n.args = append(n.args, wktIdent(word))
			}
		default:
			return nil, fmt.Errorf("unexpected %q", c)
		}
		p.skip()
		if p.i >= len(p.s) {
			return nil, errors.New("unexpected end")
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == closer {
			p.i++
			return n, nil
		}
		return nil, fmt.Errorf("',' or '%c' expected", closer)
	}
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

package gpkg

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// GeoPackage binary (spec clause 2.1.3): "GP", version 0, a flags byte, the
// srs_id, an optional envelope, then standard WKB.
const (
	flagLittleEndian = 1 << 0
	flagEnvXY        = 1 << 1 // envelope indicator 1: [minx, maxx, miny, maxy]
	flagEmpty        = 1 << 4
	flagExtended     = 1 << 5
	headerXYLen      = 8 + 4*8
)

// encoder turns orb geometries into GeoPackage binary blobs, reusing one
// buffer so the writer's hot loop allocates little per feature.
type encoder struct {
	buf bytes.Buffer
	enc *wkb.Encoder
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = wkb.NewEncoder(&e.buf).SetByteOrder(binary.LittleEndian)
	return e
}

// encode returns the blob for g in srs and g's bound. The slice is valid
// until the next call.
func (e *encoder) encode(g orb.Geometry, srs int32) ([]byte, orb.Bound, error) {
	e.buf.Reset()
	b, err := e.appendGeometry(g, srs)
	if err != nil {
		return nil, b, err
	}
	return e.buf.Bytes(), b, nil
}

// appendGeometry appends the blob for g in srs to the buffer and returns
// g's bound.
func (e *encoder) appendGeometry(g orb.Geometry, srs int32) (orb.Bound, error) {
	b := g.Bound()
	var h [headerXYLen]byte
	h[0], h[1], h[2] = 'G', 'P', 0
	h[3] = flagLittleEndian | flagEnvXY
	binary.LittleEndian.PutUint32(h[4:], uint32(srs))
	binary.LittleEndian.PutUint64(h[8:], math.Float64bits(b.Min[0]))
	binary.LittleEndian.PutUint64(h[16:], math.Float64bits(b.Max[0]))
	binary.LittleEndian.PutUint64(h[24:], math.Float64bits(b.Min[1]))
	binary.LittleEndian.PutUint64(h[32:], math.Float64bits(b.Max[1]))
	e.buf.Write(h[:])
	return b, e.enc.Encode(g)
}

var errEmptyGeometry = errors.New("empty geometry")

// decodeGeometry parses a GeoPackage binary blob. It never trusts a length
// field beyond len(blob): the envelope size comes from a 3-bit code checked
// against the blob, and orb's WKB decoder caps preallocation and checks
// counts against the bytes left.
func decodeGeometry(blob []byte) (orb.Geometry, int32, error) {
	if len(blob) < 8 || blob[0] != 'G' || blob[1] != 'P' {
		return nil, 0, errors.New("not GeoPackage binary (no 'GP' magic)")
	}
	if blob[2] != 0 {
		return nil, 0, fmt.Errorf("unsupported GeoPackage binary version %d", blob[2])
	}
	flags := blob[3]
	if flags&flagExtended != 0 {
		return nil, 0, errors.New("extended GeoPackage binary geometry is not supported")
	}
	var order binary.ByteOrder = binary.BigEndian
	if flags&flagLittleEndian != 0 {
		order = binary.LittleEndian
	}
	srs := int32(order.Uint32(blob[4:8]))
	var envLen int
	switch (flags >> 1) & 7 {
	case 0:
	case 1:
		envLen = 32
	case 2, 3:
		envLen = 48
	case 4:
		envLen = 64
	default:
		return nil, srs, fmt.Errorf("invalid envelope code %d", (flags>>1)&7)
	}
	if len(blob) < 8+envLen {
		return nil, srs, errors.New("geometry blob shorter than its header")
	}
	if flags&flagEmpty != 0 {
		return nil, srs, errEmptyGeometry
	}
	g, err := wkb.Unmarshal(blob[8+envLen:])
	if err != nil {
		return nil, srs, fmt.Errorf("bad WKB: %w", err)
	}
	if isEmpty(g) {
		return nil, srs, errEmptyGeometry
	}
	return g, srs, nil
}

// isEmpty reports geometries with no coordinates, including the NaN point
// that WKB uses for POINT EMPTY.
func isEmpty(g orb.Geometry) bool {
	switch g := g.(type) {
	case nil:
		return true
	case orb.Point:
		return math.IsNaN(g[0]) || math.IsNaN(g[1])
	case orb.MultiPoint:
		return len(g) == 0
	case orb.LineString:
		return len(g) == 0
	case orb.MultiLineString:
		return len(g) == 0
	case orb.Polygon:
		return len(g) == 0 || len(g[0]) == 0
	case orb.MultiPolygon:
		for _, p := range g {
			if !isEmpty(p) {
				return false
			}
		}
		return true
	case orb.Collection:
		for _, x := range g {
			if !isEmpty(x) {
				return false
			}
		}
		return true
	}
	return false
}

// SQLite's R-tree module stores boxes as float32, rounded outwards
// (rtreeValueDown and rtreeValueUp in ext/rtree/rtree.c): a bound that does
// not convert exactly moves one float32 step further out from the nearest
// float32. The writer packs the index itself, so it rounds the same way
// and the stored boxes equal those an INSERT into the virtual table stores.
func rtreeDown(d float64) float32 {
	f := float32(d)
	if float64(f) > d {
		f = stepOut(f, true)
	}
	return f
}

func rtreeUp(d float64) float32 {
	f := float32(d)
	if float64(f) < d {
		f = stepOut(f, false)
	}
	return f
}

// stepOut moves f one step in its bit pattern towards -∞ (down) or +∞, as
// rtree.c does on the float's bits.
func stepOut(f float32, down bool) float32 {
	x := math.Float32bits(f)
	if (x&0x80000000 != 0) == down {
		x++ // away from zero
	} else {
		x--
	}
	return math.Float32frombits(x)
}

// box32 is an R-tree box as SQLite stores it.
type box32 struct{ minX, maxX, minY, maxY float32 }

func boxOf(b orb.Bound) box32 {
	return box32{rtreeDown(b.Min[0]), rtreeUp(b.Max[0]), rtreeDown(b.Min[1]), rtreeUp(b.Max[1])}
}

func (a box32) union(b box32) box32 {
	return box32{min(a.minX, b.minX), max(a.maxX, b.maxX), min(a.minY, b.minY), max(a.maxY, b.maxY)}
}

// rtreeCell is an entry of an R-tree node: a feature id in a leaf, a child
// node number in a branch.
type rtreeCell struct {
	id  int64
	box box32
}

// rtreeNode is a node of a packed R-tree, numbered as SQLite's %_node table
// numbers it (the root is 1).
type rtreeNode struct {
	no, parent int64 // parent 0 for the root
	leaf       bool
	cells      []rtreeCell
}

// packRtree bulk-loads an R-tree over cells (sort-tile-recursive packing,
// at most capacity cells a node) and returns its nodes root first, each
// level after the one above, and the tree's height above the leaves (0
// when the root is a leaf), which SQLite keeps in the root node's first
// two bytes. cells is reordered. Packing all at once gives fuller,
// less-overlapping nodes than inserting one feature at a time, and costs a
// sort instead of a tree descent and node rewrite per feature.
func packRtree(cells []rtreeCell, capacity int) (nodes []rtreeNode, depth int) {
	if len(cells) == 0 {
		return nil, 0
	}
	var levels [][][]rtreeCell // leaves first; each a list of nodes' cells
	level := cells
	for {
		groups := strGroups(level, capacity)
		levels = append(levels, groups)
		if len(groups) == 1 {
			break
		}
		up := make([]rtreeCell, len(groups))
		for i, g := range groups {
			b := g[0].box
			for _, c := range g[1:] {
				b = b.union(c.box)
			}
			up[i] = rtreeCell{id: int64(i), box: b} // id: index in this level until numbered
		}
		level = up
	}
	// Number the nodes from the root down: the root is 1, and the nodes of
	// each level follow those of the level above in order.
	depth = len(levels) - 1
	first := make([]int64, len(levels)) // number of each level's first node
	next := int64(1)
	for l := depth; l >= 0; l-- {
		first[l] = next
		next += int64(len(levels[l]))
	}
	nodes = make([]rtreeNode, 0, next-1)
	for l := depth; l >= 0; l-- {
		for i, g := range levels[l] {
			n := rtreeNode{no: first[l] + int64(i), leaf: l == 0, cells: g}
			if l > 0 {
				for k := range g {
					g[k].id += first[l-1] // child index → child node number
				}
			}
			nodes = append(nodes, n)
		}
	}
	// Parents: a branch cell names its child.
	byNo := func(no int64) *rtreeNode { return &nodes[no-1] }
	for l := depth; l > 0; l-- {
		for i := range levels[l] {
			p := byNo(first[l] + int64(i))
			for _, c := range p.cells {
				byNo(c.id).parent = p.no
			}
		}
	}
	return nodes, depth
}

// strGroups splits cells into nodes of at most capacity: sorted by the
// boxes' centres in x, cut into vertical strips of about √(nodes) nodes
// each, and each strip sorted in y and cut into nodes.
func strGroups(cells []rtreeCell, capacity int) [][]rtreeCell {
	n := len(cells)
	nodes := (n + capacity - 1) / capacity
	if nodes == 1 {
		return [][]rtreeCell{cells}
	}
	strips := int(math.Ceil(math.Sqrt(float64(nodes))))
	perStrip := ((nodes + strips - 1) / strips) * capacity
	sortCells(cells, false)
	groups := make([][]rtreeCell, 0, nodes+strips)
	for lo := 0; lo < n; lo += perStrip {
		s := cells[lo:min(lo+perStrip, n)]
		sortCells(s, true)
		for k := 0; k < len(s); k += capacity {
			groups = append(groups, s[k:min(k+capacity, len(s)):min(k+capacity, len(s))])
		}
	}
	return groups
}

// sortCells sorts cells by the centre of their boxes in x (byY false) or
// y, then by id.
func sortCells(cells []rtreeCell, byY bool) {
	if byY {
		slices.SortFunc(cells, func(a, b rtreeCell) int {
			if c := cmp.Compare(float64(a.box.minY)+float64(a.box.maxY), float64(b.box.minY)+float64(b.box.maxY)); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		return
	}
	slices.SortFunc(cells, func(a, b rtreeCell) int {
		if c := cmp.Compare(float64(a.box.minX)+float64(a.box.maxX), float64(b.box.minX)+float64(b.box.maxX)); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
}

// rtreeCellBytes is the size of a 2-D cell in a node blob: a 64-bit id and
// four float32.
const rtreeCellBytes = 8 + 4*4

// appendNodeBlob appends n's %_node blob of size bytes: big-endian depth
// (meaningful in the root only), cell count, then each cell's id and
// minx, maxx, miny, maxy, zero-padded to size.
func appendNodeBlob(dst []byte, n rtreeNode, depth, size int) []byte {
	start := len(dst)
	if n.parent != 0 {
		depth = 0
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(depth))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(n.cells)))
	for _, c := range n.cells {
		dst = binary.BigEndian.AppendUint64(dst, uint64(c.id))
		dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(c.box.minX))
		dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(c.box.maxX))
		dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(c.box.minY))
		dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(c.box.maxY))
	}
	for len(dst)-start < size {
		dst = append(dst, 0)
	}
	return dst
}

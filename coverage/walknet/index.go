package walknet

import (
	"math"

	"github.com/paulmach/orb"
)

// indexNodeSize is the fan-out of the packed R-tree.
const indexNodeSize = 16

// boxIndex is a static R-tree packed in one go (the Hilbert-sorted
// "flatbush" layout): the item boxes sorted along the Hilbert curve of
// their centres, then each level's nodes, 16 children each, up to the
// root. Building it is a sort and a linear pass, several times faster
// than inserting items one by one, and it answers from flat arrays. The
// zero value holds nothing.
type boxIndex struct {
	n        int       // items
	boxes    []float64 // minX, minY, maxX, maxY of every entry: items first, then nodes level by level
	ids      []int32   // an item's id, or a node's first child entry
	levelEnd []int     // entries [levelEnd[k-1], levelEnd[k]) are level k; level 0 holds the items
}

// newBoxIndex indexes the items whose boxes are raw: minX, minY, maxX,
// maxY of item i at raw[4i:4i+4]; item i's id is i.
func newBoxIndex(raw []float64) *boxIndex {
	n := len(raw) / 4
	t := &boxIndex{n: n}
	if n == 0 {
		return t
	}
	t.levelEnd = []int{n}
	total := n
	for m := n; ; {
		m = (m + indexNodeSize - 1) / indexNodeSize
		total += m
		t.levelEnd = append(t.levelEnd, total)
		if m == 1 {
			break
		}
	}
	t.boxes = make([]float64, 4*total)
	t.ids = make([]int32, total)

	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := 0; i < len(raw); i += 4 {
		b := raw[i : i+4 : i+4]
		if b[0] < minX {
			minX = b[0]
		}
		if b[1] < minY {
			minY = b[1]
		}
		if b[2] > maxX {
			maxX = b[2]
		}
		if b[3] > maxY {
			maxY = b[3]
		}
	}
	sx, sy := 0.0, 0.0
	if maxX > minX {
		sx = 65535 / (maxX - minX)
	}
	if maxY > minY {
		sy = 65535 / (maxY - minY)
	}
	keys := make([]uint64, n)
	order := make([]int32, n)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b := raw[4*i : 4*i+4 : 4*i+4]
			cx, cy := (b[0]+b[2])/2, (b[1]+b[3])/2
			keys[i] = uint64(hilbert(clampGrid((cx-minX)*sx), clampGrid((cy-minY)*sy)))
			order[i] = int32(i)
		}
	})
	_, order = radixSort(keys, order, 32)
	for k, i := range order {
		src, dst := raw[4*i:4*i+4:4*i+4], t.boxes[4*k:4*k+4:4*k+4]
		dst[0], dst[1], dst[2], dst[3] = src[0], src[1], src[2], src[3]
		t.ids[k] = i
	}

	// Each node's box covers its (up to) 16 children.
	for lv := 1; lv < len(t.levelEnd); lv++ {
		start, end := 0, t.levelEnd[lv-1]
		if lv > 1 {
			start = t.levelEnd[lv-2]
		}
		p := end
		for c := start; c < end; c += indexNodeSize {
			b := t.boxes[4*c : 4*c+4 : 4*c+4]
			x0, y0, x1, y1 := b[0], b[1], b[2], b[3]
			for e := c + 1; e < min(c+indexNodeSize, end); e++ {
				b := t.boxes[4*e : 4*e+4 : 4*e+4]
				x0, y0, x1, y1 = min(x0, b[0]), min(y0, b[1]), max(x1, b[2]), max(y1, b[3])
			}
			t.boxes[4*p], t.boxes[4*p+1], t.boxes[4*p+2], t.boxes[4*p+3] = x0, y0, x1, y1
			t.ids[p] = int32(c)
			p++
		}
	}
	return t
}

// hilbertOrder returns 0..n-1 sorted by the position of pos(i) along a
// Hilbert curve over the index's extent (points outside it are clamped to
// its edge).
func (t *boxIndex) hilbertOrder(n int, pos func(i int) orb.Point) []int32 {
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	lo, hi, ok := t.bounds()
	if !ok || n < 2 {
		return order
	}
	sx, sy := 0.0, 0.0
	if hi[0] > lo[0] {
		sx = 65535 / (hi[0] - lo[0])
	}
	if hi[1] > lo[1] {
		sy = 65535 / (hi[1] - lo[1])
	}
	keys := make([]uint64, n)
	for i := range n {
		p := pos(i)
		keys[i] = uint64(hilbert(clampGrid((p[0]-lo[0])*sx), clampGrid((p[1]-lo[1])*sy)))
	}
	_, order = radixSort(keys, order, 32)
	return order
}

// clampGrid brings x into 0..65535 (NaN to 0).
func clampGrid(x float64) uint32 {
	switch {
	case x > 65535:
		return 65535
	case x > 0:
		return uint32(x)
	}
	return 0
}

// bounds is the box of every item; ok is false when there is none.
func (t *boxIndex) bounds() (min, max [2]float64, ok bool) {
	if t.n == 0 {
		return min, max, false
	}
	r := 4 * (len(t.ids) - 1)
	return [2]float64{t.boxes[r], t.boxes[r+1]}, [2]float64{t.boxes[r+2], t.boxes[r+3]}, true
}

// children is the entry range of node e's children.
func (t *boxIndex) children(e int) (int, int) {
	c := int(t.ids[e])
	for _, end := range t.levelEnd {
		if c < end {
			return c, min(c+indexNodeSize, end)
		}
	}
	return c, c // unreachable for a well-formed index
}

// search calls fn with the id of every item whose box meets the closed box
// [min, max], in no particular order, until fn returns false.
func (t *boxIndex) search(min, max [2]float64, fn func(id int32) bool) {
	if t.n == 0 {
		return
	}
	// A depth-first stack holds at most 16 entries per level (8 levels
	// for 2^31 items).
	var buf [indexNodeSize * 9]int32
	stack := append(buf[:0], int32(len(t.ids)-1))
	for len(stack) > 0 {
		e := int(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		b := t.boxes[4*e : 4*e+4 : 4*e+4]
		if b[0] > max[0] || b[1] > max[1] || b[2] < min[0] || b[3] < min[1] {
			continue
		}
		if e < t.n {
			if !fn(t.ids[e]) {
				return
			}
			continue
		}
		lo, hi := t.children(e)
		for c := lo; c < hi; c++ {
			stack = append(stack, int32(c))
		}
	}
}

// nearby visits items in ascending order of dist: dist gives a node's
// bound from its box (item false) and an item's own distance (item true,
// with its id), and a node's bound must not exceed its items' distances.
// fn is called with each item and its distance until it returns false.
func (t *boxIndex) nearby(dist func(min, max [2]float64, id int32, item bool) float64, fn func(id int32, d float64) bool) {
	if t.n == 0 {
		return
	}
	var h distHeap
	h.push(distEntry{d: 0, e: int32(len(t.ids) - 1)})
	for len(h) > 0 {
		top := h.pop()
		e := int(top.e)
		if e < t.n {
			if !fn(t.ids[e], top.d) {
				return
			}
			continue
		}
		lo, hi := t.children(e)
		for c := lo; c < hi; c++ {
			b := t.boxes[4*c : 4*c+4]
			d := dist([2]float64{b[0], b[1]}, [2]float64{b[2], b[3]}, t.ids[c], c < t.n)
			h.push(distEntry{d: d, e: int32(c)})
		}
	}
}

type distEntry struct {
	d float64
	e int32
}

// distHeap is a binary min-heap on d (ties by entry, so the order of
// visits is fixed).
type distHeap []distEntry

func (h distEntry) less(o distEntry) bool { return h.d < o.d || (h.d == o.d && h.e < o.e) }

func (h *distHeap) push(x distEntry) {
	a := append(*h, x)
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !a[i].less(a[p]) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
	*h = a
}

func (h *distHeap) pop() distEntry {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(a) {
			break
		}
		m := l
		if r := l + 1; r < len(a) && a[r].less(a[l]) {
			m = r
		}
		if !a[m].less(a[i]) {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

// hilbert is the position of (x, y), each below 2^16, along the Hilbert
// curve of order 16 (Warren's branch-free form, as in flatbush).
func hilbert(x, y uint32) uint32 {
	a := x ^ y
	b := 0xFFFF ^ a
	c := 0xFFFF ^ (x | y)
	d := x & (y ^ 0xFFFF)

	A := a | (b >> 1)
	B := (a >> 1) ^ a
	C := ((c >> 1) ^ (b & (d >> 1))) ^ c
	D := ((a & (c >> 1)) ^ (d >> 1)) ^ d

	a, b, c, d = A, B, C, D
	A = (a & (a >> 2)) ^ (b & (b >> 2))
	B = (a & (b >> 2)) ^ (b & ((a ^ b) >> 2))
	C ^= (a & (c >> 2)) ^ (b & (d >> 2))
	D ^= (b & (c >> 2)) ^ ((a ^ b) & (d >> 2))

	a, b, c, d = A, B, C, D
	A = (a & (a >> 4)) ^ (b & (b >> 4))
	B = (a & (b >> 4)) ^ (b & ((a ^ b) >> 4))
	C ^= (a & (c >> 4)) ^ (b & (d >> 4))
	D ^= (b & (c >> 4)) ^ ((a ^ b) & (d >> 4))

	a, b, c, d = A, B, C, D
	C ^= (a & (c >> 8)) ^ (b & (d >> 8))
	D ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8))

	a = C ^ (C >> 1)
	b = D ^ (D >> 1)

	i0 := x ^ y
	i1 := b | (0xFFFF ^ (i0 | a))

	i0 = (i0 | (i0 << 8)) & 0x00FF00FF
	i0 = (i0 | (i0 << 4)) & 0x0F0F0F0F
	i0 = (i0 | (i0 << 2)) & 0x33333333
	i0 = (i0 | (i0 << 1)) & 0x55555555

	i1 = (i1 | (i1 << 8)) & 0x00FF00FF
	i1 = (i1 | (i1 << 4)) & 0x0F0F0F0F
	i1 = (i1 | (i1 << 2)) & 0x33333333
	i1 = (i1 | (i1 << 1)) & 0x55555555

	return (i1 << 1) | i0
}

// radixSort sorts keys, all below 2^bits, ascending, carrying order
// along; equal keys keep their order (stable passes of 11 bits). It
// returns the sorted slices, which are either the arguments or new ones.
func radixSort(keys []uint64, order []int32, bits int) ([]uint64, []int32) {
	const digit = 11
	n := len(keys)
	if n < 2 {
		return keys, order
	}
	k2 := make([]uint64, n)
	o2 := make([]int32, n)
	var count [1 << digit]int
	for shift := 0; shift < bits; shift += digit {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&(1<<digit-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for i, k := range keys {
			d := (k >> shift) & (1<<digit - 1)
			k2[count[d]], o2[count[d]] = k, order[i]
			count[d]++
		}
		keys, k2 = k2, keys
		order, o2 = o2, order
	}
	return keys, order
}

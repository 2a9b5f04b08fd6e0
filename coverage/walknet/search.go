package walknet

import (
	"context"
)

// source is a start of the search: a node reached at distance d from
// station s before the search begins (the station's leg plus the walk along
// its segment to the node).
type source struct {
	v int32
	d float64
	s int32
}

type heapItem struct {
	d float64
	s int32
	v int32
}

// less orders the heap by distance, then by station index, so nodes settle
// with the house tie rule: equal distances go to the lower station index.
func less(a, b heapItem) bool { return a.d < b.d || (a.d == b.d && a.s < b.s) }

// search holds the buffers of one bounded Dijkstra. Marks are generation
// stamps, so a buffer is reused without clearing: dist[v] and lab[v] are
// valid when reached[v] == gen, final when done[v] == gen.
type search struct {
	dist     []float64
	lab      []int32
	reached  []uint32
	done     []uint32
	gen      uint32
	heap     []heapItem
	settled  []int32  // nodes in settling order
	cellMark []uint32 // cells already reported by Within, stamped with gen
}

func newSearch(nodes, cells int) *search {
	return &search{
		dist:     make([]float64, nodes),
		lab:      make([]int32, nodes),
		reached:  make([]uint32, nodes),
		done:     make([]uint32, nodes),
		cellMark: make([]uint32, cells),
	}
}

func (q *search) next() {
	q.gen++
	if q.gen == 0 { // wrapped: clear the stamps once every 2^32 searches
		clear(q.reached)
		clear(q.done)
		clear(q.cellMark)
		q.gen = 1
	}
	q.heap = q.heap[:0]
	q.settled = q.settled[:0]
}

// isDone reports whether v was settled by the last run, and its distance
// and station.
func (q *search) isDone(v int32) (float64, int32, bool) {
	if q.done[v] != q.gen {
		return 0, -1, false
	}
	return q.dist[v], q.lab[v], true
}

func (q *search) push(it heapItem) {
	h := append(q.heap, it)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	q.heap = h
}

func (q *search) pop() heapItem {
	h := q.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) {
			m = r
		}
		if !less(h[m], h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	q.heap = h
	return top
}

func (q *search) relax(v int32, d float64, s int32) {
	if q.reached[v] == q.gen && (d > q.dist[v] || (d == q.dist[v] && s >= q.lab[v])) {
		return
	}
	q.reached[v] = q.gen
	q.dist[v], q.lab[v] = d, s
	q.push(heapItem{d: d, s: s, v: v})
}

// run settles every node within limit metres of the sources, each with its
// nearest source's station.
func (q *search) run(ctx context.Context, g *Graph, sources []source, limit float64) error {
	q.next()
	for _, src := range sources {
		if src.d <= limit {
			q.relax(src.v, src.d, src.s)
		}
	}
	pops := 0
	for len(q.heap) > 0 {
		it := q.pop()
		v := it.v
		if q.done[v] == q.gen || it.d != q.dist[v] || it.s != q.lab[v] {
			continue // stale entry
		}
		if it.d > limit {
			break
		}
		q.done[v] = q.gen
		q.settled = append(q.settled, v)
		if pops++; pops&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		for k := g.off[v]; k < g.off[v+1]; k++ {
			w := g.adjNode[k]
			if q.done[w] == q.gen {
				continue
			}
			q.relax(w, it.d+g.segLen[g.adjSeg[k]], it.s)
		}
	}
	return nil
}

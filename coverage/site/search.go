package site

import (
	"cmp"
	"container/heap"
	"context"
	"slices"

	"github.com/walkshed/walkshed/coverage"
)

// Tie rule, everywhere in this package: among equal gains the candidate with
// the lower index in Problem.Sites wins; among equal swap improvements, the
// entering candidate met first in the scan order (larger static weight, then
// lower index) and, for it, the leaving site with the lower index.

// state is a set of chosen sites with, per demand, how many chosen sites
// cover it and the XOR of their indices (the owner when the count is 1), and
// per chosen site the weight it alone covers (what removing it loses).
type state struct {
	p      *Problem
	cnt    []int32
	owner  []int32
	loss   []float64
	in     []bool
	chosen []int32 // in order of addition
	value  float64 // newly covered weight, kept incrementally
}

func newState(p *Problem) *state {
	return &state{
		p:     p,
		cnt:   make([]int32, len(p.Weight)),
		owner: make([]int32, len(p.Weight)),
		loss:  make([]float64, len(p.Sites)),
		in:    make([]bool, len(p.Sites)),
	}
}

// gain is the weight site j would newly cover. The sum runs over the set in
// ascending order, so it is a deterministic function of the state, and
// (all weights being non-negative, rounding monotone) never exceeds an
// earlier gain of j: stale gains stay upper bounds, as lazy greedy needs.
func (s *state) gain(j int) float64 {
	g := 0.0
	for _, i := range s.p.Set(j) {
		if s.cnt[i] == 0 {
			g += s.p.Weight[i]
		}
	}
	return g
}

func (s *state) add(j int) {
	for _, i := range s.p.Set(j) {
		w := s.p.Weight[i]
		switch s.cnt[i] {
		case 0:
			s.loss[j] += w
			s.value += w
		case 1:
			s.loss[s.owner[i]] -= w
		}
		s.cnt[i]++
		s.owner[i] ^= int32(j)
	}
	s.in[j] = true
	s.chosen = append(s.chosen, int32(j))
}

func (s *state) remove(j int) {
	for _, i := range s.p.Set(j) {
		w := s.p.Weight[i]
		s.cnt[i]--
		s.owner[i] ^= int32(j)
		switch s.cnt[i] {
		case 0:
			s.value -= w
		case 1:
			s.loss[s.owner[i]] += w
		}
	}
	s.loss[j] = 0
	s.in[j] = false
	k := slices.Index(s.chosen, int32(j))
	s.chosen = slices.Delete(s.chosen, k, k+1)
}

// exactValue recomputes the newly covered weight in demand order, free of
// the drift of incremental updates.
func (s *state) exactValue() float64 {
	v := 0.0
	for i, c := range s.cnt {
		if c > 0 {
			v += s.p.Weight[i]
		}
	}
	return v
}

// spacing answers whether a candidate keeps the minimum distance to the
// chosen sites.
type spacing struct {
	p   *Problem
	min coverage.Meters
}

func (sp spacing) active() bool { return sp.min > 0 }

// conflicts returns the chosen sites closer than the minimum to j, skipping
// site skip; it stops after two.
func (sp spacing) conflicts(s *state, j int, skip int, buf []int32) []int32 {
	buf = buf[:0]
	if !sp.active() {
		return buf
	}
	pj := sp.p.Sites[j].Pos
	for _, c := range s.chosen {
		if int(c) == skip {
			continue
		}
		if coverage.Distance(pj, sp.p.Sites[c].Pos) < sp.min {
			buf = append(buf, c)
			if len(buf) == 2 {
				break
			}
		}
	}
	return buf
}

// gainItem is a lazy-greedy queue entry: a stale (upper-bound) gain.
type gainItem struct {
	gain float64
	j    int32
}

type gainHeap []gainItem

func (h gainHeap) Len() int { return len(h) }
func (h gainHeap) Less(a, b int) bool {
	return h[a].gain > h[b].gain || (h[a].gain == h[b].gain && h[a].j < h[b].j)
}
func (h gainHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *gainHeap) Push(x any)   { *h = append(*h, x.(gainItem)) }
func (h *gainHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// greedy adds sites by largest marginal gain (ties: lower index) until k
// sites are chosen, the newly covered weight reaches stop, or no site adds
// anything. Lazy evaluation: a popped entry whose recomputed gain still
// beats the next entry's stale gain (which bounds that entry's true gain)
// is the true best, so the result equals plain greedy's.
func (s *state) greedy(ctx context.Context, k int, stop float64, sp spacing, static []float64) error {
	h := make(gainHeap, 0, len(s.p.Sites))
	for j := range s.p.Sites {
		if !s.in[j] {
			h = append(h, gainItem{static[j], int32(j)})
		}
	}
	heap.Init(&h)
	var buf []int32
	for len(s.chosen) < k && s.value < stop && h.Len() > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		top := heap.Pop(&h).(gainItem)
		j := int(top.j)
		if sp.active() && len(sp.conflicts(s, j, -1, buf)) > 0 {
			continue // conflicts only grow while adding: drop for good
		}
		g := s.gain(j)
		if g <= 0 {
			continue
		}
		if h.Len() > 0 {
			nx := h[0]
			if g < nx.gain || (g == nx.gain && top.j > nx.j) {
				heap.Push(&h, gainItem{g, top.j})
				continue
			}
		}
		s.add(j)
	}
	return nil
}

// swapSearch applies improving 1-for-1 swaps (one chosen site out, one
// candidate in) until no single swap improves the newly covered weight by
// more than tol. Candidates are scanned in order of static weight (the
// weight of their whole set), largest first: a swap bringing in j gains at
// most static[j] minus the smallest loss among chosen sites, so the scan of
// a pass stops there. For each entering j the best leaving site is taken
// (ties: lower index), and the swap is applied at once (first improvement).
// It returns the number of swaps made.
func (s *state) swapSearch(ctx context.Context, order []int32, static []float64, tol float64, sp spacing, maxSwaps int) (int, error) {
	n := len(s.p.Sites)
	extra := make([]float64, n)
	touched := make([]int32, 0, 64)
	mark := make([]bool, n)
	var byLoss []int32
	var buf []int32
	swaps := 0
	sortByLoss := func() {
		byLoss = append(byLoss[:0], s.chosen...)
		slices.SortFunc(byLoss, func(a, b int32) int {
			if c := cmp.Compare(s.loss[a], s.loss[b]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
	}
	if len(s.chosen) == 0 {
		return 0, nil
	}
	for {
		improved := false
		sortByLoss()
		for idx, jj := range order {
			if idx%1024 == 0 && ctx.Err() != nil {
				return swaps, ctx.Err()
			}
			j := int(jj)
			if static[j]-s.loss[byLoss[0]] <= tol {
				break
			}
			if s.in[j] {
				continue
			}
			g := 0.0
			touched = touched[:0]
			for _, i := range s.p.Set(j) {
				switch s.cnt[i] {
				case 0:
					g += s.p.Weight[i]
				case 1:
					o := s.owner[i]
					if !mark[o] {
						mark[o] = true
						touched = append(touched, o)
					}
					extra[o] += s.p.Weight[i]
				}
			}
			if g-s.loss[byLoss[0]] <= tol && len(touched) == 0 {
				continue
			}
			// Best leaving site: among touched ones, and the untouched site
			// of smallest loss.
			best, out := -1.0, int32(-1)
			consider := func(o int32, d float64) {
				if out < 0 || d > best || (d == best && o < out) {
					best, out = d, o
				}
			}
			for _, o := range touched {
				consider(o, g+extra[o]-s.loss[o])
			}
			for _, o := range byLoss {
				if !mark[o] {
					consider(o, g-s.loss[o])
					break
				}
			}
			if best > tol && sp.active() {
				c := sp.conflicts(s, j, -1, buf)
				switch {
				case len(c) >= 2:
					best = -1
				case len(c) == 1:
					o := c[0]
					d := g - s.loss[o]
					if mark[o] {
						d += extra[o]
					}
					best, out = d, o
				}
			}
			for _, o := range touched {
				mark[o] = false
				extra[o] = 0
			}
			if best > tol {
				s.remove(int(out))
				s.add(j)
				swaps++
				improved = true
				sortByLoss()
				if maxSwaps > 0 && swaps >= maxSwaps {
					return swaps, nil
				}
			}
		}
		if !improved {
			return swaps, nil
		}
	}
}

// rankOrder orders the chosen sites by greedy over the chosen set alone:
// first the site adding the most, then the one adding the most given the
// first, and so on (ties: lower index). It returns the sites and their
// marginal gains.
func rankOrder(p *Problem, chosen []int32) ([]int32, []float64) {
	s := newState(p)
	h := make(gainHeap, 0, len(chosen))
	for _, j := range chosen {
		h = append(h, gainItem{s.gain(int(j)), j})
	}
	heap.Init(&h)
	var order []int32
	var gains []float64
	for h.Len() > 0 {
		top := heap.Pop(&h).(gainItem)
		g := s.gain(int(top.j))
		if h.Len() > 0 {
			nx := h[0]
			if g < nx.gain || (g == nx.gain && top.j > nx.j) {
				heap.Push(&h, gainItem{g, top.j})
				continue
			}
		}
		s.add(int(top.j))
		order = append(order, top.j)
		gains = append(gains, g)
	}
	return order, gains
}

// staticOrder returns each site's whole-set weight and the sites sorted by
// it, largest first (ties: lower index).
func staticOrder(p *Problem) ([]float64, []int32) {
	static := make([]float64, len(p.Sites))
	order := make([]int32, len(p.Sites))
	for j := range p.Sites {
		w := 0.0
		for _, i := range p.Set(j) {
			w += p.Weight[i]
		}
		static[j] = w
		order[j] = int32(j)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(static[b], static[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return static, order
}

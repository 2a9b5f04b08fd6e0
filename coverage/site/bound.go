package site

import (
	"cmp"
	"container/heap"
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
)

// The upper bound is the Lagrangian relaxation of the maximal covering
// location problem
//
//	max Σ_i w_i y_i   s.t.  y_i ≤ Σ_{j: i∈S_j} x_j,  Σ_j x_j ≤ K,  x ∈ {0,1}, y ∈ [0,1].
//
// Moving each coverage constraint into the objective with a multiplier
// u_i ≥ 0 gives, for every such u,
//
//	L_K(u) = max Σ_i (w_i − u_i) y_i + Σ_j x_j c_j(u),  c_j(u) = Σ_{i∈S_j} u_i,
//	       = Σ_i max(0, w_i − u_i) + (sum of the K largest c_j(u)),
//
// and L_K(u) ≥ every feasible objective, because the relaxed terms
// u_i (Σ x_j − y_i) are non-negative on feasible points. Keeping u_i in
// [0, w_i] loses nothing (a larger u_i only raises c_j), so the first term
// is Σ_i (w_i − u_i). The inner problem has the integrality property, so
// min_u L_K(u) equals the LP relaxation's value; we approach it by projected
// subgradient steps (Polyak step towards the best known objective, the step
// factor halved when the bound stalls). Whatever u we stop at, L_K(u) is a
// valid bound, which is what makes the reported bound certified; the same u
// also bounds every k < K with the k largest c_j(u).
//
// c_j(u) ≤ W_j, the whole weight of S_j, so scanning sites by W_j, largest
// first, the scan can stop as soon as W_j cannot enter the K largest: an
// evaluation touches few sites even when there are hundreds of thousands.

// lagrangian holds the data of the bound computation.
type lagrangian struct {
	p      *Problem
	static []float64
	order  []int32
	demand []int32 // demand reached by some site (the only ones with u)
	u      []float64
	g      []float64
	cnt    []int32
	top    topHeap
	heaps  []topHeap // one per worker
	start  []int32   // incumbent's cover counts, to start from; nil: u = w
	// Branch-and-bound nodes restrict the problem: skip marks the sites
	// that may not be chosen (excluded or already fixed in), demand lists
	// only the demand no fixed site covers (u stays 0 elsewhere), and warm,
	// when not nil, gives the starting multipliers.
	skip []bool
	warm []float64
	dir  []float64 // the volume phase's averaged direction
}

func newLagrangian(p *Problem, static []float64, order []int32) *lagrangian {
	l := &lagrangian{p: p, static: static, order: order,
		u:   make([]float64, len(p.Weight)),
		g:   make([]float64, len(p.Weight)),
		cnt: make([]int32, len(p.Weight)),
	}
	seen := make([]bool, len(p.Weight))
	for _, i := range p.Demand {
		seen[i] = true
	}
	for i, s := range seen {
		if s {
			l.demand = append(l.demand, int32(i))
		}
	}
	return l
}

type topItem struct {
	c float64
	j int32
}

// topHeap is a min-heap of the K largest c_j (ties: lower index kept).
type topHeap []topItem

func (h topHeap) Len() int { return len(h) }
func (h topHeap) Less(a, b int) bool {
	return h[a].c < h[b].c || (h[a].c == h[b].c && h[a].j > h[b].j)
}
func (h topHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *topHeap) Push(x any)   { *h = append(*h, x.(topItem)) }
func (h *topHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// eval returns L_k(u) and leaves the k largest c_j(u) in l.top.
func (l *lagrangian) eval(u []float64, k int) float64 {
	base, sum := l.eval2(u, k)
	return base + sum
}

// eval2 returns Σ_i (w_i − u_i) and the sum of the k largest c_j(u). The
// sites are dealt round-robin in static order to the workers, each keeping
// its own k largest with the pruning rule; the k largest overall are then
// unique under the total order (c descending, index ascending), so the
// answer does not depend on the number of workers or on scheduling.
func (l *lagrangian) eval2(u []float64, k int) (float64, float64) {
	base := 0.0
	for _, i := range l.demand {
		base += l.p.Weight[i] - u[i]
	}
	workers := 1
	if len(l.order) >= 20000 {
		workers = runtime.GOMAXPROCS(0)
	}
	if len(l.heaps) < workers {
		l.heaps = make([]topHeap, workers)
	}
	scan := func(w int) {
		h := l.heaps[w][:0]
		for x := w; x < len(l.order); x += workers {
			jj := l.order[x]
			j := int(jj)
			if len(h) == k && l.static[j] <= h[0].c {
				break
			}
			if l.skip != nil && l.skip[j] {
				continue
			}
			c := 0.0
			for _, i := range l.p.Set(j) {
				c += u[i]
			}
			it := topItem{c, jj}
			if len(h) < k {
				heap.Push(&h, it)
			} else if it.c > h[0].c || (it.c == h[0].c && it.j < h[0].j) {
				h[0] = it
				heap.Fix(&h, 0)
			}
		}
		l.heaps[w] = h
	}
	if workers == 1 {
		scan(0)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() { defer wg.Done(); scan(w) }()
		}
		wg.Wait()
	}
	l.top = l.top[:0]
	for _, h := range l.heaps[:workers] {
		l.top = append(l.top, h...)
	}
	l.top = l.sorted()
	if len(l.top) > k {
		l.top = l.top[:k]
	}
	sum := 0.0
	for _, it := range l.top {
		sum += it.c
	}
	return base, sum
}

// sorted returns the kept c_j, largest first (ties: lower index).
func (l *lagrangian) sorted() []topItem {
	s := slices.Clone(l.top)
	slices.SortFunc(s, func(a, b topItem) int {
		if c := cmp.Compare(b.c, a.c); c != 0 {
			return c
		}
		return cmp.Compare(a.j, b.j)
	})
	return s
}

// boundResult is a certified bound and the multipliers that give it.
type boundResult struct {
	value      float64   // L_K(u), with a margin for rounding
	prefix     []float64 // prefix[k-1] bounds plans of k ≤ K sites
	iterations int
	u          []float64 // the multipliers giving value (aliases the solver's buffer)
	top        []topItem // the K+1 largest c_j(u), largest first
}

// solve minimises L_k in two phases of up to iterations steps each. The
// first takes projected subgradient steps with Polyak's rule towards target
// (the value to be proved out of reach, or the best objective known), the
// step factor halved when the bound stalls: on small problems it settles
// on the LP value itself, often exactly. Where it stops short of target
// without having proven u optimal, the volume phase (see volume) goes on
// from the best multipliers found, its steps aimed at aim.
//
// Without an incumbent it starts from u = w (the bound "sum of the k
// heaviest sets"); with one, from u_i = 0 on the demand it covers and w_i
// elsewhere, where L is the incumbent's value plus the k largest marginal
// gains over it (the classic submodular bound), already close.
func (l *lagrangian) solve(ctx context.Context, k int, target, aim float64, iterations int) boundResult {
	if k > len(l.p.Sites) {
		k = len(l.p.Sites)
	}
	w := l.p.Weight
	u := l.u
	for _, i := range l.demand {
		u[i] = w[i]
		if l.start != nil && l.start[i] > 0 {
			u[i] = 0
		}
		if l.warm != nil {
			u[i] = math.Min(math.Max(l.warm[i], 0), w[i])
		}
	}
	best := math.Inf(1)
	bestU := make([]float64, len(u))
	theta, stall, it := 2.0, 0, 0
	optimal := false
	if l.start != nil || l.warm != nil {
		theta = 1 // already near: smaller steps
	}
	// Margin for rounding in the sums (relative 1e-12 of all weight, far
	// above the accumulated error of float64 sums of this length).
	margin := 1e-12*l.p.Total + 1e-9
	for it = 0; it < iterations; it++ {
		if ctx.Err() != nil {
			break
		}
		L := l.eval(u, k)
		if L < best {
			if L < best-1e-6*math.Abs(best-target) || math.IsInf(best, 1) {
				stall = 0
			} else {
				stall++
			}
			best = L
			copy(bestU, u)
		} else {
			stall++
		}
		if best-target <= 1e-7*math.Max(best, 1) {
			break
		}
		if stall >= 20 {
			theta /= 2
			stall = 0
			if theta < 1e-5 {
				break
			}
		}
		// Subgradient of L at u: g_i = (chosen sets covering i) − y_i, with
		// y_i = 1 when u_i < w_i; components pushing out of [0, w_i] are
		// dropped (projected subgradient).
		for _, t := range l.top {
			for _, i := range l.p.Set(int(t.j)) {
				l.cnt[i]++
			}
		}
		norm := 0.0
		for _, i := range l.demand {
			c := float64(l.cnt[i])
			l.cnt[i] = 0
			var g float64
			switch {
			case u[i] >= w[i]:
				g = math.Max(c-1, 0)
			case u[i] <= 0:
				g = math.Min(c-1, 0)
			default:
				g = c - 1
			}
			l.g[i] = g
			norm += g * g
		}
		if norm == 0 {
			optimal = true
			break // u is optimal: L(u) is the LP value
		}
		step := theta * (L - target) / norm
		if step <= 0 {
			step = theta * 1e-3 * L / norm
		}
		for _, i := range l.demand {
			if g := l.g[i]; g != 0 {
				u[i] = math.Min(math.Max(u[i]-step*g, 0), w[i])
			}
		}
	}
	if !optimal && best-target > 1e-7*math.Max(best, 1) && ctx.Err() == nil {
		it = l.volume(ctx, k, target, aim, iterations, best, bestU, it)
	}
	// Re-evaluate at the best u to get the prefix bounds for every k ≤ K
	// (and the (K+1)-th largest c_j, which reduced-cost fixing needs).
	base, _ := l.eval2(bestU, k+1)
	s := l.sorted()
	L := base
	prefix := make([]float64, 0, k)
	for i, t := range s {
		if i == k {
			break
		}
		L += t.c
		prefix = append(prefix, math.Min(L+margin, l.p.Reachable+margin))
	}
	v := math.Min(L, l.p.Reachable) + margin
	return boundResult{value: v, prefix: prefix, iterations: it, u: bestU, top: s}
}

// volume goes on minimising L_k from the multipliers bestU (of value best)
// by the volume algorithm (Barahona and Anbil, 2000): a subgradient method
// that moves from the best multipliers found along an average of the
// subgradients seen, v ← α g + (1−α) v, instead of the last one. The
// average damps the zig-zag of plain subgradient steps: on the
// Shanghai-scale study (29,620 sites, 40,880 demand) plain steps left the
// bound 0.35% above the LP value after 3,000 steps, where volume steps
// come within 0.01% in 1,300. The step is f (L̂ − aim) / |v|², L̂ the best
// value so far and aim an estimate of the optimum from below (the best
// objective known); f shrinks by a third after 20 steps without a new best.
// It stops after iterations steps, when f is negligible, or once L̂ is
// within rounding of target. It leaves the best multipliers in bestU and
// returns it plus the steps taken.
func (l *lagrangian) volume(ctx context.Context, k int, target, aim float64, iterations int, best float64, bestU []float64, it int) int {
	w := l.p.Weight
	u := l.u
	copy(u, bestU)
	aim = math.Min(aim, target)
	if len(l.dir) < len(u) {
		l.dir = make([]float64, len(u))
	}
	v := l.dir
	const alphaMax = 0.1
	f, reds := 0.1, 0
	for n := 0; n < iterations; n++ {
		if ctx.Err() != nil {
			break
		}
		L := l.eval(u, k)
		it++
		for _, t := range l.top {
			for _, i := range l.p.Set(int(t.j)) {
				l.cnt[i]++
			}
		}
		for _, i := range l.demand {
			g := float64(l.cnt[i])
			l.cnt[i] = 0
			if u[i] < w[i] {
				g--
			}
			l.g[i] = g
		}
		if n == 0 {
			copy(v, l.g)
		} else {
			// α minimising |α g + (1−α) v|, kept in [α_max/10, α_max].
			var dd, dv float64
			for _, i := range l.demand {
				d := l.g[i] - v[i]
				dd += d * d
				dv += d * v[i]
			}
			alpha := alphaMax
			if dd > 0 {
				alpha = math.Min(alphaMax, math.Max(alphaMax/10, -dv/dd))
			}
			for _, i := range l.demand {
				v[i] = alpha*l.g[i] + (1-alpha)*v[i]
			}
		}
		if L < best {
			best = L
			copy(bestU, u)
			reds = 0
		} else if reds++; reds >= 20 {
			f *= 2.0 / 3
			reds = 0
		}
		if best-target <= 1e-7*math.Max(best, 1) || f < 1e-6 {
			break
		}
		// The step from the best multipliers along −v, on the box.
		norm := 0.0
		for _, i := range l.demand {
			if g := v[i]; !(bestU[i] >= w[i] && g < 0 || bestU[i] <= 0 && g > 0) {
				norm += g * g
			}
		}
		if norm == 0 {
			copy(v, l.g) // the average cancelled out: start it again
			continue
		}
		step := f * (best - aim) / norm
		if step <= 0 {
			step = f * 1e-3 * best / norm
		}
		for _, i := range l.demand {
			u[i] = math.Min(math.Max(bestU[i]-step*v[i], 0), w[i])
		}
	}
	return it
}

package site

import (
	"container/heap"
	"context"
	"math"
	"slices"
)

// The branch-and-bound searches over the Lagrangian bound. A node fixes
// some sites in (F1) and some out (F0); its problem is the maximal covering
// problem over the demand F1 leaves uncovered, with K − |F1| sites chosen
// among the rest, and its bound is what F1 covers plus the Lagrangian bound
// of that problem (valid for every u, so for whatever the subgradient stops
// at). A node whose bound cannot beat the incumbent by more than the
// tolerance is closed; otherwise the multipliers fix sites (reduced-cost
// fixing: a site outside the K' largest c_j whose entry would bring the
// bound under the threshold is fixed out, one inside whose exit would is
// fixed in), their K' largest c_j with F1 give a plan (improved by the swap
// search), and the node splits on the site of largest c_j: in, or out.
// Nodes are taken best bound first, so the largest bound of the open nodes,
// with those closed by the tolerance, is at every moment a certified bound
// on every plan.

// bbNode is an open node of the search.
type bbNode struct {
	dec   []int32 // decisions: j+1 fixes site j in, −(j+1) fixes it out
	cut   float64 // sites whose whole weight is at most cut are out
	bound float64 // the parent's bound: no plan in the node covers more
	depth int
	seq   int       // creation order, for a deterministic heap
	u     []float32 // multipliers to start from, over search.demand; nil: the root's
}

type nodeHeap []*bbNode

func (h nodeHeap) Len() int { return len(h) }
func (h nodeHeap) Less(a, b int) bool {
	if h[a].bound != h[b].bound {
		return h[a].bound > h[b].bound
	}
	if h[a].depth != h[b].depth {
		return h[a].depth > h[b].depth
	}
	return h[a].seq < h[b].seq
}
func (h nodeHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *nodeHeap) Push(x any)   { *h = append(*h, x.(*bbNode)) }
func (h *nodeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// warmLimit is the most demand for which nodes keep their own multipliers
// (4 bytes each); beyond it children start from the root's.
const warmLimit = 1 << 16

// search is one branch-and-bound run for k sites.
type search struct {
	p        *Problem
	static   []float64
	order    []int32
	sp       spacing
	k        int
	tol      float64
	gap      float64 // relative tolerance (add mode)
	need     float64 // > 0: target mode, find a plan covering need or prove none does
	iters    int     // bound steps per phase per node (the root gets more)
	maxNodes int     // > 0: stop after this many nodes

	inc    []int32 // the incumbent's sites
	incVal float64

	closedMax float64 // largest bound of the nodes closed by the tolerance
	openMax   float64 // largest bound of nodes left open by a stop
	nodes     int
	seq       int
	stopped   bool // ctx ended the search

	demand  []int32 // demand some site reaches
	rootU   []float64
	l       *lagrangian
	s       *state // the node's fixed-in sites
	skip    []bool
	out     []bool
	outs    []int32
	fixIn   []int32
	fixOut  []int32
	seen    map[uint64]bool
	work    *state // scratch for plans tried
	topMark []bool // the node's K' largest c_j
}

func newSearch(p *Problem, static []float64, order []int32, sp spacing, k int) *search {
	b := &search{p: p, static: static, order: order, sp: sp, k: k, tol: p.tol(), iters: 60,
		closedMax: math.Inf(-1), openMax: math.Inf(-1),
		s: newState(p), skip: make([]bool, len(p.Sites)), out: make([]bool, len(p.Sites)),
		seen: map[uint64]bool{}}
	b.l = newLagrangian(p, static, order)
	b.demand = slices.Clone(b.l.demand)
	b.l.skip = b.skip
	return b
}

// prunable says whether a node of this bound can be closed.
func (b *search) prunable(bound float64) bool {
	if b.need > 0 {
		return bound < b.need-b.tol
	}
	return bound <= b.threshold()
}

// threshold is the largest bound the tolerance lets the search close.
func (b *search) threshold() float64 {
	t := b.incVal + b.tol
	if b.gap > 0 && b.gap < 1 {
		t = math.Max(t, b.incVal/(1-b.gap))
	}
	return t
}

// done says whether the search may stop.
func (b *search) done(h nodeHeap) bool {
	if b.need > 0 {
		return b.incVal >= b.need-b.tol
	}
	ub := b.upper(h)
	return ub-b.incVal <= math.Max(b.gap*ub, b.tol)
}

// upper is the certified bound: no plan of k sites covers more.
func (b *search) upper(h nodeHeap) float64 {
	ub := math.Max(b.incVal, math.Max(b.closedMax, b.openMax))
	if len(h) > 0 {
		ub = math.Max(ub, h[0].bound)
	}
	return ub
}

// offer makes sites the incumbent when they cover more.
func (b *search) offer(sites []int32, value float64) {
	if value > b.incVal+b.tol || (b.inc == nil && value >= b.incVal) {
		b.inc = slices.Clone(sites)
		b.incVal = value
	}
}

// run searches from the root; rootBound is a bound already known (+Inf if
// none) and rootU its multipliers (nil: none). It returns the certified
// bound on plans of k sites (add mode) or, in target mode, on what the
// search left unexplored.
func (b *search) run(ctx context.Context, rootBound float64, rootU []float64) float64 {
	if rootU != nil {
		b.rootU = rootU
	}
	h := nodeHeap{{cut: -1, bound: rootBound}}
	for len(h) > 0 && !b.done(h) {
		if ctx.Err() != nil || b.maxNodes > 0 && b.nodes >= b.maxNodes {
			b.stopped = true
			break
		}
		nd := heap.Pop(&h).(*bbNode)
		if b.prunable(nd.bound) {
			b.closedMax = math.Max(b.closedMax, nd.bound)
			continue
		}
		b.process(ctx, nd, &h)
	}
	return b.upper(h)
}

// process evaluates a node: bound, plan, fixing, branching.
func (b *search) process(ctx context.Context, nd *bbNode, h *nodeHeap) {
	b.nodes++
	p := b.p
	// The node's fixed sites.
	for len(b.s.chosen) > 0 {
		b.s.remove(int(b.s.chosen[len(b.s.chosen)-1]))
	}
	for _, j := range b.outs {
		b.out[j] = false
	}
	b.outs = b.outs[:0]
	var buf []int32
	for _, d := range nd.dec {
		if d < 0 {
			j := -d - 1
			if !b.out[j] {
				b.out[j] = true
				b.outs = append(b.outs, j)
			}
		}
	}
	for _, d := range nd.dec {
		if d > 0 {
			b.s.add(int(d - 1))
		}
	}
	if b.sp.active() {
		// Sites too close to a fixed one are out.
		for j := range p.Sites {
			if !b.out[j] && !b.s.in[j] && len(b.sp.conflicts(b.s, j, -1, buf)) > 0 {
				b.out[j] = true
				b.outs = append(b.outs, int32(j))
			}
		}
	}
	v1 := b.s.exactValue()
	kp := b.k - len(b.s.chosen)
	free := 0
	for j := range b.skip {
		b.skip[j] = b.out[j] || b.s.in[j] || b.static[j] <= nd.cut
		if !b.skip[j] {
			free++
		}
	}
	if kp <= 0 || free == 0 {
		// A leaf: the fixed sites are the node's only plan.
		b.offer(b.s.chosen, v1)
		b.closedMax = math.Max(b.closedMax, math.Min(v1, nd.bound))
		return
	}
	// The node's demand and multipliers.
	l := b.l
	l.demand = l.demand[:0]
	for _, i := range b.demand {
		l.u[i] = 0
		if b.s.cnt[i] == 0 {
			l.demand = append(l.demand, i)
		}
	}
	warm := b.rootU
	if nd.u != nil {
		warm = l.g // scratch of the right length
		for x, i := range b.demand {
			warm[i] = float64(nd.u[x])
		}
	}
	l.warm = warm
	iters := b.iters
	if nd.depth == 0 {
		iters = 3000 // until the step stalls: the root bound is the one that counts most
	}
	target := b.threshold() - v1
	if b.need > 0 {
		target = b.need - b.tol - v1
	}
	r := l.solve(ctx, kp, target, math.Min(target, b.incVal-v1), iters)
	l.warm = nil
	bound := math.Min(nd.bound, v1+r.value)
	if ctx.Err() != nil {
		b.stopped = true
		b.openMax = math.Max(b.openMax, bound)
		return
	}
	if b.prunable(bound) {
		b.closedMax = math.Max(b.closedMax, bound)
		return
	}
	// A plan from the multipliers: the fixed sites and the K' largest c_j.
	top := r.top
	plan := slices.Clone(b.s.chosen)
	for i, t := range top {
		if i == kp || t.c <= 0 {
			break
		}
		plan = append(plan, t.j)
	}
	b.try(ctx, plan)
	if b.prunable(bound) {
		b.closedMax = math.Max(b.closedMax, bound)
		return
	}
	// Reduced-cost fixing.
	L := r.value
	ck, ck1 := 0.0, 0.0
	if len(top) >= kp {
		ck = top[kp-1].c
	}
	if len(top) > kp {
		ck1 = top[kp].c
	}
	if b.topMark == nil {
		b.topMark = make([]bool, len(p.Sites))
	}
	for i, t := range top {
		if i < kp {
			b.topMark[t.j] = true
		}
	}
	defer func() {
		for _, t := range top {
			b.topMark[t.j] = false
		}
	}()
	cut := nd.cut
	b.fixOut = b.fixOut[:0]
	for _, jj := range b.order {
		j := int(jj)
		if b.skip[j] {
			continue
		}
		if b.prunable(v1 + L - ck + b.static[j]) {
			cut = math.Max(cut, b.static[j])
			break
		}
		if b.topMark[jj] {
			continue
		}
		c := 0.0
		for _, i := range p.Set(j) {
			c += r.u[i]
		}
		if b.prunable(v1 + L - ck + c) {
			b.fixOut = append(b.fixOut, -(jj + 1))
		}
	}
	b.fixIn = b.fixIn[:0]
	branch := int32(-1)
	for i, t := range top {
		if i == kp || t.c <= 0 {
			break
		}
		if !b.sp.active() && b.prunable(v1+L-t.c+ck1) {
			b.fixIn = append(b.fixIn, t.j+1)
		} else if branch < 0 {
			branch = t.j
		}
	}
	dec := make([]int32, 0, len(nd.dec)+len(b.fixOut)+len(b.fixIn)+1)
	dec = append(append(append(dec, nd.dec...), b.fixOut...), b.fixIn...)
	var u []float32
	if len(b.demand) <= warmLimit {
		u = make([]float32, len(b.demand))
		for x, i := range b.demand {
			u[x] = float32(r.u[i])
		}
	}
	push := func(d []int32) {
		b.seq++
		heap.Push(h, &bbNode{dec: d, cut: cut, bound: bound, depth: nd.depth + 1, seq: b.seq, u: u})
	}
	if branch < 0 {
		if len(b.fixIn) == 0 && len(b.fixOut) == 0 && cut == nd.cut {
			// Nothing to split on among the chosen: split on the first
			// site still free.
			for _, jj := range b.order {
				if !b.skip[jj] && !slices.Contains(b.fixOut, -(jj+1)) {
					branch = jj
					break
				}
			}
		}
		if branch < 0 {
			push(dec)
			return
		}
	}
	push(append(slices.Clone(dec), branch+1))
	push(append(dec, -(branch + 1)))
}

// try completes sites to a plan of k (greedy), improves it by the swap
// search when it is near the incumbent, and offers it.
func (b *search) try(ctx context.Context, sites []int32) {
	sum := uint64(14695981039346656037) // FNV-1a over the sorted sites
	for _, j := range slices.Sorted(slices.Values(sites)) {
		for x := uint(0); x < 32; x += 8 {
			sum ^= uint64(uint32(j)>>x) & 0xff
			sum *= 1099511628211
		}
	}
	if b.seen[sum] {
		return
	}
	b.seen[sum] = true
	if b.work == nil {
		b.work = newState(b.p)
	}
	t := b.work
	for len(t.chosen) > 0 {
		t.remove(int(t.chosen[len(t.chosen)-1]))
	}
	var buf []int32
	for _, j := range sites {
		if len(t.chosen) < b.k && !t.in[j] && len(b.sp.conflicts(t, int(j), -1, buf)) == 0 {
			t.add(int(j))
		}
	}
	if len(t.chosen) < b.k {
		if err := t.greedy(ctx, b.k, math.Inf(1), b.sp, b.static); err != nil {
			return
		}
	}
	if t.value >= 0.98*b.incVal {
		if _, err := t.swapSearch(ctx, b.order, b.static, b.tol, b.sp, 0); err != nil {
			return
		}
	}
	b.offer(t.chosen, t.exactValue())
}

package site

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/walkshed/walkshed/coverage"
)

// Options tune the solver. The zero value is ready to use.
type Options struct {
	// MinSpacing is the least distance between two new sites (0: none).
	// The bound ignores it, so it stays valid (it may be looser).
	MinSpacing coverage.Meters
	// BoundIterations caps the steps of each phase of the bound (subgradient,
	// then volume; 0: 600 each).
	BoundIterations int
	// Progress, when not nil, is told which stage runs ("greedy", "swap",
	// "bound", "reduce", "search").
	Progress func(stage string)
	// Exact runs the branch-and-bound over the Lagrangian bound after the
	// heuristic, until the certified gap is at most Gap (add mode) or the
	// fewest sites are proven (target mode), or TimeLimit passes.
	Exact bool
	// Gap is the relative gap at which the search stops: 0.001 stops when
	// the plan is proven within 0.1% of the optimum; 0 asks for the optimum
	// itself (up to rounding). It also decides Plan.Optimal.
	Gap float64
	// TimeLimit, when positive, bounds the time spent after the greedy
	// start; the plan and bound are then the best found by then.
	TimeLimit time.Duration

	maxNodes int // stop the branch-and-bound after this many nodes (tests)
}

// PlanSite is one proposed site, in rank order.
type PlanSite struct {
	Rank      int // 1 = adds the most
	Site      int // index in Problem.Sites
	Candidate     // the site's id, position and H3 cell
	Added     float64
	Covered   float64 // covered weight (existing + sites of rank ≤ Rank)
	Share     float64 // Covered / Total
}

// CurvePoint is the covered weight after the first K sites in rank order.
type CurvePoint struct {
	K          int
	Covered    float64
	Share      float64
	UpperBound float64 // bound on the newly covered weight of any K sites; NaN when unknown
}

// Plan is a solver's answer.
type Plan struct {
	Mode       string  // "add" or "target"
	K          int     // sites requested (add mode)
	Target     float64 // share requested (target mode)
	Sites      []PlanSite
	Objective  float64 // weight newly covered by the sites
	UpperBound float64 // no plan of len(Sites) sites newly covers more (NaN: not computed)
	Gap        float64 // (UpperBound − Objective) / UpperBound; 0 when both are 0
	MinSites   int     // target mode: fewer sites than this cannot reach the target
	Reached    bool    // target mode: the plan reaches the target
	Total      float64 // weight of all demand
	Base       float64 // weight covered before the new sites
	Covered    float64 // Base + Objective
	Share      float64 // Covered / Total
	Curve      []CurvePoint
	Candidates int      // useful candidates
	Considered int      // candidates examined
	Swaps      int      // improving swaps made
	Iterations int      // steps taken by the bound (both phases)
	Status     []string // notes on the plan

	// Optimal says the plan is proven optimal within GapTolerance (add
	// mode: UpperBound − Objective ≤ GapTolerance·UpperBound; target mode:
	// no plan of fewer sites reaches the target, MinSites = len(Sites)).
	Optimal      bool
	GapTolerance float64
	Exact        bool    // the branch-and-bound ran
	Nodes        int     // branch-and-bound nodes evaluated
	Seconds      float64 // time the solve took
	TimedOut     bool    // the time limit stopped the search
}

// deadline returns the context the time limit applies to.
func (o Options) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if o.TimeLimit > 0 {
		return context.WithTimeout(ctx, o.TimeLimit)
	}
	return context.WithCancel(ctx)
}

// timeUp reports whether err is the time limit (dl's deadline) rather than a
// cancellation of ctx, which must be returned.
func timeUp(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded)
}

func (o Options) iterations() int {
	if o.BoundIterations > 0 {
		return o.BoundIterations
	}
	return 600
}

func (o Options) stage(s string) {
	if o.Progress != nil {
		o.Progress(s)
	}
}

func (p *Problem) check(opt Options) error {
	if !(opt.Gap >= 0 && opt.Gap < 1) {
		return fmt.Errorf("site: gap %v outside [0, 1)", opt.Gap)
	}
	if opt.TimeLimit < 0 {
		return fmt.Errorf("site: time limit %v must not be negative", opt.TimeLimit)
	}
	if opt.MinSpacing < 0 || math.IsNaN(float64(opt.MinSpacing)) {
		return fmt.Errorf("site: minimum spacing %v m must not be negative", float64(opt.MinSpacing))
	}
	if opt.MinSpacing > 0 {
		for j, c := range p.Sites {
			if !c.HasPos {
				return fmt.Errorf("site: minimum spacing needs positions, site %d (%q) has none", j, c.ID)
			}
		}
	}
	return nil
}

func (p *Problem) tol() float64 { return 1e-9 * math.Max(p.Total, 1) }

// SolveK proposes k new sites that newly cover the most weight: lazy
// greedy, then 1-for-1 swaps until none improves, then the Lagrangian bound;
// with opt.Exact, then the branch-and-bound. When fewer than k sites cover
// all that the candidates reach, the plan is the fewest such sites the
// search finds (proven fewest with opt.Exact, time permitting).
func (p *Problem) SolveK(ctx context.Context, k int, opt Options) (*Plan, error) {
	return p.reduced(opt, func(q *Problem, opt Options) (*Plan, error) { return q.solveK(ctx, k, opt) })
}

// reduced runs solve on the problem without dominated sites when the
// search is asked for and no spacing rule applies (see undominated), and
// gives the plan's sites their indices in p. The time limit counts the
// reduction's time.
func (p *Problem) reduced(opt Options, solve func(*Problem, Options) (*Plan, error)) (*Plan, error) {
	if !opt.Exact || opt.MinSpacing != 0 {
		return solve(p, opt)
	}
	t0 := time.Now()
	q, back := p.undominated()
	if opt.TimeLimit > 0 {
		opt.TimeLimit = max(opt.TimeLimit-time.Since(t0), time.Nanosecond)
	}
	if len(q.Sites) == len(p.Sites) {
		return solve(p, opt)
	}
	plan, err := solve(q, opt)
	if err != nil {
		return nil, err
	}
	plan.Seconds = time.Since(t0).Seconds()
	for i := range plan.Sites {
		plan.Sites[i].Site = int(back[plan.Sites[i].Site])
	}
	plan.Candidates = len(p.Sites)
	return plan, nil
}

func (p *Problem) solveK(ctx context.Context, k int, opt Options) (*Plan, error) {
	if k < 1 {
		return nil, fmt.Errorf("site: number of sites %d must be a positive integer", k)
	}
	if err := p.check(opt); err != nil {
		return nil, err
	}
	t0 := time.Now()
	sp := spacing{p, opt.MinSpacing}
	static, order := staticOrder(p)
	s := newState(p)
	opt.stage("greedy")
	if err := s.greedy(ctx, k, math.Inf(1), sp, static); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	dl, cancel := opt.deadline(ctx)
	defer cancel()
	opt.stage("swap")
	swaps, err := s.swapSearch(dl, order, static, p.tol(), sp, 0)
	if err != nil && !timeUp(ctx, err) {
		return nil, fmt.Errorf("site: %w", err)
	}
	if opt.Exact && !sp.active() && len(s.chosen) == k {
		opt.stage("tabu")
		m, err := p.improve(dl, s, order, static, p.tol(), tabuSteps(p))
		if err != nil && !timeUp(ctx, err) {
			return nil, fmt.Errorf("site: %w", err)
		}
		swaps += m
	}
	var notes []string
	fewest, proven := 0, false
	if n := len(s.chosen); n < k && !sp.active() && s.value >= p.Reachable-p.tol() && n > 1 {
		// Everything reachable is covered with fewer than k sites: find
		// the fewest that do.
		opt.stage("reduce")
		var m int
		s, m, fewest, proven, err = p.reduce(ctx, dl, s, p.Reachable, 1, static, order, sp, opt)
		if err != nil {
			return nil, err
		}
		swaps += m
	}
	plan := p.newPlan("add", s)
	plan.K = k
	plan.Swaps = swaps
	if n := len(plan.Sites); n < k && !sp.active() {
		plan.MinSites = fewest
		if !proven {
			plan.MinSites = p.minSites(dl, n, p.Reachable, p.tol(), static, order, opt, true)
		}
	}
	if n := len(plan.Sites); n < k {
		switch {
		case sp.active():
			notes = append(notes, fmt.Sprintf("only %d of %d sites could be placed: no other candidate adds population at the minimum spacing of %g m", n, k, float64(opt.MinSpacing)))
		case proven:
			notes = append(notes, fmt.Sprintf("%d sites cover everything the %d useful candidates reach, and no %d do (proven): the plan has %d, not %d", n, len(p.Sites), n-1, n, k))
		default:
			notes = append(notes, fmt.Sprintf("only %d of %d sites add population: they cover everything the %d useful candidates reach (at least %d needed)", n, k, len(p.Sites), plan.MinSites))
		}
	}
	plan.Status = notes
	opt.stage("bound")
	r := p.attachBound(dl, plan, max(k, len(plan.Sites)), plan.Objective, opt)
	if opt.Exact && (len(plan.Sites) == k || sp.active()) && plan.UpperBound-plan.Objective > math.Max(opt.Gap*plan.UpperBound, p.tol()) && dl.Err() == nil {
		opt.stage("search")
		b := newSearch(p, static, order, sp, k)
		b.gap, b.maxNodes = opt.Gap, opt.maxNodes
		b.offer(s.chosen, plan.Objective)
		ub := math.Min(b.run(dl, plan.UpperBound, r.u), plan.UpperBound)
		plan.Nodes = b.nodes
		if b.incVal > plan.Objective+p.tol() {
			t := newState(p)
			for _, j := range b.inc {
				t.add(int(j))
			}
			np := p.newPlan("add", t)
			np.K, np.Swaps, np.Status, np.Iterations, np.Nodes = k, plan.Swaps, plan.Status, plan.Iterations, plan.Nodes
			for i := range np.Curve {
				if i < len(plan.Curve) {
					np.Curve[i].UpperBound = math.Max(plan.Curve[i].UpperBound, np.Curve[i].Covered-p.Base)
				}
			}
			plan = np
		}
		plan.UpperBound = math.Max(ub, plan.Objective)
		plan.Gap = gap(plan.Objective, plan.UpperBound)
		if n := len(plan.Curve); n > 0 && plan.Curve[n-1].K == k {
			plan.Curve[n-1].UpperBound = plan.UpperBound
		}
		for i := range plan.Curve {
			plan.Curve[i].UpperBound = math.Min(plan.Curve[i].UpperBound, plan.UpperBound)
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("site: %w", ctx.Err())
	}
	p.finishPlan(plan, opt, dl, t0)
	if len(plan.Sites) < k && !sp.active() {
		// The objective is all that is reachable: optimal for k sites.
		plan.Optimal = true
	}
	return plan, nil
}

// tabuStall is how many steps the tabu search goes without a new best.
const tabuStall = 2000

// tabuSteps is the tabu search's budget: up to 20,000 steps, fewer on
// small problems (100 per candidate) and on large ones (a step scans part
// of the coverage sets).
func tabuSteps(p *Problem) int {
	return max(50, min(20000, 100*len(p.Sites), int(4e8/float64(max(len(p.Demand), 1)))))
}

// finishPlan records how the solve went.
func (p *Problem) finishPlan(plan *Plan, opt Options, dl context.Context, t0 time.Time) {
	plan.Exact = opt.Exact
	plan.GapTolerance = opt.Gap
	plan.TimedOut = dl.Err() != nil
	plan.Seconds = time.Since(t0).Seconds()
	if plan.Mode == "add" {
		plan.Optimal = plan.UpperBound-plan.Objective <= math.Max(opt.Gap*plan.UpperBound, p.tol())
	} else {
		plan.Optimal = plan.MinSites == len(plan.Sites)
	}
}

// reduce drops sites from s while a plan of one site fewer still covers
// need: the heuristic of fewer, then with opt.Exact the branch-and-bound,
// which either finds such a plan or proves there is none. lb is a proven
// lower bound on the sites needed (1 when none is known): a plan of lb
// sites is proven fewest. It returns the
// plan, the swaps made, a lower bound on the sites needed when proven, and
// whether len is proven fewest.
func (p *Problem) reduce(ctx, dl context.Context, s *state, need float64, lb int, static []float64, order []int32, sp spacing, opt Options) (*state, int, int, bool, error) {
	lb = max(lb, 1)
	swaps, tabu := 0, 0
	if opt.Exact && !sp.active() {
		tabu = tabuSteps(p)
	}
	for len(s.chosen) > lb {
		next, n, err := p.fewer(dl, s, need, order, static, sp, tabu)
		swaps += n
		if err != nil {
			if timeUp(ctx, err) {
				break
			}
			return nil, swaps, 0, false, err
		}
		if next == nil {
			break
		}
		s = next
	}
	if len(s.chosen) <= lb {
		return s, swaps, len(s.chosen), true, nil
	}
	if !opt.Exact {
		return s, swaps, 0, false, nil
	}
	opt.stage("search")
	for len(s.chosen) > lb && dl.Err() == nil {
		b := newSearch(p, static, order, sp, len(s.chosen)-1)
		b.need, b.maxNodes = need, opt.maxNodes
		b.run(dl, math.Inf(1), nil)
		if b.incVal >= need-p.tol() && b.inc != nil {
			t := newState(p)
			for _, j := range b.inc {
				t.add(int(j))
			}
			s = t
			continue
		}
		if b.stopped {
			break
		}
		return s, swaps, len(s.chosen), true, nil
	}
	if len(s.chosen) <= lb {
		return s, swaps, len(s.chosen), true, nil
	}
	if ctx.Err() != nil {
		return nil, swaps, 0, false, fmt.Errorf("site: %w", ctx.Err())
	}
	return s, swaps, 0, false, nil
}

// SolveTarget proposes the fewest new sites that bring the covered share to
// at least share: greedy until the target is met, then repeatedly tries to
// meet it with one site fewer (drop the site losing least, swap search;
// failing that, the greedy prefix, swap search). When all candidates
// together cannot meet the target, the plan covers all they reach, with as
// few sites as the same search finds, and says so.
func (p *Problem) SolveTarget(ctx context.Context, share float64, opt Options) (*Plan, error) {
	return p.reduced(opt, func(q *Problem, opt Options) (*Plan, error) { return q.solveTarget(ctx, share, opt) })
}

func (p *Problem) solveTarget(ctx context.Context, share float64, opt Options) (*Plan, error) {
	if !(share > 0 && share <= 1) {
		return nil, fmt.Errorf("site: target share %v outside (0, 1]", share)
	}
	if err := p.check(opt); err != nil {
		return nil, err
	}
	t0 := time.Now()
	sp := spacing{p, opt.MinSpacing}
	tol := p.tol()
	static, order := staticOrder(p)
	need := share*p.Total - p.Base
	var status []string
	beyond := false
	if best := p.Base + p.Reachable; best < share*p.Total-tol {
		status = append(status, fmt.Sprintf("target share %g is beyond what all candidates reach: at most %.6f; the plan covers all they reach", share, best/math.Max(p.Total, 1e-300)))
		need = p.Reachable
		beyond = true
	}
	dl, cancel := opt.deadline(ctx)
	defer cancel()
	if need <= tol {
		plan := p.newPlan("target", newState(p))
		plan.Target, plan.Reached = share, !beyond
		if !beyond {
			status = append(status, "the existing stations already meet the target")
		}
		plan.Status = status
		plan.UpperBound, plan.Gap = 0, 0
		p.finishPlan(plan, opt, dl, t0)
		return plan, nil
	}
	opt.stage("greedy")
	s := newState(p)
	if err := s.greedy(ctx, len(p.Sites), need-tol, sp, static); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	swaps, lb := 0, 0
	proven := false
	var boundTime time.Duration // what the first lower bound took
	if s.value < need-tol {
		// Only possible with a spacing rule: improve what there is.
		n, err := s.swapSearch(dl, order, static, tol, sp, 0)
		if err != nil && !timeUp(ctx, err) {
			return nil, fmt.Errorf("site: %w", err)
		}
		swaps += n
		status = append(status, fmt.Sprintf("with the minimum spacing of %g m the target is not met", float64(opt.MinSpacing)))
	} else {
		// The lower bound first: it tells the reduction where to stop, and
		// a time limit cannot starve it. Twice the time it took is then
		// kept back from the reduction for the bounds of the final plan.
		opt.stage("bound")
		tb := time.Now()
		lb = p.minSites(dl, len(s.chosen), need, tol, static, order, opt, false)
		boundTime = time.Since(tb)
		rdl := dl
		if d, ok := dl.Deadline(); ok {
			var cancel context.CancelFunc
			rdl, cancel = context.WithDeadline(dl, d.Add(-2*boundTime))
			defer cancel()
		}
		opt.stage("reduce")
		var n int
		var err error
		s, n, _, proven, err = p.reduce(ctx, rdl, s, need, lb, static, order, sp, opt)
		if err != nil {
			return nil, err
		}
		swaps += n
		// Cover as much as possible with the final number of sites.
		n, err = s.swapSearch(rdl, order, static, tol, sp, 0)
		if err != nil && !timeUp(ctx, err) {
			return nil, fmt.Errorf("site: %w", err)
		}
		swaps += n
	}
	plan := p.newPlan("target", s)
	plan.Target = share
	plan.Swaps = swaps
	plan.Status = append(status, plan.Status...)
	plan.Reached = !beyond && plan.Objective >= need-tol
	opt.stage("bound")
	// The multipliers tuned for one site fewer than the final plan may rule
	// out more than those tuned for the greedy's count.
	if lb < len(plan.Sites) && !proven {
		mdl := dl
		if d, ok := dl.Deadline(); ok {
			var cancel context.CancelFunc
			mdl, cancel = context.WithDeadline(dl, d.Add(-boundTime)) // the rest for attachBound
			defer cancel()
		}
		lb = max(lb, p.minSites(mdl, len(plan.Sites), need, tol, static, order, opt, true))
	}
	plan.MinSites = min(max(lb, 1), len(plan.Sites))
	p.attachBound(dl, plan, len(plan.Sites), plan.Objective, opt)
	if proven && plan.Objective >= need-tol {
		plan.MinSites = len(plan.Sites)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("site: %w", ctx.Err())
	}
	p.finishPlan(plan, opt, dl, t0)
	return plan, nil
}

// fewer tries to meet need with one site fewer than s; nil when it fails.
// With tabu > 0, a start the swaps leave short of need gets tabu rounds of
// up to that many steps (see improve).
func (p *Problem) fewer(ctx context.Context, s *state, need float64, order []int32, static []float64, sp spacing, tabu int) (*state, int, error) {
	tol := p.tol()
	k := len(s.chosen) - 1
	swaps := 0
	// Start 1: drop the chosen site whose removal loses least.
	drop := s.chosen[0]
	for _, c := range s.chosen {
		if s.loss[c] < s.loss[drop] || (s.loss[c] == s.loss[drop] && c < drop) {
			drop = c
		}
	}
	a := newState(p)
	for _, c := range s.chosen {
		if c != drop {
			a.add(int(c))
		}
	}
	n, err := a.swapSearch(ctx, order, static, tol, sp, 0)
	swaps += n
	if err != nil {
		return nil, swaps, fmt.Errorf("site: %w", err)
	}
	if a.value < need-tol && tabu > 0 {
		n, err := p.improve(ctx, a, order, static, tol, tabu)
		swaps += n
		if err != nil {
			return nil, swaps, fmt.Errorf("site: %w", err)
		}
	}
	if a.value >= need-tol {
		return a, swaps, nil
	}
	// Start 2: plain greedy with k sites.
	b := newState(p)
	if err := b.greedy(ctx, k, math.Inf(1), sp, static); err != nil {
		return nil, swaps, fmt.Errorf("site: %w", err)
	}
	n, err = b.swapSearch(ctx, order, static, tol, sp, 0)
	swaps += n
	if err != nil {
		return nil, swaps, fmt.Errorf("site: %w", err)
	}
	if b.value >= need-tol {
		return b, swaps, nil
	}
	return nil, swaps, nil
}

// newPlan ranks the chosen sites and fills the plan's figures.
func (p *Problem) newPlan(mode string, s *state) *Plan {
	plan := &Plan{Mode: mode, Total: p.Total, Base: p.Base, Candidates: len(p.Sites), Considered: p.Considered,
		UpperBound: math.NaN(), MinSites: 0}
	order, gains := rankOrder(p, s.chosen)
	cum := p.Base
	for r, j := range order {
		cum += gains[r]
		plan.Sites = append(plan.Sites, PlanSite{Rank: r + 1, Site: int(j), Candidate: p.Sites[j],
			Added: gains[r], Covered: cum, Share: ratio(cum, p.Total)})
		plan.Curve = append(plan.Curve, CurvePoint{K: r + 1, Covered: cum, Share: ratio(cum, p.Total), UpperBound: math.NaN()})
	}
	plan.Objective = s.exactValue()
	plan.Covered = p.Base + plan.Objective
	plan.Share = ratio(plan.Covered, p.Total)
	return plan
}

// attachBound computes the bound for k sites and fills the plan's bound,
// gap and the curve's bounds.
func (p *Problem) attachBound(ctx context.Context, plan *Plan, k int, objective float64, opt Options) boundResult {
	if k == 0 || len(p.Sites) == 0 {
		plan.UpperBound, plan.Gap = 0, 0
		return boundResult{}
	}
	static, order := staticOrder(p)
	l := newLagrangian(p, static, order)
	l.start = p.coverCounts(plan)
	b := l.solve(ctx, k, objective, objective, opt.iterations())
	ub := math.Max(b.value, objective)
	plan.UpperBound = ub
	plan.Iterations = b.iterations
	plan.Gap = gap(objective, ub)
	for i := range plan.Curve {
		if i < len(b.prefix) {
			plan.Curve[i].UpperBound = math.Max(math.Min(b.prefix[i], ub), plan.Curve[i].Covered-p.Base)
		}
	}
	return b
}

// minSites is a certified lower bound on the sites needed to newly cover
// need: the bound for k−1 sites is driven towards need; every k' whose
// bound stays below need cannot reach it. The multipliers tuned for k−1
// sites also bound every k' < k−1, but loosely when k' is far below: with
// search, the largest k' whose bound can be driven below need is then
// found by bisection between what the first round ruled out and k−2 (the
// bound grows with k', so once k' is ruled out so is every smaller one),
// each round starting from the last round's multipliers.
func (p *Problem) minSites(ctx context.Context, k int, need, tol float64, static []float64, order []int32, opt Options, search bool) int {
	if k <= 1 {
		return k
	}
	l := newLagrangian(p, static, order)
	// solve stops within 1e-7 of its target, and the bounds carry a margin
	// for rounding: aim below need by both, so that stopping rules out.
	goal := need - tol - (1e-12*p.Total + 1e-9) - 2e-7*math.Abs(need)
	// ruledOut drives the bound for at sites towards need and returns the
	// lower bound it proves (1: none).
	ruledOut := func(at int) int {
		b := l.solve(ctx, at, goal, goal, opt.iterations())
		l.warm = b.u
		lb := 1
		for i, v := range b.prefix {
			if v < need-tol {
				lb = i + 2 // i+1 sites cannot: at least i+2
			}
		}
		return lb
	}
	lb := ruledOut(k - 1)
	if !search {
		return min(lb, k)
	}
	for lo, hi := lb, k-2; lo <= hi && lb < k && ctx.Err() == nil; {
		mid := (lo + hi) / 2
		if n := ruledOut(mid); n > mid {
			lb = max(lb, n)
			lo = n
		} else {
			hi = mid - 1
		}
	}
	return min(lb, k)
}

// coverCounts counts, per demand, the plan's sites covering it.
func (p *Problem) coverCounts(plan *Plan) []int32 {
	s := newState(p)
	for _, ps := range plan.Sites {
		s.add(ps.Site)
	}
	return s.cnt
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func gap(obj, ub float64) float64 {
	if ub <= 0 {
		return 0
	}
	return math.Max(0, (ub-obj)/ub)
}

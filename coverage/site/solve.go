package site

import (
	"context"
	"fmt"
	"math"

	"github.com/walkshed/walkshed/coverage"
)

// Options tune the solver. The zero value is ready to use.
type Options struct {
	// MinSpacing is the least distance between two new sites (0: none).
	// The bound ignores it, so it stays valid (it may be looser).
	MinSpacing coverage.Meters
	// BoundIterations caps the subgradient iterations (0: 600).
	BoundIterations int
	// Progress, when not nil, is told which stage runs ("greedy", "swap",
	// "bound", "reduce").
	Progress func(stage string)
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
	Candidates int // useful candidates
	Considered int // candidates examined
	Swaps      int // improving swaps made
	Iterations int // subgradient iterations for the bound
	Status     []string
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
// greedy, then 1-for-1 swaps until none improves, then the Lagrangian bound.
func (p *Problem) SolveK(ctx context.Context, k int, opt Options) (*Plan, error) {
	if k < 1 {
		return nil, fmt.Errorf("site: number of sites %d must be a positive integer", k)
	}
	if err := p.check(opt); err != nil {
		return nil, err
	}
	sp := spacing{p, opt.MinSpacing}
	static, order := staticOrder(p)
	s := newState(p)
	opt.stage("greedy")
	if err := s.greedy(ctx, k, math.Inf(1), sp, static); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	opt.stage("swap")
	swaps, err := s.swapSearch(ctx, order, static, p.tol(), sp, 0)
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	plan := p.newPlan("add", s)
	plan.K = k
	plan.Swaps = swaps
	if n := len(plan.Sites); n < k {
		if sp.active() {
			plan.Status = append(plan.Status, fmt.Sprintf("only %d of %d sites could be placed: no other candidate adds population at the minimum spacing of %g m", n, k, float64(opt.MinSpacing)))
		} else {
			plan.Status = append(plan.Status, fmt.Sprintf("only %d of %d sites add population: they cover everything the %d useful candidates reach", n, k, len(p.Sites)))
		}
	}
	opt.stage("bound")
	p.attachBound(ctx, plan, max(k, len(plan.Sites)), plan.Objective, opt)
	return plan, nil
}

// SolveTarget proposes the fewest new sites that bring the covered share to
// at least share: greedy until the target is met, then repeatedly tries to
// meet it with one site fewer (drop the site losing least, swap search;
// failing that, the greedy prefix, swap search). When all candidates
// together cannot meet the target, the plan covers all they reach, with as
// few sites as the same search finds, and says so.
func (p *Problem) SolveTarget(ctx context.Context, share float64, opt Options) (*Plan, error) {
	if !(share > 0 && share <= 1) {
		return nil, fmt.Errorf("site: target share %v outside (0, 1]", share)
	}
	if err := p.check(opt); err != nil {
		return nil, err
	}
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
	if need <= tol {
		plan := p.newPlan("target", newState(p))
		plan.Target, plan.Reached = share, !beyond
		if !beyond {
			status = append(status, "the existing stations already meet the target")
		}
		plan.Status = status
		plan.UpperBound, plan.Gap = 0, 0
		return plan, nil
	}
	opt.stage("greedy")
	s := newState(p)
	if err := s.greedy(ctx, len(p.Sites), need-tol, sp, static); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	swaps := 0
	if s.value < need-tol {
		// Only possible with a spacing rule: improve what there is.
		n, err := s.swapSearch(ctx, order, static, tol, sp, 0)
		if err != nil {
			return nil, fmt.Errorf("site: %w", err)
		}
		swaps += n
		status = append(status, fmt.Sprintf("with the minimum spacing of %g m the target is not met", float64(opt.MinSpacing)))
	} else {
		opt.stage("reduce")
		for len(s.chosen) > 1 {
			next, n, err := p.fewer(ctx, s, need, order, static, sp)
			if err != nil {
				return nil, err
			}
			swaps += n
			if next == nil {
				break
			}
			s = next
		}
		// Cover as much as possible with the final number of sites.
		n, err := s.swapSearch(ctx, order, static, tol, sp, 0)
		if err != nil {
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
	p.attachBound(ctx, plan, len(plan.Sites), plan.Objective, opt)
	plan.MinSites = p.minSites(ctx, len(plan.Sites), need, tol, static, order, opt)
	return plan, nil
}

// fewer tries to meet need with one site fewer than s; nil when it fails.
func (p *Problem) fewer(ctx context.Context, s *state, need float64, order []int32, static []float64, sp spacing) (*state, int, error) {
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
func (p *Problem) attachBound(ctx context.Context, plan *Plan, k int, objective float64, opt Options) {
	if k == 0 || len(p.Sites) == 0 {
		plan.UpperBound, plan.Gap = 0, 0
		return
	}
	static, order := staticOrder(p)
	l := newLagrangian(p, static, order)
	l.start = p.coverCounts(plan)
	b := l.solve(ctx, k, objective, opt.iterations())
	ub := math.Max(b.value, objective)
	plan.UpperBound = ub
	plan.Iterations = b.iterations
	plan.Gap = gap(objective, ub)
	for i := range plan.Curve {
		if i < len(b.prefix) {
			plan.Curve[i].UpperBound = math.Max(math.Min(b.prefix[i], ub), plan.Curve[i].Covered-p.Base)
		}
	}
}

// minSites is a certified lower bound on the sites needed to newly cover
// need: the bound for k−1 sites is driven towards need; every k' whose
// bound stays below need cannot reach it.
func (p *Problem) minSites(ctx context.Context, k int, need, tol float64, static []float64, order []int32, opt Options) int {
	if k <= 1 {
		return k
	}
	l := newLagrangian(p, static, order)
	b := l.solve(ctx, k-1, need, opt.iterations())

	lb := 1
	for i, v := range b.prefix {
		if v < need-tol {
			lb = i + 2 // i+1 sites cannot: at least i+2
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

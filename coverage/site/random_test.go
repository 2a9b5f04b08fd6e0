package site

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/coverage"
)

// instance is a small random problem with positions, so that spacing can
// be tested too.
type instance struct {
	weight  []float64
	covered []bool
	sets    [][]int32
	pos     []orb.Point
}

// problemOf builds a Problem straight from sets, leaving out covered and
// weightless demand as Build does.
func problemOf(in instance) *Problem {
	p := &Problem{Weight: in.weight, Covered: in.covered, Start: []int{0}, Considered: len(in.sets)}
	for j, set := range in.sets {
		n := len(p.Demand)
		for _, i := range set {
			if in.weight[i] > 0 && (in.covered == nil || !in.covered[i]) {
				p.Demand = append(p.Demand, i)
			}
		}
		if len(p.Demand) > n {
			c := Candidate{ID: fmt.Sprint("c", j)}
			if in.pos != nil {
				c.Pos, c.HasPos = in.pos[j], true
			}
			p.Sites = append(p.Sites, c)
			p.Input = append(p.Input, j)
			p.Start = append(p.Start, len(p.Demand))
		}
	}
	p.finish()
	return p
}

// randomInstance places demands and candidates in a 3 km square and covers
// within a random radius; seeds replay.
func randomInstance(seed uint64) instance {
	r := rand.New(rand.NewPCG(seed, 7))
	nd := 5 + r.IntN(56)
	nc := 2 + r.IntN(19)
	radius := coverage.Meters(300 + r.Float64()*900)
	pt := func() orb.Point { return orb.Point{121.4 + r.Float64()*0.03, 31.2 + r.Float64()*0.027} }
	in := instance{weight: make([]float64, nd), covered: make([]bool, nd)}
	dpos := make([]orb.Point, nd)
	for i := range nd {
		dpos[i] = pt()
		in.weight[i] = float64(r.IntN(1000))
		if r.IntN(4) == 0 {
			in.weight[i] += r.Float64()
		}
		in.covered[i] = r.IntN(5) == 0
	}
	for range nc {
		c := pt()
		in.pos = append(in.pos, c)
		var set []int32
		for i, d := range dpos {
			if coverage.Distance(c, d) <= radius {
				set = append(set, int32(i))
			}
		}
		in.sets = append(in.sets, set)
	}
	return in
}

// bruteBest returns, for each k = 0..len(sets), the most uncovered weight
// any k sites reach (every subset enumerated; demands fit one uint64), with
// spacing respected when positive.
func bruteBest(in instance, spacing coverage.Meters) []float64 {
	n := len(in.sets)
	bitsOf := make([]uint64, n)
	for j, set := range in.sets {
		for _, i := range set {
			if !in.covered[i] {
				bitsOf[j] |= 1 << i
			}
		}
	}
	var clash []uint32 // sites too close to each site
	if spacing > 0 {
		clash = make([]uint32, n)
		for a := range n {
			for b := range n {
				if a != b && coverage.Distance(in.pos[a], in.pos[b]) < spacing {
					clash[a] |= 1 << b
				}
			}
		}
	}
	union := make([]uint64, 1<<n)
	best := make([]float64, n+1)
	for mask := uint32(1); mask < 1<<n; mask++ {
		low := bits.TrailingZeros32(mask)
		union[mask] = union[mask&(mask-1)] | bitsOf[low]
		if clash != nil {
			ok := true
			for m := mask; m != 0; m &= m - 1 {
				if clash[bits.TrailingZeros32(m)]&mask != 0 {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
		}
		v := 0.0
		for u := union[mask]; u != 0; u &= u - 1 {
			v += in.weight[bits.TrailingZeros64(u)]
		}
		k := bits.OnesCount32(mask)
		best[k] = math.Max(best[k], v)
	}
	for k := 1; k <= n; k++ {
		best[k] = math.Max(best[k], best[k-1])
	}
	return best
}

func spaced(in instance, mask uint32, spacing coverage.Meters) bool {
	if spacing <= 0 {
		return true
	}
	for a := range len(in.sets) {
		for b := a + 1; b < len(in.sets); b++ {
			if mask&(1<<a) != 0 && mask&(1<<b) != 0 && coverage.Distance(in.pos[a], in.pos[b]) < spacing {
				return false
			}
		}
	}
	return true
}

func maskValue(in instance, mask uint32) float64 {
	hit := make([]bool, len(in.weight))
	for j, set := range in.sets {
		if mask&(1<<j) != 0 {
			for _, i := range set {
				hit[i] = true
			}
		}
	}
	v := 0.0
	for i, h := range hit {
		if h && !in.covered[i] {
			v += in.weight[i]
		}
	}
	return v
}

// betterSwap returns a swap (one site of mask out, one other candidate in,
// spacing kept) whose plan covers more than value+tol, found by trying
// every pair; ok is false when there is none.
func betterSwap(in instance, mask uint32, value, tol float64, spacing coverage.Meters) (out, into int, ok bool) {
	for o := range len(in.sets) {
		if mask&(1<<o) == 0 {
			continue
		}
		for j := range len(in.sets) {
			if mask&(1<<j) != 0 {
				continue
			}
			m := mask&^(1<<o) | 1<<j
			if spaced(in, m, spacing) && maskValue(in, m) > value+tol {
				return o, j, true
			}
		}
	}
	return 0, 0, false
}

// maskOf returns the plan's sites as a mask over the instance's candidates.
func maskOf(p *Problem, plan *Plan) uint32 {
	var mask uint32
	for _, s := range plan.Sites {
		mask |= 1 << p.Input[s.Site]
	}
	return mask
}

// Tolerances of the bound against the LP value computed by gonum. The
// Lagrangian bound is never below the LP value (any multipliers give at
// least the LP value, by duality) and the subgradient, with the default
// 600 iterations, mostly stops within 1e-7 of it, but not always: measured
// over 9,978 plans (seeds 1..300, every k, spacing 0, 500 and 1,000 m) the
// median excess is 2e-12 of the LP value, 28 plans exceed 1e-6, 4 exceed
// 1e-4 and the worst 1.4e-3 (seed 257, k = 7, the iteration cap reached);
// the Fano plane (TestFanoPlane) gives 8.5e-7. So every bound must be
// within boundLoose of the LP value, and nearly every one (nearlyAll of
// them) within boundTight; on the plans of the tests below, all are.
// lpSlack absorbs the simplex's rounding.
const (
	boundLoose = 2e-3
	boundTight = 1e-6
	lpSlack    = 1e-9
	nearlyAll  = 0.99
)

// checkBound checks a bound against the LP value for the same number of
// sites: not below it, and not above it by more than boundLoose of it. It
// reports whether the bound is within boundTight.
func checkBound(t *testing.T, what string, bound, lpv float64) bool {
	t.Helper()
	if bound < lpv-lpSlack*math.Max(lpv, 1) {
		t.Fatalf("%s %v below the LP relaxation's value %v", what, bound, lpv)
	}
	if bound > lpv+boundLoose*math.Max(lpv, 1) {
		t.Fatalf("%s %v above the LP relaxation's value %v by %.3g of it", what, bound, lpv, (bound-lpv)/lpv)
	}
	return bound <= lpv+boundTight*math.Max(lpv, 1)
}

// Measured on the 150 seeds × k = 1..6 of TestRandomAgainstBruteForce (816
// plans each way): greedy and swaps find the optimum in 791 plans without
// spacing (worst 92.5% of it) and in 774 with 500 m spacing (worst 83.7%).
// Without the swap search the counts drop to 748 and 734.
const (
	addPlans         = 816
	addOptimalFree   = 785
	addOptimalSpaced = 768
	addWorstFree     = 0.92
	addWorstSpaced   = 0.83
)

func TestRandomAgainstBruteForce(t *testing.T) {
	ctx := context.Background()
	plans, optimalFree, optimalSpaced, tight := 0, 0, 0, 0
	for seed := uint64(1); seed <= 150; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		free := bruteBest(in, 0)
		withSpacing := bruteBest(in, 500)
		lps := newLPCache(t, in.weight, openSets(in))
		for k := 1; k <= min(6, len(in.sets)); k++ {
			for _, sp := range []coverage.Meters{0, 500} {
				ok := t.Run(fmt.Sprintf("seed%d_k%d_spacing%v", seed, k, float64(sp)), func(t *testing.T) {
					plan, err := p.SolveK(ctx, k, Options{MinSpacing: sp})
					if err != nil {
						t.Fatal(err)
					}
					opt, worst := free[k], addWorstFree
					if sp > 0 {
						opt, worst = withSpacing[k], addWorstSpaced
					}
					// The plan's own figures agree with an independent count.
					mask := maskOf(p, plan)
					if got := maskValue(in, mask); math.Abs(got-plan.Objective) > 1e-6 {
						t.Fatalf("plan says %v, its sites cover %v", plan.Objective, got)
					}
					if !spaced(in, mask, sp) {
						t.Fatalf("sites closer than %v m", float64(sp))
					}
					if plan.Objective > opt+1e-6 || plan.Objective < worst*opt {
						t.Fatalf("objective %v, optimum %v: outside [%v·optimum, optimum]", plan.Objective, opt, worst)
					}
					plans++
					if plan.Objective >= opt-1e-6 {
						if sp > 0 {
							optimalSpaced++
						} else {
							optimalFree++
						}
					}
					// No single swap improves the plan.
					if o, j, ok := betterSwap(in, mask, plan.Objective, p.tol(), sp); ok {
						t.Fatalf("swapping candidate %d out and %d in improves the plan of %v", o, j, plan.Objective)
					}
					// The bound ignores spacing: it bounds the free optimum
					// and is the LP relaxation's value.
					if plan.UpperBound < free[k]-1e-6 {
						t.Fatalf("bound %v below the optimum %v", plan.UpperBound, free[k])
					}
					if checkBound(t, "bound", plan.UpperBound, lps.at(k)) {
						tight++
					}
					for i := 1; i < len(plan.Curve); i++ {
						if plan.Curve[i].Covered < plan.Curve[i-1].Covered {
							t.Fatalf("curve decreases at k=%d", i+1)
						}
						if plan.Curve[i].UpperBound < plan.Curve[i-1].UpperBound {
							t.Fatalf("curve bound decreases at k=%d", i+1)
						}
					}
					if plan.Curve != nil {
						last := plan.Curve[len(plan.Curve)-1]
						if math.Abs(last.Covered-plan.Covered) > 1e-6 {
							t.Fatalf("curve ends at %v, plan covers %v", last.Covered, plan.Covered)
						}
						if last.K == k && math.Abs(last.UpperBound-plan.UpperBound) > 1e-9*plan.UpperBound {
							t.Fatalf("curve bound at k=%d is %v, the plan's bound %v", k, last.UpperBound, plan.UpperBound)
						}
					}
					// Each curve bound bounds the optimum and the LP value for
					// its k, and stays within the plan's bound. (For k below
					// the plan's size it comes from multipliers tuned for the
					// plan's size, so it may be well above the LP value.)
					for _, c := range plan.Curve {
						if c.UpperBound < free[c.K]-1e-6 {
							t.Fatalf("curve bound %v at k=%d below the optimum %v", c.UpperBound, c.K, free[c.K])
						}
						if v := lps.at(c.K); c.UpperBound < v-lpSlack*math.Max(v, 1) {
							t.Fatalf("curve bound %v at k=%d below the LP value %v", c.UpperBound, c.K, v)
						}
						if c.UpperBound > plan.UpperBound {
							t.Fatalf("curve bound %v at k=%d above the plan's bound %v", c.UpperBound, c.K, plan.UpperBound)
						}
					}
				})
				if !ok {
					return
				}
			}
		}
	}
	t.Logf("optimal in %d of %d plans without spacing, %d with 500 m spacing; bound within %g of the LP value in %d of %d",
		optimalFree, plans/2, optimalSpaced, boundTight, tight, plans)
	if plans != 2*addPlans {
		t.Fatalf("%d plans, want %d", plans, 2*addPlans)
	}
	if float64(tight) < nearlyAll*float64(plans) {
		t.Fatalf("bound within %g of the LP value in %d of %d plans, want at least %g of them", boundTight, tight, plans, nearlyAll)
	}
	if optimalFree < addOptimalFree || optimalSpaced < addOptimalSpaced {
		t.Fatalf("optimal in %d (free) and %d (spaced) of %d plans, want at least %d and %d",
			optimalFree, optimalSpaced, addPlans, addOptimalFree, addOptimalSpaced)
	}
}

// Measured on the 150 seeds × 4 shares of TestRandomTargetAgainstBruteForce
// (600 plans): the plan uses the fewest sites in 590 and one more in the
// other 10; without the swap search it is the fewest in 583.
const (
	targetPlans   = 600
	targetFewest  = 588
	targetSurplus = 1
)

func TestRandomTargetAgainstBruteForce(t *testing.T) {
	ctx := context.Background()
	plans, fewestCount, withSites, tight, lpMinimum := 0, 0, 0, 0, 0
	for seed := uint64(1); seed <= 150; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		best := bruteBest(in, 0)
		lps := newLPCache(t, in.weight, openSets(in))
		for _, share := range []float64{0.5, 0.8, 0.95, 1} {
			ok := t.Run(fmt.Sprintf("seed%d_share%v", seed, share), func(t *testing.T) {
				plan, err := p.SolveTarget(ctx, share, Options{})
				if err != nil {
					t.Fatal(err)
				}
				tol := p.tol()
				need := share*p.Total - p.Base
				reachable := best[len(in.sets)]
				feasible := reachable >= need-tol
				if !feasible {
					need = reachable
				}
				// Fewest sites by brute force.
				fewest := -1
				for k := 0; k <= len(in.sets) && fewest < 0; k++ {
					if best[k] >= need-tol {
						fewest = k
					}
				}
				if plan.Reached != feasible {
					t.Fatalf("reached %v, brute force says feasible %v", plan.Reached, feasible)
				}
				mask := maskOf(p, plan)
				if got := maskValue(in, mask); math.Abs(got-plan.Objective) > 1e-6 {
					t.Fatalf("plan says %v, its sites cover %v", plan.Objective, got)
				}
				if plan.Objective < need-tol {
					t.Fatalf("plan covers %v, needs %v", plan.Objective, need)
				}
				n := len(plan.Sites)
				if n < fewest || n > fewest+targetSurplus {
					t.Fatalf("%d sites, the minimum is %d", n, fewest)
				}
				plans++
				if n == fewest {
					fewestCount++
				}
				if o, j, ok := betterSwap(in, mask, plan.Objective, tol, 0); ok {
					t.Fatalf("swapping candidate %d out and %d in improves the plan of %v", o, j, plan.Objective)
				}
				if n == 0 {
					if plan.MinSites != 0 || plan.UpperBound != 0 {
						t.Fatalf("no sites, lower bound %d sites, bound %v", plan.MinSites, plan.UpperBound)
					}
					return
				}
				withSites++
				if plan.UpperBound < best[n]-1e-6 {
					t.Fatalf("bound %v below the optimum %v", plan.UpperBound, best[n])
				}
				if checkBound(t, "bound", plan.UpperBound, lps.at(n)) {
					tight++
				}
				// MinSites should be the LP minimum: the fewest sites whose
				// LP value reaches the need. Every k it rules out has a
				// Lagrangian bound, hence an LP value, below
				// need−tol−margin (margin: the bound's rounding allowance),
				// so MinSites−1 sites have an LP value below that: a proof.
				// The other side is measured: MinSites is the LP minimum in
				// 2,767 of 2,778 plans (seeds 1..400, shares 0.5..1) and one
				// less in the other 11: in 10 the target is beyond reach
				// (the need is the reachable total, which the subgradient's
				// first step meets, so it stops), in one only multipliers
				// tuned for one site fewer than the plan are tried. On the
				// plans here it is the LP minimum in all 595. delta keeps
				// the simplex's rounding on the safe side.
				thr := need - tol - (1e-12*p.Total + 1e-9)
				delta := 1e-11 * p.Total
				if plan.MinSites < 1 || plan.MinSites > n {
					t.Fatalf("lower bound %d sites outside 1..%d", plan.MinSites, n)
				}
				if v := lps.at(plan.MinSites - 1); v >= thr+delta {
					t.Fatalf("lower bound %d sites, but %d sites have an LP value %v reaching the need %v", plan.MinSites, plan.MinSites-1, v, need)
				}
				if v := lps.at(plan.MinSites); v >= thr-delta {
					lpMinimum++
				} else if v := lps.at(plan.MinSites + 1); v < thr-delta {
					t.Fatalf("lower bound %d sites, but the LP values of %d and %d sites (%v) stay below the need %v", plan.MinSites, plan.MinSites, plan.MinSites+1, v, need)
				}
				if plan.MinSites > fewest {
					t.Fatalf("lower bound %d above the true minimum %d", plan.MinSites, fewest)
				}
			})
			if !ok {
				return
			}
		}
	}
	t.Logf("fewest sites in %d of %d plans; bound within %g of the LP value in %d of %d; lower bound the LP minimum in %d of %d",
		fewestCount, plans, boundTight, tight, withSites, lpMinimum, withSites)
	if plans != targetPlans || fewestCount < targetFewest {
		t.Fatalf("fewest sites in %d of %d plans, want at least %d of %d", fewestCount, plans, targetFewest, targetPlans)
	}
	if float64(tight) < nearlyAll*float64(withSites) {
		t.Fatalf("bound within %g of the LP value in %d of %d plans, want at least %g of them", boundTight, tight, withSites, nearlyAll)
	}
	if float64(lpMinimum) < nearlyAll*float64(withSites) {
		t.Fatalf("lower bound the LP minimum in %d of %d plans, want at least %g of them", lpMinimum, withSites, nearlyAll)
	}
}

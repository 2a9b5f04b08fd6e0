package site

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/walkshed/walkshed/coverage"
)

// exactOpt asks for the optimum itself.
var exactOpt = Options{Exact: true}

// TestExactAgainstBruteForce: with the search, every plan on the random
// instances is the optimum found by enumerating every subset, with and
// without spacing, is marked optimal, and its bound is at least the optimum
// and at most the objective plus rounding.
func TestExactAgainstBruteForce(t *testing.T) {
	ctx := context.Background()
	plans, searched, heuristicShort := 0, 0, 0
	for seed := uint64(1); seed <= 150; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		for _, sp := range []coverage.Meters{0, 500} {
			best := bruteBest(in, sp)
			free := best
			if sp > 0 {
				free = bruteBest(in, 0)
			}
			for k := 1; k <= min(6, len(in.sets)); k++ {
				opt := exactOpt
				opt.MinSpacing = sp
				plan, err := p.SolveK(ctx, k, opt)
				if err != nil {
					t.Fatal(err)
				}
				heur, err := p.SolveK(ctx, k, Options{MinSpacing: sp})
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("seed %d k %d spacing %v", seed, k, float64(sp))
				mask := maskOf(p, plan)
				if got := maskValue(in, mask); math.Abs(got-plan.Objective) > 1e-6 {
					t.Fatalf("%s: plan says %v, its sites cover %v", name, plan.Objective, got)
				}
				if !spaced(in, mask, sp) {
					t.Fatalf("%s: sites closer than %v m", name, float64(sp))
				}
				if math.Abs(plan.Objective-best[k]) > 1e-6 || !plan.Optimal {
					t.Fatalf("%s: objective %v (optimal %v), the optimum is %v", name, plan.Objective, plan.Optimal, best[k])
				}
				// The bound covers the optimum without spacing when
				// unproven by the search; proven, it meets the objective.
				if plan.UpperBound < best[k]-1e-6 || plan.UpperBound > plan.Objective+p.tol()+1e-6 && plan.UpperBound < free[k]-1e-6 {
					t.Fatalf("%s: bound %v, objective %v, optimum %v (free %v)", name, plan.UpperBound, plan.Objective, best[k], free[k])
				}
				if sp == 0 && plan.UpperBound-plan.Objective > p.tol()+1e-6 {
					t.Fatalf("%s: bound %v above the proven optimum %v", name, plan.UpperBound, plan.Objective)
				}
				plans++
				if plan.Nodes > 0 {
					searched++
				}
				if heur.Objective < best[k]-1e-6 {
					heuristicShort++
				}
			}
		}
	}
	t.Logf("%d plans, all optimal; the branch-and-bound ran in %d; greedy and swaps alone fall short in %d", plans, searched, heuristicShort)
	if heuristicShort == 0 || searched == 0 {
		t.Fatalf("the instances do not exercise the search: %d short, %d searched", heuristicShort, searched)
	}
}

// TestTargetFewerWithTabu: with the branch-and-bound cut to its root node,
// dropping sites is left to the heuristic, and on this dense instance
// (1,500 demands, 600 candidates, 300 m) only the tabu rounds reach each
// target with as few sites as the bound proves necessary (at 90%, the
// swaps alone stop at 30 sites where 28 are proven to suffice and needed).
func TestTargetFewerWithTabu(t *testing.T) {
	p := denseInstance(4, 1500, 600, 300)
	for _, share := range []float64{0.8, 0.9} {
		plan, err := p.SolveTarget(context.Background(), share, Options{Exact: true, maxNodes: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !plan.Reached || len(plan.Sites) != plan.MinSites || !plan.Optimal {
			t.Errorf("share %g: %d sites, at least %d needed, reached %v, optimal %v; want the proven fewest", share, len(plan.Sites), plan.MinSites, plan.Reached, plan.Optimal)
		}
	}
}

// TestExactTargetAgainstBruteForce: the target plans use the fewest sites
// that brute force finds, are marked optimal and their lower bound equals
// that number.
func TestExactTargetAgainstBruteForce(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 150; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		best := bruteBest(in, 0)
		for _, share := range []float64{0.5, 0.8, 0.95, 1} {
			plan, err := p.SolveTarget(ctx, share, exactOpt)
			if err != nil {
				t.Fatal(err)
			}
			tol := p.tol()
			need := share*p.Total - p.Base
			if reach := best[len(in.sets)]; reach < need-tol {
				need = reach
			}
			fewest := 0
			for fewest < len(in.sets) && best[fewest] < need-tol {
				fewest++
			}
			if got := maskValue(in, maskOf(p, plan)); math.Abs(got-plan.Objective) > 1e-6 || got < need-tol {
				t.Fatalf("seed %d share %v: plan covers %v, says %v, needs %v", seed, share, got, plan.Objective, need)
			}
			if len(plan.Sites) != fewest || plan.MinSites != fewest || !plan.Optimal {
				t.Fatalf("seed %d share %v: %d sites, lower bound %d, optimal %v; the fewest is %d", seed, share, len(plan.Sites), plan.MinSites, plan.Optimal, fewest)
			}
		}
	}
}

// TestExactFewestInAddMode: asked for more sites than it takes to cover
// all that the candidates reach, the plan has the fewest that do (brute
// force), not merely fewer than asked.
func TestExactFewestInAddMode(t *testing.T) {
	ctx := context.Background()
	checked := 0
	for seed := uint64(1); seed <= 150; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		best := bruteBest(in, 0)
		all := best[len(in.sets)]
		fewest := 0
		for best[fewest] < all-p.tol() {
			fewest++
		}
		k := len(in.sets) + 1
		plan, err := p.SolveK(ctx, k, exactOpt)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(plan.Objective-all) > 1e-6 || len(plan.Sites) != fewest || !plan.Optimal || plan.MinSites != fewest {
			t.Fatalf("seed %d: %d sites cover %v (lower bound %d); %d are the fewest covering all %v", seed, len(plan.Sites), plan.Objective, plan.MinSites, fewest, all)
		}
		if fewest < p.NumSites() {
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no instance where fewer sites than the useful candidates cover everything")
	}
}

// TestExactBoundAtEveryStop stops the search after 1, 2, 3, … nodes: at
// every stop the bound is at least the optimum (brute force) and the
// objective at most it; the gap never widens as nodes are added.
func TestExactBoundAtEveryStop(t *testing.T) {
	ctx := context.Background()
	stops := 0
	for seed := uint64(1); seed <= 50; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		best := bruteBest(in, 0)
		for k := 2; k <= min(6, len(in.sets)); k++ {
			full, err := p.SolveK(ctx, k, exactOpt)
			if err != nil {
				t.Fatal(err)
			}
			prevUB := math.Inf(1)
			for n := 1; n <= full.Nodes; n++ {
				opt := exactOpt
				opt.maxNodes = n
				plan, err := p.SolveK(ctx, k, opt)
				if err != nil {
					t.Fatal(err)
				}
				if plan.UpperBound < best[k]-1e-6 || plan.Objective > best[k]+1e-6 || plan.UpperBound > prevUB+1e-6 {
					t.Fatalf("seed %d k %d after %d nodes: objective %v, bound %v (before %v), optimum %v", seed, k, n, plan.Objective, plan.UpperBound, prevUB, best[k])
				}
				if plan.Optimal && plan.Objective < best[k]-1e-6 {
					t.Fatalf("seed %d k %d after %d nodes: marked optimal at %v, the optimum is %v", seed, k, n, plan.Objective, best[k])
				}
				prevUB = plan.UpperBound
				stops++
			}
		}
	}
	t.Logf("%d stops checked", stops)
	if stops < 20 {
		t.Fatalf("only %d stops: the instances barely exercise the search", stops)
	}
}

// denseInstance is a random geometric instance where many candidates
// overlap: nd demands and nc candidates in a 3 km square, radius r.
func denseInstance(seed uint64, nd, nc int, r coverage.Meters) *Problem {
	rng := rand.New(rand.NewPCG(seed, 11))
	pt := func() [2]float64 { return [2]float64{121.4 + rng.Float64()*0.03, 31.2 + rng.Float64()*0.027} }
	in := instance{weight: make([]float64, nd), covered: make([]bool, nd)}
	var dpos [][2]float64
	for i := range nd {
		dpos = append(dpos, pt())
		in.weight[i] = float64(1 + rng.IntN(500))
	}
	for range nc {
		c := pt()
		var set []int32
		for i, d := range dpos {
			if coverage.Distance(c, d) <= r {
				set = append(set, int32(i))
			}
		}
		in.sets = append(in.sets, set)
	}
	return problemOf(in)
}

// TestExactTimeLimit: on an instance the search cannot finish quickly, a
// time limit of 0.3 s stops the whole solve within a second of it, with a
// bound no lower than the heuristic's objective and the plan's own.
func TestExactTimeLimit(t *testing.T) {
	p := denseInstance(3, 3000, 1500, 400)
	heur, err := p.SolveK(context.Background(), 25, Options{})
	if err != nil {
		t.Fatal(err)
	}
	opt := exactOpt
	opt.TimeLimit = 300 * time.Millisecond
	t0 := time.Now()
	plan, err := p.SolveK(context.Background(), 25, opt)
	took := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped after %v (%v reported, %d nodes): objective %.0f, bound %.0f, gap %.3f%%; heuristic %.0f", took, plan.Seconds, plan.Nodes, plan.Objective, plan.UpperBound, 100*plan.Gap, heur.Objective)
	if took > opt.TimeLimit+time.Second || plan.Seconds > took.Seconds() {
		t.Fatalf("took %v (says %v s) with a limit of %v", took, plan.Seconds, opt.TimeLimit)
	}
	if !plan.TimedOut || plan.Optimal {
		t.Fatalf("timed out %v, optimal %v: the search should not finish in %v", plan.TimedOut, plan.Optimal, opt.TimeLimit)
	}
	if plan.UpperBound < math.Max(heur.Objective, plan.Objective) || plan.Objective < heur.Objective-p.tol() {
		t.Fatalf("bound %v, objective %v, heuristic %v", plan.UpperBound, plan.Objective, heur.Objective)
	}
}

// TestUndominated checks the reduction against a pairwise comparison of
// the sets: every site left out has its set inside a kept site's set, and
// no kept site's set is inside another kept one's (equal sets: the lowest
// index is kept).
func TestUndominated(t *testing.T) {
	subset := func(a, b []int32) bool { // a ⊆ b, both ascending
		for _, x := range a {
			if !slices.Contains(b, x) {
				return false
			}
		}
		return true
	}
	removed := 0
	for seed := uint64(1); seed <= 150; seed++ {
		for _, p := range []*Problem{problemOf(randomInstance(seed)), denseInstance(seed, 40, 30, 700)} {
			q, back := p.undominated()
			kept := map[int]bool{}
			for x, j := range back {
				kept[int(j)] = true
				if !slices.Equal(q.Set(x), p.Set(int(j))) {
					t.Fatalf("seed %d: kept site %d's set changed", seed, j)
				}
			}
			for j := range p.Sites {
				inside := -1 // a kept site whose set holds j's
				for x := range p.Sites {
					if x != j && kept[x] && subset(p.Set(j), p.Set(x)) {
						inside = x
						break
					}
				}
				dominatedByAny := false
				for x := range p.Sites {
					if x != j && subset(p.Set(j), p.Set(x)) && (len(p.Set(x)) > len(p.Set(j)) || x < j) {
						dominatedByAny = true
					}
				}
				if kept[j] == dominatedByAny || !kept[j] && inside < 0 {
					t.Fatalf("seed %d: site %d kept %v, dominated %v, inside kept %d", seed, j, kept[j], dominatedByAny, inside)
				}
				if !kept[j] {
					removed++
				}
			}
			if q.Reachable != p.Reachable {
				t.Fatalf("seed %d: reachable %v, was %v", seed, q.Reachable, p.Reachable)
			}
		}
	}
	if removed == 0 {
		t.Fatal("no site removed: the instances do not exercise the reduction")
	}
	t.Logf("%d sites removed", removed)
}

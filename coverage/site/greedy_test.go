package site

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/walkshed/walkshed/coverage"
)

// plainGreedy is greedy without laziness, over the instance's candidates
// (restricted to only when not nil): at each step it recomputes every
// candidate's gain, summing its uncovered demand in set order, and takes the
// largest, the lower index on ties, skipping candidates closer than spacing
// to a chosen one; it stops after k sites or when nothing adds weight. It
// returns the candidates in the order taken and their gains.
func plainGreedy(in instance, k int, spacing coverage.Meters, only []int) ([]int, []float64) {
	hit := make([]bool, len(in.weight))
	taken := make([]bool, len(in.sets))
	var order []int
	var gains []float64
	for len(order) < k {
		best, bestGain := -1, 0.0
		for j, set := range in.sets {
			if taken[j] || only != nil && !slices.Contains(only, j) {
				continue
			}
			if spacing > 0 && slices.ContainsFunc(order, func(o int) bool {
				return coverage.Distance(in.pos[o], in.pos[j]) < spacing
			}) {
				continue
			}
			g := 0.0
			for _, i := range set {
				if !in.covered[i] && !hit[i] {
					g += in.weight[i]
				}
			}
			if g > bestGain {
				best, bestGain = j, g
			}
		}
		if best < 0 {
			break
		}
		taken[best] = true
		for _, i := range in.sets[best] {
			hit[i] = true
		}
		order = append(order, best)
		gains = append(gains, bestGain)
	}
	return order, gains
}

// TestGreedyIsPlainGreedy checks that the lazy greedy takes exactly the
// sites, in the same order, as greedy that recomputes every gain at every
// step: a stale gain may only delay a candidate, never let it jump ahead.
func TestGreedyIsPlainGreedy(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 150; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		static, _ := staticOrder(p)
		for _, sp := range []coverage.Meters{0, 500} {
			t.Run(fmt.Sprintf("seed%d_spacing%v", seed, float64(sp)), func(t *testing.T) {
				want, _ := plainGreedy(in, len(in.sets), sp, nil)
				s := newState(p)
				if err := s.greedy(ctx, len(in.sets), math.Inf(1), spacing{p, sp}, static); err != nil {
					t.Fatal(err)
				}
				var got []int
				for _, j := range s.chosen {
					got = append(got, p.Input[j])
				}
				if !slices.Equal(got, want) {
					t.Fatalf("lazy greedy takes %v, plain greedy %v", got, want)
				}
			})
		}
	}
}

// TestRankIsGreedyOverThePlan checks the plan's rank order and added
// weights: greedy over the plan's own sites.
func TestRankIsGreedyOverThePlan(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 150; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		k := 1 + int(seed%6)
		t.Run(fmt.Sprintf("seed%d_k%d", seed, k), func(t *testing.T) {
			plan, err := p.SolveK(ctx, k, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var sites []int
			for _, s := range plan.Sites {
				sites = append(sites, p.Input[s.Site])
			}
			want, gains := plainGreedy(in, len(sites), 0, sites)
			if len(want) != len(sites) {
				t.Fatalf("greedy over the plan's sites %v takes only %v", sites, want)
			}
			cum := p.Base
			for r, s := range plan.Sites {
				cum += gains[r]
				if p.Input[s.Site] != want[r] || s.Rank != r+1 || math.Abs(s.Added-gains[r]) > 1e-9 || math.Abs(s.Covered-cum) > 1e-6 {
					t.Fatalf("rank %d: candidate %d adding %v (covered %v), want candidate %d adding %v (covered %v)",
						s.Rank, p.Input[s.Site], s.Added, s.Covered, want[r], gains[r], cum)
				}
			}
		})
	}
}

// tieInstance is worked by hand: d0..d3 weigh 4, 2, 2, 2; candidate 0
// reaches {d0, d1} (6), 1 reaches {d0} (4), 2 reaches {d1, d2} (4) and 3
// reaches {d3} (2). Greedy takes 0, after which 2 and 3 both add 2 (2's
// queued gain is still 4): the lower index, 2, wins. No swap improves on
// 8, the optimum for two sites, so the tie decides the plan. Candidates
// 4, 5, 6 reach disjoint demands of equal weight 3 (d4, d5, d6), after the
// first four.
func tieInstance() instance {
	return instance{
		weight:  []float64{4, 2, 2, 2, 3, 3, 3},
		covered: make([]bool, 7),
		sets:    [][]int32{{0, 1}, {0}, {1, 2}, {3}, {4}, {5}, {6}},
	}
}

// TestTiesGoToTheLowerIndex pins the documented tie rule: among equal
// gains the candidate with the lower index wins, in the greedy, in the
// rank order and so in the plan.
func TestTiesGoToTheLowerIndex(t *testing.T) {
	in := tieInstance()
	// Only the first four candidates: 0 then the tie between 2 and 3.
	four := in
	four.sets = in.sets[:4]
	// Only the three equal disjoint ones.
	three := in
	three.sets = [][]int32{{4}, {5}, {6}}
	cases := []struct {
		name  string
		in    instance
		k     int
		sites []string // in rank order
		added []float64
	}{
		{"after re-evaluation, k=2", four, 2, []string{"c0", "c2"}, []float64{6, 2}},
		{"after re-evaluation, k=3", four, 3, []string{"c0", "c2", "c3"}, []float64{6, 2, 2}},
		{"equal disjoint, k=1", three, 1, []string{"c0"}, []float64{3}},
		{"equal disjoint, k=2", three, 2, []string{"c0", "c1"}, []float64{3, 3}},
		{"equal disjoint, k=3", three, 3, []string{"c0", "c1", "c2"}, []float64{3, 3, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problemOf(c.in)
			plan, err := p.SolveK(context.Background(), c.k, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			var added []float64
			for _, s := range plan.Sites {
				ids = append(ids, s.ID)
				added = append(added, s.Added)
			}
			if !slices.Equal(ids, c.sites) || !slices.Equal(added, c.added) {
				t.Fatalf("sites %v adding %v, want %v adding %v", ids, added, c.sites, c.added)
			}
			if plan.Swaps != 0 {
				t.Fatalf("%d swaps, want none (no swap improves)", plan.Swaps)
			}
		})
	}
}

// TestFanoPlane checks a plan, its bound and its minimum-sites bound on an
// instance solved by hand (see fano), where the LP relaxation is strictly
// above the best plan.
func TestFanoPlane(t *testing.T) {
	ctx := context.Background()
	p := problemOf(fano())
	plan, err := p.SolveK(ctx, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Two lines cover 5 points; no plan of two sites does better than 5
	// and the LP (the bound's value) is 6.
	if plan.Objective != 5 {
		t.Fatalf("objective %v, want 5", plan.Objective)
	}
	checkBound(t, "bound", plan.UpperBound, 6)
	if want := 1.0 / 6; math.Abs(plan.Gap-want) > 1e-6 {
		t.Fatalf("gap %v, want 1/6", plan.Gap)
	}
	// Three lines, and no fewer, cover 6 of the 7 points; two lines have
	// an LP value of 6, so the LP cannot rule out two: the certified lower
	// bound is 2.
	plan, err = p.SolveTarget(ctx, 6.0/7, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Reached || len(plan.Sites) != 3 || plan.MinSites != 2 {
		t.Fatalf("reached %v with %d sites, lower bound %d; want 3 sites, lower bound 2", plan.Reached, len(plan.Sites), plan.MinSites)
	}
	// Only the search over the bound proves that two lines cannot.
	plan, err = p.SolveTarget(ctx, 6.0/7, Options{Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Reached || len(plan.Sites) != 3 || plan.MinSites != 3 || !plan.Optimal {
		t.Fatalf("with the search: reached %v with %d sites, lower bound %d, optimal %v; want 3 sites proven fewest", plan.Reached, len(plan.Sites), plan.MinSites, plan.Optimal)
	}
	// All 7 points: three concurrent lines; two lines' LP value (6) is
	// below 7, so the lower bound is 3 and the plan is proved optimal.
	plan, err = p.SolveTarget(ctx, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Reached || len(plan.Sites) != 3 || plan.MinSites != 3 || plan.Objective != 7 {
		t.Fatalf("reached %v with %d sites covering %v, lower bound %d; want 3 sites covering 7, lower bound 3",
			plan.Reached, len(plan.Sites), plan.Objective, plan.MinSites)
	}
	checkBound(t, "bound", plan.UpperBound, 7)
}

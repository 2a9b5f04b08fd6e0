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

func TestRandomAgainstBruteForce(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 150; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		k := 1 + int(seed%6)
		var sp coverage.Meters
		if seed%3 == 0 {
			sp = 500
		}
		t.Run(fmt.Sprintf("seed%d_k%d_spacing%v", seed, k, float64(sp)), func(t *testing.T) {
			plan, err := p.SolveK(ctx, k, Options{MinSpacing: sp})
			if err != nil {
				t.Fatal(err)
			}
			free := bruteBest(in, 0)
			at := func(b []float64, k int) float64 { return b[min(k, len(b)-1)] }
			opt := at(free, k)
			if sp > 0 {
				opt = at(bruteBest(in, sp), k)
			}
			if plan.Objective > opt+1e-6 {
				t.Fatalf("objective %v above the optimum %v", plan.Objective, opt)
			}
			if plan.UpperBound < at(free, k)-1e-6 {
				t.Fatalf("bound %v below the optimum %v", plan.UpperBound, at(free, k))
			}
			// The plan's own figures agree with an independent count.
			var mask uint32
			for _, s := range plan.Sites {
				mask |= 1 << p.Input[s.Site]
			}
			if got := maskValue(in, mask); math.Abs(got-plan.Objective) > 1e-6 {
				t.Fatalf("plan says %v, its sites cover %v", plan.Objective, got)
			}
			if !spaced(in, mask, sp) {
				t.Fatalf("sites closer than %v m", float64(sp))
			}
			for i := 1; i < len(plan.Curve); i++ {
				if plan.Curve[i].Covered < plan.Curve[i-1].Covered {
					t.Fatalf("curve decreases at k=%d", i+1)
				}
			}
			if plan.Curve != nil {
				last := plan.Curve[len(plan.Curve)-1].Covered
				if math.Abs(last-plan.Covered) > 1e-6 {
					t.Fatalf("curve ends at %v, plan covers %v", last, plan.Covered)
				}
			}
			// Each curve bound bounds the brute-force optimum for that k.
			for _, c := range plan.Curve {
				if !math.IsNaN(c.UpperBound) && c.UpperBound < at(free, c.K)-1e-6 {
					t.Fatalf("curve bound %v at k=%d below the optimum", c.UpperBound, c.K)
				}
			}
		})
	}
}

func TestRandomTargetAgainstBruteForce(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 100; seed++ {
		in := randomInstance(seed)
		p := problemOf(in)
		share := []float64{0.5, 0.8, 0.95, 1}[seed%4]
		t.Run(fmt.Sprintf("seed%d_share%v", seed, share), func(t *testing.T) {
			plan, err := p.SolveTarget(ctx, share, Options{})
			if err != nil {
				t.Fatal(err)
			}
			need := share*p.Total - p.Base
			best := bruteBest(in, 0)
			reachable := best[len(in.sets)]
			feasible := reachable >= need-p.tol()
			if !feasible {
				need = reachable
			}
			// Fewest sites by brute force.
			fewest := -1
			for k := 0; k <= len(in.sets) && fewest < 0; k++ {
				if best[k] >= need-p.tol() {
					fewest = k
				}
			}
			if plan.Reached != feasible {
				t.Fatalf("reached %v, brute force says feasible %v", plan.Reached, feasible)
			}
			if len(plan.Sites) < fewest {
				t.Fatalf("%d sites, fewer than the minimum %d", len(plan.Sites), fewest)
			}
			if plan.Objective < need-p.tol() {
				t.Fatalf("plan covers %v, needs %v", plan.Objective, need)
			}
			if plan.MinSites > fewest {
				t.Fatalf("lower bound %d above the true minimum %d", plan.MinSites, fewest)
			}
			if len(plan.Sites) > fewest {
				t.Logf("%d sites, optimum %d", len(plan.Sites), fewest)
			}
		})
	}
}

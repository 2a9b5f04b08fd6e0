package site

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// lpValue returns the value of the LP relaxation of the maximal covering
// location problem with at most k sites,
//
//	max Σ_i w_i y_i  s.t.  y_i ≤ Σ_{j: i∈S_j} x_j,  Σ_j x_j ≤ k,  x ≥ 0,  0 ≤ y ≤ 1,
//
// solved by gonum's simplex, independently of the package's Lagrangian
// bound. sets[j] lists the demands site j newly covers (already covered
// demand left out); demands of zero weight or in no set do not count.
// x_j ≤ 1 is left out: with y ≤ 1 it never binds at an optimum (lowering an
// x_j above 1 to 1 keeps every constraint). Demands reached by the same
// sites share every constraint, so they are merged into one carrying the
// summed weight, which leaves the value unchanged and the LP small; so are
// sets contained in another left out (see undominated).
//
// In standard form (min cᵀz, Az = b, z ≥ 0) the columns are x, y, the
// slacks s of the coverage rows, the slacks t of y ≤ 1 and the slack q of
// the site count; the slacks form the starting basis. The objective is
// divided by the total weight so that reduced costs are O(1): gonum's
// anti-cycling rule treats reduced costs above −1e-14 as zero, and with
// unscaled weights (hundreds) rounding noise cycles it.
func lpValue(weight []float64, sets [][]int32, k int) (float64, error) {
	sets = undominated(weight, sets)
	n := len(sets)
	reach := map[int32][]int{}
	for j, set := range sets {
		for _, i := range set {
			reach[i] = append(reach[i], j)
		}
	}
	ids := make([]int32, 0, len(reach))
	for i := range reach {
		ids = append(ids, i)
	}
	slices.Sort(ids)
	index := map[string]int{}
	var w []float64
	var by [][]int
	for _, i := range ids {
		s := slices.Compact(slices.Sorted(slices.Values(reach[i])))
		key := fmt.Sprint(s)
		d, ok := index[key]
		if !ok {
			d = len(w)
			index[key] = d
			w = append(w, 0)
			by = append(by, s)
		}
		w[d] += weight[i]
	}
	m := len(w)
	if m == 0 || k <= 0 {
		return 0, nil
	}
	total := 0.0
	for _, v := range w {
		total += v
	}
	cols, rows := n+3*m+1, 2*m+1
	A := mat.NewDense(rows, cols, nil)
	b := make([]float64, rows)
	c := make([]float64, cols)
	basis := make([]int, rows)
	for d := range m {
		// y_d − Σ x_j + s_d = 0
		A.Set(d, n+d, 1)
		for _, j := range by[d] {
			A.Set(d, j, -1)
		}
		A.Set(d, n+m+d, 1)
		basis[d] = n + m + d
		// y_d + t_d = 1
		A.Set(m+d, n+d, 1)
		A.Set(m+d, n+2*m+d, 1)
		b[m+d] = 1
		basis[m+d] = n + 2*m + d
		c[n+d] = -w[d] / total
	}
	// Σ x_j + q = k
	for j := range n {
		A.Set(2*m, j, 1)
	}
	A.Set(2*m, cols-1, 1)
	b[2*m] = float64(k)
	basis[2*m] = cols - 1
	v, _, err := lp.Simplex(c, A, b, 1e-12, basis)
	if err != nil {
		return 0, err
	}
	return -v * total, nil
}

// undominated returns the sets restricted to demand of positive weight,
// without those contained in another (of equal sets, the first is kept):
// moving an LP's x from a set to one containing it never lowers the
// value, so the LP value is unchanged, and the LP much smaller where many
// candidates reach nearly the same demand.
func undominated(weight []float64, sets [][]int32) [][]int32 {
	pos := make([]map[int32]bool, len(sets))
	var clean [][]int32
	for j, set := range sets {
		pos[j] = map[int32]bool{}
		var c []int32
		for _, i := range set {
			if weight[i] > 0 && !pos[j][i] {
				pos[j][i] = true
				c = append(c, i)
			}
		}
		clean = append(clean, c)
	}
	var out [][]int32
	for a, sa := range clean {
		dominated := len(sa) == 0
		for b, sb := range clean {
			if dominated {
				break
			}
			if a == b || len(sb) < len(sa) || len(sb) == len(sa) && b > a {
				continue
			}
			dominated = !slices.ContainsFunc(sa, func(i int32) bool { return !pos[b][i] })
		}
		if !dominated {
			out = append(out, sa)
		}
	}
	return out
}

// openSets returns the instance's sets without the demand already covered.
func openSets(in instance) [][]int32 {
	out := make([][]int32, len(in.sets))
	for j, set := range in.sets {
		for _, i := range set {
			if !in.covered[i] {
				out[j] = append(out[j], i)
			}
		}
	}
	return out
}

// problemSets returns a problem's sets as plain slices.
func problemSets(p *Problem) [][]int32 {
	out := make([][]int32, p.NumSites())
	for j := range out {
		out[j] = slices.Clone(p.Set(j))
	}
	return out
}

// lpCache memoises lpValue by k for one instance.
type lpCache struct {
	t      testing.TB
	weight []float64
	sets   [][]int32
	memo   map[int]float64
}

func newLPCache(t testing.TB, weight []float64, sets [][]int32) *lpCache {
	return &lpCache{t: t, weight: weight, sets: sets, memo: map[int]float64{}}
}

func (c *lpCache) at(k int) float64 {
	if v, ok := c.memo[k]; ok {
		return v
	}
	v, err := lpValue(c.weight, c.sets, k)
	if err != nil {
		c.t.Fatalf("LP relaxation with %d sites: %v", k, err)
	}
	c.memo[k] = v
	return v
}

// fano is the Fano plane: 7 points of weight 1, 7 lines of 3 points, two
// lines meeting in exactly one point. Two lines cover 5 points; the LP
// puts 2/7 on every line, covering each point 6/7, worth 6 in all, and no
// fractional plan does better (Σ_i y_i ≤ Σ_j |S_j| x_j = 3·2). Three
// lines through one point cover all 7.
func fano() instance {
	in := instance{weight: []float64{1, 1, 1, 1, 1, 1, 1}, covered: make([]bool, 7)}
	in.sets = [][]int32{{0, 1, 2}, {0, 3, 4}, {0, 5, 6}, {1, 3, 5}, {1, 4, 6}, {2, 3, 6}, {2, 4, 5}}
	return in
}

// TestLPValueByHand checks the LP helper itself on answers worked out by
// hand, so that the checks built on it rest on something.
func TestLPValueByHand(t *testing.T) {
	f := fano()
	cases := []struct {
		name   string
		weight []float64
		sets   [][]int32
		k      int
		want   float64
	}{
		{"fano k=1", f.weight, f.sets, 1, 3},
		{"fano k=2", f.weight, f.sets, 2, 6},
		{"fano k=3", f.weight, f.sets, 3, 7},
		{"fano k=9", f.weight, f.sets, 9, 7},
		// Disjoint sets: the LP takes the k heaviest.
		{"disjoint", []float64{5, 3, 4, 0, 2}, [][]int32{{0}, {1, 3}, {2}, {4}}, 2, 9},
		// Nested sets: the larger one wins, the weightless demand is ignored.
		{"nested", []float64{1, 2, 4, 0}, [][]int32{{0, 1}, {0, 1, 2, 3}}, 1, 7},
		// A path a-b-c with sites {a,b} and {b,c}, k=1, weights 3,1,3: the
		// LP splits x = ½, ½ and covers a and c half, b fully: 3/2+1+3/2 = 4.
		{"path", []float64{3, 1, 3}, [][]int32{{0, 1}, {1, 2}}, 1, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := lpValue(c.weight, c.sets, c.k)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-c.want) > 1e-9 {
				t.Fatalf("LP value %v, want %v", got, c.want)
			}
		})
	}
}

package site

import (
	"runtime"
	"slices"
	"sync"
)

// undominated returns the problem restricted to the sites whose set is not
// contained in another site's set (of equal sets, the lowest index stays),
// and for each kept site its index in p. Without a spacing rule this loses
// nothing: a plan using a dominated site covers at least as much with its
// dominating site instead (or, when that one is in the plan already, with
// any other), so the optimum for every number of sites is the same, and so
// is the value of the LP relaxation; the bound and the search get faster,
// often much, where many candidates reach nearly the same demand.
//
// Each site's candidates for a superset are the sites reaching its rarest
// demand, narrowed by intersecting with the sites reaching its next rarest
// demands until none is left or the set is exhausted.
func (p *Problem) undominated() (*Problem, []int32) {
	n := len(p.Sites)
	// Inverted index: the sites reaching each demand, ascending.
	deg := make([]int32, len(p.Weight)+1)
	for _, i := range p.Demand {
		deg[i+1]++
	}
	for i := 1; i < len(deg); i++ {
		deg[i] += deg[i-1]
	}
	by := make([]int32, len(p.Demand))
	fill := slices.Clone(deg[:len(deg)-1])
	for j := range n {
		for _, i := range p.Set(j) {
			by[fill[i]] = int32(j)
			fill[i]++
		}
	}
	reaching := func(i int32) []int32 { return by[deg[i]:deg[i+1]] }
	size := func(j int32) int { return p.Start[j+1] - p.Start[j] }

	dominated := make([]bool, n)
	workers := min(runtime.GOMAXPROCS(0), max(1, n/2048))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var elems []int32
			var cand, next []int32
			for j := w; j < n; j += workers {
				jj := int32(j)
				set := p.Set(j)
				if len(set) == 0 {
					continue
				}
				// The rarest demand first, then the rest in order.
				elems = append(elems[:0], set...)
				r0 := 0
				for x, i := range elems {
					if deg[i+1]-deg[i] < deg[elems[r0]+1]-deg[elems[r0]] {
						r0 = x
					}
				}
				elems[0], elems[r0] = elems[r0], elems[0]
				// Candidates: larger sets, or equal-sized ones of lower index.
				cand = cand[:0]
				for _, s := range reaching(elems[0]) {
					if s != jj && (size(s) > len(set) || size(s) == len(set) && s < jj) {
						cand = append(cand, s)
					}
				}
				for _, i := range elems[1:] {
					if len(cand) == 0 {
						break
					}
					next = next[:0]
					r := reaching(i)
					a, b := 0, 0
					for a < len(cand) && b < len(r) {
						switch {
						case cand[a] < r[b]:
							a++
						case cand[a] > r[b]:
							b++
						default:
							next = append(next, cand[a])
							a++
							b++
						}
					}
					cand, next = next, cand
				}
				dominated[j] = len(cand) > 0
			}
		}()
	}
	wg.Wait()

	q := &Problem{Weight: p.Weight, Covered: p.Covered, Considered: p.Considered, Start: []int{0}}
	var back []int32
	for j := range n {
		if dominated[j] {
			continue
		}
		back = append(back, int32(j))
		q.Sites = append(q.Sites, p.Sites[j])
		q.Input = append(q.Input, p.Input[j])
		q.Demand = append(q.Demand, p.Set(j)...)
		q.Start = append(q.Start, len(q.Demand))
	}
	q.finish()
	return q, back
}

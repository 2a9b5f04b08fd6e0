package site

import (
	"cmp"
	"context"
	"math"
	"slices"
)

// tabuSearch goes beyond the swap search's local optimum: each step makes
// the best swap (one chosen site out, one candidate in) that is not tabu,
// even when it loses weight, and forbids for a while undoing it (the site
// that left may not come back, the one that came in may not leave, for
// tenure steps), unless a move would beat the best plan seen. It stops
// after steps steps, or after stall steps without a new best, and leaves
// s at the best plan seen. Ties go to the candidate met first in static
// order and, for it, the leaving site with the lower index, so the search
// is deterministic. It returns the steps made. Without spacing only.
func (s *state) tabuSearch(ctx context.Context, order []int32, static []float64, tol float64, steps, stall int) (int, error) {
	p := s.p
	k := len(s.chosen)
	if k == 0 || k >= len(p.Sites) {
		return 0, nil
	}
	tenure := max(2, min(k/4+3, 12))
	n := len(p.Sites)
	moved := make([]int, n) // step at which a site last moved, +1
	extra := make([]float64, n)
	mark := make([]bool, n)
	touched := make([]int32, 0, 64)
	byLoss := make([]int32, 0, k)
	best := slices.Clone(s.chosen)
	bestVal := s.value
	since := 0
	it := 0
	tabu := func(j int32) bool { return moved[j] > 0 && it+1-moved[j] <= tenure }
	for ; it < steps && since < stall; it++ {
		if ctx.Err() != nil {
			break
		}
		byLoss = append(byLoss[:0], s.chosen...)
		slices.SortFunc(byLoss, func(a, b int32) int {
			if c := cmp.Compare(s.loss[a], s.loss[b]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		minLoss := s.loss[byLoss[0]]
		bd, bj, bo := math.Inf(-1), int32(-1), int32(-1)
		for _, jj := range order {
			if static[jj]-minLoss <= bd {
				break
			}
			if s.in[jj] {
				continue
			}
			g := 0.0
			touched = touched[:0]
			for _, i := range p.Set(int(jj)) {
				switch s.cnt[i] {
				case 0:
					g += p.Weight[i]
				case 1:
					o := s.owner[i]
					if !mark[o] {
						mark[o] = true
						touched = append(touched, o)
					}
					extra[o] += p.Weight[i]
				}
			}
			jt := tabu(jj)
			consider := func(o int32, d float64) {
				if (jt || tabu(o)) && s.value+d <= bestVal+tol {
					return
				}
				if d > bd || (d == bd && (jj == bj && o < bo)) {
					bd, bj, bo = d, jj, o
				}
			}
			for _, o := range touched {
				consider(o, g+extra[o]-s.loss[o])
			}
			for _, o := range byLoss {
				if !mark[o] && !(tabu(o) && s.value+g-s.loss[o] <= bestVal+tol) {
					consider(o, g-s.loss[o])
					break
				}
			}
			for _, o := range touched {
				mark[o] = false
				extra[o] = 0
			}
		}
		if bj < 0 {
			break
		}
		s.remove(int(bo))
		s.add(int(bj))
		moved[bo], moved[bj] = it+1, it+1
		if s.value > bestVal+tol {
			bestVal = s.value
			best = append(best[:0], s.chosen...)
			since = 0
		} else {
			since++
		}
	}
	// Back to the best plan seen.
	for _, j := range slices.Clone(s.chosen) {
		if !slices.Contains(best, j) {
			s.remove(int(j))
		}
	}
	for _, j := range best {
		if !s.in[j] {
			s.add(int(j))
		}
	}
	return it, ctx.Err()
}

// improve runs rounds of tabu search on reweighted demand: after each
// round the demand the plan leaves uncovered weighs more (its own weight
// once more), which drives the next round to cover it, the way weighting
// local searches for set cover escape plateaus. The plan kept is the best
// under the true weights; s is left at it. steps bounds the tabu steps of
// all rounds together.
func (p *Problem) improve(ctx context.Context, s *state, order []int32, static []float64, tol float64, steps int) (int, error) {
	bestVal := s.exactValue()
	best := slices.Clone(s.chosen)
	q := *p
	q.Weight = slices.Clone(p.Weight)
	cur := newState(&q)
	for _, j := range s.chosen {
		cur.add(int(j))
	}
	qs, qo := static, order
	done, idle := 0, 0
	round := max(200, steps/20)
	stall := max(50, min(tabuStall, 4*len(p.Sites)))
	for done < steps && bestVal < p.Reachable-tol && idle < 50 {
		n, err := cur.tabuSearch(ctx, qo, qs, tol, min(round, steps-done), stall)
		done += max(n, 1)
		if err != nil {
			break
		}
		v := 0.0
		for i, c := range cur.cnt {
			if c > 0 {
				v += p.Weight[i]
			}
		}
		idle++
		if v > bestVal+tol {
			bestVal = v
			best = append(best[:0], cur.chosen...)
			idle = 0
		}
		// Reweight the demand left uncovered and rebuild the state.
		sites := slices.Clone(cur.chosen)
		for _, j := range sites {
			cur.remove(int(j))
		}
		covered := make([]bool, len(q.Weight))
		for _, j := range sites {
			for _, i := range p.Set(int(j)) {
				covered[i] = true
			}
		}
		for _, i := range p.Demand {
			if !covered[i] {
				q.Weight[i] += p.Weight[i]
			}
		}
		for _, j := range sites {
			cur.add(int(j))
		}
		qs, qo = staticOrder(&q)
	}
	for len(s.chosen) > 0 {
		s.remove(int(s.chosen[len(s.chosen)-1]))
	}
	for _, j := range best {
		s.add(int(j))
	}
	return done, ctx.Err()
}

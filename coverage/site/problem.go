package site

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
)

// Candidate is a possible new site: a position (with its H3 cell when known)
// or, in cost-table mode, only an id.
type Candidate struct {
	ID     string    // user id; empty for generated candidates
	Pos    orb.Point // lon, lat; meaningful when HasPos
	HasPos bool
	H3     h3.Cell // 0 when unknown
}

// Problem is a site-proposal instance: demand weights, the demand already
// covered, and for each useful candidate the uncovered demand it reaches,
// stored as compressed sparse rows.
type Problem struct {
	Weight  []float64 // weight (population) of each demand
	Covered []bool    // demand already covered by existing stations; nil = none

	// Sites are the useful candidates (those reaching some uncovered
	// weight), in input order; Input[j] is Sites[j]'s index in the input.
	Sites []Candidate
	Input []int

	// Site j reaches demand Demand[Start[j]:Start[j+1]], ascending, each
	// uncovered and of positive weight.
	Start  []int
	Demand []int32

	Considered int     // candidates examined, useful or not
	Total      float64 // weight of all demand
	Base       float64 // weight already covered
	Reachable  float64 // uncovered weight that some site reaches
}

// Set returns the demand reached by site j. The slice aliases the problem.
func (p *Problem) Set(j int) []int32 { return p.Demand[p.Start[j]:p.Start[j+1]] }

// NumSites is the number of useful candidates.
func (p *Problem) NumSites() int { return len(p.Sites) }

// finish computes the totals once weights, mask and sets are in place.
func (p *Problem) finish() {
	p.Total, p.Base, p.Reachable = 0, 0, 0
	for i, w := range p.Weight {
		p.Total += w
		if p.Covered != nil && p.Covered[i] {
			p.Base += w
		}
	}
	seen := make([]bool, len(p.Weight))
	for _, i := range p.Demand {
		seen[i] = true
	}
	for i, s := range seen {
		if s {
			p.Reachable += p.Weight[i]
		}
	}
}

// NewCandidate returns a candidate at p with its H3 cell at resolution res.
func NewCandidate(id string, p orb.Point, res int) (Candidate, error) {
	c, err := coverage.CellOf(p, res)
	if err != nil {
		return Candidate{}, fmt.Errorf("site: candidate %q: %w", id, err)
	}
	return Candidate{ID: id, Pos: p, HasPos: true, H3: c}, nil
}

// DefaultCandidates returns the centres of the populated cells and of their
// H3 neighbours (grid disk k = 1), each once, in ascending H3 order.
func DefaultCandidates(cells []coverage.Cell) ([]Candidate, error) {
	set := make(map[h3.Cell]struct{}, len(cells)*3)
	for i, c := range cells {
		if !(c.Population > 0) {
			continue
		}
		if c.H3 == 0 || !c.H3.IsValid() {
			return nil, fmt.Errorf("site: cell %d has no valid H3 index", i)
		}
		for _, n := range h3.GridDisk(c.H3, 1) {
			if n != 0 {
				set[n] = struct{}{}
			}
		}
	}
	keys := make([]h3.Cell, 0, len(set))
	for c := range set {
		keys = append(keys, c)
	}
	slices.Sort(keys)
	out := make([]Candidate, len(keys))
	for i, c := range keys {
		out[i] = Candidate{Pos: coverage.CellCenter(c), HasPos: true, H3: c}
	}
	return out, nil
}

// buildChunk is how many candidates one worker takes at a time.
const buildChunk = 256

// Build computes, through the reach model alone, which uncovered populated
// cells each candidate reaches within limit minutes, keeping the candidates
// that reach some. covered marks cells already covered by existing stations
// (nil: none). The work is spread over runtime.GOMAXPROCS workers; the result
// does not depend on scheduling because each candidate's set is sorted and
// chunks are assembled in input order. progress, when not nil, is called
// with the number of candidates done (from one goroutine at a time).
func Build(ctx context.Context, reach coverage.Reach, cells []coverage.Cell, covered []bool, candidates []Candidate, limit coverage.Minutes, progress func(done, total int)) (*Problem, error) {
	if reach == nil {
		return nil, errors.New("site: no reach model")
	}
	if covered != nil && len(covered) != len(cells) {
		return nil, fmt.Errorf("site: %d covered flags for %d cells", len(covered), len(cells))
	}
	if !(limit > 0) || !limit.Reached() {
		return nil, fmt.Errorf("site: limit %v minutes must be a positive number", float64(limit))
	}
	if b := reach.Bound(); limit > b {
		return nil, fmt.Errorf("site: limit %v minutes beyond the %s model's bound %v", float64(limit), reach.Mode(), float64(b))
	}
	for i, c := range candidates {
		if !c.HasPos {
			return nil, fmt.Errorf("site: candidate %d (%q) has no position", i, c.ID)
		}
	}
	weight := make([]float64, len(cells))
	open := make([]bool, len(cells)) // counts as newly coverable
	for i, c := range cells {
		weight[i] = c.Population
		open[i] = c.Population > 0 && (covered == nil || !covered[i])
	}

	type chunk struct {
		sizes  []int32
		demand []int32
	}
	nChunks := (len(candidates) + buildChunk - 1) / buildChunk
	chunks := make([]chunk, nChunks)
	var next atomic.Int64
	var done atomic.Int64
	var mu sync.Mutex
	var firstErr error
	workers := min(runtime.GOMAXPROCS(0), max(nChunks, 1))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []int32
			for {
				ci := int(next.Add(1) - 1)
				if ci >= nChunks {
					return
				}
				if err := ctx.Err(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				lo, hi := ci*buildChunk, min((ci+1)*buildChunk, len(candidates))
				ch := chunk{sizes: make([]int32, hi-lo)}
				for k := lo; k < hi; k++ {
					buf = buf[:0]
					err := reach.Within(ctx, candidates[k].Pos, limit, func(cell int32, _ coverage.Minutes) {
						if cell >= 0 && int(cell) < len(open) && open[cell] {
							buf = append(buf, cell)
						}
					})
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("site: candidate %d: %w", k, err)
						}
						mu.Unlock()
						return
					}
					slices.Sort(buf)
					buf = slices.Compact(buf)
					ch.sizes[k-lo] = int32(len(buf))
					ch.demand = append(ch.demand, buf...)
				}
				chunks[ci] = ch
				d := done.Add(int64(hi - lo))
				if progress != nil {
					mu.Lock()
					progress(int(d), len(candidates))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}

	p := &Problem{Weight: weight, Covered: covered, Considered: len(candidates)}
	nnz := 0
	for _, ch := range chunks {
		nnz += len(ch.demand)
	}
	p.Demand = make([]int32, 0, nnz)
	p.Start = []int{0}
	for ci, ch := range chunks {
		off := 0
		for k, n := range ch.sizes {
			if n > 0 {
				p.Sites = append(p.Sites, candidates[ci*buildChunk+k])
				p.Input = append(p.Input, ci*buildChunk+k)
				p.Demand = append(p.Demand, ch.demand[off:off+int(n)]...)
				p.Start = append(p.Start, len(p.Demand))
			}
			off += int(n)
		}
		chunks[ci] = chunk{}
	}
	p.finish()
	return p, nil
}

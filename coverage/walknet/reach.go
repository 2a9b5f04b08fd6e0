package walknet

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

var (
	_ coverage.Reach     = (*Reach)(nil)
	_ coverage.Snapper   = (*Reach)(nil)
	_ coverage.Describer = (*Reach)(nil)
)

// Reach is the network walking model bound to a fixed set of demand cells,
// each snapped once to the graph. It is safe for concurrent use.
type Reach struct {
	g        *Graph
	cellSnap []snap
	segOff   []int32 // cells snapped to segment s: segCells[segOff[s]:segOff[s+1]]
	segCells []int32
	speed    coverage.Speed
	bound    coverage.Minutes
	maxSnap  float64
	pool     sync.Pool

	snapped    int
	meanSnap   float64
	maxSnapLeg float64
	unsnapped  atomic.Int64 // stations not snapped by the last Nearest call
}

// NewReach snaps every cell centre to the graph and prepares searches at
// speed, bounded at bound minutes (coverage.Unreached for no bound).
func NewReach(ctx context.Context, g *Graph, cells []coverage.Cell, speed coverage.Speed, bound coverage.Minutes, opt Options) (*Reach, error) {
	if !(speed > 0) || math.IsInf(float64(speed), 0) {
		return nil, fmt.Errorf("walknet: speed %v km/h must be a positive number", float64(speed))
	}
	if !(bound > 0) {
		return nil, fmt.Errorf("walknet: bound %v minutes must be positive", float64(bound))
	}
	if len(cells) > math.MaxInt32 {
		return nil, fmt.Errorf("walknet: %d cells is too many", len(cells))
	}
	r := &Reach{
		g:        g,
		cellSnap: make([]snap, len(cells)),
		speed:    speed,
		bound:    bound,
		maxSnap:  float64(opt.maxSnap()),
	}
	g.buildTree()

	// Snap in parallel: every cell is independent. Cells go in the order
	// of their centres along a Hilbert curve, so that consecutive searches
	// meet the same branches of the index and segments in the cache.
	order := g.tree.hilbertOrder(len(cells), func(i int) orb.Point { return cells[i].Pos })
	workers := runtime.GOMAXPROCS(0)
	const chunk = 256
	var next, done atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(cells) {
					return
				}
				hi := min(lo+chunk, len(cells))
				for _, i := range order[lo:hi] {
					r.cellSnap[i] = g.nearest(cells[i].Pos, r.maxSnap)
				}
				d := done.Add(int64(hi - lo))
				if opt.Progress != nil {
					mu.Lock()
					opt.Progress("snap", d, int64(len(cells)))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("walknet: snapping cells: %w", err)
	}

	nSeg := len(g.segA)
	r.segOff = make([]int32, nSeg+1)
	var sum float64
	for _, s := range r.cellSnap {
		if s.Seg >= 0 {
			r.segOff[s.Seg+1]++
			r.snapped++
			sum += s.Leg
			r.maxSnapLeg = math.Max(r.maxSnapLeg, s.Leg)
		}
	}
	if r.snapped > 0 {
		r.meanSnap = sum / float64(r.snapped)
	}
	for s := range nSeg {
		r.segOff[s+1] += r.segOff[s]
	}
	r.segCells = make([]int32, r.snapped)
	pos := make([]int32, nSeg)
	copy(pos, r.segOff[:nSeg])
	for i, s := range r.cellSnap {
		if s.Seg >= 0 {
			r.segCells[pos[s.Seg]] = int32(i)
			pos[s.Seg]++
		}
	}
	nodes, nCells := len(g.lon), len(cells)
	r.pool.New = func() any { return newSearch(nodes, nCells) }
	return r, nil
}

// Graph is the network the model walks on.
func (r *Reach) Graph() *Graph { return r.g }

// Mode is "network".
func (r *Reach) Mode() string { return "network" }

// Bound is the longest walking time reported.
func (r *Reach) Bound() coverage.Minutes { return r.bound }

// CellSnap is the leg from cell's centre to the network, false when it is
// farther than MaxSnap.
func (r *Reach) CellSnap(cell int32) (coverage.Meters, bool) {
	s := r.cellSnap[cell]
	if s.Seg < 0 {
		return 0, false
	}
	return coverage.Meters(s.Leg), true
}

// Snap is the leg from p to the nearest point of the network, and whether
// it is within MaxSnap. The leg is measured however far p is.
func (r *Reach) Snap(p orb.Point) (coverage.Meters, bool) {
	s := r.g.nearest(p, math.Inf(1))
	if s.Seg < 0 {
		return coverage.Meters(math.Inf(1)), false
	}
	return coverage.Meters(s.Leg), s.Leg <= r.maxSnap
}

// StationSnap is how a station attaches to the network.
type StationSnap struct {
	Leg     coverage.Meters // straight-line leg to the nearest segment
	Snapped bool            // Leg <= MaxSnap: the station takes part in searches
}

// SnapStations snaps each station as Nearest would, with its leg measured
// however far it is, so callers can report the ones left out.
func (r *Reach) SnapStations(stations []orb.Point) []StationSnap {
	out := make([]StationSnap, len(stations))
	for i, p := range stations {
		leg, ok := r.Snap(p)
		out[i] = StationSnap{Leg: leg, Snapped: ok}
	}
	return out
}

// UnsnappedStations is the number of stations the last Nearest call could
// not attach to the network (farther than MaxSnap from every segment).
func (r *Reach) UnsnappedStations() int { return int(r.unsnapped.Load()) }

// direct is a point on a cell's own segment that reaches the cell along it.
type direct struct {
	pt  orb.Point
	leg float64 // distance already walked to reach pt (the source's leg)
	s   int32   // station index
}

// cellDistance is the walking distance in metres from the nearest source to
// cell c after a search, and that source's station: the cell's leg plus the
// better of its segment's settled ends, or of a source on the same segment
// walking straight along it. Equal distances go to the lower station.
func (r *Reach) cellDistance(q *search, c int32, directs []direct) (float64, int32) {
	cs := r.cellSnap[c]
	if cs.Seg < 0 {
		return math.Inf(1), -1
	}
	best, bs := math.Inf(1), int32(-1)
	better := func(d float64, s int32) {
		if d < best || (d == best && s < bs) {
			best, bs = d, s
		}
	}
	if d, s, ok := q.isDone(r.g.segA[cs.Seg]); ok {
		better(d+cs.ToA, s)
	}
	if d, s, ok := q.isDone(r.g.segB[cs.Seg]); ok {
		better(d+cs.ToB, s)
	}
	for _, x := range directs {
		better(x.leg+float64(coverage.Distance(x.pt, cs.Pt)), x.s)
	}
	if bs < 0 {
		return math.Inf(1), -1
	}
	return best + cs.Leg, bs
}

// limitMeters converts a time limit to the search's distance limit.
func (r *Reach) limitMeters(m coverage.Minutes) float64 {
	if !m.Reached() {
		return math.Inf(1)
	}
	return float64(r.speed.Distance(m))
}

// Nearest sets out[i], for every i in cells (every cell when nil), to the
// walking time to the nearest of stations, from one bounded multi-source
// search. Stations farther than MaxSnap from the network take no part
// (UnsnappedStations counts them).
func (r *Reach) Nearest(ctx context.Context, stations []orb.Point, cells []int32, out []coverage.Access) error {
	if len(out) < len(r.cellSnap) {
		return fmt.Errorf("walknet: out has %d entries for %d cells", len(out), len(r.cellSnap))
	}
	g := r.g
	sources := make([]source, 0, 2*len(stations))
	onSeg := map[int32][]direct{}
	unsnapped := 0
	for i, p := range stations {
		sp := g.nearest(p, r.maxSnap)
		if sp.Seg < 0 {
			unsnapped++
			continue
		}
		sources = append(sources,
			source{v: g.segA[sp.Seg], d: sp.Leg + sp.ToA, s: int32(i)},
			source{v: g.segB[sp.Seg], d: sp.Leg + sp.ToB, s: int32(i)})
		if len(r.segCells) > 0 && r.segOff[sp.Seg+1] > r.segOff[sp.Seg] {
			onSeg[sp.Seg] = append(onSeg[sp.Seg], direct{pt: sp.Pt, leg: sp.Leg, s: int32(i)})
		}
	}
	r.unsnapped.Store(int64(unsnapped))

	q := r.pool.Get().(*search)
	defer r.pool.Put(q)
	if err := q.run(ctx, g, sources, r.limitMeters(r.bound)); err != nil {
		return fmt.Errorf("walknet: search: %w", err)
	}
	set := func(c int32) {
		d, s := r.cellDistance(q, c, onSeg[r.cellSnap[c].Seg])
		m := r.speed.Walk(coverage.Meters(d))
		if s < 0 || m > r.bound {
			out[c] = coverage.NoAccess
			return
		}
		out[c] = coverage.Access{Minutes: m, Station: s}
	}
	if cells == nil {
		for c := range r.cellSnap {
			set(int32(c))
		}
		return nil
	}
	for _, c := range cells {
		if c < 0 || int(c) >= len(r.cellSnap) {
			return fmt.Errorf("walknet: cell index %d outside 0..%d", c, len(r.cellSnap)-1)
		}
		set(c)
	}
	return nil
}

// Within calls fn for every cell reachable from p in at most limit minutes
// (clamped to Bound). A point farther than MaxSnap from the network reaches
// nothing.
func (r *Reach) Within(ctx context.Context, p orb.Point, limit coverage.Minutes, fn func(cell int32, m coverage.Minutes)) error {
	if limit > r.bound {
		limit = r.bound
	}
	g := r.g
	sp := g.nearest(p, r.maxSnap)
	if sp.Seg < 0 || !(limit >= 0) {
		return nil
	}
	q := r.pool.Get().(*search)
	defer r.pool.Put(q)
	sources := [2]source{
		{v: g.segA[sp.Seg], d: sp.Leg + sp.ToA},
		{v: g.segB[sp.Seg], d: sp.Leg + sp.ToB},
	}
	if err := q.run(ctx, g, sources[:], r.limitMeters(limit)); err != nil {
		return fmt.Errorf("walknet: search: %w", err)
	}
	same := []direct{{pt: sp.Pt, leg: sp.Leg}}
	visit := func(seg int32) {
		for _, c := range r.segCells[r.segOff[seg]:r.segOff[seg+1]] {
			if q.cellMark[c] == q.gen {
				continue
			}
			q.cellMark[c] = q.gen
			var ds []direct
			if seg == sp.Seg {
				ds = same
			}
			d, s := r.cellDistance(q, c, ds)
			if m := r.speed.Walk(coverage.Meters(d)); s >= 0 && m <= limit {
				fn(c, m)
			}
		}
	}
	visit(sp.Seg)
	for _, v := range q.settled {
		for k := g.off[v]; k < g.off[v+1]; k++ {
			visit(g.adjSeg[k])
		}
	}
	return nil
}

// Stats are the network's facts for summary.json.
func (r *Reach) Stats() map[string]any {
	st := r.g.stats
	return map[string]any{
		"nodes":              st.Nodes,
		"edges":              st.Edges,
		"ways_kept":          st.WaysKept,
		"components_dropped": st.ComponentsDropped,
		"length_km":          float64(st.Length) / 1000,
		"cells_snapped":      r.snapped,
		"unreachable_cells":  len(r.cellSnap) - r.snapped,
		"mean_snap_m":        r.meanSnap,
		"max_snap_m":         r.maxSnapLeg,
		"max_snap_limit_m":   r.maxSnap,
		"stations_unsnapped": r.UnsnappedStations(),
	}
}

package walknet

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// Defaults of Options.
const (
	DefaultMinComponent                 = 50
	DefaultMaxSnap      coverage.Meters = 300
)

// Options tune reading and snapping. The zero value gives the defaults.
type Options struct {
	// MinComponent drops connected components with fewer nodes (every OSM
	// node on their walkable ways counts). 0 means DefaultMinComponent; 1
	// keeps every component.
	MinComponent int
	// MaxSnap is the longest straight-line leg from a point to the network;
	// farther points are unreachable. 0 means DefaultMaxSnap.
	MaxSnap coverage.Meters
	// Progress, when not nil, is told how far each stage got (total is -1
	// when unknown). It may be called from a goroutine other than the
	// caller's, never from two at once.
	Progress func(stage string, done, total int64)
}

func (o Options) minComponent() int {
	if o.MinComponent <= 0 {
		return DefaultMinComponent
	}
	return o.MinComponent
}

func (o Options) maxSnap() coverage.Meters {
	if o.MaxSnap <= 0 {
		return DefaultMaxSnap
	}
	return o.MaxSnap
}

func (o Options) progress(stage string, done, total int64) {
	if o.Progress != nil {
		o.Progress(stage, done, total)
	}
}

// GraphStats describe what reading kept.
type GraphStats struct {
	Nodes             int             // graph nodes: OSM nodes on kept walkable ways
	Edges             int             // undirected edges: segments between consecutive way nodes
	WaysRead          int64           // ways of any kind in the file
	WaysWalkable      int             // ways passing the walkable filter
	WaysKept          int             // walkable ways with at least one segment in a kept component
	Components        int             // connected components before dropping
	ComponentsDropped int             // components with fewer than MinComponent nodes
	NodesDropped      int             // nodes in dropped components
	MissingNodes      int             // way node references without (valid) coordinates in the file
	Length            coverage.Meters // total length of kept edges
}

// Graph is the walking network: an undirected graph in CSR arrays. Node i
// sits at (lon[i], lat[i]); its incident edges are adjNode/adjSeg
// [off[i]:off[i+1]]; segment s joins segA[s] and segB[s] and is segLen[s]
// metres long. Nodes are in ascending OSM id order, segments in file order
// of their ways. A Graph is immutable once loaded and safe for concurrent
// use.
type Graph struct {
	name     string
	osmID    []int64
	lon, lat []float64
	cosLat   []float64 // cos(lat·degToRad) per node, for lengths and snapping bounds
	off      []int32
	adjNode  []int32
	adjSeg   []int32
	segA     []int32
	segB     []int32
	segLen   []float64
	stats    GraphStats

	treeOnce sync.Once
	tree     *boxIndex // segment boxes, built on first snap
}

// Load reads an OSM file (PBF or XML, decided from its first bytes; gzip
// and bzip2 compressed XML too) and builds its walking graph.
func Load(ctx context.Context, path string, opt Options) (*Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("walknet: %w", err)
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	d, err := readOSM(ctx, f, f, size, path, opt)
	if err != nil {
		return nil, err
	}
	return build(ctx, d, path, opt)
}

// LoadReader reads OSM data from r; name is used in errors. A PBF stream
// that is not an io.ReadSeeker is held in memory to be read twice.
func LoadReader(ctx context.Context, r io.Reader, name string, opt Options) (*Graph, error) {
	rs, _ := r.(io.ReadSeeker)
	d, err := readOSM(ctx, r, rs, -1, name, opt)
	if err != nil {
		return nil, err
	}
	return build(ctx, d, name, opt)
}

// build cuts the walkable ways into segments, drops small components and
// packs the rest into CSR arrays.
func build(ctx context.Context, d *osmData, name string, opt Options) (*Graph, error) {
	nWays := len(d.wayOff) - 1
	if nWays == 0 {
		return nil, fmt.Errorf("walknet: %s: no walkable way (of %d ways read)", name, d.waysRead)
	}
	opt.progress("build", 0, 3)
	st := GraphStats{WaysRead: d.waysRead, WaysWalkable: nWays}

	// Way node references → node indices (-1 when the file lacks the node).
	ref := d.ref
	for i, j := range ref {
		if !d.found[j] || !validLonLat(d.lon[j], d.lat[j]) {
			ref[i] = -1
			st.MissingNodes++
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("walknet: %s: %w", name, err)
	}

	// Components by union-find over segments. A missing node breaks its way.
	n := len(d.ids)
	parent := make([]int32, n)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	used := make([]bool, n)
	for w := 0; w < nWays; w++ {
		for k := d.wayOff[w] + 1; k < d.wayOff[w+1]; k++ {
			u, v := ref[k-1], ref[k]
			if u < 0 || v < 0 || u == v {
				continue
			}
			used[u], used[v] = true, true
			if ru, rv := find(u), find(v); ru != rv {
				parent[ru] = rv
			}
		}
	}
	size := make([]int32, n)
	for i := range n {
		if used[i] {
			size[find(int32(i))]++
		}
	}
	minComp := int32(opt.minComponent())
	for i := range n {
		if parent[i] == int32(i) && size[i] > 0 {
			st.Components++
			if size[i] < minComp {
				st.ComponentsDropped++
				st.NodesDropped += int(size[i])
			}
		}
	}
	opt.progress("build", 1, 3)

	// Renumber the kept nodes, keeping ascending OSM id order.
	newID := parent // reuse: parent is not needed once roots are known
	roots := make([]int32, n)
	for i := range n {
		roots[i] = find(int32(i))
	}
	g := &Graph{name: name}
	kept := int32(0)
	for i := range n {
		if used[i] && size[roots[i]] >= minComp {
			newID[i] = kept
			kept++
		} else {
			newID[i] = -1
		}
	}
	roots, size, used = nil, nil, nil
	if kept == 0 {
		return nil, fmt.Errorf("walknet: %s: every walkable component (%d) has fewer than %d nodes", name, st.Components, minComp)
	}
	g.osmID = make([]int64, kept)
	g.lon = make([]float64, kept)
	g.lat = make([]float64, kept)
	for i := range n {
		if j := newID[i]; j >= 0 {
			g.osmID[j], g.lon[j], g.lat[j] = d.ids[i], d.lon[i], d.lat[i]
		}
	}

	g.cosLat = make([]float64, kept)
	parallel(int(kept), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g.cosLat[i] = math.Cos(g.lat[i] * degToRad)
		}
	})

	// Segments of kept components, in way order.
	deg := make([]int32, kept+1)
	g.segA = make([]int32, 0, len(ref))
	g.segB = make([]int32, 0, len(ref))
	for w := 0; w < nWays; w++ {
		wayKept := false
		for k := d.wayOff[w] + 1; k < d.wayOff[w+1]; k++ {
			u, v := ref[k-1], ref[k]
			if u < 0 || v < 0 || u == v || newID[u] < 0 {
				continue
			}
			a, b := newID[u], newID[v]
			g.segA = append(g.segA, a)
			g.segB = append(g.segB, b)
			deg[a]++
			deg[b]++
			wayKept = true
		}
		if wayKept {
			st.WaysKept++
		}
	}
	g.segA, g.segB = slices.Clip(g.segA), slices.Clip(g.segB)
	g.segLen = make([]float64, len(g.segA))
	parallel(len(g.segA), func(lo, hi int) {
		for s := lo; s < hi; s++ {
			a, b := g.segA[s], g.segB[s]
			g.segLen[s] = haversine(g.lon[a], g.lat[a], g.cosLat[a], g.lon[b], g.lat[b], g.cosLat[b])
		}
	})
	for _, l := range g.segLen {
		st.Length += coverage.Meters(l)
	}
	opt.progress("build", 2, 3)

	// CSR adjacency.
	g.off = make([]int32, kept+1)
	for i := int32(0); i < kept; i++ {
		g.off[i+1] = g.off[i] + deg[i]
	}
	pos := deg[:kept]
	copy(pos, g.off[:kept])
	g.adjNode = make([]int32, 2*len(g.segA))
	g.adjSeg = make([]int32, 2*len(g.segA))
	for s := range g.segA {
		a, b := g.segA[s], g.segB[s]
		g.adjNode[pos[a]], g.adjSeg[pos[a]] = b, int32(s)
		pos[a]++
		g.adjNode[pos[b]], g.adjSeg[pos[b]] = a, int32(s)
		pos[b]++
	}
	st.Nodes = int(kept)
	st.Edges = len(g.segA)
	g.stats = st
	opt.progress("build", 3, 3)
	return g, nil
}

// Stats returns what reading kept.
func (g *Graph) Stats() GraphStats { return g.stats }

// Name is the file or stream name the graph was read from.
func (g *Graph) Name() string { return g.name }

// Bound is the lon/lat box of the network's segments.
func (g *Graph) Bound() orb.Bound {
	g.buildTree()
	min, max, _ := g.tree.bounds()
	return orb.Bound{Min: min, Max: max}
}

// Node returns the position and OSM id of graph node i.
func (g *Graph) Node(i int32) (orb.Point, int64) {
	return orb.Point{g.lon[i], g.lat[i]}, g.osmID[i]
}

// Edge returns the end nodes and length of edge (segment) s.
func (g *Graph) Edge(s int32) (a, b int32, length coverage.Meters) {
	return g.segA[s], g.segB[s], coverage.Meters(g.segLen[s])
}

// Neighbors calls fn for every edge incident to node i, with the node at
// its other end.
func (g *Graph) Neighbors(i int32, fn func(j, edge int32)) {
	for k := g.off[i]; k < g.off[i+1]; k++ {
		fn(g.adjNode[k], g.adjSeg[k])
	}
}

// haversine is coverage.Distance between (lon1, lat1) and (lon2, lat2),
// operation for operation so the result is the same to the bit, with the
// cosines of the latitudes (of lat·degToRad) given.
func haversine(lon1, lat1, cos1, lon2, lat2, cos2 float64) float64 {
	dlat := lat2*degToRad - lat1*degToRad
	dlon := (lon2 - lon1) * degToRad
	s1 := math.Sin(dlat / 2)
	s2 := math.Sin(dlon / 2)
	h := s1*s1 + cos1*cos2*s2*s2
	if h > 1 {
		h = 1
	}
	return 2 * float64(coverage.EarthRadius) * math.Asin(math.Sqrt(h))
}

// parallel runs fn over [0, n) split into one range per core.
func parallel(n int, fn func(lo, hi int)) {
	procs := runtime.GOMAXPROCS(0)
	if n < 4096 || procs == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + procs - 1) / procs
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+step, n))
	}
	wg.Wait()
}

func validLonLat(lon, lat float64) bool {
	return lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90 // false for NaN
}

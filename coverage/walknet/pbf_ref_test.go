package walknet

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
)

// readPBFReference reads a PBF file with paulmach/osm's osmpbf decoder, in
// the same two passes as readPBF: the reference the tests compare the
// package's own PBF reader with.
func readPBFReference(ctx context.Context, rs io.ReadSeeker, start, size int64, name string, opt Options) (*osmData, error) {
	procs := runtime.GOMAXPROCS(0)
	d := &osmData{wayOff: []int{0}}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("walknet: %s: %w", name, err)
	}

	// Pass 1: walkable ways.
	var waysRead atomic.Int64
	pr := &progressReader{r: rs, total: size, stage: "read ways", fn: opt.Progress}
	sc := osmpbf.New(ctx, pr, procs)
	sc.SkipNodes, sc.SkipRelations = true, true
	sc.FilterWay = func(w *osm.Way) bool {
		waysRead.Add(1)
		return len(w.Nodes) >= 2 && Walkable(w.Tags)
	}
	for sc.Scan() {
		w, ok := sc.Object().(*osm.Way)
		if !ok {
			continue
		}
		for _, n := range w.Nodes {
			d.wayNodes = append(d.wayNodes, int64(n.ID))
		}
		d.wayOff = append(d.wayOff, len(d.wayNodes))
	}
	err := sc.Err()
	sc.Close()
	if err != nil {
		return nil, pbfError(ctx, name, err)
	}
	d.waysRead = waysRead.Load()
	d.index()

	// Pass 2: coordinates of the nodes used by walkable ways. Each decoder
	// writes the coordinates of a node it finds into that node's own slot;
	// a node id appears once in a non-history file.
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("walknet: %s: %w", name, err)
	}
	pr = &progressReader{r: rs, total: size, stage: "read nodes", fn: opt.Progress}
	sc = osmpbf.New(ctx, pr, procs)
	sc.SkipWays, sc.SkipRelations = true, true
	sc.FilterNode = func(n *osm.Node) bool {
		if i, ok := slices.BinarySearch(d.ids, int64(n.ID)); ok {
			d.lon[i], d.lat[i], d.found[i] = n.Lon, n.Lat, true
		}
		return false
	}
	for sc.Scan() {
	}
	err = sc.Err()
	sc.Close()
	if err != nil {
		return nil, pbfError(ctx, name, err)
	}
	return d, nil
}

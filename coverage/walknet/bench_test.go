package walknet

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
)

// delawarePath finds the Delaware extract shipped with paulmach/osm.
func delawarePath(b *testing.B) string {
	b.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/paulmach/osm").Output()
	if err != nil {
		b.Skipf("cannot locate github.com/paulmach/osm: %v", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "testdata", "delaware-latest.osm.pbf")
	if _, err := os.Stat(p); err != nil {
		b.Skipf("Delaware extract not found: %v", err)
	}
	return p
}

type delaware struct {
	path     string
	g        *Graph
	stations []orb.Point
	cells    []coverage.Cell
	r        *Reach
}

var (
	delawareOnce sync.Once
	delawareData delaware
	delawareErr  error
)

// loadDelaware prepares the shared inputs: stations are the nodes tagged
// amenity library, community_centre, townhall, post_office or school;
// cells the distinct H3 res-9 cells of the graph's nodes.
func loadDelaware(b *testing.B) *delaware {
	path := delawarePath(b)
	delawareOnce.Do(func() {
		d := &delawareData
		d.path = path
		ctx := context.Background()
		f, err := os.Open(path)
		if err != nil {
			delawareErr = err
			return
		}
		defer f.Close()
		sc := osmpbf.New(ctx, f, runtime.GOMAXPROCS(0))
		sc.SkipWays, sc.SkipRelations = true, true
		want := map[string]bool{"library": true, "community_centre": true, "townhall": true, "post_office": true, "school": true}
		sc.FilterNode = func(n *osm.Node) bool { return want[n.Tags.Find("amenity")] }
		for sc.Scan() {
			n := sc.Object().(*osm.Node)
			d.stations = append(d.stations, orb.Point{n.Lon, n.Lat})
		}
		if delawareErr = sc.Err(); delawareErr != nil {
			return
		}
		sc.Close()
		if d.g, delawareErr = Load(ctx, path, Options{}); delawareErr != nil {
			return
		}
		seen := map[h3.Cell]bool{}
		for i := range d.g.Stats().Nodes {
			p, _ := d.g.Node(int32(i))
			c, err := coverage.CellOf(p, 9)
			if err != nil {
				delawareErr = err
				return
			}
			if !seen[c] {
				seen[c] = true
				d.cells = append(d.cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: 1})
			}
		}
		d.r, delawareErr = NewReach(ctx, d.g, d.cells, 4, 60, Options{})
	})
	if delawareErr != nil {
		b.Fatal(delawareErr)
	}
	return &delawareData
}

// reportPeak reports the process's peak resident memory (VmHWM) in MB.
func reportPeak(b *testing.B) {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(s), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				b.ReportMetric(kb/1024, "peakRSS-MB")
			}
		}
	}
}

func BenchmarkDelawareLoad(b *testing.B) {
	path := delawarePath(b)
	b.ReportAllocs()
	var st GraphStats
	for b.Loop() {
		g, err := Load(context.Background(), path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		st = g.Stats()
	}
	b.ReportMetric(float64(st.Nodes), "nodes")
	b.ReportMetric(float64(st.Edges), "edges")
	reportPeak(b)
}

func BenchmarkDelawareSnap(b *testing.B) {
	d := loadDelaware(b)
	b.ReportAllocs()
	for b.Loop() {
		// The segment R-tree is built on a graph's first snap: share the
		// arrays in a new Graph value so each round builds it again.
		o := d.g
		g := &Graph{name: o.name, osmID: o.osmID, lon: o.lon, lat: o.lat, cosLat: o.cosLat, off: o.off, adjNode: o.adjNode,
			adjSeg: o.adjSeg, segA: o.segA, segB: o.segB, segLen: o.segLen, stats: o.stats}
		if _, err := NewReach(context.Background(), g, d.cells, 4, 60, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(d.cells)), "cells")
	reportPeak(b)
}

func BenchmarkDelawareNearest(b *testing.B) {
	d := loadDelaware(b)
	out := make([]coverage.Access, len(d.cells))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.r.Nearest(context.Background(), d.stations, nil, out); err != nil {
			b.Fatal(err)
		}
	}
	covered := 0
	for _, a := range out {
		if a.Minutes <= 15 {
			covered++
		}
	}
	b.ReportMetric(float64(len(d.stations)), "stations")
	b.ReportMetric(float64(covered)/float64(len(out)), "share15")
	reportPeak(b)
}

func BenchmarkDelawareWithin(b *testing.B) {
	d := loadDelaware(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n := 0
		_ = d.r.Within(context.Background(), d.stations[i%len(d.stations)], 15, func(int32, coverage.Minutes) { n++ })
		i++
	}
}

// BenchmarkDelawareAll is the whole model: read, build, snap, search.
func BenchmarkDelawareAll(b *testing.B) {
	d := loadDelaware(b)
	b.ReportAllocs()
	for b.Loop() {
		ctx := context.Background()
		g, err := Load(ctx, d.path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		r, err := NewReach(ctx, g, d.cells, 4, 60, Options{})
		if err != nil {
			b.Fatal(err)
		}
		out := make([]coverage.Access, len(d.cells))
		if err := r.Nearest(ctx, d.stations, nil, out); err != nil {
			b.Fatal(err)
		}
	}
	reportPeak(b)
}

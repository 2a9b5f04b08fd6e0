package gpkg

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
)

func geometrySeeds(t testing.TB) [][]byte {
	e := newEncoder()
	var out [][]byte
	for _, g := range []orb.Geometry{
		orb.Point{121.47, 31.23},
		orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, {{0.2, 0.1}, {0.3, 0.2}, {0.4, 0.1}, {0.2, 0.1}}},
		orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, {{{2, 2}, {3, 2}, {3, 3}, {2, 2}}}},
		orb.MultiPoint{{1, 2}, {3, 4}},
	} {
		b, _, err := e.encode(g, 4326)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), b...))
	}
	// Big-endian header without envelope, and an empty-flagged geometry.
	out = append(out, []byte{'G', 'P', 0, 0, 0, 0, 0x10, 0xE6, 0, 0, 0, 0, 1, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0})
	out = append(out, []byte{'G', 'P', 0, 0x11, 0xE6, 0x10, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0})
	return out
}

// FuzzDecodeGeometry: any blob decodes or fails cleanly, and what decodes
// holds no more vertices than the blob has bytes for.
func FuzzDecodeGeometry(f *testing.F) {
	for _, s := range geometrySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		g, _, err := decodeGeometry(blob)
		if err != nil {
			return
		}
		if n := vertices(g); n*16 > len(blob) {
			t.Fatalf("%d vertices from %d bytes", n, len(blob))
		}
	})
}

func vertices(g orb.Geometry) int {
	switch g := g.(type) {
	case orb.Point:
		return 1
	case orb.MultiPoint:
		return len(g)
	case orb.LineString:
		return len(g)
	case orb.MultiLineString:
		n := 0
		for _, l := range g {
			n += len(l)
		}
		return n
	case orb.Polygon:
		n := 0
		for _, r := range g {
			n += len(r)
		}
		return n
	case orb.MultiPolygon:
		n := 0
		for _, p := range g {
			n += vertices(p)
		}
		return n
	case orb.Collection:
		n := 0
		for _, x := range g {
			n += vertices(x)
		}
		return n
	}
	return 0
}

// FuzzReadFile mutates a whole small GeoPackage: the readers never panic,
// and whatever they return fits in the file's own bytes.
func FuzzReadFile(f *testing.F) {
	fx := newFixture(f)
	fx.r.Cells = fx.r.Cells[:4]
	fx.r.Access = fx.r.Access[:4]
	fx.r.InReach = fx.r.InReach[:4]
	fx.opt.Snap = fx.opt.Snap[:4]
	fx.r.Gaps, fx.r.Areas, fx.opt.Proposals = nil, nil, nil
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.gpkg")
	if err := Write(seed, fx.r, fx.opt); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.gpkg")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Layers(path); err != nil {
			return
		}
		pop, err := ReadPopulation(path, "population", ReadOptions{Layer: "cells"})
		if err == nil {
			n := len(pop.Points)
			for _, p := range pop.Polygons {
				n += vertices(p.Geom)
			}
			if n*16 > len(data) {
				t.Fatalf("%d vertices from a %d-byte file", n, len(data))
			}
		}
		ReadStations(path, "id", "name", ReadOptions{Layer: "stations"})
	})
}

package gpkg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func lonLat(p orb.Point) bool {
	return p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}

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

// FuzzDecodeGeometry: any blob decodes or fails cleanly; what decodes
// holds no more vertices than the blob has bytes for, and survives the
// encoder: decode → encode → decode gives the same geometry (coordinates
// bit for bit) and srs, the second encoding is byte for byte the first, and
// the encoded envelope is the geometry's bounding box, computed here from
// its vertices (see envelopeOf).
func FuzzDecodeGeometry(f *testing.F) {
	for _, s := range geometrySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		g, srs, err := decodeGeometry(blob)
		if err != nil {
			return
		}
		if n := vertices(g); n*16 > len(blob) {
			t.Fatalf("%d vertices from %d bytes", n, len(blob))
		}
		checkEncoding(t, g, srs)
	})
}

// checkEncoding encodes g, checks the header and envelope, decodes it back
// and encodes that again.
func checkEncoding(t *testing.T, g orb.Geometry, srs int32) {
	t.Helper()
	e := newEncoder()
	b1, bound, err := e.encode(g, srs)
	if err != nil {
		t.Fatalf("encoding %v: %v", g, err)
	}
	b1 = bytes.Clone(b1)
	if len(b1) < 40 || string(b1[:4]) != "GP\x00\x03" || int32(binary.LittleEndian.Uint32(b1[4:])) != srs {
		t.Fatalf("header % x, want GP 00 03 and srs %d", b1[:min(8, len(b1))], srs)
	}
	var env [4]float64 // minx, maxx, miny, maxy
	for i := range env {
		env[i] = math.Float64frombits(binary.LittleEndian.Uint64(b1[8+8*i:]))
	}
	if want, ok := envelopeOf(g); ok {
		if env != want || [4]float64{bound.Min[0], bound.Max[0], bound.Min[1], bound.Max[1]} != want {
			t.Fatalf("%v: envelope %v, bound %v; its vertices span %v", g, env, bound, want)
		}
	}
	g2, srs2, err := decodeGeometry(b1)
	if err != nil || srs2 != srs || !sameGeometry(g, g2) {
		t.Fatalf("%v (srs %d) encoded and decoded: %v (srs %d), %v", g, srs, g2, srs2, err)
	}
	b2, _, err := e.encode(g2, srs2)
	if err != nil || !bytes.Equal(b1, b2) {
		t.Fatalf("encoded twice:\n% x\n% x (%v)", b1, b2, err)
	}
}

// envelopeOf is [minx, maxx, miny, maxy] over the vertices of points,
// lines and polygons' outer rings (a valid polygon's holes lie inside its
// outer ring), or false when a coordinate is NaN.
func envelopeOf(g orb.Geometry) ([4]float64, bool) {
	env := [4]float64{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	ok, seen := true, false
	see := func(ps ...orb.Point) {
		for _, p := range ps {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) {
				ok = false
			}
			seen = true
			if p[0] < env[0] {
				env[0] = p[0]
			}
			if p[0] > env[1] {
				env[1] = p[0]
			}
			if p[1] < env[2] {
				env[2] = p[1]
			}
			if p[1] > env[3] {
				env[3] = p[1]
			}
		}
	}
	var walk func(g orb.Geometry)
	walk = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Point:
			see(g)
		case orb.MultiPoint:
			see(g...)
		case orb.LineString:
			see(g...)
		case orb.MultiLineString:
			for _, l := range g {
				see(l...)
			}
		case orb.Polygon:
			if len(g) > 0 {
				see(g[0]...)
			}
		case orb.MultiPolygon:
			for _, p := range g {
				walk(p)
			}
		case orb.Collection:
			for _, x := range g {
				walk(x)
			}
		default:
			ok = false
		}
	}
	walk(g)
	return env, ok && seen
}

// sameGeometry compares structure and coordinates bit for bit (NaN equal
// to the same NaN).
func sameGeometry(a, b orb.Geometry) bool {
	return reflect.TypeOf(a) == reflect.TypeOf(b) && flatten(a) == flatten(b)
}

func flatten(g orb.Geometry) string {
	var sb strings.Builder
	pts := func(ps []orb.Point) {
		fmt.Fprintf(&sb, "[%d", len(ps))
		for _, p := range ps {
			fmt.Fprintf(&sb, " %x,%x", math.Float64bits(p[0]), math.Float64bits(p[1]))
		}
		sb.WriteString("]")
	}
	var walk func(g orb.Geometry)
	walk = func(g orb.Geometry) {
		fmt.Fprintf(&sb, "%T", g)
		switch g := g.(type) {
		case orb.Point:
			pts([]orb.Point{g})
		case orb.MultiPoint:
			pts(g)
		case orb.LineString:
			pts(g)
		case orb.MultiLineString:
			for _, l := range g {
				pts(l)
			}
		case orb.Polygon:
			for _, r := range g {
				pts(r)
			}
		case orb.MultiPolygon:
			fmt.Fprintf(&sb, "(%d", len(g))
			for _, p := range g {
				walk(p)
			}
			sb.WriteString(")")
		case orb.Collection:
			fmt.Fprintf(&sb, "(%d", len(g))
			for _, x := range g {
				walk(x)
			}
			sb.WriteString(")")
		}
	}
	walk(g)
	return sb.String()
}

// wkbLE is a hand-written little-endian WKB encoder for the geometries the
// writer stores.
func wkbLE(g orb.Geometry) []byte {
	var b []byte
	u32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	pts := func(ps []orb.Point) {
		u32(uint32(len(ps)))
		for _, p := range ps {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p[0]))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p[1]))
		}
	}
	switch g := g.(type) {
	case orb.Point:
		b = append(b, 1)
		u32(1)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(g[0]))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(g[1]))
	case orb.LineString:
		b = append(b, 1)
		u32(2)
		pts(g)
	case orb.Polygon:
		b = append(b, 1)
		u32(3)
		u32(uint32(len(g)))
		for _, r := range g {
			pts(r)
		}
	case orb.MultiPolygon:
		b = append(b, 1)
		u32(6)
		u32(uint32(len(g)))
		for _, p := range g {
			b = append(b, wkbLE(p)...)
		}
	}
	return b
}

// TestEncodeByHand compares whole blobs with ones assembled here: header,
// srs, the envelope worked out by hand, and the WKB body.
func TestEncodeByHand(t *testing.T) {
	for _, c := range []struct {
		g   orb.Geometry
		env [4]float64
	}{
		{orb.Point{121.47, 31.23}, [4]float64{121.47, 121.47, 31.23, 31.23}},
		{orb.LineString{{-1, 5}, {3, -2}, {0, 0}}, [4]float64{-1, 3, -2, 5}},
		{orb.Polygon{{{0, 0}, {4, 1}, {2, 6}, {0, 0}}, {{1, 1}, {2, 1}, {2, 2}, {1, 1}}}, [4]float64{0, 4, 0, 6}},
		{orb.MultiPolygon{{{{-179.5, -10}, {-179, -10}, {-179, -9}, {-179.5, -10}}}, {{{170, 80}, {171, 80}, {170, 81.5}, {170, 80}}}}, [4]float64{-179.5, 171, -10, 81.5}},
	} {
		want := []byte{'G', 'P', 0, 3, 0xE6, 0x10, 0, 0}
		for _, v := range c.env {
			want = binary.LittleEndian.AppendUint64(want, math.Float64bits(v))
		}
		want = append(want, wkbLE(c.g)...)
		got, bound, err := newEncoder().encode(c.g, 4326)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v:\n got % x\nwant % x (%v)", c.g, got, want, err)
		}
		if bound.Min != (orb.Point{c.env[0], c.env[2]}) || bound.Max != (orb.Point{c.env[1], c.env[3]}) {
			t.Errorf("%v: bound %v, want %v", c.g, bound, c.env)
		}
	}
}

// TestEncodeRoundTripRandom encodes random points, lines, polygons with
// holes and multipolygons anywhere on the globe (and beyond, as projected
// coordinates would be) through checkEncoding.
func TestEncodeRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2026))
	pt := func(scale float64) orb.Point {
		return orb.Point{(rng.Float64()*2 - 1) * scale, (rng.Float64()*2 - 1) * scale / 2}
	}
	ring := func(c orb.Point, r float64) orb.Ring {
		n := 3 + rng.IntN(8)
		out := make(orb.Ring, 0, n+1)
		for k := range n {
			a := 2 * math.Pi * float64(k) / float64(n)
			out = append(out, orb.Point{c[0] + r*math.Cos(a)*(0.5+rng.Float64()/2), c[1] + r*math.Sin(a)*(0.5+rng.Float64()/2)})
		}
		return append(out, out[0])
	}
	poly := func(scale float64) orb.Polygon {
		c, r := pt(scale), scale*rng.Float64()/10+1e-9
		p := orb.Polygon{ring(c, r)}
		for range rng.IntN(3) {
			p = append(p, ring(c, r/4))
		}
		return p
	}
	for range 300 {
		scale := []float64{180, 1e7, 1e-3}[rng.IntN(3)]
		var g orb.Geometry
		switch rng.IntN(5) {
		case 0:
			g = pt(scale)
		case 1:
			ls := orb.LineString{}
			for range 1 + rng.IntN(20) {
				ls = append(ls, pt(scale))
			}
			g = ls
		case 2:
			g = poly(scale)
		case 3:
			mp := orb.MultiPolygon{}
			for range 1 + rng.IntN(4) {
				mp = append(mp, poly(scale))
			}
			g = mp
		case 4:
			mpt := orb.MultiPoint{}
			for range 1 + rng.IntN(6) {
				mpt = append(mpt, pt(scale))
			}
			g = mpt
		}
		checkEncoding(t, g, []int32{4326, 0, -1, 3857}[rng.IntN(4)])
	}
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

// FuzzReadFile mutates a whole small GeoPackage: the readers never panic;
// whatever they return fits in the file's own bytes, with every position a
// valid lon/lat and every population finite and not negative; an error
// names the file.
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
			for _, p := range pop.Points {
				if !lonLat(p.Pos) || !(p.Population >= 0) || math.IsInf(p.Population, 0) {
					t.Fatalf("point %+v", p)
				}
			}
			for _, p := range pop.Polygons {
				if !(p.Population >= 0) || math.IsInf(p.Population, 0) {
					t.Fatalf("polygon population %v", p.Population)
				}
				for _, poly := range p.Geom {
					for _, r := range poly {
						for _, q := range r {
							if !lonLat(q) {
								t.Fatalf("polygon vertex %v", q)
							}
						}
					}
				}
			}
		} else if !strings.HasPrefix(err.Error(), "gpkg: "+path) {
			t.Fatalf("error %q does not name the file", err)
		}
		st, err := ReadStations(path, "id", "name", ReadOptions{Layer: "stations"})
		if err == nil {
			if len(st)*16 > len(data) {
				t.Fatalf("%d stations from a %d-byte file", len(st), len(data))
			}
			for _, s := range st {
				if !lonLat(s.Pos) {
					t.Fatalf("station %+v", s)
				}
			}
		} else if !strings.HasPrefix(err.Error(), "gpkg: "+path) {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}

package tiles

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"github.com/walkshed/walkshed/coverage"
)

// The layers a Source serves, each as its own tile.
const (
	Cells    = "cells"    // hexagons: minutes, covered, population (aggregated at low zoom)
	Gaps     = "gaps"     // gap outlines with their rank, and a label point per gap
	Stations = "stations" // points: id, name, tier, level
	Areas    = "areas"    // area outlines: name, parent, level, share
	Streets  = "streets"  // the street network, as lines (when the study has one)
)

// Layers are the layer names, in drawing order.
var Layers = []string{Streets, Cells, Areas, Gaps, Stations}

const (
	// Extent is the tile's coordinate range, as MapLibre expects.
	Extent = mvt.DefaultExtent
	// Buffer is the margin, in tile units, kept around a tile so that
	// outlines and symbols meet across tile edges.
	Buffer = 64
	// MaxZoom is the deepest zoom served.
	MaxZoom = 22
	// StreetsMinZoom is the shallowest zoom at which streets are drawn by
	// default: above it a city's streets would fill the tile.
	StreetsMinZoom = 12

	quadZoom = 16 // zoom of the quadkeys features are sorted by
)

// Errors of Tile, for the caller to tell a bad request from a failure.
var (
	ErrUnknownLayer = errors.New("tiles: unknown layer")
	ErrOutOfRange   = errors.New("tiles: tile outside the zoom range or the world")
)

// Options say what a Source draws besides the result.
type Options struct {
	// Tiers are the station tier names from the top; a station's level
	// property is its tier's index (-1 when not listed).
	Tiers []string
	// Streets are street segments for the basemap layer; nil for none.
	Streets [][2]orb.Point
	// StreetsMinZoom is the shallowest zoom streets are drawn at (0:
	// the package's StreetsMinZoom).
	StreetsMinZoom int
	// CacheTiles caps the tiles kept (0: 4096).
	CacheTiles int
}

// Source makes vector tiles of one coverage result, which it reads (never
// writes) each time a tile is made.
type Source struct {
	r              *coverage.Result
	tier           map[string]int
	levels         []*level // by H3 resolution, 0 up to the result's own
	streets        *segIndex
	minZoomStreets uint32
	gapBox         []orb.Bound
	areaBox        []orb.Bound

	mu    sync.Mutex
	cache map[tileKey][]byte
	max   int
}

type tileKey struct {
	layer   string
	z, x, y uint32
}

// New builds a Source over r: its cells' aggregates at every coarser
// resolution and the indexes to find features by tile.
func New(r *coverage.Result, opt Options) (*Source, error) {
	if r == nil {
		return nil, errors.New("tiles: nil result")
	}
	if len(r.Access) != len(r.Cells) {
		return nil, fmt.Errorf("tiles: %d cells but %d access entries", len(r.Cells), len(r.Access))
	}
	s := &Source{r: r, tier: map[string]int{}, cache: map[tileKey][]byte{}, max: opt.CacheTiles}
	if s.max <= 0 {
		s.max = 4096
	}
	for i, t := range opt.Tiers {
		s.tier[t] = i
	}
	var err error
	if s.levels, err = buildLevels(r); err != nil {
		return nil, err
	}
	s.minZoomStreets = StreetsMinZoom
	if opt.StreetsMinZoom > 0 {
		s.minZoomStreets = uint32(opt.StreetsMinZoom)
	}
	if len(opt.Streets) > 0 {
		s.streets = newSegIndex(opt.Streets)
	}
	s.boxes()
	return s, nil
}

// ResForZoom is the H3 resolution cells are drawn at at zoom z for a study
// of resolution res: on 512-pixel tiles (MapLibre's) hexagons stay about
// 10 to 30 pixels across (each zoom level halves the pixel size, each
// resolution shrinks cells about 2.65 times, 2^1.4).
func ResForZoom(z, res int) int {
	r := int(math.Floor(9 + float64(z-11)/1.4))
	return max(0, min(r, res))
}

// boxes refreshes the bounds of the gaps and areas, which change with the
// result.
func (s *Source) boxes() {
	s.gapBox = s.gapBox[:0]
	for _, g := range s.r.Gaps {
		s.gapBox = append(s.gapBox, g.Outline.Bound())
	}
	s.areaBox = s.areaBox[:0]
	for _, a := range s.r.Areas {
		if len(a.Geom) == 0 {
			s.areaBox = append(s.areaBox, orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{-1, -1}})
			continue
		}
		s.areaBox = append(s.areaBox, a.Geom.Bound())
	}
}

// Tile returns the vector tile of one layer, made or from the cache. It
// returns ErrUnknownLayer or ErrOutOfRange for a tile that does not exist.
func (s *Source) Tile(layer string, z, x, y uint32) ([]byte, error) {
	if !slices.Contains(Layers, layer) {
		return nil, fmt.Errorf("%w %q (want one of %v)", ErrUnknownLayer, layer, Layers)
	}
	if z > MaxZoom || x >= 1<<z || y >= 1<<z {
		return nil, fmt.Errorf("%w: %d/%d/%d (zoom 0..%d)", ErrOutOfRange, z, x, y, MaxZoom)
	}
	k := tileKey{layer, z, x, y}
	s.mu.Lock()
	b, ok := s.cache[k]
	s.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := s.make(layer, maptile.New(x, y, maptile.Zoom(z)))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.cache) >= s.max {
		// Drop about half, whichever the map yields first: a full cache
		// is rare (a long session over a large city) and refills fast.
		n := 0
		for k := range s.cache {
			delete(s.cache, k)
			if n++; n >= s.max/2 {
				break
			}
		}
	}
	s.cache[k] = b
	s.mu.Unlock()
	return b, nil
}

// Cached is the number of tiles in the cache.
func (s *Source) Cached() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cache)
}

// make builds one tile.
func (s *Source) make(layer string, t maptile.Tile) ([]byte, error) {
	l := &mvt.Layer{Name: layer, Version: 2, Extent: Extent}
	sel := t.Bound(float64(Buffer) / Extent)
	switch layer {
	case Cells:
		l.Features = s.cellFeatures(t, sel)
	case Gaps:
		l.Features = s.gapFeatures(sel, 2*360/math.Exp2(float64(t.Z))/512)
	case Stations:
		l.Features = s.stationFeatures(sel)
	case Areas:
		l.Features = s.areaFeatures(sel)
	case Streets:
		if s.streets != nil && uint32(t.Z) >= s.minZoomStreets {
			l.Features = s.streets.features(t, sel)
		}
	}
	if len(l.Features) > 0 {
		l.ProjectToTile(t)
		l.Clip(orb.Bound{Min: orb.Point{-Buffer, -Buffer}, Max: orb.Point{Extent + Buffer, Extent + Buffer}})
		kept := l.Features[:0]
		for _, f := range l.Features {
			if f.Geometry = orient(f.Geometry); !flat(f.Geometry) {
				kept = append(kept, f)
			}
		}
		l.Features = kept
	}
	return mvt.Marshal(mvt.Layers{l})
}

// orient winds polygons as vector tiles want in tile coordinates (y
// down): the outer ring with a positive surveyor's area, holes negative.
// Projection flips the y axis, and clipping may reverse a ring, so every
// ring is checked.
func orient(g orb.Geometry) orb.Geometry {
	switch g := g.(type) {
	case orb.Polygon:
		for i, r := range g {
			if a := shoelace(r); (i == 0) != (a > 0) && a != 0 {
				r.Reverse()
			}
		}
		return g
	case orb.MultiPolygon:
		for _, p := range g {
			orient(p)
		}
		return g
	}
	return g
}

// flat reports a polygon clipping left with no area: a hexagon whose
// vertex only touches the buffer's edge.
func flat(g orb.Geometry) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return len(g) == 0 || shoelace(g[0]) == 0
	case orb.MultiPolygon:
		for _, p := range g {
			if !flat(p) {
				return false
			}
		}
		return true
	}
	return false
}

func shoelace(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a
}

// cellFeatures are the hexagons of the tile's level near t.
func (s *Source) cellFeatures(t maptile.Tile, sel orb.Bound) []*geojson.Feature {
	lv := s.levels[ResForZoom(int(t.Z), len(s.levels)-1)]
	// A hexagon overlaps the tile only if its centre lies within the
	// hexagon's reach of it.
	pad := sel
	cos := math.Max(math.Cos(math.Max(math.Abs(sel.Min[1]), math.Abs(sel.Max[1]))*math.Pi/180), 0.01)
	pad.Min = orb.Point{sel.Min[0] - lv.reach/cos, sel.Min[1] - lv.reach}
	pad.Max = orb.Point{sel.Max[0] + lv.reach/cos, sel.Max[1] + lv.reach}
	var out []*geojson.Feature
	own := lv.agg == nil
	lv.index.query(t, func(i int32) {
		if !pad.Contains(lv.pos[i]) {
			return
		}
		var ring orb.Ring
		if own {
			// The study's own cells, too many to keep outlines of, are
			// drawn only at deep zooms, a few per tile.
			ring = coverage.CellRing(lv.cell[i])
		} else {
			ring = lv.ring(i)
		}
		if !ring.Bound().Intersects(sel) {
			return
		}
		if !own {
			ring = slices.Clone(ring) // projection changes it in place
		}
		f := geojson.NewFeature(orb.Polygon{ring})
		if own {
			c, a := s.r.Cells[i], s.r.Access[i]
			f.Properties = geojson.Properties{"h3": c.H3.String(), "population": c.Population, "covered": b2i(s.r.Covered(int(i))), "res": lv.res}
			if a.Minutes.Reached() {
				f.Properties["minutes"] = round2(float64(a.Minutes))
			}
			if a.Station >= 0 && int(a.Station) < len(s.r.Stations) {
				f.Properties["station"] = s.r.Stations[a.Station].ID
			}
		} else {
			g := lv.agg[i]
			f.Properties = geojson.Properties{"h3": lv.cell[i].String(), "population": g.pop, "share": round4(g.share()), "res": lv.res}
			if g.reachedPop > 0 {
				f.Properties["minutes"] = round2(g.minPop / g.reachedPop)
			}
		}
		out = append(out, f)
	})
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// gapFeatures are the gap outlines overlapping the tile and a label point
// per gap inside it, leaving out gaps smaller than least degrees of
// longitude both ways (two pixels of a 512-pixel tile: at low zoom a city's
// small gaps would cost much and show nothing).
func (s *Source) gapFeatures(sel orb.Bound, least float64) []*geojson.Feature {
	var out []*geojson.Feature
	for k, g := range s.r.Gaps {
		b := s.gapBox[k]
		if len(g.Outline) == 0 || !b.Intersects(sel) {
			continue
		}
		cos := math.Max(math.Cos(b.Center()[1]*math.Pi/180), 0.01)
		if b.Max[0]-b.Min[0] < least && (b.Max[1]-b.Min[1])/cos < least {
			continue
		}
		f := geojson.NewFeature(clonePolygon(g.Outline))
		f.Properties = geojson.Properties{"rank": g.ID, "population": math.Round(g.Population), "cells": len(g.Cells), "kind": "outline"}
		out = append(out, f)
		if sel.Contains(g.Point) {
			p := geojson.NewFeature(g.Point)
			p.Properties = geojson.Properties{"rank": g.ID, "population": math.Round(g.Population), "cells": len(g.Cells), "kind": "label"}
			out = append(out, p)
		}
	}
	return out
}

// clonePolygon copies p: projection and clipping change geometries in
// place, and the result's own must stay as they are.
func clonePolygon(p orb.Polygon) orb.Polygon {
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		out[i] = slices.Clone(r)
	}
	return out
}

func (s *Source) stationFeatures(sel orb.Bound) []*geojson.Feature {
	var out []*geojson.Feature
	for _, st := range s.r.Stations {
		if !sel.Contains(st.Pos) {
			continue
		}
		f := geojson.NewFeature(st.Pos)
		level, ok := s.tier[st.Tier]
		if !ok {
			level = -1
		}
		f.Properties = geojson.Properties{"id": st.ID, "name": st.Name, "tier": st.Tier, "level": level}
		out = append(out, f)
	}
	return out
}

func (s *Source) areaFeatures(sel orb.Bound) []*geojson.Feature {
	var out []*geojson.Feature
	for k, a := range s.r.Areas {
		if len(a.Geom) == 0 || !s.areaBox[k].Intersects(sel) {
			continue
		}
		mp := make(orb.MultiPolygon, len(a.Geom))
		for i, p := range a.Geom {
			mp[i] = clonePolygon(p)
		}
		f := geojson.NewFeature(mp)
		f.Properties = geojson.Properties{"name": a.Name, "parent": a.Parent, "level": a.Level, "share": round4(a.Share()), "population": math.Round(a.Population)}
		out = append(out, f)
	}
	return out
}

// Changed tells the source that the cells listed changed their walking
// time or coverage and that stations opened or closed at points; the
// result's gaps and area summaries may have changed too. It refreshes the
// aggregates above those cells and drops the cached tiles the change
// touches: cell tiles over the changed cells at every zoom, station tiles
// at the points, and every gap and area tile (a gap's rank and an area's
// share change with any edit). Call it with no tile being made.
func (s *Source) Changed(cells []int32, points []orb.Point) {
	dirty := s.refresh(cells)
	s.boxes()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.cache {
		t := maptile.New(k.x, k.y, maptile.Zoom(k.z))
		switch k.layer {
		case Gaps, Areas:
			delete(s.cache, k)
		case Cells:
			b := dirty[ResForZoom(int(k.z), len(s.levels)-1)]
			if !b.empty && b.box.Intersects(t.Bound(float64(Buffer)/Extent)) {
				delete(s.cache, k)
			}
		case Stations:
			sel := t.Bound(float64(Buffer) / Extent)
			for _, p := range points {
				if sel.Contains(p) {
					delete(s.cache, k)
					break
				}
			}
		}
	}
}

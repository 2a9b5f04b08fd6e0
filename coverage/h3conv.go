package coverage

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// This file is the one place where orb.Point{lon, lat} meets H3's
// LatLng{Lat, Lng}. h3-go v4.1.0 returns cell 0 for an invalid resolution and
// panics on some empty inputs, so every call is validated here.

// CellOf returns the H3 cell containing p at resolution res.
func CellOf(p orb.Point, res int) (h3.Cell, error) {
	if res < 0 || res > h3.MaxResolution {
		return 0, fmt.Errorf("coverage: H3 resolution %d outside 0..%d", res, h3.MaxResolution)
	}
	if !validLonLat(p) {
		return 0, fmt.Errorf("coverage: point %v is not a lon/lat position", p)
	}
	c := h3.LatLngToCell(h3.LatLng{Lat: p[1], Lng: p[0]}, res)
	if c == 0 || !c.IsValid() {
		return 0, fmt.Errorf("coverage: no H3 cell for %v at resolution %d", p, res)
	}
	return c, nil
}

// CellCenter returns the centre of c as orb.Point{lon, lat}.
func CellCenter(c h3.Cell) orb.Point {
	ll := h3.CellToLatLng(c)
	return orb.Point{ll.Lng, ll.Lat}
}

// CellRing returns the closed boundary ring of c, counter-clockwise, as
// orb.Point{lon, lat}. Longitudes are unwrapped relative to the first vertex
// so a cell on the antimeridian stays one piece.
func CellRing(c h3.Cell) orb.Ring {
	b := h3.CellToBoundary(c)
	ring := make(orb.Ring, 0, len(b)+1)
	for i, ll := range b {
		lon := ll.Lng
		if i > 0 {
			lon = ring[0][0] + wrapLon(lon-ring[0][0])
		}
		ring = append(ring, orb.Point{lon, ll.Lat})
	}
	if len(ring) > 0 {
		ring = append(ring, ring[0])
	}
	return ring
}

// edgeLine returns the vertices of a directed edge's shared boundary.
func edgeLine(e h3.DirectedEdge) []orb.Point {
	b := h3.DirectedEdge(e).Boundary()
	out := make([]orb.Point, len(b))
	for i, ll := range b {
		out[i] = orb.Point{ll.Lng, ll.Lat}
	}
	return out
}

// PolygonCells returns the H3 cells at resolution res whose centres lie in
// the ring (orb.Point{lon, lat}, closed or not).
func PolygonCells(ring orb.Ring, res int) ([]h3.Cell, error) {
	if res < 0 || res > h3.MaxResolution {
		return nil, fmt.Errorf("coverage: H3 resolution %d outside 0..%d", res, h3.MaxResolution)
	}
	if len(ring) < 3 {
		return nil, fmt.Errorf("coverage: a polygon needs at least 3 vertices, got %d", len(ring))
	}
	loop := make(h3.GeoLoop, 0, len(ring))
	for _, p := range ring {
		if !validLonLat(p) {
			return nil, fmt.Errorf("coverage: point %v is not a lon/lat position", p)
		}
		loop = append(loop, h3.LatLng{Lat: p[1], Lng: p[0]})
	}
	return h3.PolygonToCells(h3.GeoPolygon{GeoLoop: loop}, res), nil
}

// ParseCell parses an H3 index written in hexadecimal.
func ParseCell(s string) (h3.Cell, error) {
	var c h3.Cell
	if err := c.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("coverage: %q is not an H3 index", s)
	}
	if c == 0 || !c.IsValid() {
		return 0, fmt.Errorf("coverage: %q is not a valid H3 cell index", s)
	}
	return c, nil
}

func validLonLat(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}

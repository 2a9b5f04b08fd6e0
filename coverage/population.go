package coverage

import (
	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// PopPoint is a population count at a point.
type PopPoint struct {
	Pos        orb.Point
	Population float64
}

// PopCell is a population count for an H3 cell of any resolution.
type PopCell struct {
	H3         h3.Cell
	Population float64
}

// PopPolygon is a population count spread evenly over a polygon's area.
type PopPolygon struct {
	Geom       orb.MultiPolygon
	Population float64
}

// Population is what the readers produce: points, cells and polygons with
// people, in WGS-84. Aggregate turns it into demand cells.
type Population struct {
	Points   []PopPoint
	Cells    []PopCell
	Polygons []PopPolygon
}

// Total is the population read, before aggregation.
func (p Population) Total() float64 {
	var t float64
	for _, x := range p.Points {
		t += x.Population
	}
	for _, x := range p.Cells {
		t += x.Population
	}
	for _, x := range p.Polygons {
		t += x.Population
	}
	return t
}

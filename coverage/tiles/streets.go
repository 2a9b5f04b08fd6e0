package tiles

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"github.com/walkshed/walkshed/coverage"
)

// pieceMeters is the longest piece a street segment is cut into for the
// index: shorter than a zoom-16 tile anywhere a city lies, so that a tile
// and its neighbours hold every piece crossing it.
const pieceMeters = 150

// segIndex holds street pieces sorted by the quadkey of their midpoints.
type segIndex struct {
	seg   [][2]orb.Point
	index quadIndex
}

func newSegIndex(segs [][2]orb.Point) *segIndex {
	var pieces [][2]orb.Point
	for _, s := range segs {
		d := float64(coverage.Distance(s[0], s[1]))
		n := max(1, int(math.Ceil(d/pieceMeters)))
		for k := range n {
			a := lerp(s[0], s[1], float64(k)/float64(n))
			b := lerp(s[0], s[1], float64(k+1)/float64(n))
			pieces = append(pieces, [2]orb.Point{a, b})
		}
	}
	mids := make([]orb.Point, len(pieces))
	for i, p := range pieces {
		mids[i] = lerp(p[0], p[1], 0.5)
	}
	return &segIndex{seg: pieces, index: newQuadIndex(mids)}
}

func lerp(a, b orb.Point, f float64) orb.Point {
	if f == 0 {
		return a
	}
	if f == 1 {
		return b
	}
	return orb.Point{a[0] + (b[0]-a[0])*f, a[1] + (b[1]-a[1])*f}
}

// features is one feature holding every street piece near t.
func (s *segIndex) features(t maptile.Tile, sel orb.Bound) []*geojson.Feature {
	var ml orb.MultiLineString
	s.index.query(t, func(i int32) {
		p := s.seg[i]
		b := orb.Bound{Min: p[0], Max: p[0]}.Extend(p[1])
		if b.Intersects(sel) {
			ml = append(ml, orb.LineString{p[0], p[1]})
		}
	})
	if len(ml) == 0 {
		return nil
	}
	f := geojson.NewFeature(ml)
	f.Properties = geojson.Properties{}
	return []*geojson.Feature{f}
}

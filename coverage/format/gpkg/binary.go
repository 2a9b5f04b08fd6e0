package gpkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// GeoPackage binary (spec clause 2.1.3): "GP", version 0, a flags byte, the
// srs_id, an optional envelope, then standard WKB.
const (
	flagLittleEndian = 1 << 0
	flagEnvXY        = 1 << 1 // envelope indicator 1: [minx, maxx, miny, maxy]
	flagEmpty        = 1 << 4
	flagExtended     = 1 << 5
	headerXYLen      = 8 + 4*8
)

// encoder turns orb geometries into GeoPackage binary blobs, reusing one
// buffer so the writer's hot loop allocates little per feature.
type encoder struct {
	buf bytes.Buffer
	enc *wkb.Encoder
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = wkb.NewEncoder(&e.buf).SetByteOrder(binary.LittleEndian)
	return e
}

// encode returns the blob for g in srs and g's bound. The slice is valid
// until the next call.
func (e *encoder) encode(g orb.Geometry, srs int32) ([]byte, orb.Bound, error) {
	b := g.Bound()
	e.buf.Reset()
	var h [headerXYLen]byte
	h[0], h[1], h[2] = 'G', 'P', 0
	h[3] = flagLittleEndian | flagEnvXY
	binary.LittleEndian.PutUint32(h[4:], uint32(srs))
	binary.LittleEndian.PutUint64(h[8:], math.Float64bits(b.Min[0]))
	binary.LittleEndian.PutUint64(h[16:], math.Float64bits(b.Max[0]))
	binary.LittleEndian.PutUint64(h[24:], math.Float64bits(b.Min[1]))
	binary.LittleEndian.PutUint64(h[32:], math.Float64bits(b.Max[1]))
	e.buf.Write(h[:])
	if err := e.enc.Encode(g); err != nil {
		return nil, b, err
	}
	return e.buf.Bytes(), b, nil
}

var errEmptyGeometry = errors.New("empty geometry")

// decodeGeometry parses a GeoPackage binary blob. It never trusts a length
// field beyond len(blob): the envelope size comes from a 3-bit code checked
// against the blob, and orb's WKB decoder caps preallocation and checks
// counts against the bytes left.
func decodeGeometry(blob []byte) (orb.Geometry, int32, error) {
	if len(blob) < 8 || blob[0] != 'G' || blob[1] != 'P' {
		return nil, 0, errors.New("not GeoPackage binary (no 'GP' magic)")
	}
	if blob[2] != 0 {
		return nil, 0, fmt.Errorf("unsupported GeoPackage binary version %d", blob[2])
	}
	flags := blob[3]
	if flags&flagExtended != 0 {
		return nil, 0, errors.New("extended GeoPackage binary geometry is not supported")
	}
	var order binary.ByteOrder = binary.BigEndian
	if flags&flagLittleEndian != 0 {
		order = binary.LittleEndian
	}
	srs := int32(order.Uint32(blob[4:8]))
	var envLen int
	switch (flags >> 1) & 7 {
	case 0:
	case 1:
		envLen = 32
	case 2, 3:
		envLen = 48
	case 4:
		envLen = 64
	default:
		return nil, srs, fmt.Errorf("invalid envelope code %d", (flags>>1)&7)
	}
	if len(blob) < 8+envLen {
		return nil, srs, errors.New("geometry blob shorter than its header")
	}
	if flags&flagEmpty != 0 {
		return nil, srs, errEmptyGeometry
	}
	g, err := wkb.Unmarshal(blob[8+envLen:])
	if err != nil {
		return nil, srs, fmt.Errorf("bad WKB: %w", err)
	}
	if isEmpty(g) {
		return nil, srs, errEmptyGeometry
	}
	return g, srs, nil
}

// isEmpty reports geometries with no coordinates, including the NaN point
// that WKB uses for POINT EMPTY.
func isEmpty(g orb.Geometry) bool {
	switch g := g.(type) {
	case nil:
		return true
	case orb.Point:
		return math.IsNaN(g[0]) || math.IsNaN(g[1])
	case orb.MultiPoint:
		return len(g) == 0
	case orb.LineString:
		return len(g) == 0
	case orb.MultiLineString:
		return len(g) == 0
	case orb.Polygon:
		return len(g) == 0 || len(g[0]) == 0
	case orb.MultiPolygon:
		for _, p := range g {
			if !isEmpty(p) {
				return false
			}
		}
		return true
	case orb.Collection:
		for _, x := range g {
			if !isEmpty(x) {
				return false
			}
		}
		return true
	}
	return false
}

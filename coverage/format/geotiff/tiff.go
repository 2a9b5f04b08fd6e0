package geotiff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// TIFF tags this reader uses.
const (
	tagImageWidth          = 256
	tagImageLength         = 257
	tagBitsPerSample       = 258
	tagCompression         = 259
	tagPhotometric         = 262
	tagStripOffsets        = 273
	tagSamplesPerPixel     = 277
	tagRowsPerStrip        = 278
	tagStripByteCounts     = 279
	tagPlanarConfiguration = 284
	tagPredictor           = 317
	tagTileWidth           = 322
	tagTileLength          = 323
	tagTileOffsets         = 324
	tagTileByteCounts      = 325
	tagSampleFormat        = 339
	tagModelPixelScale     = 33550
	tagModelTiepoint       = 33922
	tagModelTransformation = 34264
	tagGeoKeyDirectory     = 34735
	tagGeoDoubleParams     = 34736
	tagGeoASCIIParams      = 34737
	tagGDALNoData          = 42113
)

// TIFF field types and their sizes in bytes.
var typeSize = [...]int{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8}

// ErrFormat is wrapped by every error about bytes that are not a readable
// TIFF (truncated, inconsistent, or out of bounds).
var ErrFormat = errors.New("not a valid TIFF file")

// entry is one IFD entry, its value not yet read.
type entry struct {
	typ   uint16
	count uint64
	value []byte // the raw value field (4 bytes, or 8 in BigTIFF)
}

// ifd is the first image file directory: the full-resolution image (later
// IFDs hold overviews and masks).
type ifd struct {
	order   binary.ByteOrder
	big     bool
	r       io.ReaderAt
	size    int64
	entries map[uint16]entry
}

func readIFD(r io.ReaderAt, size int64) (*ifd, error) {
	var hdr [16]byte
	if size < 8 {
		return nil, fmt.Errorf("%w: %d bytes", ErrFormat, size)
	}
	n := min(int64(len(hdr)), size)
	if _, err := r.ReadAt(hdr[:n], 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	t := &ifd{r: r, size: size, entries: map[uint16]entry{}}
	switch string(hdr[:2]) {
	case "II":
		t.order = binary.LittleEndian
	case "MM":
		t.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: no TIFF byte-order mark", ErrFormat)
	}
	var off uint64
	switch t.order.Uint16(hdr[2:]) {
	case 42:
		off = uint64(t.order.Uint32(hdr[4:]))
	case 43:
		if n < 16 || t.order.Uint16(hdr[4:]) != 8 {
			return nil, fmt.Errorf("%w: bad BigTIFF header", ErrFormat)
		}
		t.big = true
		off = t.order.Uint64(hdr[8:])
	default:
		return nil, fmt.Errorf("%w: TIFF version %d", ErrFormat, t.order.Uint16(hdr[2:]))
	}
	countSize, entrySize, valueSize := uint64(2), uint64(12), 4
	if t.big {
		countSize, entrySize, valueSize = 8, 20, 8
	}
	cb, err := t.bytes(off, countSize)
	if err != nil {
		return nil, fmt.Errorf("IFD at %d: %w", off, err)
	}
	var count uint64
	if t.big {
		count = t.order.Uint64(cb)
	} else {
		count = uint64(t.order.Uint16(cb))
	}
	if count > uint64(size)/entrySize {
		return nil, fmt.Errorf("%w: IFD claims %d entries", ErrFormat, count)
	}
	eb, err := t.bytes(off+countSize, count*entrySize)
	if err != nil {
		return nil, fmt.Errorf("IFD entries: %w", err)
	}
	for i := uint64(0); i < count; i++ {
		e := eb[i*entrySize : (i+1)*entrySize]
		tag := t.order.Uint16(e)
		en := entry{typ: t.order.Uint16(e[2:])}
		if t.big {
			en.count = t.order.Uint64(e[4:])
			en.value = e[12 : 12+valueSize]
		} else {
			en.count = uint64(t.order.Uint32(e[4:]))
			en.value = e[8 : 8+valueSize]
		}
		if _, dup := t.entries[tag]; !dup {
			t.entries[tag] = en
		}
	}
	return t, nil
}

// mul returns a·b and whether it fits in 64 bits. Sizes, counts and
// offsets come from the file: a product that wrapped around would pass the
// bound it should fail, so every one is checked.
func mul(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

// bytes reads n bytes at off, refusing ranges outside the file so that no
// size field can make the reader allocate more than the file holds.
func (t *ifd) bytes(off, n uint64) ([]byte, error) {
	if off > uint64(t.size) || n > uint64(t.size)-off {
		return nil, fmt.Errorf("%w: %d bytes at offset %d run past the end of the %d-byte file (truncated?)", ErrFormat, n, off, t.size)
	}
	b := make([]byte, n)
	if _, err := t.r.ReadAt(b, int64(off)); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, fmt.Errorf("%w: reading %d bytes at %d: %w", ErrFormat, n, off, err)
	}
	return b, nil
}

// raw returns the bytes of a tag's value, inline or at its offset.
func (t *ifd) raw(tag uint16) ([]byte, entry, bool, error) {
	e, ok := t.entries[tag]
	if !ok {
		return nil, e, false, nil
	}
	if int(e.typ) >= len(typeSize) || typeSize[e.typ] == 0 {
		return nil, e, true, fmt.Errorf("%w: tag %d has unknown type %d", ErrFormat, tag, e.typ)
	}
	sz := uint64(typeSize[e.typ])
	if e.count > uint64(t.size)/sz+1 {
		return nil, e, true, fmt.Errorf("%w: tag %d claims %d values", ErrFormat, tag, e.count)
	}
	n := e.count * sz
	if n <= uint64(len(e.value)) {
		return e.value[:n], e, true, nil
	}
	var off uint64
	if t.big {
		off = t.order.Uint64(e.value)
	} else {
		off = uint64(t.order.Uint32(e.value))
	}
	b, err := t.bytes(off, n)
	if err != nil {
		return nil, e, true, fmt.Errorf("tag %d: %w", tag, err)
	}
	return b, e, true, nil
}

// uints reads an integer-valued tag (BYTE, SHORT, LONG, LONG8).
func (t *ifd) uints(tag uint16) ([]uint64, bool, error) {
	b, e, ok, err := t.raw(tag)
	if !ok || err != nil {
		return nil, ok, err
	}
	out := make([]uint64, e.count)
	for i := range out {
		switch e.typ {
		case 1, 7:
			out[i] = uint64(b[i])
		case 3, 8:
			out[i] = uint64(t.order.Uint16(b[2*i:]))
		case 4, 9, 13:
			out[i] = uint64(t.order.Uint32(b[4*i:]))
		case 16, 17, 18:
			out[i] = t.order.Uint64(b[8*i:])
		default:
			return nil, true, fmt.Errorf("%w: tag %d has type %d, want an integer", ErrFormat, tag, e.typ)
		}
	}
	return out, true, nil
}

// uint reads a single-valued integer tag, or def when absent.
func (t *ifd) uint(tag uint16, def uint64) (uint64, error) {
	v, ok, err := t.uints(tag)
	if err != nil {
		return 0, err
	}
	if !ok || len(v) == 0 {
		return def, nil
	}
	return v[0], nil
}

// floats reads a DOUBLE or FLOAT tag.
func (t *ifd) floats(tag uint16) ([]float64, bool, error) {
	b, e, ok, err := t.raw(tag)
	if !ok || err != nil {
		return nil, ok, err
	}
	out := make([]float64, e.count)
	for i := range out {
		switch e.typ {
		case 12:
			out[i] = math.Float64frombits(t.order.Uint64(b[8*i:]))
		case 11:
			out[i] = float64(math.Float32frombits(t.order.Uint32(b[4*i:])))
		default:
			return nil, true, fmt.Errorf("%w: tag %d has type %d, want DOUBLE", ErrFormat, tag, e.typ)
		}
	}
	return out, true, nil
}

// ascii reads an ASCII tag without its trailing NULs.
func (t *ifd) ascii(tag uint16) (string, bool, error) {
	b, _, ok, err := t.raw(tag)
	if !ok || err != nil {
		return "", ok, err
	}
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b), true, nil
}

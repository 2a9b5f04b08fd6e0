package geotiff

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/tiff/lzw"

	"github.com/walkshed/walkshed/coverage/crs"
)

// Compression codes this reader decodes.
const (
	compNone     = 1
	compLZW      = 5
	compDeflate  = 8
	compDeflate2 = 32946 // Adobe's code for Deflate, from before it was registered as 8
	compPackBits = 32773
)

var compressionNames = map[uint64]string{
	1: "none", 2: "CCITT RLE", 3: "CCITT Group 3", 4: "CCITT Group 4", 5: "LZW", 6: "old-style JPEG",
	7: "JPEG", 8: "Deflate", 32946: "Deflate", 32773: "PackBits", 34661: "JBIG", 34676: "SGILog",
	34712: "JPEG 2000", 34887: "LERC", 34925: "LZMA", 50000: "ZSTD", 50001: "WebP", 50002: "JPEG XL",
}

// ErrUnsupported is wrapped by errors about valid TIFF features this reader
// does not decode (the message names the feature).
var ErrUnsupported = errors.New("unsupported")

// Raster is an opened single-image GeoTIFF: its layout, georeferencing and
// CRS, read from the first IFD. Pixels decodes the chosen band block by block.
type Raster struct {
	Name          string // the file's name, used in every error
	Width, Height int
	Bands         int
	// Band is the 1-based band Pixels reads. Open sets it to 1 for a
	// single-band raster and leaves it 0 otherwise: the caller must choose.
	Band        int
	DataType    string // GDAL's name: Byte, Int8, UInt16, Int16, UInt32, Int32, Float32, Float64, UInt64, Int64
	Compression string
	Predictor   int
	Tiled       bool
	BlockWidth  int
	BlockHeight int
	NoData      float64 // valid when HasNoData; from GDAL_NODATA
	HasNoData   bool
	// GeoTransform is GDAL's affine transform of pixel corners: x = g0 +
	// col·g1 + row·g2, y = g3 + col·g4 + row·g5, in the CRS's units.
	GeoTransform [6]float64
	CRS          crs.Transform
	EPSG         int // 0 when the CRS is user-defined

	t        *ifd
	format   uint64 // SampleFormat: 1 uint, 2 int, 3 float
	bytesPS  int    // bytes per sample
	planar   uint64
	compress uint64
	offsets  []uint64
	counts   []uint64
}

// Open reads a GeoTIFF's structure and georeferencing from r, of the given
// size; name labels errors. It fails on a raster without georeferencing, an
// unsupported compression, sample type or CRS, on inconsistent tags, and on
// a geographic raster with pixel centres past ±180° or ±90°.
func Open(r io.ReaderAt, size int64, name string) (*Raster, error) {
	ras, err := open(r, size, name)
	if err != nil {
		return nil, fmt.Errorf("geotiff: %s: %w", name, err)
	}
	return ras, nil
}

func open(r io.ReaderAt, size int64, name string) (*Raster, error) {
	t, err := readIFD(r, size)
	if err != nil {
		return nil, err
	}
	ras := &Raster{Name: name, t: t}
	w, err := t.uint(tagImageWidth, 0)
	if err != nil {
		return nil, err
	}
	h, err := t.uint(tagImageLength, 0)
	if err != nil {
		return nil, err
	}
	if w == 0 || h == 0 || w > 1<<31 || h > 1<<31 {
		return nil, fmt.Errorf("%w: image size %d × %d", ErrFormat, w, h)
	}
	ras.Width, ras.Height = int(w), int(h)
	spp, err := t.uint(tagSamplesPerPixel, 1)
	if err != nil {
		return nil, err
	}
	if spp == 0 || spp > 1<<12 {
		return nil, fmt.Errorf("%w: %d samples per pixel", ErrFormat, spp)
	}
	ras.Bands = int(spp)
	if spp == 1 {
		ras.Band = 1
	}
	bits, ok, err := t.uints(tagBitsPerSample)
	if err != nil {
		return nil, err
	}
	if !ok || len(bits) == 0 {
		bits = []uint64{1}
	}
	for _, b := range bits {
		if b != bits[0] {
			return nil, fmt.Errorf("%w: bands of different sizes %v", ErrUnsupported, bits)
		}
	}
	formats, ok, err := t.uints(tagSampleFormat)
	if err != nil {
		return nil, err
	}
	ras.format = 1
	if ok && len(formats) > 0 {
		ras.format = formats[0]
	}
	switch {
	case ras.format == 1 && (bits[0] == 8 || bits[0] == 16 || bits[0] == 32 || bits[0] == 64):
		ras.DataType = map[uint64]string{8: "Byte", 16: "UInt16", 32: "UInt32", 64: "UInt64"}[bits[0]]
	case ras.format == 2 && (bits[0] == 8 || bits[0] == 16 || bits[0] == 32 || bits[0] == 64):
		ras.DataType = map[uint64]string{8: "Int8", 16: "Int16", 32: "Int32", 64: "Int64"}[bits[0]]
	case ras.format == 3 && (bits[0] == 32 || bits[0] == 64):
		ras.DataType = map[uint64]string{32: "Float32", 64: "Float64"}[bits[0]]
	default:
		return nil, fmt.Errorf("%w: sample format %d with %d bits per sample", ErrUnsupported, ras.format, bits[0])
	}
	ras.bytesPS = int(bits[0] / 8)
	if ras.planar, err = t.uint(tagPlanarConfiguration, 1); err != nil {
		return nil, err
	}
	if ras.planar != 1 && ras.planar != 2 {
		return nil, fmt.Errorf("%w: planar configuration %d", ErrFormat, ras.planar)
	}
	if ras.compress, err = t.uint(tagCompression, 1); err != nil {
		return nil, err
	}
	ras.Compression = compressionNames[ras.compress]
	switch ras.compress {
	case compNone, compLZW, compDeflate, compDeflate2, compPackBits:
	default:
		n := ras.Compression
		if n == "" {
			n = "unknown"
		}
		return nil, fmt.Errorf("%w: compression %s (code %d); re-save with gdal_translate -co COMPRESS=DEFLATE", ErrUnsupported, n, ras.compress)
	}
	pred, err := t.uint(tagPredictor, 1)
	if err != nil {
		return nil, err
	}
	ras.Predictor = int(pred)
	switch {
	case pred == 1:
	case pred == 2:
	case pred == 3 && ras.format == 3:
	default:
		return nil, fmt.Errorf("%w: predictor %d for %s samples", ErrUnsupported, pred, ras.DataType)
	}
	if _, tiled := t.entries[tagTileWidth]; tiled {
		ras.Tiled = true
		tw, err := t.uint(tagTileWidth, 0)
		if err != nil {
			return nil, err
		}
		tl, err := t.uint(tagTileLength, 0)
		if err != nil {
			return nil, err
		}
		if tw == 0 || tl == 0 || tw > 1<<31 || tl > 1<<31 {
			return nil, fmt.Errorf("%w: tile size %d × %d", ErrFormat, tw, tl)
		}
		ras.BlockWidth, ras.BlockHeight = int(tw), int(tl)
		if ras.offsets, _, err = t.uints(tagTileOffsets); err != nil {
			return nil, err
		}
		if ras.counts, _, err = t.uints(tagTileByteCounts); err != nil {
			return nil, err
		}
	} else {
		rps, err := t.uint(tagRowsPerStrip, h)
		if err != nil {
			return nil, err
		}
		if rps == 0 || rps > h {
			rps = h
		}
		ras.BlockWidth, ras.BlockHeight = ras.Width, int(rps)
		if ras.offsets, _, err = t.uints(tagStripOffsets); err != nil {
			return nil, err
		}
		if ras.counts, _, err = t.uints(tagStripByteCounts); err != nil {
			return nil, err
		}
	}
	if _, _, err := ras.layout(); err != nil {
		return nil, err
	}
	if nd, ok, err := t.ascii(tagGDALNoData); err != nil {
		return nil, err
	} else if ok {
		s := strings.TrimSpace(nd)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: GDAL_NODATA %q is not a number", ErrFormat, s)
		}
		ras.NoData, ras.HasNoData = v, true
	}
	keys, err := readGeoKeys(t)
	if err != nil {
		return nil, err
	}
	if ras.GeoTransform, err = geoTransform(t, keys); err != nil {
		return nil, err
	}
	if ras.CRS, ras.EPSG, err = transform(keys); err != nil {
		return nil, err
	}
	if ras.CRS.Geographic() {
		if err := ras.checkLonLat(); err != nil {
			return nil, err
		}
	}
	return ras, nil
}

// maxBlockBytes bounds one decoded block: larger claims are refused rather
// than attempted (GDAL writes blocks of a few hundred kilobytes).
const maxBlockBytes = 1 << 31

// layout checks the block structure against the offsets read and returns
// the blocks per band and the decoded bytes of one row of a block. The
// sizes are the file's (or a caller's, as the fields are exported), so
// every product is checked for overflow: a product that wrapped to a small
// number would let a forged raster index past its offsets or slice past
// its data.
func (r *Raster) layout() (blocks, rowBytes uint64, err error) {
	if r.Width <= 0 || r.Height <= 0 || r.BlockWidth <= 0 || r.BlockHeight <= 0 || r.Bands <= 0 || r.bytesPS <= 0 {
		return 0, 0, fmt.Errorf("%w: image %d × %d in blocks of %d × %d, %d bands of %d bytes", ErrFormat, r.Width, r.Height, r.BlockWidth, r.BlockHeight, r.Bands, r.bytesPS)
	}
	across := (uint64(r.Width) + uint64(r.BlockWidth) - 1) / uint64(r.BlockWidth)
	down := (uint64(r.Height) + uint64(r.BlockHeight) - 1) / uint64(r.BlockHeight)
	// Chunky blocks hold every band's sample of a pixel; planar ones one
	// band, with a set of blocks per band.
	samples, sets := uint64(r.Bands), uint64(1)
	if r.planar == 2 {
		samples, sets = 1, uint64(r.Bands)
	}
	blocks, ok1 := mul(across, down)
	need, ok2 := mul(blocks, sets)
	if !ok1 || !ok2 || uint64(len(r.offsets)) < need || uint64(len(r.counts)) < need {
		return 0, 0, fmt.Errorf("%w: %d block offsets and %d byte counts for %d × %d blocks × %d planes (truncated?)",
			ErrFormat, len(r.offsets), len(r.counts), across, down, sets)
	}
	rows := uint64(min(r.BlockHeight, r.Height)) // a block is decoded down to the image's last row at most
	rowBytes, ok1 = mul(uint64(r.BlockWidth), samples)
	rowBytes, ok2 = mul(rowBytes, uint64(r.bytesPS))
	block, ok3 := mul(rows, rowBytes)
	if !ok1 || !ok2 || !ok3 || block > maxBlockBytes {
		return 0, 0, fmt.Errorf("%w: a block of %d × %d pixels of %d samples of %d bytes is more than %d bytes decoded",
			ErrFormat, r.BlockWidth, rows, samples, r.bytesPS, maxBlockBytes)
	}
	return blocks, rowBytes, nil
}

// checkLonLat refuses a geographic raster with a pixel centre outside valid
// longitude and latitude. Edges may overhang by up to half a pixel (global
// mosaics are often offset from the degree lines: WorldPop's starts at
// −180.00125°): footprints are clipped at ±180°, and a pixel with a corner
// past a pole counts in the cell of its centre (see ring).
//
// A raster in 0..360° longitudes is refused, not wrapped: such a raster
// usually runs across the antimeridian, where a pixel's footprint cannot be
// one polygon in −180..180, and a geotransform off by a whole turn is as
// likely a corrupted one as a convention. gdalwarp --config CENTER_LONG 0
// rewrites it in −180..180 explicitly.
func (r *Raster) checkLonLat() error {
	g := r.GeoTransform
	at := func(col, row float64) (float64, float64) {
		return g[0] + col*g[1] + row*g[2], g[3] + col*g[4] + row*g[5]
	}
	// The transform is affine: extremes lie at the corners.
	w, h := float64(r.Width), float64(r.Height)
	lon0, lat0, lon1, lat1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	cLon0, cLat0, cLon1, cLat1 := lon0, lat0, lon1, lat1
	for _, c := range [4][2]float64{{0, 0}, {w, 0}, {0, h}, {w, h}} {
		x, y := at(c[0], c[1])
		lon0, lon1, lat0, lat1 = math.Min(lon0, x), math.Max(lon1, x), math.Min(lat0, y), math.Max(lat1, y)
		// The centre of the pixel at this corner.
		x, y = at(math.Min(math.Max(c[0], 0.5), w-0.5), math.Min(math.Max(c[1], 0.5), h-0.5))
		cLon0, cLon1, cLat0, cLat1 = math.Min(cLon0, x), math.Max(cLon1, x), math.Min(cLat0, y), math.Max(cLat1, y)
	}
	if cLon0 >= -180 && cLon1 <= 180 && cLat0 >= -90 && cLat1 <= 90 { // false for NaN too
		return nil
	}
	return fmt.Errorf("%w: the raster covers longitude %.10g to %.10g and latitude %.10g to %.10g in %s: pixel centres lie past ±180° longitude or ±90° latitude (a raster in 0..360° longitudes can be re-saved in −180..180 with gdalwarp --config CENTER_LONG 0)",
		ErrFormat, lon0, lon1, lat0, lat1, r.CRS.Name())
}

// Pixels calls fn for every pixel of the chosen band with its row, column
// and value, block by block (strips top to bottom; tiles in rows of tiles).
// It stops at fn's first error and returns it. Decoded blocks are bounded by
// the data actually present: a block's bytes must lie inside the file, and
// decompression stops at the block's size.
func (r *Raster) Pixels(fn func(row, col int, v float64) error) error {
	if r.Band < 1 || r.Band > r.Bands {
		return fmt.Errorf("geotiff: %s has %d bands; choose one of 1..%d (band %d asked)", r.Name, r.Bands, r.Bands, r.Band)
	}
	blocks, rowBytes, err := r.layout()
	if err != nil {
		return fmt.Errorf("geotiff: %s: %w", r.Name, err)
	}
	stride := 1 // samples between successive pixels of the band in a block
	sampleIdx := 0
	first := uint64(0) // layout checked that Bands·blocks offsets are present
	if r.planar == 1 {
		stride, sampleIdx = r.Bands, r.Band-1
	} else {
		first = uint64(r.Band-1) * blocks
	}
	order := r.t.order
	if r.Predictor == 3 {
		order = binary.BigEndian // the floating-point predictor stores bytes most significant first
	}
	var buf bytes.Buffer
	var tmp []byte
	across := (uint64(r.Width) + uint64(r.BlockWidth) - 1) / uint64(r.BlockWidth)
	for b := uint64(0); b < blocks; b++ {
		row0 := int(b/across) * r.BlockHeight
		col0 := int(b%across) * r.BlockWidth
		rows := min(r.BlockHeight, r.Height-row0)
		cols := min(r.BlockWidth, r.Width-col0)
		want := uint64(rows) * rowBytes // at most maxBlockBytes (layout)
		off, cnt := r.offsets[first+b], r.counts[first+b]
		if cnt == 0 { // a sparse file's missing block: nothing lives there
			continue
		}
		raw, err := r.t.bytes(off, cnt)
		if err != nil {
			return fmt.Errorf("geotiff: %s: block %d: %w", r.Name, b, err)
		}
		data, err := r.decompress(raw, want, &buf)
		if err != nil {
			return fmt.Errorf("geotiff: %s: block %d (%s): %w", r.Name, b, r.Compression, err)
		}
		if uint64(len(data)) < want {
			return fmt.Errorf("geotiff: %s: %w: block %d holds %d bytes, want %d (truncated?)", r.Name, ErrFormat, b, len(data), want)
		}
		for y := range rows {
			line := data[uint64(y)*rowBytes : uint64(y+1)*rowBytes]
			switch r.Predictor {
			case 2:
				undoHorizontal(line, r.t.order, r.bytesPS, stride)
			case 3:
				if tmp == nil {
					tmp = make([]byte, rowBytes)
				}
				undoFloat(line, tmp, r.bytesPS, stride)
			}
			for x := range cols {
				i := (x*stride + sampleIdx) * r.bytesPS
				if err := fn(row0+y, col0+x, r.sample(line[i:], order)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// decompress returns at least want bytes of the block when the data holds
// them; it never reads more than want, so a forged size cannot inflate it.
func (r *Raster) decompress(raw []byte, want uint64, buf *bytes.Buffer) ([]byte, error) {
	var rd io.Reader
	switch r.compress {
	case compNone:
		if uint64(len(raw)) > want {
			raw = raw[:want]
		}
		return raw, nil
	case compPackBits:
		return unpackBits(raw, want, buf.Bytes()[:0])
	case compLZW:
		lr := lzw.NewReader(bytes.NewReader(raw), lzw.MSB, 8)
		defer lr.Close()
		rd = lr
	case compDeflate, compDeflate2:
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	}
	buf.Reset()
	_, err := buf.ReadFrom(io.LimitReader(rd, int64(want)))
	if uint64(buf.Len()) >= want {
		// Some writers end LZW strips without an end code; the data is whole.
		return buf.Bytes(), nil
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unpackBits decodes Apple PackBits run-length encoding.
func unpackBits(src []byte, want uint64, dst []byte) ([]byte, error) {
	for i := 0; i < len(src) && uint64(len(dst)) < want; {
		n := int(int8(src[i]))
		i++
		switch {
		case n >= 0:
			if i+n+1 > len(src) {
				return nil, fmt.Errorf("%w: PackBits literal runs past the block", ErrFormat)
			}
			dst = append(dst, src[i:i+n+1]...)
			i += n + 1
		case n != -128:
			if i >= len(src) {
				return nil, fmt.Errorf("%w: PackBits run past the block", ErrFormat)
			}
			for range 1 - n {
				dst = append(dst, src[i])
			}
			i++
		}
	}
	return dst, nil
}

// undoHorizontal reverses TIFF predictor 2: each sample was stored as the
// difference from the sample stride positions before, in integer arithmetic
// of the sample's width (as libtiff does, also for floating-point bits).
func undoHorizontal(line []byte, order binary.ByteOrder, size, stride int) {
	n := len(line) / size
	switch size {
	case 1:
		for i := stride; i < n; i++ {
			line[i] += line[i-stride]
		}
	case 2:
		for i := stride; i < n; i++ {
			order.PutUint16(line[2*i:], order.Uint16(line[2*i:])+order.Uint16(line[2*(i-stride):]))
		}
	case 4:
		for i := stride; i < n; i++ {
			order.PutUint32(line[4*i:], order.Uint32(line[4*i:])+order.Uint32(line[4*(i-stride):]))
		}
	case 8:
		for i := stride; i < n; i++ {
			order.PutUint64(line[8*i:], order.Uint64(line[8*i:])+order.Uint64(line[8*(i-stride):]))
		}
	}
}

// undoFloat reverses TIFF predictor 3 (Adobe's floating-point predictor):
// the row's bytes were split into planes, most significant byte first, and
// differenced bytewise. The result is in big-endian order.
func undoFloat(line, tmp []byte, size, stride int) {
	for i := stride; i < len(line); i++ {
		line[i] += line[i-stride]
	}
	copy(tmp, line)
	wc := len(line) / size
	for c := range wc {
		for k := range size {
			line[c*size+k] = tmp[k*wc+c]
		}
	}
}

func (r *Raster) sample(b []byte, order binary.ByteOrder) float64 {
	switch r.format {
	case 1:
		switch r.bytesPS {
		case 1:
			return float64(b[0])
		case 2:
			return float64(order.Uint16(b))
		case 4:
			return float64(order.Uint32(b))
		default:
			return float64(order.Uint64(b))
		}
	case 2:
		switch r.bytesPS {
		case 1:
			return float64(int8(b[0]))
		case 2:
			return float64(int16(order.Uint16(b)))
		case 4:
			return float64(int32(order.Uint32(b)))
		default:
			return float64(int64(order.Uint64(b)))
		}
	}
	if r.bytesPS == 4 {
		return float64(math.Float32frombits(order.Uint32(b)))
	}
	return math.Float64frombits(order.Uint64(b))
}

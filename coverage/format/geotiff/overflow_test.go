package geotiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// refusedCleanly runs f, which reads the file name, and fails the test
// unless it returns a format error naming the file, without a panic.
func refusedCleanly(t *testing.T, name string, f func() error) {
	t.Helper()
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("panic: %v", p)
			}
		}()
		err = f()
	}()
	if err == nil || !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "geotiff: "+name+": ") {
		t.Fatalf("%v; want a format error naming %s", err, name)
	}
}

// openBytes opens b as name.
func openBytes(b []byte, name string) (*Raster, error) {
	return Open(bytes.NewReader(b), int64(len(b)), name)
}

// readBytes reads b as name at resolution 9.
func readBytes(b []byte, name string) error {
	_, _, err := ReadReader(bytes.NewReader(b), int64(len(b)), name, 9, nil)
	return err
}

// geoKeyDirectory is a directory in EPSG:4326 followed by the given keys
// (four values each), stored as typ.
func geoKeyDirectory(typ uint16, keys ...uint64) tiffTag {
	dir := []uint64{1, 1, 0, 3 + uint64(len(keys)/4), keyModelType, 0, 1, 2, keyRasterType, 0, 1, rasterIsArea, keyGeographicType, 0, 1, 4326}
	return tiffTag{tag: tagGeoKeyDirectory, typ: typ, ints: append(dir, keys...)}
}

// TestSizeProductsDoNotWrap forges sizes whose products wrap around 2^64
// (a wrapped product is small and passes the bound it should fail): each
// file must be refused with a format error naming it, classic TIFF and
// BigTIFF alike.
func TestSizeProductsDoNotWrap(t *testing.T) {
	cases := []struct {
		name  string
		forge func([]tiffTag) []tiffTag
		open  bool // refused by Open (else by ReadReader, which reads the pixels)
		band  int  // the band Pixels reads after Open, when Open accepts
	}{
		// 2^31 rows of 2^31 Float32 in one strip: 2^31 · 2^33 bytes = 2^64.
		{name: "one strip of 2^64 bytes", open: true, forge: func(tags []tiffTag) []tiffTag {
			tags = setTag(tags, tiffTag{tag: tagImageWidth, typ: 16, ints: []uint64{1 << 31}})
			tags = setTag(tags, tiffTag{tag: tagImageLength, typ: 16, ints: []uint64{1 << 31}})
			return setTag(tags, tiffTag{tag: tagRowsPerStrip, typ: 16, ints: []uint64{1 << 31}})
		}},
		// A key's place in GeoDoubleParams at 2^64-1, one value: the end
		// 2^64 wraps to 0.
		{name: "GeoKey at double 2^64-1", forge: func(tags []tiffTag) []tiffTag {
			tags = setTag(tags, geoKeyDirectory(16, keySemiMajorAxis, tagGeoDoubleParams, 1, math.MaxUint64))
			return setTag(tags, tiffTag{tag: tagGeoDoubleParams, typ: 12, doubles: []float64{6378137}})
		}},
		{name: "GeoKey at ASCII 2^64-1", forge: func(tags []tiffTag) []tiffTag {
			tags = setTag(tags, geoKeyDirectory(16, keyGeogCitation, tagGeoASCIIParams, 2, math.MaxUint64-1))
			return setTag(tags, tiffTag{tag: tagGeoASCIIParams, typ: 2, text: "WGS 84|"})
		}},
		// 2^64-1 keys: as an int, -1, which no bound catches.
		{name: "GeoKeyDirectory of 2^64-1 keys", forge: func(tags []tiffTag) []tiffTag {
			d := geoKeyDirectory(16)
			d.ints[3] = math.MaxUint64
			return setTag(tags, d)
		}},
		// EPSG:4326 + 2^16 in a LONG8 directory: cut to a SHORT, 4326.
		{name: "GeoKey value wider than a SHORT", forge: func(tags []tiffTag) []tiffTag {
			d := geoKeyDirectory(16)
			d.ints[15] = 4326 + 1<<16
			return setTag(tags, d)
		}},
		// 4 planar bands of 1 × 1 tiles over 2^31 × 2^31: 2^62 blocks a
		// band, 2^64 in all; one tile offset would pass, and band 2 would
		// be read past it.
		{name: "planar tiles 2^62 × 4 bands", open: true, band: 2, forge: func(tags []tiffTag) []tiffTag {
			var out []tiffTag
			for _, x := range tags {
				switch x.tag {
				case tagStripOffsets:
					x.tag = tagTileOffsets
				case tagStripByteCounts:
					x.tag, x.ints = tagTileByteCounts, []uint64{4}
				case tagRowsPerStrip:
					continue
				}
				out = append(out, x)
			}
			out = setTag(out, tiffTag{tag: tagImageWidth, typ: 16, ints: []uint64{1 << 31}})
			out = setTag(out, tiffTag{tag: tagImageLength, typ: 16, ints: []uint64{1 << 31}})
			out = setTag(out, tiffTag{tag: tagSamplesPerPixel, typ: 3, ints: []uint64{4}})
			out = setTag(out, tiffTag{tag: tagPlanarConfiguration, typ: 3, ints: []uint64{2}})
			return append(out, tiffTag{tag: tagTileWidth, typ: 4, ints: []uint64{1}}, tiffTag{tag: tagTileLength, typ: 4, ints: []uint64{1}})
		}},
	}
	for _, c := range cases {
		for _, big := range []bool{false, true} {
			b, _ := smallRaster(binary.LittleEndian, big, c.forge)
			name := c.name
			if big {
				name += " BigTIFF"
			}
			t.Run(name, func(t *testing.T) {
				refusedCleanly(t, "w.tif", func() error {
					if !c.open {
						return readBytes(b, "w.tif")
					}
					ras, err := openBytes(b, "w.tif")
					if err != nil {
						return err
					}
					ras.Band = max(c.band, 1)
					return ras.Pixels(func(int, int, float64) error { return nil })
				})
				if c.open {
					if _, err := openBytes(b, "w.tif"); err == nil {
						t.Fatal("Open accepted it")
					}
				}
			})
		}
	}
}

// TestChangedFieldsChecked changes a raster's exported layout fields after
// Open: Pixels must refuse a layout its offsets cannot hold (a zero block
// width; 2^62 × 2^62 blocks, whose count wraps to 0) instead of dividing by
// zero or reading no pixel.
func TestChangedFieldsChecked(t *testing.T) {
	b, _ := smallRaster(binary.LittleEndian, false, nil)
	for _, c := range []struct {
		name   string
		change func(r *Raster)
	}{
		{"zero block width", func(r *Raster) { r.BlockWidth = 0 }},
		{"2^62 × 2^62 blocks", func(r *Raster) { r.Width, r.Height, r.BlockWidth, r.BlockHeight = 1<<62, 1<<62, 1, 1 }},
		{"2 bands over 1 band's data", func(r *Raster) { r.Bands, r.Band = 2, 2; r.planar = 2 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ras, err := openBytes(b, "c.tif")
			if err != nil {
				t.Fatal(err)
			}
			c.change(ras)
			n := 0
			refusedCleanly(t, "c.tif", func() error {
				return ras.Pixels(func(int, int, float64) error { n++; return nil })
			})
			if n != 0 {
				t.Errorf("%d pixels read before the refusal", n)
			}
		})
	}
}

// TestBlockSizeBound: a block of exactly maxBlockBytes decoded opens (and
// then fails only because its data is absent); one pixel more is refused
// by Open. A tile taller than the image counts only the image's rows.
func TestBlockSizeBound(t *testing.T) {
	// Tiles of 2^27 × 2^31 Float32 over the 4 × 3 image: 3 rows of 2^29
	// bytes are decoded.
	b, _ := smallRaster(binary.LittleEndian, false, func(tags []tiffTag) []tiffTag {
		var out []tiffTag
		for _, x := range tags {
			switch x.tag {
			case tagStripOffsets:
				x.tag = tagTileOffsets
			case tagStripByteCounts:
				x.tag = tagTileByteCounts
			case tagRowsPerStrip:
				continue
			}
			out = append(out, x)
		}
		return append(out, tiffTag{tag: tagTileWidth, typ: 4, ints: []uint64{1 << 27}}, tiffTag{tag: tagTileLength, typ: 4, ints: []uint64{1 << 31}})
	})
	ras, err := openBytes(b, "t.tif")
	if err != nil {
		t.Fatal(err)
	}
	err = ras.Pixels(func(int, int, float64) error { return nil })
	if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "holds 48 bytes, want 1610612736") {
		t.Errorf("tall tile: %v, want the 48-byte tile refused", err)
	}

	for _, c := range []struct {
		width uint64
		ok    bool
	}{{maxBlockBytes / 4, true}, {maxBlockBytes/4 + 1, false}} {
		b, _ := smallRaster(binary.BigEndian, true, func(tags []tiffTag) []tiffTag {
			tags = setTag(tags, tiffTag{tag: tagImageWidth, typ: 16, ints: []uint64{c.width}})
			tags = setTag(tags, tiffTag{tag: tagImageLength, typ: 4, ints: []uint64{1}})
			tags = setTag(tags, tiffTag{tag: tagRowsPerStrip, typ: 4, ints: []uint64{1}})
			// 1e-7° pixels: 2^29 of them span 53.7°.
			tags = setTag(tags, tiffTag{tag: tagModelPixelScale, typ: 12, doubles: []float64{1e-7, 1e-7, 0}})
			return setTag(tags, tiffTag{tag: tagModelTiepoint, typ: 12, doubles: []float64{0, 0, 0, 100, 31.3, 0}})
		})
		ras, err := openBytes(b, "m.tif")
		if !c.ok {
			if err == nil || !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "geotiff: m.tif: ") {
				t.Errorf("width %d: %v, want a format error naming m.tif", c.width, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("width %d: %v", c.width, err)
		}
		err = ras.Pixels(func(int, int, float64) error { return nil })
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "holds 48 bytes, want 2147483648") {
			t.Errorf("width %d: %v, want the 48-byte strip refused", c.width, err)
		}
	}
}

// planarRaster is a 2 × 2 Float32 raster of two bands stored apart (band 1
// then band 2, one strip each), and the values of each band in row order.
func planarRaster(order byteOrder, big bool, offsets int) ([]byte, [2][4]float64) {
	var data []byte
	var want [2][4]float64
	for band := range 2 {
		for i := range 4 {
			v := float32(10*(band+1) + i)
			want[band][i] = float64(v)
			data = order.AppendUint32(data, math.Float32bits(v))
		}
	}
	off := dataOffset(big)
	tags := []tiffTag{
		{tag: tagImageWidth, typ: 4, ints: []uint64{2}},
		{tag: tagImageLength, typ: 4, ints: []uint64{2}},
		{tag: tagBitsPerSample, typ: 3, ints: []uint64{32, 32}},
		{tag: tagCompression, typ: 3, ints: []uint64{compNone}},
		{tag: tagPhotometric, typ: 3, ints: []uint64{1}},
		{tag: tagStripOffsets, typ: 4, ints: []uint64{off, off + 16}[:offsets]},
		{tag: tagSamplesPerPixel, typ: 3, ints: []uint64{2}},
		{tag: tagRowsPerStrip, typ: 4, ints: []uint64{2}},
		{tag: tagStripByteCounts, typ: 4, ints: []uint64{16, 16}[:offsets]},
		{tag: tagPlanarConfiguration, typ: 3, ints: []uint64{2}},
		{tag: tagSampleFormat, typ: 3, ints: []uint64{3, 3}},
		{tag: tagModelPixelScale, typ: 12, doubles: []float64{0.01, 0.01, 0}},
		{tag: tagModelTiepoint, typ: 12, doubles: []float64{0, 0, 0, 121.4, 31.3, 0}},
		geoKeyDirectory(3),
	}
	return buildTIFF(tiffFile{order: order, big: big, tags: tags, data: data}), want
}

// TestPlanarBands reads each band of a planar raster, value for value as
// written; with band 2's strip missing, Open refuses it.
func TestPlanarBands(t *testing.T) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		b, want := planarRaster(order, false, 2)
		for band := 1; band <= 2; band++ {
			ras, err := openBytes(b, "p.tif")
			if err != nil {
				t.Fatal(err)
			}
			ras.Band = band
			var got []float64
			if err := ras.Pixels(func(row, col int, v float64) error {
				if row*2+col != len(got) {
					t.Errorf("band %d: pixel (%d, %d) in place %d", band, row, col, len(got))
				}
				got = append(got, v)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != 4 || [4]float64(got) != want[band-1] {
				t.Errorf("%v band %d: %v, want %v", order, band, got, want[band-1])
			}
		}
		b, _ = planarRaster(order, false, 1)
		refusedCleanly(t, "p.tif", func() error { _, err := openBytes(b, "p.tif"); return err })
	}
}

// TestGeoKeyParamBounds places a key's values at the edges of
// GeoDoubleParams (two values) and GeoAsciiParams ("ab|cd|", six bytes):
// the last value and an empty run at the end are read as written, one value
// past either is refused.
func TestGeoKeyParamBounds(t *testing.T) {
	for _, c := range []struct {
		loc, cnt, val uint64
		ok            bool
		double        []float64
		ascii         string
	}{
		{tagGeoDoubleParams, 1, 1, true, []float64{6378137}, ""},
		{tagGeoDoubleParams, 2, 0, true, []float64{6378136, 6378137}, ""},
		{tagGeoDoubleParams, 0, 2, true, []float64{}, ""},
		{tagGeoDoubleParams, 2, 1, false, nil, ""},
		{tagGeoDoubleParams, 0, 3, false, nil, ""},
		{tagGeoASCIIParams, 3, 3, true, nil, "cd"},
		{tagGeoASCIIParams, 4, 3, false, nil, ""},
		{tagGeoASCIIParams, 0, 7, false, nil, ""},
	} {
		b, _ := smallRaster(binary.LittleEndian, false, func(tags []tiffTag) []tiffTag {
			tags = setTag(tags, geoKeyDirectory(3, keySemiMajorAxis, c.loc, c.cnt, c.val))
			tags = setTag(tags, tiffTag{tag: tagGeoDoubleParams, typ: 12, doubles: []float64{6378136, 6378137}})
			return setTag(tags, tiffTag{tag: tagGeoASCIIParams, typ: 2, text: "ab|cd|"})
		})
		ifd, err := readIFD(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		k, err := readGeoKeys(ifd)
		if !c.ok {
			if err == nil || !errors.Is(err, ErrFormat) {
				t.Errorf("%+v: %v, want a format error", c, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		d, okD := k.double[keySemiMajorAxis]
		a, okA := k.ascii[keySemiMajorAxis]
		switch c.loc {
		case tagGeoDoubleParams:
			if !okD || okA || !slices.Equal(d, c.double) {
				t.Errorf("%+v: doubles %v, want %v", c, d, c.double)
			}
		case tagGeoASCIIParams:
			if okD || !okA || a != c.ascii {
				t.Errorf("%+v: text %q, want %q", c, a, c.ascii)
			}
		}
	}
	// A LONG8 directory whose values all fit in a SHORT reads as the SHORT
	// one does.
	b, _ := smallRaster(binary.LittleEndian, true, func(tags []tiffTag) []tiffTag { return setTag(tags, geoKeyDirectory(16)) })
	if ras, err := openBytes(b, "l.tif"); err != nil || ras.EPSG != 4326 {
		t.Errorf("LONG8 directory: %v", err)
	}
}

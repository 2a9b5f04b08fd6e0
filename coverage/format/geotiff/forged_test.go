package geotiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// forgedBudget is what reading a forged file of a few kilobytes may
// allocate: the fixtures take well under a megabyte.
const forgedBudget = 4 << 20

// TestForgedSizes rewrites, in every fixture (classic TIFF and BigTIFF),
// each IFD entry's count and then its value to huge numbers, one at a
// time: reading must not panic, and must allocate no more than four times
// what reading the intact file does plus a megabyte, and never more than
// forgedBudget.
func TestForgedSizes(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.tif")
	bigSeen := false
	for _, file := range files {
		orig, _ := os.ReadFile(file)
		var order binary.ByteOrder = binary.LittleEndian
		if orig[0] == 'M' {
			order = binary.BigEndian
		}
		big := order.Uint16(orig[2:]) == 43
		bigSeen = bigSeen || big
		read := func(b []byte) { _, _, _ = ReadReader(bytes.NewReader(b), int64(len(b)), file, 9, nil) }
		budget := min(4*allocated(func() { read(orig) })+1<<20, forgedBudget)
		type field struct {
			at   int
			wide bool // 8 bytes
			val  uint64
		}
		var n, first, size int
		var fields func(e int) []field
		if big {
			off := int(order.Uint64(orig[8:]))
			n, first, size = int(order.Uint64(orig[off:])), off+8, 20
			fields = func(e int) []field {
				return []field{{e + 4, true, math.MaxUint64}, {e + 4, true, 1 << 62}, {e + 4, true, 0xFFFFFFFF},
					{e + 12, true, math.MaxUint64}, {e + 12, true, math.MaxInt64}, {e + 12, true, 0x00010000}, {e + 12, true, 0xFFFFFFFF}}
			}
		} else {
			off := int(order.Uint32(orig[4:]))
			n, first, size = int(order.Uint16(orig[off:])), off+2, 12
			fields = func(e int) []field {
				return []field{{e + 4, false, 0xFFFFFFFF}, {e + 4, false, 0x0FFFFFFF}, {e + 8, false, 0xFFFFFFFF}, {e + 8, false, 0x7FFFFFFF}, {e + 8, false, 0x00010000}}
			}
		}
		for i := range n {
			e := first + size*i
			for _, f := range fields(e) {
				b := bytes.Clone(orig)
				if f.wide {
					order.PutUint64(b[f.at:], f.val)
				} else {
					order.PutUint32(b[f.at:], uint32(f.val))
				}
				if a := allocated(func() { read(b) }); a > budget {
					t.Errorf("%s: entry %d (tag %d) set to %#x at +%d: allocated %d bytes, budget %d",
						file, i, order.Uint16(orig[e:]), f.val, f.at-e, a, budget)
				}
			}
		}
	}
	if !bigSeen {
		t.Error("no BigTIFF fixture")
	}
}

// TestBuiltRasterReads checks the test's own TIFF writer: the small raster
// reads back, in both byte orders, as classic TIFF and as BigTIFF, with
// every pixel and the total it was written with.
func TestBuiltRasterReads(t *testing.T) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, big := range []bool{false, true} {
			b, sum := smallRaster(order, big, nil)
			_, info, err := ReadReader(bytes.NewReader(b), int64(len(b)), "small.tif", 9, nil)
			if err != nil || info.Total != sum || info.Width != 4 || info.Height != 3 || info.DataType != "Float32" || info.EPSG != 4326 {
				t.Fatalf("%v big=%v: %+v, %v; want total %v", order, big, info, err, sum)
			}
			ras, err := Open(bytes.NewReader(b), int64(len(b)), "small.tif")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			if err := ras.Pixels(func(row, col int, v float64) error {
				if want := float64(float32((row*4+col)%5) * 1.25); v != want {
					t.Errorf("pixel (%d, %d) = %v, want %v", row, col, v, want)
				}
				n++
				return nil
			}); err != nil || n != 12 {
				t.Fatalf("%d pixels, %v", n, err)
			}
		}
	}
}

// TestForgedHeadersRefused forges the sizes and offsets of a valid small
// raster (classic TIFF and BigTIFF, both byte orders): huge images, strips
// and tiles, counts and offsets past the end of the file. Each must be
// refused with a format error naming the file, allocating less than
// forgedBudget while doing so.
func TestForgedHeadersRefused(t *testing.T) {
	const huge32 = 0xFFFFFFFF
	tiled := func(tw, th uint64, tags []tiffTag) []tiffTag {
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
		return append(out, tiffTag{tag: tagTileWidth, typ: 16, ints: []uint64{tw}}, tiffTag{tag: tagTileLength, typ: 16, ints: []uint64{th}})
	}
	size := func(w, h uint64) func([]tiffTag) []tiffTag {
		return func(tags []tiffTag) []tiffTag {
			tags = setTag(tags, tiffTag{tag: tagImageWidth, typ: 16, ints: []uint64{w}})
			tags = setTag(tags, tiffTag{tag: tagImageLength, typ: 16, ints: []uint64{h}})
			return setTag(tags, tiffTag{tag: tagRowsPerStrip, typ: 16, ints: []uint64{h}})
		}
	}
	forgeCount := func(tag uint16, n uint64) func([]tiffTag) []tiffTag {
		return func(tags []tiffTag) []tiffTag {
			for i := range tags {
				if tags[i].tag == tag {
					tags[i].count = u64(n)
				}
			}
			return tags
		}
	}
	forgeValue := func(tag uint16, v uint64) func([]tiffTag) []tiffTag {
		return func(tags []tiffTag) []tiffTag {
			for i := range tags {
				if tags[i].tag == tag {
					tags[i].raw = u64(v)
				}
			}
			return tags
		}
	}
	cases := []struct {
		name  string
		big   bool // BigTIFF only
		forge func([]tiffTag) []tiffTag
		file  func(f *tiffFile)
	}{
		{name: "width 2^32-1", forge: size(huge32, 3)},
		{name: "height 2^32-1", forge: size(4, huge32)},
		{name: "width 2^40", forge: size(1<<40, 3)},
		{name: "2^31 × 2^31 bytes in one strip", forge: func(tags []tiffTag) []tiffTag {
			tags = size(1<<31, 1<<31)(tags)
			tags = setTag(tags, tiffTag{tag: tagBitsPerSample, typ: 3, ints: []uint64{8}})
			return setTag(tags, tiffTag{tag: tagSampleFormat, typ: 3, ints: []uint64{1}})
		}},
		{name: "one row of 2^31 floats", forge: size(1<<31, 1)},
		{name: "2^20 × 2^20 in one-row strips", forge: func(tags []tiffTag) []tiffTag {
			tags = size(1<<20, 1<<20)(tags)
			return setTag(tags, tiffTag{tag: tagRowsPerStrip, typ: 4, ints: []uint64{1}})
		}},
		{name: "2^31 × 2^31 tiles", forge: func(tags []tiffTag) []tiffTag { return tiled(1<<31, 1<<31, tags) }},
		{name: "1 × 1 tiles over 2^31 × 2^31", forge: func(tags []tiffTag) []tiffTag { return tiled(1, 1, size(1<<31, 1<<31)(tags)) }},
		{name: "2^40 × 2^40 tiles", forge: func(tags []tiffTag) []tiffTag { return tiled(1<<40, 1<<40, tags) }},
		{name: "strip offsets count 2^32-1", forge: forgeCount(tagStripOffsets, huge32)},
		{name: "strip byte counts count 2^32-1", forge: forgeCount(tagStripByteCounts, huge32)},
		{name: "strip byte count 2^32-1", forge: forgeValue(tagStripByteCounts, huge32)},
		{name: "strip offset past the end", forge: forgeValue(tagStripOffsets, huge32-16)},
		{name: "bits per sample count 2^32-1", forge: forgeCount(tagBitsPerSample, huge32)},
		{name: "GeoKeyDirectory count 2^32-1", forge: forgeCount(tagGeoKeyDirectory, huge32)},
		{name: "GeoKeyDirectory past the end", forge: forgeValue(tagGeoKeyDirectory, huge32-64)},
		{name: "tiepoint count 2^32-1", forge: forgeCount(tagModelTiepoint, huge32)},
		{name: "IFD offset past the end", file: func(f *tiffFile) { f.ifdOffset = u64(huge32 - 8) }},
		{name: "IFD of 65535 entries", file: func(f *tiffFile) { f.ifdCount = u64(0xFFFF) }},
		{name: "IFD of 2^60 entries", big: true, file: func(f *tiffFile) { f.ifdCount = u64(1 << 60) }},
		{name: "IFD offset 2^62", big: true, file: func(f *tiffFile) { f.ifdOffset = u64(1 << 62) }},
		{name: "strip offsets count 2^63", big: true, forge: forgeCount(tagStripOffsets, 1<<63)},
		{name: "strip byte count 2^63", big: true, forge: func(tags []tiffTag) []tiffTag {
			return forgeValue(tagStripByteCounts, 1<<63)(tagsAs8(tags, tagStripByteCounts))
		}},
		{name: "strip offset 2^64-16", big: true, forge: func(tags []tiffTag) []tiffTag {
			return forgeValue(tagStripOffsets, math.MaxUint64-15)(tagsAs8(tags, tagStripOffsets))
		}},
		{name: "tiepoint count 2^61", big: true, forge: forgeCount(tagModelTiepoint, 1<<61)},
	}
	for _, c := range cases {
		for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
			for _, big := range []bool{false, true} {
				if c.big && !big {
					continue
				}
				b, _ := smallRaster(order, big, c.forge)
				if c.file != nil {
					// Rebuild with the forged header fields.
					f := tiffFile{order: order, big: big}
					c.file(&f)
					b = rebuild(order, big, f)
				}
				var err error
				a := allocated(func() { _, _, err = ReadReader(bytes.NewReader(b), int64(len(b)), "forged.tif", 9, nil) })
				if err == nil || !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "geotiff: forged.tif: ") {
					t.Errorf("%s (%v, BigTIFF %v): %v, want a format error naming the file", c.name, order, big, err)
				}
				if a > forgedBudget {
					t.Errorf("%s (%v, BigTIFF %v): allocated %d bytes refusing a %d-byte file", c.name, order, big, a, len(b))
				}
			}
		}
	}
}

// rebuild writes the small raster again with f's forged header fields.
func rebuild(order byteOrder, big bool, f tiffFile) []byte {
	var tags []tiffTag
	var data []byte
	smallRaster(order, big, func(t []tiffTag) []tiffTag { tags = t; return t })
	b, _ := smallRaster(order, big, nil)
	data = b[dataOffset(big) : dataOffset(big)+48]
	f.tags, f.data = tags, data
	return buildTIFF(f)
}

package geotiff

import (
	"encoding/binary"
	"math"
	"slices"
)

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// tiffTag is one IFD entry to write: integer values (BYTE, SHORT, LONG,
// LONG8), doubles (DOUBLE) or text (ASCII). count, when set, replaces the
// entry's count, and raw its value field (a forged entry): the value itself
// in the tag's type when the values fit in the entry, else the offset.
type tiffTag struct {
	tag, typ uint16
	ints     []uint64
	doubles  []float64
	text     string
	count    *uint64
	raw      *uint64
}

// tiffFile describes a file for buildTIFF. The data block sits right after
// the header, at dataOffset(big).
type tiffFile struct {
	order     byteOrder
	big       bool
	tags      []tiffTag
	data      []byte
	ifdOffset *uint64 // forged header pointer to the IFD
	ifdCount  *uint64 // forged entry count
}

func dataOffset(big bool) uint64 {
	if big {
		return 16
	}
	return 8
}

// buildTIFF writes f as a classic TIFF or a BigTIFF: header, data, values
// that do not fit in an entry, then the IFD (entries in tag order).
func buildTIFF(f tiffFile) []byte {
	o := f.order
	var b []byte
	if o == binary.LittleEndian {
		b = append(b, 'I', 'I')
	} else {
		b = append(b, 'M', 'M')
	}
	if f.big {
		b = o.AppendUint16(b, 43)
		b = o.AppendUint16(b, 8)
		b = o.AppendUint16(b, 0)
		b = o.AppendUint64(b, 0) // IFD offset, patched below
	} else {
		b = o.AppendUint16(b, 42)
		b = o.AppendUint32(b, 0)
	}
	b = append(b, f.data...)
	tags := slices.Clone(f.tags)
	slices.SortFunc(tags, func(a, c tiffTag) int { return int(a.tag) - int(c.tag) })
	inline := 4
	if f.big {
		inline = 8
	}
	type placed struct {
		count uint64
		field []byte
	}
	var entries []placed
	for _, t := range tags {
		var v []byte
		n := uint64(0)
		switch {
		case t.doubles != nil:
			for _, d := range t.doubles {
				v = o.AppendUint64(v, math.Float64bits(d))
			}
			n = uint64(len(t.doubles))
		case t.typ == 2:
			v = append([]byte(t.text), 0)
			n = uint64(len(v))
		default:
			for _, x := range t.ints {
				switch t.typ {
				case 1:
					v = append(v, byte(x))
				case 3:
					v = o.AppendUint16(v, uint16(x))
				case 4:
					v = o.AppendUint32(v, uint32(x))
				case 16:
					v = o.AppendUint64(v, x)
				}
			}
			n = uint64(len(t.ints))
		}
		field := make([]byte, inline)
		if len(v) <= inline {
			copy(field, v)
		} else {
			for len(b)%2 != 0 {
				b = append(b, 0)
			}
			off := uint64(len(b))
			b = append(b, v...)
			if f.big {
				o.PutUint64(field, off)
			} else {
				o.PutUint32(field, uint32(off))
			}
		}
		if t.raw != nil {
			clear(field)
			switch {
			case len(v) <= inline && t.typ == 3:
				o.PutUint16(field, uint16(*t.raw))
			case len(v) <= inline && t.typ == 4, !f.big:
				o.PutUint32(field, uint32(*t.raw))
			default:
				o.PutUint64(field, *t.raw)
			}
		}
		if t.count != nil {
			n = *t.count
		}
		entries = append(entries, placed{n, field})
	}
	for len(b)%2 != 0 {
		b = append(b, 0)
	}
	ifd := uint64(len(b))
	n := uint64(len(entries))
	if f.ifdCount != nil {
		n = *f.ifdCount
	}
	if f.big {
		b = o.AppendUint64(b, n)
	} else {
		b = o.AppendUint16(b, uint16(n))
	}
	for i, t := range tags {
		b = o.AppendUint16(b, t.tag)
		b = o.AppendUint16(b, t.typ)
		if f.big {
			b = o.AppendUint64(b, entries[i].count)
		} else {
			b = o.AppendUint32(b, uint32(entries[i].count))
		}
		b = append(b, entries[i].field...)
	}
	if f.big {
		b = o.AppendUint64(b, 0)
	} else {
		b = o.AppendUint32(b, 0)
	}
	if f.ifdOffset != nil {
		ifd = *f.ifdOffset
	}
	if f.big {
		o.PutUint64(b[8:], ifd)
	} else {
		o.PutUint32(b[4:], uint32(ifd))
	}
	return b
}

// tagsAs8 gives the tags LONG8 values (BigTIFF).
func tagsAs8(tags []tiffTag, which ...uint16) []tiffTag {
	for i := range tags {
		if slices.Contains(which, tags[i].tag) {
			tags[i].typ = 16
		}
	}
	return tags
}

// smallRaster is a 4 × 3 Float32 GeoTIFF in EPSG:4326 with 0.01° pixels,
// uncompressed in one strip, and the sum of its pixels. forge edits the
// tags before the file is built.
func smallRaster(order byteOrder, big bool, forge func(tags []tiffTag) []tiffTag) ([]byte, float64) {
	const w, h = 4, 3
	var data []byte
	var sum float64
	for i := range w * h {
		v := float32(i%5) * 1.25
		sum += float64(v)
		data = order.AppendUint32(data, math.Float32bits(v))
	}
	tags := []tiffTag{
		{tag: tagImageWidth, typ: 4, ints: []uint64{w}},
		{tag: tagImageLength, typ: 4, ints: []uint64{h}},
		{tag: tagBitsPerSample, typ: 3, ints: []uint64{32}},
		{tag: tagCompression, typ: 3, ints: []uint64{compNone}},
		{tag: tagPhotometric, typ: 3, ints: []uint64{1}},
		{tag: tagStripOffsets, typ: 4, ints: []uint64{dataOffset(big)}},
		{tag: tagSamplesPerPixel, typ: 3, ints: []uint64{1}},
		{tag: tagRowsPerStrip, typ: 4, ints: []uint64{h}},
		{tag: tagStripByteCounts, typ: 4, ints: []uint64{uint64(len(data))}},
		{tag: tagSampleFormat, typ: 3, ints: []uint64{3}},
		{tag: tagModelPixelScale, typ: 12, doubles: []float64{0.01, 0.01, 0}},
		{tag: tagModelTiepoint, typ: 12, doubles: []float64{0, 0, 0, 121.4, 31.3, 0}},
		{tag: tagGeoKeyDirectory, typ: 3, ints: []uint64{1, 1, 0, 3, keyModelType, 0, 1, 2, keyRasterType, 0, 1, rasterIsArea, keyGeographicType, 0, 1, 4326}},
	}
	if forge != nil {
		tags = forge(tags)
	}
	return buildTIFF(tiffFile{order: order, big: big, tags: tags, data: data}), sum
}

// setTag replaces (or adds) a tag.
func setTag(tags []tiffTag, t tiffTag) []tiffTag {
	for i := range tags {
		if tags[i].tag == t.tag {
			tags[i] = t
			return tags
		}
	}
	return append(tags, t)
}

func u64(v uint64) *uint64 { return &v }

package geotiff

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestForgedSizes rewrites, in every classic-TIFF fixture, each IFD entry's
// count and then its value to huge numbers, one at a time: reading must not
// panic, and must not allocate much more than reading the intact file does.
func TestForgedSizes(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.tif")
	for _, file := range files {
		orig, _ := os.ReadFile(file)
		if string(orig[2:4]) == "\x2b\x00" || string(orig[2:4]) == "\x00\x2b" {
			continue // BigTIFF: covered by the fuzz test
		}
		var order binary.ByteOrder = binary.LittleEndian
		if orig[0] == 'M' {
			order = binary.BigEndian
		}
		read := func(b []byte) { _, _, _ = ReadReader(bytes.NewReader(b), int64(len(b)), file, 9, nil) }
		budget := 4*allocated(func() { read(orig) }) + 1<<20
		off := int(order.Uint32(orig[4:]))
		n := int(order.Uint16(orig[off:]))
		for i := range n {
			e := off + 2 + 12*i
			for _, field := range []struct {
				at  int
				val uint32
			}{{e + 4, 0xFFFFFFFF}, {e + 4, 0x0FFFFFFF}, {e + 8, 0xFFFFFFFF}, {e + 8, 0x7FFFFFFF}, {e + 8, 0x00010000}} {
				b := bytes.Clone(orig)
				order.PutUint32(b[field.at:], field.val)
				if a := allocated(func() { read(b) }); a > budget {
					t.Errorf("%s: entry %d (tag %d) set to %#x at +%d: allocated %d bytes, budget %d",
						file, i, order.Uint16(orig[e:]), field.val, field.at-e, a, budget)
				}
			}
		}
	}
}

package walknet

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"sync/atomic"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmxml"
)

// osmData is what reading keeps of an OSM file: the walkable ways as node id
// lists (in file order), and the coordinates of the nodes they use.
type osmData struct {
	wayNodes []int64 // node ids of all walkable ways, concatenated
	wayOff   []int   // way i is wayNodes[wayOff[i]:wayOff[i+1]]
	waysRead int64   // ways of any kind seen

	ref      []int32 // wayNodes[i] is ids[ref[i]]
	ids      []int64 // distinct node ids used by walkable ways, ascending
	lon, lat []float64
	found    []bool // whether the file held the node's coordinates
}

// format is the encoding of an OSM file, decided from its first bytes.
type format int

const (
	formatUnknown format = iota
	formatXML
	formatPBF
	formatGzip
	formatBzip2
)

// sniff decides the format from the first bytes: XML starts (after an
// optional byte-order mark and blanks) with '<'; PBF with a 4-byte
// big-endian header length followed by a BlobHeader whose type is
// "OSMHeader"; gzip and bzip2 by their magic numbers.
func sniff(head []byte) format {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return formatGzip
	case len(head) >= 3 && string(head[:3]) == "BZh":
		return formatBzip2
	}
	b := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) > 0 && b[0] == '<' {
		return formatXML
	}
	// BlobHeader field 1 (type, length-delimited): 0x0a, length 9, "OSMHeader".
	if len(head) >= 15 && bytes.Equal(head[4:15], []byte("\x0a\x09OSMHeader")) {
		return formatPBF
	}
	return formatUnknown
}

// progressReader counts the bytes read and reports them.
type progressReader struct {
	r     io.Reader
	n     atomic.Int64
	total int64
	stage string
	fn    func(stage string, done, total int64)
	last  int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	done := p.n.Add(int64(n))
	if p.fn != nil && (done-p.last >= 1<<20 || err != nil) {
		p.last = done
		p.fn(p.stage, done, p.total)
	}
	return n, err
}

// readOSM reads an OSM file of any supported format. rs, when not nil, is
// the same stream as r positioned at its start, and lets PBF be read twice
// without holding the file in memory.
func readOSM(ctx context.Context, r io.Reader, rs io.ReadSeeker, size int64, name string, opt Options) (*osmData, error) {
	var start int64
	if rs != nil {
		var err error
		if start, err = rs.Seek(0, io.SeekCurrent); err != nil {
			rs = nil // not really seekable: hold PBF in memory
		}
	}
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(64)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("walknet: %s: %w", name, err)
	}
	switch sniff(head) {
	case formatXML:
		return readXML(ctx, &progressReader{r: br, total: size, stage: "read", fn: opt.Progress}, name)
	case formatPBF:
		if rs == nil {
			// Two passes need the bytes twice: keep them in memory.
			b, err := io.ReadAll(br)
			if err != nil {
				return nil, fmt.Errorf("walknet: %s: %w", name, err)
			}
			rs, start, size = bytes.NewReader(b), 0, int64(len(b))
		}
		return readPBF(ctx, rs, start, size, name, opt)
	case formatGzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("walknet: %s: gzip: %w", name, err)
		}
		defer zr.Close()
		return readOSM(ctx, zr, nil, -1, name, opt)
	case formatBzip2:
		return readOSM(ctx, bzip2.NewReader(br), nil, -1, name, opt)
	}
	return nil, fmt.Errorf("walknet: %s: not an OSM file (neither OSM XML nor OSM PBF)", name)
}

func pbfError(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("walknet: %s: %w", name, ctx.Err())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("walknet: %s: truncated OSM PBF: %w", name, err)
	}
	return fmt.Errorf("walknet: %s: reading OSM PBF: %w", name, err)
}

// readXML reads OSM XML in one pass. Nodes usually precede the ways that
// use them, so the coordinates of every node are kept until the ways are
// known; XML extracts are small enough for that.
func readXML(ctx context.Context, r io.Reader, name string) (*osmData, error) {
	d := &osmData{wayOff: []int{0}}
	var allIDs []int64
	var allLon, allLat []float64
	sc := osmxml.New(ctx, r)
	defer sc.Close()
	for sc.Scan() {
		switch o := sc.Object().(type) {
		case *osm.Node:
			allIDs = append(allIDs, int64(o.ID))
			allLon = append(allLon, o.Lon)
			allLat = append(allLat, o.Lat)
		case *osm.Way:
			d.waysRead++
			if len(o.Nodes) < 2 || !Walkable(o.Tags) {
				continue
			}
			for _, n := range o.Nodes {
				d.wayNodes = append(d.wayNodes, int64(n.ID))
			}
			d.wayOff = append(d.wayOff, len(d.wayNodes))
		}
	}
	if err := sc.Err(); err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("walknet: %s:%d: not valid OSM XML: %w", name, se.Line, err)
		}
		return nil, fmt.Errorf("walknet: %s: reading OSM XML: %w", name, err)
	}
	d.index()

	order := make([]int32, len(allIDs))
	for i := range order {
		order[i] = int32(i)
	}
	if !slices.IsSorted(allIDs) {
		slices.SortStableFunc(order, func(a, b int32) int { return cmpInt64(allIDs[a], allIDs[b]) })
	}
	// Merge the two ascending id lists. With duplicate node ids the last
	// one in the file wins (the stable sort keeps file order).
	j := 0
	for i, id := range d.ids {
		for j < len(order) && allIDs[order[j]] < id {
			j++
		}
		for j < len(order) && allIDs[order[j]] == id {
			k := order[j]
			d.lon[i], d.lat[i], d.found[i] = allLon[k], allLat[k], true
			j++
		}
	}
	return d, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// index lists the distinct node ids of the walkable ways, allocates their
// coordinate slots and numbers each way node reference by its id's place
// (one radix sort of the references instead of a sort and a search per
// reference).
func (d *osmData) index() {
	n := len(d.wayNodes)
	d.ref = make([]int32, n)
	if n == 0 {
		d.ids, d.lon, d.lat, d.found = nil, nil, nil, nil
		return
	}
	lo, hi := d.wayNodes[0], d.wayNodes[0]
	for _, id := range d.wayNodes {
		lo, hi = min(lo, id), max(hi, id)
	}
	keys := make([]uint64, n)
	order := make([]int32, n)
	for i, id := range d.wayNodes {
		keys[i], order[i] = uint64(id-lo), int32(i) // id-lo wraps into the right order
	}
	keys, order = radixSort(keys, order, bits.Len64(uint64(hi-lo)))
	d.ids = make([]int64, 0, n/2)
	for k, pos := range order {
		if k == 0 || keys[k] != keys[k-1] {
			d.ids = append(d.ids, d.wayNodes[pos])
		}
		d.ref[pos] = int32(len(d.ids) - 1)
	}
	d.ids = slices.Clip(d.ids)
	d.lon = make([]float64, len(d.ids))
	d.lat = make([]float64, len(d.ids))
	d.found = make([]bool, len(d.ids))
}

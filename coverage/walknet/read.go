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
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"github.com/paulmach/osm/osmxml"
)

// osmData is what reading keeps of an OSM file: the walkable ways as node id
// lists (in file order), and the coordinates of the nodes they use.
type osmData struct {
	wayNodes []int64 // node ids of all walkable ways, concatenated
	wayOff   []int   // way i is wayNodes[wayOff[i]:wayOff[i+1]]
	waysRead int64   // ways of any kind seen

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

// readPBF reads a PBF file in two passes: the walkable ways first (their
// tags filtered inside the parallel decoders), then the coordinates of only
// the nodes those ways use (looked up inside the decoders, which emit
// nothing).
func readPBF(ctx context.Context, rs io.ReadSeeker, start, size int64, name string, opt Options) (*osmData, error) {
	procs := runtime.GOMAXPROCS(0)
	d := &osmData{wayOff: []int{0}}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("walknet: %s: %w", name, err)
	}

	// Pass 1: walkable ways.
	var waysRead atomic.Int64
	pr := &progressReader{r: rs, total: size, stage: "read ways", fn: opt.Progress}
	sc := osmpbf.New(ctx, pr, procs)
	sc.SkipNodes, sc.SkipRelations = true, true
	sc.FilterWay = func(w *osm.Way) bool {
		waysRead.Add(1)
		return len(w.Nodes) >= 2 && Walkable(w.Tags)
	}
	for sc.Scan() {
		w, ok := sc.Object().(*osm.Way)
		if !ok {
			continue
		}
		for _, n := range w.Nodes {
			d.wayNodes = append(d.wayNodes, int64(n.ID))
		}
		d.wayOff = append(d.wayOff, len(d.wayNodes))
	}
	err := sc.Err()
	sc.Close()
	if err != nil {
		return nil, pbfError(ctx, name, err)
	}
	d.waysRead = waysRead.Load()
	d.index()

	// Pass 2: coordinates of the nodes used by walkable ways. Each decoder
	// writes the coordinates of a node it finds into that node's own slot;
	// a node id appears once in a non-history file.
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("walknet: %s: %w", name, err)
	}
	pr = &progressReader{r: rs, total: size, stage: "read nodes", fn: opt.Progress}
	sc = osmpbf.New(ctx, pr, procs)
	sc.SkipWays, sc.SkipRelations = true, true
	sc.FilterNode = func(n *osm.Node) bool {
		if i, ok := slices.BinarySearch(d.ids, int64(n.ID)); ok {
			d.lon[i], d.lat[i], d.found[i] = n.Lon, n.Lat, true
		}
		return false
	}
	for sc.Scan() {
	}
	err = sc.Err()
	sc.Close()
	if err != nil {
		return nil, pbfError(ctx, name, err)
	}
	return d, nil
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

// index lists the distinct node ids of the walkable ways and allocates
// their coordinate slots.
func (d *osmData) index() {
	d.ids = slices.Clone(d.wayNodes)
	slices.Sort(d.ids)
	d.ids = slices.Compact(d.ids)
	d.ids = slices.Clip(d.ids)
	d.lon = make([]float64, len(d.ids))
	d.lat = make([]float64, len(d.ids))
	d.found = make([]bool, len(d.ids))
}

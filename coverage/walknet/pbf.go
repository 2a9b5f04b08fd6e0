package walknet

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// OSM PBF, read with only what walking needs (the format is described in
// the OSM wiki's "PBF Format" page, messages in osmformat.proto and
// fileformat.proto): a file is a sequence of blobs, each a 4-byte
// big-endian BlobHeader length, the BlobHeader (type, datasize) and the
// Blob (raw or zlib-compressed bytes of a HeaderBlock or PrimitiveBlock).
// Blobs are decoded on every core; their results are put together in file
// order, so the graph does not depend on scheduling.

// Limits of the format: larger values mean a corrupt file, refused before
// anything that size is allocated.
const (
	maxBlobHeaderSize = 64 << 10
	maxBlobSize       = 32 << 20
)

// pbfBlob is one blob of the file.
type pbfBlob struct {
	off  int64 // of its length prefix, from the start of the file
	size int64 // length prefix, header and blob
	typ  string
	data []byte // the Blob message
}

// pbfReader reads blobs one after another.
type pbfReader struct {
	r   io.Reader
	off int64
	hdr []byte
}

// next reads the next blob; io.EOF at a clean end of the file, an error
// wrapping io.ErrUnexpectedEOF when the file stops inside a blob.
func (p *pbfReader) next() (pbfBlob, error) {
	var size [4]byte
	if _, err := io.ReadFull(p.r, size[:]); err != nil {
		return pbfBlob{}, err // io.EOF when nothing is left
	}
	b := pbfBlob{off: p.off}
	n := binary.BigEndian.Uint32(size[:])
	if n >= maxBlobHeaderSize {
		return b, fmt.Errorf("blob header at byte %d: size %d is over 64 KiB", p.off, n)
	}
	p.hdr = slices.Grow(p.hdr[:0], int(n))[:n]
	if _, err := io.ReadFull(p.r, p.hdr); err != nil {
		return b, fmt.Errorf("blob header at byte %d: %w", p.off, eofUnexpected(err))
	}
	typ, datasize, err := parseBlobHeader(p.hdr)
	if err != nil {
		return b, fmt.Errorf("blob header at byte %d: %w", p.off, err)
	}
	if datasize < 0 || datasize >= maxBlobSize {
		return b, fmt.Errorf("blob at byte %d: size %d is outside 0..32 MiB", p.off, datasize)
	}
	b.typ = typ
	b.data = make([]byte, datasize)
	if _, err := io.ReadFull(p.r, b.data); err != nil {
		return b, fmt.Errorf("blob at byte %d: %w", p.off, eofUnexpected(err))
	}
	b.size = 4 + int64(n) + int64(datasize)
	p.off += b.size
	return b, nil
}

func eofUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Protocol buffer wire types.
const (
	wireVarint = 0
	wire64     = 1
	wireBytes  = 2
	wire32     = 5
)

var errProto = errors.New("malformed protocol buffer")

// uvarint decodes the varint at b[i:], returning it and the index after
// it, or -1 when b ends inside it or it is longer than ten bytes.
func uvarint(b []byte, i int) (uint64, int) {
	if i < len(b) && b[i] < 0x80 {
		return uint64(b[i]), i + 1
	}
	var x uint64
	for s := uint(0); s < 64; s += 7 {
		if i >= len(b) {
			return 0, -1
		}
		c := b[i]
		i++
		if c < 0x80 {
			return x | uint64(c)<<s, i
		}
		x |= uint64(c&0x7f) << s
	}
	return 0, -1
}

func zigzag(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }

// protoMsg walks the fields of one message.
type protoMsg struct {
	b []byte
	i int
}

// next reads a field's number and wire type, and its value: v for varints
// and fixed-size fields, s for length-delimited ones. ok is false at the
// end of the message; err is set for malformed bytes.
func (m *protoMsg) next() (num int, wire int, v uint64, s []byte, ok bool, err error) {
	if m.i >= len(m.b) {
		return 0, 0, 0, nil, false, nil
	}
	key, i := uvarint(m.b, m.i)
	if i < 0 {
		return 0, 0, 0, nil, false, errProto
	}
	num, wire = int(key>>3), int(key&7)
	switch wire {
	case wireVarint:
		v, i = uvarint(m.b, i)
	case wire64:
		if i+8 > len(m.b) {
			i = -1
		} else {
			v, i = binary.LittleEndian.Uint64(m.b[i:]), i+8
		}
	case wire32:
		if i+4 > len(m.b) {
			i = -1
		} else {
			v, i = uint64(binary.LittleEndian.Uint32(m.b[i:])), i+4
		}
	case wireBytes:
		var n uint64
		n, i = uvarint(m.b, i)
		if i >= 0 {
			if n > uint64(len(m.b)-i) {
				i = -1
			} else {
				s, i = m.b[i:i+int(n)], i+int(n)
			}
		}
	default:
		i = -1
	}
	if i < 0 || num == 0 {
		return 0, 0, 0, nil, false, errProto
	}
	m.i = i
	return num, wire, v, s, true, nil
}

// appendVarints appends a repeated varint field's values, packed (wire
// type 2) or one at a time (wire type 0).
func appendVarints(dst []uint64, wire int, v uint64, s []byte) ([]uint64, error) {
	switch wire {
	case wireVarint:
		return append(dst, v), nil
	case wireBytes:
		for i := 0; i < len(s); {
			var x uint64
			if x, i = uvarint(s, i); i < 0 {
				return dst, errProto
			}
			dst = append(dst, x)
		}
		return dst, nil
	}
	return dst, errProto
}

func parseBlobHeader(b []byte) (typ string, datasize int64, err error) {
	m := protoMsg{b: b}
	datasize = -1
	for {
		num, wire, v, s, ok, err := m.next()
		if err != nil {
			return "", 0, err
		}
		if !ok {
			break
		}
		switch {
		case num == 1 && wire == wireBytes:
			typ = string(s)
		case num == 3 && wire == wireVarint:
			datasize = int64(int32(v))
		}
	}
	if datasize < 0 {
		return "", 0, errors.New("no or negative datasize")
	}
	return typ, datasize, nil
}

// inflater holds one decoder's buffer and zlib reader, reused from blob
// to blob.
type inflater struct {
	buf []byte
	br  bytes.Reader
	zr  io.ReadCloser
}

// blobData returns the uncompressed content of a Blob message; inflated
// bytes live in f's buffer until the next call. Inflating stops one byte
// past the size the blob announces, so a blob cannot make the reader
// allocate more than that (at most 32 MiB).
func (f *inflater) blobData(blob []byte) ([]byte, error) {
	m := protoMsg{b: blob}
	var raw, zdata []byte
	rawSize := int64(-1)
	var other int
	for {
		num, wire, v, s, ok, err := m.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch {
		case num == 1 && wire == wireBytes:
			raw = s
		case num == 2 && wire == wireVarint:
			rawSize = int64(int32(v))
		case num == 3 && wire == wireBytes:
			zdata = s
		case num >= 4 && num <= 7:
			other = num
		}
	}
	switch {
	case raw != nil:
		return raw, nil
	case zdata != nil:
		if rawSize < 0 || rawSize >= maxBlobSize {
			return nil, fmt.Errorf("zlib blob of %d bytes uncompressed is outside 0..32 MiB", rawSize)
		}
		return f.inflate(zdata, int(rawSize))
	case other != 0:
		names := map[int]string{4: "lzma", 5: "bzip2", 6: "lz4", 7: "zstd"}
		return nil, fmt.Errorf("%s compressed blobs are not supported", names[other])
	}
	return nil, errors.New("blob has no data")
}

// inflate decompresses the zlib stream z, which must hold size bytes.
func (f *inflater) inflate(z []byte, size int) ([]byte, error) {
	f.br.Reset(z)
	var err error
	if f.zr == nil {
		f.zr, err = zlib.NewReader(&f.br)
	} else {
		err = f.zr.(zlib.Resetter).Reset(&f.br, nil)
	}
	if err != nil {
		f.zr = nil
		return nil, fmt.Errorf("zlib: %w", err)
	}
	f.buf = slices.Grow(f.buf[:0], size+1)[:size+1]
	n := 0
	for {
		if n == len(f.buf) {
			return nil, fmt.Errorf("zlib blob holds more than the %d bytes announced", size)
		}
		k, err := f.zr.Read(f.buf[n:])
		n += k
		if errors.Is(err, io.EOF) {
			break // the stream ended, its checksum right
		}
		if err != nil {
			return nil, fmt.Errorf("zlib: %w", err)
		}
	}
	if n != size {
		return nil, fmt.Errorf("zlib blob holds %d bytes, %d announced", n, size)
	}
	return f.buf[:n], nil
}

// supportedFeatures are the required features of a HeaderBlock this
// reader handles.
var supportedFeatures = map[string]bool{
	"OsmSchema-V0.6":        true,
	"DenseNodes":            true,
	"HistoricalInformation": true,
}

func checkHeaderBlock(b []byte) error {
	m := protoMsg{b: b}
	for {
		num, wire, _, s, ok, err := m.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if num == 4 && wire == wireBytes && !supportedFeatures[string(s)] {
			return fmt.Errorf("the file requires the feature %q, which this reader lacks", s)
		}
	}
}

// primitiveBlock is a PrimitiveBlock split into its parts.
type primitiveBlock struct {
	strings     [][]byte
	groups      [][]byte
	granularity int64
	latOffset   int64
	lonOffset   int64
}

func parsePrimitiveBlock(b []byte, pb *primitiveBlock) error {
	*pb = primitiveBlock{strings: pb.strings[:0], groups: pb.groups[:0], granularity: 100}
	m := protoMsg{b: b}
	for {
		num, wire, v, s, ok, err := m.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch {
		case num == 1 && wire == wireBytes:
			st := protoMsg{b: s}
			for {
				num, wire, _, s, ok, err := st.next()
				if err != nil {
					return err
				}
				if !ok {
					break
				}
				if num == 1 && wire == wireBytes {
					pb.strings = append(pb.strings, s)
				}
			}
		case num == 2 && wire == wireBytes:
			pb.groups = append(pb.groups, s)
		case num == 17 && wire == wireVarint:
			pb.granularity = int64(int32(v))
		case num == 19 && wire == wireVarint:
			pb.latOffset = int64(v)
		case num == 20 && wire == wireVarint:
			pb.lonOffset = int64(v)
		}
	}
}

// Tag keys the walking filter reads.
const (
	keyOther = iota
	keyHighway
	keyArea
	keyAccess
	keyFoot
	keyService
)

// wayScan is the first pass over one blob: its scratch, dropped once the
// blob is done, and what it found.
type wayScan struct {
	pb       primitiveBlock
	keyKind  []int8 // per string table entry: key* above, or -1 not yet looked at
	values   []string
	hasValue []bool
	keys     []uint64
	vals     []uint64
	refs     []uint64

	nodes      []int64 // ids of the walkable ways' nodes, concatenated
	lens       []int32 // node count of each walkable way
	waysRead   int64
	hasNodes   bool // the blob holds nodes
	plainNodes bool // some of them as Node messages, not DenseNodes
	overBudget bool
	// The id, lat and lon columns of the blob's DenseNodes, copied out of
	// the inflated block so that pass 2 need not read and inflate it again
	// (a few bytes a node); nil when the blob holds plain nodes or the
	// budget for keeping columns ran out.
	dense  []denseColumns
	budget *atomic.Int64
}

// denseColumns are the packed, delta-coded id, lat and lon columns of one
// DenseNodes, with its block's granularity and offsets.
type denseColumns struct {
	id, lat, lon                      []byte
	granularity, latOffset, lonOffset int64
}

// keptColumnsBudget bounds the bytes of dense columns kept between the
// passes; past it, blobs are read and inflated again.
var keptColumnsBudget int64 = 256 << 20

// str returns string table entry i, converted once per blob.
func (w *wayScan) str(i uint64) string {
	if !w.hasValue[i] {
		w.values[i], w.hasValue[i] = string(w.pb.strings[i]), true
	}
	return w.values[i]
}

func (w *wayScan) kind(i uint64) int8 {
	k := w.keyKind[i]
	if k < 0 {
		switch string(w.pb.strings[i]) {
		case "highway":
			k = keyHighway
		case "area":
			k = keyArea
		case "access":
			k = keyAccess
		case "foot":
			k = keyFoot
		case "service":
			k = keyService
		default:
			k = keyOther
		}
		w.keyKind[i] = k
	}
	return k
}

// scanWays reads a PrimitiveBlock's walkable ways.
func (w *wayScan) scanWays(block []byte) error {
	if err := parsePrimitiveBlock(block, &w.pb); err != nil {
		return err
	}
	n := len(w.pb.strings)
	w.keyKind = slices.Grow(w.keyKind[:0], n)[:n]
	for i := range w.keyKind {
		w.keyKind[i] = -1
	}
	w.values = slices.Grow(w.values[:0], n)[:n]
	w.hasValue = slices.Grow(w.hasValue[:0], n)[:n]
	clear(w.hasValue)
	for _, g := range w.pb.groups {
		m := protoMsg{b: g}
		for {
			num, wire, _, s, ok, err := m.next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			switch {
			case num == 1:
				w.hasNodes, w.plainNodes = true, true
			case num == 2 && wire == wireBytes:
				w.hasNodes = true
				if err := w.keepDense(s); err != nil {
					return err
				}
			case num == 3 && wire == wireBytes:
				w.waysRead++
				if err := w.scanWay(s); err != nil {
					return err
				}
			}
		}
	}
	if w.plainNodes || w.overBudget {
		w.dense = nil
	}
	return nil
}

// keepDense copies the id and coordinate columns of a DenseNodes, while
// the budget lasts.
func (w *wayScan) keepDense(b []byte) error {
	if w.overBudget {
		return nil
	}
	c := denseColumns{granularity: w.pb.granularity, latOffset: w.pb.latOffset, lonOffset: w.pb.lonOffset}
	if err := splitDense(b, &c); err != nil {
		return err
	}
	n := len(c.id) + len(c.lat) + len(c.lon)
	if w.budget == nil || w.budget.Add(-int64(n)) < 0 {
		w.overBudget = true
		return nil
	}
	buf := make([]byte, 0, n)
	buf = append(buf, c.id...)
	buf = append(buf, c.lat...)
	buf = append(buf, c.lon...)
	c.id, c.lat, c.lon = buf[:len(c.id)], buf[len(c.id):len(c.id)+len(c.lat)], buf[len(c.id)+len(c.lat):]
	w.dense = append(w.dense, c)
	return nil
}

func (w *wayScan) scanWay(b []byte) error {
	w.keys, w.vals, w.refs = w.keys[:0], w.vals[:0], w.refs[:0]
	m := protoMsg{b: b}
	for {
		num, wire, v, s, ok, err := m.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch num {
		case 2:
			w.keys, err = appendVarints(w.keys, wire, v, s)
		case 3:
			w.vals, err = appendVarints(w.vals, wire, v, s)
		case 8:
			w.refs, err = appendVarints(w.refs, wire, v, s)
		}
		if err != nil {
			return err
		}
	}
	if len(w.keys) != len(w.vals) {
		return fmt.Errorf("way with %d keys and %d values", len(w.keys), len(w.vals))
	}
	var highway, area, access, foot, service string
	hasHighway := false
	for k, key := range w.keys {
		val := w.vals[k]
		if key >= uint64(len(w.pb.strings)) || val >= uint64(len(w.pb.strings)) {
			return fmt.Errorf("tag string index %d or %d outside the table of %d", key, val, len(w.pb.strings))
		}
		switch w.kind(key) {
		case keyHighway:
			highway, hasHighway = w.str(val), true
		case keyArea:
			area = w.str(val)
		case keyAccess:
			access = w.str(val)
		case keyFoot:
			foot = w.str(val)
		case keyService:
			service = w.str(val)
		}
	}
	if len(w.refs) < 2 || !walkable(hasHighway, highway, area, access, foot, service) {
		return nil
	}
	id := int64(0)
	for _, d := range w.refs {
		id += zigzag(d)
		w.nodes = append(w.nodes, id)
	}
	w.lens = append(w.lens, int32(len(w.refs)))
	return nil
}

// nodeScan is the second pass over one blob: the coordinates it found of
// the nodes in ids (ascending), by their slot in ids.
type nodeScan struct {
	pb       primitiveBlock
	ids      []int64
	slot     []int32
	lon, lat []float64
}

// lookup finds id in the ascending ids, starting from the hint of the
// previous node's position: files list nodes by ascending id, so the
// position usually moves a few places forward.
func lookup(ids []int64, id int64, hint int) (int, bool) {
	if hint < len(ids) && (hint == 0 || ids[hint-1] < id) {
		for k := 0; k < 8 && hint < len(ids); k++ {
			if ids[hint] >= id {
				return hint, ids[hint] == id
			}
			hint++
		}
		j, ok := slices.BinarySearch(ids[hint:], id)
		return hint + j, ok
	}
	return slices.BinarySearch(ids, id)
}

func (s *nodeScan) found(i int, lon, lat int64) {
	pb := &s.pb
	s.slot = append(s.slot, int32(i))
	s.lon = append(s.lon, 1e-9*float64(pb.lonOffset+pb.granularity*lon))
	s.lat = append(s.lat, 1e-9*float64(pb.latOffset+pb.granularity*lat))
}

// scanNodes reads the coordinates of the wanted nodes of a PrimitiveBlock.
func (s *nodeScan) scanNodes(block []byte) error {
	if err := parsePrimitiveBlock(block, &s.pb); err != nil {
		return err
	}
	for _, g := range s.pb.groups {
		m := protoMsg{b: g}
		for {
			num, wire, _, b, ok, err := m.next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			switch {
			case num == 1 && wire == wireBytes:
				err = s.scanNode(b)
			case num == 2 && wire == wireBytes:
				err = s.scanDense(b)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *nodeScan) scanNode(b []byte) error {
	var id, lat, lon int64
	m := protoMsg{b: b}
	for {
		num, wire, v, _, ok, err := m.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if wire != wireVarint {
			continue
		}
		switch num {
		case 1:
			id = zigzag(v)
		case 8:
			lat = zigzag(v)
		case 9:
			lon = zigzag(v)
		}
	}
	if i, ok := lookup(s.ids, id, 0); ok {
		s.found(i, lon, lat)
	}
	return nil
}

// splitDense finds the id, lat and lon columns of a DenseNodes.
func splitDense(b []byte, c *denseColumns) error {
	m := protoMsg{b: b}
	for {
		num, wire, _, v, ok, err := m.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if wire != wireBytes {
			continue
		}
		switch num {
		case 1:
			c.id = v
		case 8:
			c.lat = v
		case 9:
			c.lon = v
		}
	}
}

func (s *nodeScan) scanDense(b []byte) error {
	c := denseColumns{granularity: s.pb.granularity, latOffset: s.pb.latOffset, lonOffset: s.pb.lonOffset}
	if err := splitDense(b, &c); err != nil {
		return err
	}
	return s.scanColumns(&c)
}

// scanColumns walks the three delta-coded columns of a DenseNodes
// together.
func (s *nodeScan) scanColumns(c *denseColumns) error {
	idCol, latCol, lonCol := c.id, c.lat, c.lon
	var id, lat, lon int64
	var d uint64
	i, j, k := 0, 0, 0
	hint := 0
	for i < len(idCol) {
		if d, i = uvarint(idCol, i); i < 0 {
			return errProto
		}
		id += zigzag(d)
		if d, j = uvarint(latCol, j); j < 0 {
			return errors.New("dense nodes with fewer latitudes than ids")
		}
		lat += zigzag(d)
		if d, k = uvarint(lonCol, k); k < 0 {
			return errors.New("dense nodes with fewer longitudes than ids")
		}
		lon += zigzag(d)
		var ok bool
		if hint, ok = lookup(s.ids, id, hint); ok {
			s.slot = append(s.slot, int32(hint))
			s.lon = append(s.lon, 1e-9*float64(c.lonOffset+c.granularity*lon))
			s.lat = append(s.lat, 1e-9*float64(c.latOffset+c.granularity*lat))
		}
	}
	if j != len(latCol) || k != len(lonCol) {
		return errors.New("dense nodes with more coordinates than ids")
	}
	return nil
}

// blobJob is one blob handed to a decoder, with where its result goes.
type blobJob struct {
	blob  pbfBlob
	dense []denseColumns // pass 2: the blob's nodes kept from pass 1, or nil to read it
	ways  *wayScan
	node  *nodeScan
	err   error
}

// decodeBlobs runs work on every core over the blobs next yields, in
// parallel, and returns the jobs in file order once all are done. It
// stops at the first error, reporting the earliest in the file.
func decodeBlobs(ctx context.Context, next func() (*blobJob, error), work func(j *blobJob, f *inflater)) ([]*blobJob, error) {
	procs := runtime.GOMAXPROCS(0)
	jobs := make(chan *blobJob, 2*procs)
	var wg sync.WaitGroup
	var failed sync.Once
	stop := make(chan struct{})
	for range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var f inflater
			for j := range jobs {
				if ctx.Err() != nil {
					j.err = ctx.Err()
				} else {
					work(j, &f)
				}
				if j.err != nil {
					failed.Do(func() { close(stop) })
				}
			}
		}()
	}
	var all []*blobJob
	var readErr error
loop:
	for {
		j, err := next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		all = append(all, j)
		select {
		case jobs <- j:
		case <-stop:
			break loop
		}
	}
	close(jobs)
	wg.Wait()
	for _, j := range all {
		if j.err != nil {
			return nil, fmt.Errorf("blob at byte %d: %w", j.blob.off, j.err)
		}
	}
	if readErr != nil {
		return nil, readErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return all, nil
}

// readPBF reads a PBF file in two passes: the walkable ways first, then
// the coordinates of only the nodes those ways use, from only the blobs
// that hold nodes.
func readPBF(ctx context.Context, rs io.ReadSeeker, start, size int64, name string, opt Options) (*osmData, error) {
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("walknet: %s: %w", name, err)
	}
	d := &osmData{wayOff: []int{0}}

	// Pass 1: walkable ways, and the node columns while they fit the budget.
	var budget atomic.Int64
	budget.Store(keptColumnsBudget)
	pr := &pbfReader{r: rs}
	first := true
	next := func() (*blobJob, error) {
		for {
			b, err := pr.next()
			if err != nil {
				return nil, err
			}
			opt.progress("read ways", pr.off, size)
			switch {
			case first && b.typ != "OSMHeader":
				return nil, fmt.Errorf("first blob is %q, not OSMHeader", b.typ)
			case b.typ == "OSMHeader":
				first = false
				var f inflater
				block, err := f.blobData(b.data)
				if err == nil {
					err = checkHeaderBlock(block)
				}
				if err != nil {
					return nil, fmt.Errorf("header blob: %w", err)
				}
			case b.typ == "OSMData":
				return &blobJob{blob: b, ways: &wayScan{budget: &budget}}, nil
			}
			// Other blob types are skipped, as the format asks.
		}
	}
	jobs, err := decodeBlobs(ctx, next, func(j *blobJob, f *inflater) {
		block, err := f.blobData(j.blob.data)
		if err == nil {
			err = j.ways.scanWays(block)
		}
		j.err = err
		j.blob.data = nil
		// Keep only the results: the scratch points into f's buffer.
		w := j.ways
		w.pb, w.keyKind, w.values, w.hasValue, w.keys, w.vals, w.refs = primitiveBlock{}, nil, nil, nil, nil, nil, nil
	})
	if err != nil {
		return nil, pbfError(ctx, name, err)
	}
	if first {
		return nil, pbfError(ctx, name, io.ErrUnexpectedEOF)
	}
	total := 0
	for _, j := range jobs {
		total += len(j.ways.nodes)
	}
	d.wayNodes = make([]int64, 0, total)
	for _, j := range jobs {
		d.waysRead += j.ways.waysRead
		off := 0
		for _, n := range j.ways.lens {
			d.wayNodes = append(d.wayNodes, j.ways.nodes[off:off+int(n)]...)
			off += int(n)
			d.wayOff = append(d.wayOff, len(d.wayNodes))
		}
	}
	d.index()

	// Pass 2: coordinates of the nodes used by walkable ways, from the
	// columns kept, or else from the blobs that hold nodes, read again.
	k := 0
	next = func() (*blobJob, error) {
		for ; k < len(jobs); k++ {
			w := jobs[k].ways
			if !w.hasNodes {
				continue
			}
			b := jobs[k].blob
			k++
			if !w.plainNodes && !w.overBudget {
				return &blobJob{blob: b, dense: w.dense, node: &nodeScan{ids: d.ids}}, nil
			}
			if _, err := rs.Seek(start+b.off, io.SeekStart); err != nil {
				return nil, err
			}
			pr := &pbfReader{r: rs, off: b.off}
			nb, err := pr.next()
			if err != nil {
				return nil, eofUnexpected(err)
			}
			opt.progress("read nodes", b.off+b.size, size)
			return &blobJob{blob: nb, node: &nodeScan{ids: d.ids}}, nil
		}
		return nil, io.EOF
	}
	jobs, err = decodeBlobs(ctx, next, func(j *blobJob, f *inflater) {
		if j.blob.data == nil {
			for c := range j.dense {
				if j.err = j.node.scanColumns(&j.dense[c]); j.err != nil {
					break
				}
			}
			j.dense = nil
			return
		}
		block, err := f.blobData(j.blob.data)
		if err == nil {
			err = j.node.scanNodes(block)
		}
		j.err = err
		j.blob.data = nil
	})
	if err != nil {
		return nil, pbfError(ctx, name, err)
	}
	// In file order, so a node listed twice takes its last coordinates.
	for _, j := range jobs {
		for n, i := range j.node.slot {
			d.lon[i], d.lat[i], d.found[i] = j.node.lon[n], j.node.lat[n], true
		}
	}
	opt.progress("read nodes", size, size)
	return d, nil
}

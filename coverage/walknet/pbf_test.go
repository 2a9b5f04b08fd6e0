package walknet

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/testenv"
)

// delawareFile is the Delaware extract shipped with paulmach/osm (in the
// module cache wherever this module builds), or "" when it cannot be found.
func delawareFile(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/paulmach/osm").Output()
	if err != nil {
		return ""
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "testdata", "delaware-latest.osm.pbf")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// sameOSMData fails unless a and b hold the same ways, node ids,
// coordinates (bit for bit) and counts.
func sameOSMData(t *testing.T, what string, a, b *osmData) {
	t.Helper()
	switch {
	case a.waysRead != b.waysRead:
		t.Errorf("%s: %d ways read, reference %d", what, a.waysRead, b.waysRead)
	case !slices.Equal(a.wayOff, b.wayOff):
		t.Errorf("%s: %d walkable ways, reference %d", what, len(a.wayOff)-1, len(b.wayOff)-1)
	case !slices.Equal(a.wayNodes, b.wayNodes):
		t.Errorf("%s: way node lists differ from the reference", what)
	case !slices.Equal(a.ids, b.ids):
		t.Errorf("%s: %d node ids, reference %d", what, len(a.ids), len(b.ids))
	case !slices.Equal(a.found, b.found):
		t.Errorf("%s: found nodes differ from the reference", what)
	case !slices.Equal(a.lon, b.lon) || !slices.Equal(a.lat, b.lat):
		t.Errorf("%s: coordinates differ from the reference", what)
	}
}

// readBoth reads a PBF file with readPBF and with the osmpbf reference.
func readBoth(t *testing.T, b []byte) (got, want *osmData, err, wantErr error) {
	t.Helper()
	ctx := context.Background()
	got, err = readPBF(ctx, bytes.NewReader(b), 0, int64(len(b)), "x.pbf", Options{})
	want, wantErr = readPBFReference(ctx, bytes.NewReader(b), 0, int64(len(b)), "x.pbf", Options{})
	return got, want, err, wantErr
}

// TestPBFAgainstOsmpbf reads real extracts with the package's PBF reader
// and with paulmach/osm's decoder: the same ways, nodes and coordinates.
func TestPBFAgainstOsmpbf(t *testing.T) {
	files := map[string]string{}
	if p := delawareFile(t); p != "" {
		files["delaware"] = p
	}
	for _, sub := range []string{"porto_alegre/poa_osm.pbf", "sao_paulo/spo_osm.pbf"} {
		p := filepath.Join(testenv.ModuleRoot(t), "..", "shared", "data", sub)
		if _, err := os.Stat(p); err == nil {
			files[sub] = p
		}
	}
	if len(files) == 0 {
		t.Skip("no PBF extract found")
	}
	for what, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, want, err, wantErr := readBoth(t, b)
		if err != nil || wantErr != nil {
			t.Fatalf("%s: %v; reference %v", what, err, wantErr)
		}
		sameOSMData(t, what, got, want)
		t.Logf("%s: %d ways read, %d walkable, %d nodes", what, got.waysRead, len(got.wayOff)-1, len(got.ids))
	}
}

// pbfEnc writes protocol buffer fields, for hand-made PBF files.
type pbfEnc struct{ b []byte }

func (e *pbfEnc) varint(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *pbfEnc) key(num, wire int) { e.varint(uint64(num)<<3 | uint64(wire)) }
func (e *pbfEnc) uint(num int, v uint64) {
	e.key(num, wireVarint)
	e.varint(v)
}
func (e *pbfEnc) sint(num int, v int64) { e.uint(num, uint64(v<<1^(v>>63))) }
func (e *pbfEnc) bytes(num int, b []byte) {
	e.key(num, wireBytes)
	e.varint(uint64(len(b)))
	e.b = append(e.b, b...)
}

// repeated writes a repeated varint field, packed or one value a field.
func (e *pbfEnc) repeated(num int, vals []uint64, packed bool) {
	if !packed {
		for _, v := range vals {
			e.uint(num, v)
		}
		return
	}
	var p pbfEnc
	for _, v := range vals {
		p.varint(v)
	}
	e.bytes(num, p.b)
}

func zz(v int64) uint64 { return uint64(v<<1 ^ (v >> 63)) }

// deltas zigzag-codes the differences between consecutive values.
func deltas(vals []int64) []uint64 {
	out := make([]uint64, len(vals))
	prev := int64(0)
	for i, v := range vals {
		out[i], prev = zz(v-prev), v
	}
	return out
}

type testNode struct{ id, lat, lon int64 } // lat, lon in granularity units

type testWay struct {
	id   int64
	refs []int64
	tags osm.Tags
}

// testBlock is one PrimitiveBlock of a hand-made file.
type testBlock struct {
	dense, plain           []testNode
	ways                   []testWay
	granularity            int64 // 0: the default, 100, left out
	latOffset, lonOffset   int64
	zlib, unpacked, spread bool // spread: one group per element kind, else all in one group
}

func (tb *testBlock) gran() int64 {
	if tb.granularity == 0 {
		return 100
	}
	return tb.granularity
}

// encode writes the block's PrimitiveBlock message.
func (tb *testBlock) encode() []byte {
	var strs []string
	index := map[string]uint64{}
	str := func(s string) uint64 {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = uint64(len(strs))
		strs = append(strs, s)
		return index[s]
	}
	str("") // entry 0 is empty by convention
	var dense, plain, ways pbfEnc
	if len(tb.dense) > 0 {
		var ids, lats, lons []int64
		for _, n := range tb.dense {
			ids, lats, lons = append(ids, n.id), append(lats, n.lat), append(lons, n.lon)
		}
		dense.repeated(1, deltas(ids), true)
		dense.repeated(8, deltas(lats), true)
		dense.repeated(9, deltas(lons), true)
	}
	for _, n := range tb.plain {
		var m pbfEnc
		m.sint(1, n.id)
		m.sint(8, n.lat)
		m.sint(9, n.lon)
		plain.bytes(1, m.b)
	}
	for _, w := range tb.ways {
		var m pbfEnc
		m.uint(1, uint64(w.id))
		var keys, vals []uint64
		for _, t := range w.tags {
			keys, vals = append(keys, str(t.Key)), append(vals, str(t.Value))
		}
		m.repeated(2, keys, !tb.unpacked)
		m.repeated(3, vals, !tb.unpacked)
		m.repeated(8, deltas(w.refs), !tb.unpacked)
		ways.bytes(3, m.b)
	}
	var groups [][]byte
	var all pbfEnc
	if len(tb.dense) > 0 {
		var g pbfEnc
		g.bytes(2, dense.b)
		groups = append(groups, g.b)
	}
	for _, part := range [][]byte{plain.b, ways.b} {
		if len(part) > 0 {
			groups = append(groups, part)
		}
	}
	if !tb.spread {
		for _, g := range groups {
			all.b = append(all.b, g...)
		}
		groups = [][]byte{all.b}
	}
	var st, pb pbfEnc
	for _, s := range strs {
		st.bytes(1, []byte(s))
	}
	pb.bytes(1, st.b)
	for _, g := range groups {
		pb.bytes(2, g)
	}
	if tb.granularity != 0 {
		pb.uint(17, uint64(tb.granularity))
	}
	if tb.latOffset != 0 {
		pb.uint(19, uint64(tb.latOffset))
	}
	if tb.lonOffset != 0 {
		pb.uint(20, uint64(tb.lonOffset))
	}
	return pb.b
}

// appendBlob appends a blob of the given type holding data, raw or
// zlib-compressed.
func appendBlob(out []byte, typ string, data []byte, compress bool) []byte {
	var blob pbfEnc
	if compress {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		blob.uint(2, uint64(len(data)))
		blob.bytes(3, z.Bytes())
	} else {
		blob.bytes(1, data)
	}
	var hdr pbfEnc
	hdr.bytes(1, []byte(typ))
	hdr.uint(3, uint64(len(blob.b)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(hdr.b)))
	out = append(out, hdr.b...)
	return append(out, blob.b...)
}

func headerBlock(features ...string) []byte {
	var h pbfEnc
	for _, f := range features {
		h.bytes(4, []byte(f))
	}
	return h.b
}

func buildPBF(blocks []testBlock) []byte {
	out := appendBlob(nil, "OSMHeader", headerBlock("OsmSchema-V0.6", "DenseNodes"), true)
	for i := range blocks {
		out = appendBlob(out, "OSMData", blocks[i].encode(), blocks[i].zlib)
	}
	return out
}

// modelData is what reading must keep of hand-made blocks, worked out from
// the blocks themselves: walkable ways (Walkable on their tags, two nodes
// or more) in file order, their node ids, and each node's coordinates from
// its last appearance in the file.
func modelData(blocks []testBlock) *osmData {
	d := &osmData{wayOff: []int{0}}
	type coord struct{ lon, lat float64 }
	at := map[int64]coord{}
	for _, tb := range blocks {
		node := func(n testNode) {
			at[n.id] = coord{1e-9 * float64(tb.lonOffset+tb.gran()*n.lon), 1e-9 * float64(tb.latOffset+tb.gran()*n.lat)}
		}
		// Within a block the dense group comes before plain nodes.
		for _, n := range tb.dense {
			node(n)
		}
		for _, n := range tb.plain {
			node(n)
		}
		for _, w := range tb.ways {
			d.waysRead++
			if len(w.refs) >= 2 && Walkable(w.tags) {
				d.wayNodes = append(d.wayNodes, w.refs...)
				d.wayOff = append(d.wayOff, len(d.wayNodes))
			}
		}
	}
	seen := map[int64]bool{}
	for _, id := range d.wayNodes {
		if !seen[id] {
			seen[id] = true
			d.ids = append(d.ids, id)
		}
	}
	slices.Sort(d.ids)
	for _, id := range d.ids {
		c, ok := at[id]
		d.lon, d.lat, d.found = append(d.lon, c.lon), append(d.lat, c.lat), append(d.found, ok)
	}
	return d
}

// randomBlocks makes a street grid of nx × ny nodes cut into blocks at
// random: nodes dense or plain, sorted by id or not, some ways before the
// nodes they use, some nodes missing, granularities and offsets varied,
// blobs raw or compressed, fields packed or not.
func randomBlocks(rng *rand.Rand, nx, ny int, dup, plain bool) []testBlock {
	id := func(i, j int) int64 { return int64(1000 + 7*(j*nx+i)) }
	var nodes []testNode
	for j := range ny {
		for i := range nx {
			if rng.IntN(40) == 0 {
				continue // missing from the file
			}
			nodes = append(nodes, testNode{id: id(i, j), lat: 300_000_000 + int64(j)*10_000 + rng.Int64N(3000), lon: -750_000_000 + int64(i)*10_000 + rng.Int64N(3000)})
		}
	}
	if dup { // a node listed again with other coordinates: the last wins
		n := nodes[rng.IntN(len(nodes))]
		n.lat += 77
		nodes = append(nodes, n)
	}
	highways := []string{"residential", "footway", "service", "motorway", "cycleway", "path"}
	var ways []testWay
	for j := range ny {
		for i := 0; i < nx-1; {
			n := 1 + rng.IntN(4)
			var refs []int64
			for k := i; k <= min(i+n, nx-1); k++ {
				refs = append(refs, id(k, j))
			}
			tags := walkableTags("highway", highways[rng.IntN(len(highways))])
			if rng.IntN(5) == 0 {
				tags = append(tags, osm.Tag{Key: "foot", Value: []string{"no", "yes"}[rng.IntN(2)]})
			}
			if rng.IntN(9) == 0 {
				refs = refs[:1] // a way of one node is never walkable
			}
			ways = append(ways, testWay{id: int64(len(ways) + 1), refs: refs, tags: tags})
			i += n
		}
	}
	for i := range nx {
		var refs []int64
		for j := range ny {
			refs = append(refs, id(i, j))
		}
		ways = append(ways, testWay{id: int64(len(ways) + 1), refs: refs, tags: walkableTags("highway", "living_street", "name", fmt.Sprint("col", i))})
	}
	if rng.IntN(2) == 0 {
		rng.Shuffle(len(nodes), func(a, b int) { nodes[a], nodes[b] = nodes[b], nodes[a] })
	}
	var blocks []testBlock
	newBlock := func() testBlock {
		tb := testBlock{zlib: rng.IntN(3) > 0, unpacked: rng.IntN(4) == 0, spread: rng.IntN(2) == 0}
		switch rng.IntN(3) {
		case 1:
			tb.granularity = 1000
		case 2:
			tb.granularity, tb.latOffset, tb.lonOffset = 100, 50, -3
		}
		return tb
	}
	// Nodes in blocks, ways in blocks, and now and then a block of both,
	// with the ways first when asked.
	waysFirst := rng.IntN(3) == 0
	var nodeBlocks, wayBlocks []testBlock
	for len(nodes) > 0 {
		tb := newBlock()
		k := min(len(nodes), 1+rng.IntN(60))
		for _, n := range nodes[:k] {
			n.lat, n.lon = n.lat/tb.gran()*tb.gran(), n.lon/tb.gran()*tb.gran() // representable
			n.lat, n.lon = (n.lat-tb.latOffset)/tb.gran(), (n.lon-tb.lonOffset)/tb.gran()
			if plain && rng.IntN(3) == 0 {
				tb.plain = append(tb.plain, n)
			} else {
				tb.dense = append(tb.dense, n)
			}
		}
		nodes = nodes[k:]
		nodeBlocks = append(nodeBlocks, tb)
	}
	for len(ways) > 0 {
		k := min(len(ways), 1+rng.IntN(20))
		tb := newBlock()
		tb.ways = ways[:k]
		ways = ways[k:]
		if rng.IntN(4) == 0 && len(nodeBlocks) > 0 {
			nb := nodeBlocks[len(nodeBlocks)-1]
			nodeBlocks = nodeBlocks[:len(nodeBlocks)-1]
			nb.ways = tb.ways
			tb = nb
		}
		wayBlocks = append(wayBlocks, tb)
	}
	if waysFirst {
		blocks = append(wayBlocks, nodeBlocks...)
	} else {
		blocks = append(nodeBlocks, wayBlocks...)
	}
	return blocks
}

// TestPBFRandom reads hand-made files of every shape against what the
// blocks say (and against osmpbf too where it can read them: nodes listed
// once, no plain Node messages, on which osmpbf panics, and repeated fields
// packed, the only way osmpbf reads them), with node
// columns kept between the passes, none kept, and some kept.
func TestPBFRandom(t *testing.T) {
	defer func(b int64) { keptColumnsBudget = b }(keptColumnsBudget)
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		dup, plain := seed%5 == 0, seed%2 == 0
		blocks := randomBlocks(rng, 8+rng.IntN(20), 5+rng.IntN(12), dup, plain)
		osmpbfReads := !dup && !plain
		if osmpbfReads {
			for i := range blocks {
				blocks[i].unpacked = false // osmpbf reads packed fields only
			}
		}
		b := buildPBF(blocks)
		want := modelData(blocks)
		for _, budget := range []int64{256 << 20, 0, 200} {
			keptColumnsBudget = budget
			got, err := readPBF(context.Background(), bytes.NewReader(b), 0, int64(len(b)), "r.pbf", Options{})
			if err != nil {
				t.Fatalf("seed %d budget %d: %v", seed, budget, err)
			}
			sameOSMData(t, fmt.Sprintf("seed %d budget %d", seed, budget), got, want)
		}
		if osmpbfReads {
			ref, err := readPBFReference(context.Background(), bytes.NewReader(b), 0, int64(len(b)), "r.pbf", Options{})
			if err != nil {
				t.Fatalf("seed %d: osmpbf: %v", seed, err)
			}
			sameOSMData(t, fmt.Sprintf("seed %d osmpbf", seed), ref, want)
		}
	}
}

// TestPBFFilter runs the walking filter's cases through the PBF reader:
// one way per case, kept exactly when the case says walkable.
func TestPBFFilter(t *testing.T) {
	tb := testBlock{zlib: true, dense: []testNode{{id: 1, lat: 1, lon: 1}, {id: 2, lat: 2, lon: 2}}}
	var want []int
	for k, c := range walkableCases {
		tb.ways = append(tb.ways, testWay{id: int64(k), refs: []int64{1, 2}, tags: c.tags})
		if c.want {
			want = append(want, k)
		}
	}
	b := buildPBF([]testBlock{tb})
	d, err := readPBF(context.Background(), bytes.NewReader(b), 0, int64(len(b)), "f.pbf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(d.wayOff) - 1; got != len(want) || d.waysRead != int64(len(walkableCases)) {
		t.Errorf("%d of %d ways kept, want %d of %d", got, d.waysRead, len(want), len(walkableCases))
	}
}

// smallPBF is a valid hand-made file: a few nodes and ways, compressed.
func smallPBF() []byte {
	rng := rand.New(rand.NewPCG(5, 5))
	return buildPBF(randomBlocks(rng, 6, 4, false, true))
}

// rawBlob is a file's bytes with one more blob of the given header and
// Blob message bytes.
func rawBlob(out []byte, typ string, datasize int, blob []byte) []byte {
	var hdr pbfEnc
	hdr.bytes(1, []byte(typ))
	hdr.uint(3, uint64(datasize))
	out = binary.BigEndian.AppendUint32(out, uint32(len(hdr.b)))
	out = append(out, hdr.b...)
	return append(out, blob...)
}

// TestPBFErrors feeds broken files: each is refused with an error naming
// the file and the problem, and nothing panics.
func TestPBFErrors(t *testing.T) {
	head := appendBlob(nil, "OSMHeader", headerBlock("OsmSchema-V0.6"), false)
	way := func(m func(e *pbfEnc)) []byte { // a block with one way built by m
		var w, g, pb pbfEnc
		m(&w)
		g.bytes(3, w.b)
		var st pbfEnc
		st.bytes(1, nil)
		st.bytes(1, []byte("highway"))
		pb.bytes(1, st.b)
		pb.bytes(2, g.b)
		return appendBlob(slices.Clone(head), "OSMData", pb.b, true)
	}
	dense := func(ids, lats, lons []int64) []byte {
		var dn, g, pb pbfEnc
		dn.repeated(1, deltas(ids), true)
		dn.repeated(8, deltas(lats), true)
		dn.repeated(9, deltas(lons), true)
		g.bytes(2, dn.b)
		pb.bytes(2, g.b)
		return appendBlob(slices.Clone(head), "OSMData", pb.b, true)
	}
	zblob := func(rawSize int, data []byte) []byte {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		var blob pbfEnc
		blob.uint(2, uint64(rawSize))
		blob.bytes(3, z.Bytes())
		return rawBlob(slices.Clone(head), "OSMData", len(blob.b), blob.b)
	}
	var lzma pbfEnc
	lzma.uint(2, 10)
	lzma.bytes(4, []byte("xxxxxxxxxx"))
	var badZ pbfEnc
	badZ.uint(2, 100)
	badZ.bytes(3, []byte("this is not zlib data"))
	huge := binary.BigEndian.AppendUint32(slices.Clone(head), 70<<10)
	cases := []struct {
		name, want string
		file       []byte
	}{
		{"data before the header", "not an OSM file", appendBlob(nil, "OSMData", nil, false)},
		{"unknown required feature", `"LocationsOnWays"`, appendBlob(nil, "OSMHeader", headerBlock("LocationsOnWays"), true)},
		{"blob header over 64 KiB", "over 64 KiB", append(huge, make([]byte, 100)...)},
		{"blob over 32 MiB", "outside 0..32 MiB", rawBlob(slices.Clone(head), "OSMData", 40<<20, nil)},
		{"lzma", "lzma compressed blobs are not supported", rawBlob(slices.Clone(head), "OSMData", len(lzma.b), lzma.b)},
		{"not zlib", "zlib", rawBlob(slices.Clone(head), "OSMData", len(badZ.b), badZ.b)},
		{"more than announced", "more than the 3 bytes announced", zblob(3, []byte("0123456789"))},
		{"less than announced", "holds 10 bytes, 20 announced", zblob(20, []byte("0123456789"))},
		{"no data", "no data", rawBlob(slices.Clone(head), "OSMData", 0, nil)},
		{"keys without values", "2 keys and 1 values", way(func(e *pbfEnc) {
			e.repeated(2, []uint64{1, 1}, true)
			e.repeated(3, []uint64{1}, true)
			e.repeated(8, []uint64{2, 2}, true)
		})},
		{"string index past the table", "outside the table of 2", way(func(e *pbfEnc) {
			e.repeated(2, []uint64{1}, true)
			e.repeated(3, []uint64{9}, true)
			e.repeated(8, []uint64{2, 2}, true)
		})},
		{"cut varint", "malformed", way(func(e *pbfEnc) { e.bytes(8, []byte{0x80, 0x80}) })},
		{"fewer latitudes", "fewer latitudes", dense([]int64{1, 2, 3}, []int64{1, 2}, []int64{1, 2, 3})},
		{"more longitudes", "more coordinates", dense([]int64{1, 2}, []int64{1, 2}, []int64{1, 2, 3})},
	}
	for _, c := range cases {
		// A walkable way on nodes 1 and 2 after the broken blob, so that a
		// reader that skipped the problem would go on to build a graph.
		tail := appendBlob(nil, "OSMData", (&testBlock{dense: []testNode{{1, 1, 1}, {2, 2, 2}},
			ways: []testWay{{1, []int64{1, 2}, walkableTags("highway", "path")}}}).encode(), true)
		file := append(slices.Clone(c.file), tail...)
		_, err := LoadReader(context.Background(), bytes.NewReader(file), "broken.pbf", Options{MinComponent: 1})
		if err == nil || !strings.Contains(err.Error(), "broken.pbf") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming broken.pbf and saying %q", c.name, err, c.want)
		}
	}
}

// TestPBFCutAnywhere cuts a small file at every byte: a clean error naming
// the file each time (a cut between blobs leaves fewer ways: then either
// an error or a graph of fewer ways than the whole file's).
func TestPBFCutAnywhere(t *testing.T) {
	b := smallPBF()
	whole, err := LoadReader(context.Background(), bytes.NewReader(b), "whole.pbf", Options{MinComponent: 1})
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int]bool{} // blob ends: cutting there is not truncation
	pr := &pbfReader{r: bytes.NewReader(b)}
	for {
		if _, err := pr.next(); err != nil {
			break
		}
		ends[int(pr.off)] = true
	}
	for n := range len(b) {
		g, err := LoadReader(context.Background(), bytes.NewReader(b[:n]), "cut.pbf", Options{MinComponent: 1})
		switch {
		case ends[n]:
			if err == nil && g.Stats().WaysWalkable >= whole.Stats().WaysWalkable {
				t.Errorf("cut at blob end %d: %d walkable ways, the whole file has %d", n, g.Stats().WaysWalkable, whole.Stats().WaysWalkable)
			}
		case err == nil || !strings.Contains(err.Error(), "cut.pbf"):
			t.Errorf("cut at %d of %d: %v", n, len(b), err)
		case n > 0 && sniff(b[:n]) == formatPBF && !strings.Contains(err.Error(), "truncated"):
			t.Errorf("cut at %d of %d: %v, want it called truncated", n, len(b), err)
		}
	}
}

// FuzzPBF feeds arbitrary bytes to the PBF reader: no panic, errors name
// the file, and what loads answers a search.
func FuzzPBF(f *testing.F) {
	for seed := uint64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		f.Add(buildPBF(randomBlocks(rng, 5, 4, seed == 2, seed%2 == 0)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := LoadReader(context.Background(), bytes.NewReader(b), "fuzz.pbf", Options{MinComponent: 1})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.pbf") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		p, _ := g.Node(0)
		r, err := NewReach(context.Background(), g, cellsAt(p), testSpeed, 60, Options{})
		if err != nil {
			t.Fatal(err)
		}
		out := make([]coverage.Access, 1)
		if err := r.Nearest(context.Background(), []orb.Point{p}, nil, out); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPBFCancel stops reading when the context is done: the error wraps
// the context's and names the file.
func TestPBFCancel(t *testing.T) {
	b := smallPBF()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := LoadReader(ctx, bytes.NewReader(b), "stopped.pbf", Options{MinComponent: 1})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped.pbf") {
		t.Errorf("cancelled: %v", err)
	}
}

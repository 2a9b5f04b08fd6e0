package format

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// The fuzz targets feed arbitrary bytes to the readers: each call must end
// with a value that passes the readers' own promises, or with an error that
// starts "format: FILE" and fits on one line. Seeds are the files under
// testdata/read and the bad-input table's contents.

func addSeeds(f *testing.F, ext string, reader string) {
	files, err := filepath.Glob(filepath.Join("testdata", "read", "*"+ext))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, c := range badCases {
		if c.reader == reader || reader == "" && strings.HasSuffix(c.file, "json") {
			f.Add([]byte(c.content))
		}
	}
}

// fuzzInput writes b to a fresh file in dir.
func fuzzInput(t *testing.T, dir, ext string, b []byte) string {
	fh, err := os.CreateTemp(dir, "in-*"+ext)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(fh.Name()) })
	return fh.Name()
}

// checkRejection: the error starts "format: PATH", fits on one line, and
// when it names a line ("format: PATH:N: …"), N is a line of the input b.
// A zip member is named "PATH/MEMBER"; the lines of a gzip or zip input are
// those of its content, which b does not bound.
func checkRejection(t *testing.T, path string, b []byte, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "format: "+path) {
		t.Fatalf("error %q does not start with %q", msg, "format: "+path)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error %q spans lines", msg)
	}
	if rest := msg[len("format: "+path):]; strings.HasPrefix(rest, ":") && !strings.HasPrefix(rest, ": ") && !packed(b) {
		if n := lineOf(msg, path); n < 1 || n > maxLines(b) {
			t.Fatalf("error %q names line %d of a %d-line input", msg, n, maxLines(b))
		}
	}
}

// packed: b is gzip or zip, which the readers unpack.
func packed(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0x1f, 0x8b}) || bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("PK\x05\x06"))
}

// maxLines bounds the lines of the text b holds in any encoding: line
// feeds, or carriage returns in a file without line feeds (old Mac), and
// no encoding the readers decode writes a 0x0A or 0x0D byte for anything
// but a line break, bar UTF-16, where such bytes only add to the count.
func maxLines(b []byte) int {
	return 1 + max(bytes.Count(b, []byte("\n")), bytes.Count(b, []byte("\r")))
}

// plainText: b is UTF-8 text as it is, whose data lines bound the rows.
func plainText(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 && !packed(b)
}

func validPos(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && math.Abs(p[0]) <= 180 && math.Abs(p[1]) <= 90
}

func checkStations(t *testing.T, st []coverage.Station) {
	t.Helper()
	if len(st) == 0 {
		t.Fatal("no stations and no error")
	}
	seen := map[string]bool{}
	for _, s := range st {
		if s.ID == "" || seen[s.ID] {
			t.Fatalf("empty or repeated id %q", s.ID)
		}
		seen[s.ID] = true
		if !validPos(s.Pos) {
			t.Fatalf("station %q at invalid position %v", s.ID, s.Pos)
		}
	}
}

func checkPopulation(t *testing.T, pop coverage.Population) {
	t.Helper()
	if len(pop.Points)+len(pop.Cells)+len(pop.Polygons) == 0 {
		t.Fatal("no population and no error")
	}
	ok := func(n float64) bool { return n >= 0 && !math.IsInf(n, 0) }
	for _, p := range pop.Points {
		if !ok(p.Population) || !validPos(p.Pos) {
			t.Fatalf("bad point %+v", p)
		}
	}
	for _, c := range pop.Cells {
		if !ok(c.Population) || !c.H3.IsValid() || c.H3.Resolution() != pop.Cells[0].H3.Resolution() {
			t.Fatalf("bad cell %+v", c)
		}
	}
	for _, p := range pop.Polygons {
		if !ok(p.Population) {
			t.Fatalf("bad polygon population %v", p.Population)
		}
		checkMultiPolygon(t, p.Geom)
	}
}

func checkMultiPolygon(t *testing.T, mp orb.MultiPolygon) {
	t.Helper()
	if len(mp) == 0 {
		t.Fatal("empty multipolygon")
	}
	for _, poly := range mp {
		if len(poly) == 0 {
			t.Fatal("polygon without rings")
		}
		for _, r := range poly {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				t.Fatalf("open or short ring %v", r)
			}
			for _, p := range r {
				if !validPos(p) {
					t.Fatalf("invalid position %v", p)
				}
			}
		}
	}
}

// FuzzReadStationsCSV: accepted stations have distinct ids and valid
// positions, no more than the file has data lines, and a plain rewrite
// (id,name,tier,lon,lat with every digit) reads back the same stations.
func FuzzReadStationsCSV(f *testing.F) {
	addSeeds(f, ".csv", "stations")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".csv", b)
		checkWrapped(t, dir, b, func(p string, enc string) (any, error) { return ReadStations(p, PointOptions{Encoding: enc}) })
		for _, opt := range []PointOptions{{}, {Where: "healthcare>0"}} {
			st, err := ReadStations(path, opt)
			if err != nil {
				checkRejection(t, path, b, err)
				continue
			}
			checkStations(t, st)
			if isJSONInput(b) || !plainText(b) {
				continue
			}
			if len(st) > maxLines(b)-1 {
				t.Fatalf("%d stations from %d lines", len(st), maxLines(b))
			}
			rows := [][]string{{"id", "name", "tier", "lon", "lat"}}
			for _, s := range st {
				rows = append(rows, []string{s.ID, s.Name, s.Tier, exact(s.Pos[0]), exact(s.Pos[1])})
			}
			again, err := ReadStations(fuzzInput(t, dir, ".csv", csvBytes(t, rows)), PointOptions{})
			if err != nil || !reflect.DeepEqual(again, st) {
				t.Fatalf("stations %+v rewritten read as %+v (%v)", st, again, err)
			}
		}
	})
}

// FuzzReadPopulationCSV: accepted populations are finite, not negative, at
// valid positions or cells of one resolution, no more than the data lines,
// and a plain rewrite (lon,lat,population or h3,population) reads back the
// same rows.
func FuzzReadPopulationCSV(f *testing.F) {
	addSeeds(f, ".csv", "population")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".csv", b)
		checkWrapped(t, dir, b, func(p string, enc string) (any, error) {
			return ReadPopulation(p, PopulationOptions{Encoding: enc})
		})
		pop, err := ReadPopulation(path, PopulationOptions{})
		if err != nil {
			checkRejection(t, path, b, err)
			return
		}
		checkPopulation(t, pop)
		if isJSONInput(b) || !plainText(b) {
			return
		}
		if n := len(pop.Points) + len(pop.Cells); n > maxLines(b)-1 || len(pop.Polygons) > 0 {
			t.Fatalf("%d rows and %d polygons from %d lines", n, len(pop.Polygons), maxLines(b))
		}
		rows := [][]string{{"lon", "lat", "population"}}
		for _, p := range pop.Points {
			rows = append(rows, []string{exact(p.Pos[0]), exact(p.Pos[1]), exact(p.Population)})
		}
		if len(pop.Cells) > 0 {
			rows = [][]string{{"h3", "population"}}
			for _, c := range pop.Cells {
				rows = append(rows, []string{c.H3.String(), exact(c.Population)})
			}
		}
		again, err := ReadPopulation(fuzzInput(t, dir, ".csv", csvBytes(t, rows)), PopulationOptions{})
		if err != nil || !reflect.DeepEqual(again, pop) {
			t.Fatalf("population %+v rewritten read as %+v (%v)", pop, again, err)
		}
	})
}

// isJSONInput: the readers take a file whose first byte that is not white
// space (after a byte order mark) is '{' as GeoJSON.
func isJSONInput(b []byte) bool {
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

func exact(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func csvBytes(t *testing.T, rows [][]string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzReadGeoJSON(f *testing.F) {
	addSeeds(f, ".geojson", "")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".geojson", b)
		checkWrapped(t, dir, b, func(p string, enc string) (any, error) { return ReadAreas(p, AreaOptions{Encoding: enc}) })
		if st, err := ReadStations(path, PointOptions{}); err != nil {
			checkRejection(t, path, b, err)
		} else {
			checkStations(t, st)
		}
		if pop, err := ReadPopulation(path, PopulationOptions{Where: "population>=0"}); err != nil {
			checkRejection(t, path, b, err)
		} else {
			checkPopulation(t, pop)
		}
		if areas, err := ReadAreas(path, AreaOptions{}); err != nil {
			checkRejection(t, path, b, err)
		} else {
			for _, a := range areas {
				if a.Name == "" {
					t.Fatal("area without a name")
				}
				checkMultiPolygon(t, a.Geom)
			}
		}
	})
}

// checkWrapped reads b as it is, gzipped, zipped, and (when b is UTF-8)
// encoded in GB18030 and read with that encoding named: each must give
// what b gives, the same value or the same error (bar the name of the zip
// member). GB18030 detected without the name must give the same too, or
// refuse with a message naming --encoding, or the encoded bytes happen to
// be valid UTF-8 themselves.
func checkWrapped(t *testing.T, dir string, b []byte, read func(path, encoding string) (any, error)) {
	t.Helper()
	plain := fuzzInput(t, dir, ".csv", b)
	want, wantErr := read(plain, "")
	same := func(kind, path, member string, got any, err error) {
		t.Helper()
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%s: error %v, plain %v", kind, err, wantErr)
		}
		if err != nil {
			g := strings.Replace(err.Error(), path+member, "PATH", 1)
			w := strings.Replace(wantErr.Error(), plain, "PATH", 1)
			if g != w {
				t.Fatalf("%s: error\n%q, plain\n%q", kind, g, w)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: read %+v, plain %+v", kind, got, want)
		}
	}
	if packed(b) {
		return // b is an archive itself: wrapping it nests archives
	}
	gz := fuzzInput(t, dir, ".csv.gz", gzipBytes(t, b))
	got, err := read(gz, "")
	same("gzip", gz, "", got, err)
	zp := fuzzInput(t, dir, ".zip", zipBytes(t, "in.csv", b))
	got, err = read(zp, "")
	same("zip", zp, "/in.csv", got, err)
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return // not UTF-8, or read as UTF-16 for its zero bytes
	}
	enc, err := simplifiedchinese.GB18030.NewEncoder().Bytes(b)
	if err != nil {
		return
	}
	gb := fuzzInput(t, dir, ".csv", enc)
	got, err = read(gb, "gb18030")
	same("GB18030 named", gb, "", got, err)
	got, err = read(gb, "")
	if !bytes.Equal(enc, b) && !utf8.Valid(enc) && err != nil && strings.Contains(err.Error(), "--encoding") {
		return
	}
	if !utf8.Valid(enc) || bytes.Equal(enc, b) {
		same("GB18030 detected", gb, "", got, err)
	}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipBytes(t testing.TB, name string, b []byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzLoadInput: any bytes, unpacked and decoded in each encoding the
// readers know, give UTF-8 text under the file's name (or a member of it),
// or one error naming the file; the encodings never panic on broken bytes.
func FuzzLoadInput(f *testing.F) {
	addSeeds(f, "", "")
	for _, s := range []string{chineseCSV, "\ufeff" + chineseCSV, "sep=;\r\nid;lon;lat\r\na;1,5;2,5\r\n", "id,lon,lat\ra,1,1\r"} {
		f.Add([]byte(s))
		if b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s)); err == nil {
			f.Add(b)
		}
	}
	f.Add(gzipBytes(f, []byte(chineseCSV)))
	f.Add(zipBytes(f, "in.csv", []byte("sep=;\nid;lon;lat\na;1,5;2\n")))
	f.Add(zipBytes(f, "__MACOSX/._in.csv", []byte("x")))
	f.Add([]byte{0xff, 0xfe, 'i', 0, 'd', 0, '\n', 0})
	f.Add([]byte("S\xe3o Paulo,\xe7\xe3o\n"))
	f.Add([]byte("\x84\x31\xa4\x37\x81\x30\x81\x30\xfe\x39\xfe\x39\x80"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzInput(t, dir, ".txt", b)
		for _, enc := range []string{"", "utf-8", "gbk", "utf-16", "latin1"} {
			in, err := loadInput(path, enc, nil)
			if err != nil {
				checkRejection(t, path, b, err)
				var ie *InputError
				if strings.HasPrefix(err.Error(), "format: "+path+":") && !errors.As(err, &ie) {
					t.Fatalf("error %v names a line without an InputError", err)
				}
				continue
			}
			if !utf8.Valid(in.data) {
				t.Fatalf("encoding %q: %q is not UTF-8", enc, in.data)
			}
			if in.path != path && !strings.HasPrefix(in.path, path+"/") {
				t.Fatalf("input named %q, file %q", in.path, path)
			}
			if bytes.IndexByte(in.data, '\r') >= 0 && bytes.IndexByte(in.data, '\n') < 0 {
				t.Fatalf("CR-only lines left in %q", in.data)
			}
		}
	})
}

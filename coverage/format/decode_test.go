package format

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// The files below are written the way the programs planners use write
// them (Chinese Excel in GBK, Excel's "Unicode text" in UTF-16, a
// Portuguese spreadsheet in Windows-1252, old Mac exports with CR line
// endings), with the encoders of golang.org/x/text, and must read as the
// UTF-8 text they were made from.

func writeBytes(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gbk(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gb18030(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func latin1(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utf16le(t testing.TB, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
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

// zipped makes a zip archive of name, content pairs.
func zipped(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		f, err := w.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The Chinese stations every encoding case must read back.
const chineseCSV = "编号,名称,层级,经度,纬度\n" +
	"sh-1,南京东路站,街道,121.4846,31.2385\n" +
	"sh-2,外滩 北,区,121.4905,31.2433\n"

var chineseStations = []coverage.Station{
	{ID: "sh-1", Name: "南京东路站", Tier: "街道", Pos: orb.Point{121.4846, 31.2385}},
	{ID: "sh-2", Name: "外滩 北", Tier: "区", Pos: orb.Point{121.4905, 31.2433}},
}

func TestReadEncodings(t *testing.T) {
	// 𠀀 (U+20000) is outside GBK: GB18030 writes it in four bytes.
	rare := strings.Replace(chineseCSV, "外滩 北", "外滩𠀀北", 1)
	rareStations := []coverage.Station{chineseStations[0], chineseStations[1]}
	rareStations[1].Name = "外滩𠀀北"
	portuguese := "id;nome;lon;lat\n1;São Paulo;-46,63;-23,55\n2;Posto de Saúde;-46,64;-23,56\n"
	tests := []struct {
		name     string
		content  []byte
		encoding string
		want     []coverage.Station
		opt      PointOptions
	}{
		{name: "GBK detected", content: gbk(t, chineseCSV), want: chineseStations},
		{name: "GBK named", content: gbk(t, chineseCSV), encoding: "GBK", want: chineseStations},
		{name: "GB18030 four-byte character detected", content: gb18030(t, rare), want: rareStations},
		{name: "GB18030 named, with its byte order mark", content: gb18030(t, "\ufeff"+rare), encoding: "gb-18030", want: rareStations},
		{name: "UTF-8 with byte order mark", content: []byte("\ufeff" + chineseCSV), want: chineseStations},
		{name: "UTF-8 named", content: []byte(chineseCSV), encoding: "UTF-8", want: chineseStations},
		{name: "UTF-16 with byte order mark, tab-separated (Excel Unicode text)",
			content: utf16le(t, strings.ReplaceAll(chineseCSV, ",", "\t")), want: chineseStations},
		{name: "Windows-1252 named as latin1", content: latin1(t, portuguese), encoding: "latin1", opt: PointOptions{NameCol: "nome"},
			want: []coverage.Station{
				{ID: "1", Name: "São Paulo", Pos: orb.Point{-46.63, -23.55}},
				{ID: "2", Name: "Posto de Saúde", Pos: orb.Point{-46.64, -23.56}},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt
			opt.Encoding = tc.encoding
			warn, ws := collect()
			opt.Warn = warn
			path := writeBytes(t, "stations.csv", tc.content)
			got, err := ReadStations(path, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			// Only a guess is reported: GB18030 detected, not named.
			var want []Warning
			if strings.HasSuffix(tc.name, "detected") {
				want = []Warning{{Path: path, Msg: "the file is not UTF-8; its bytes read as Chinese text in GB18030/GBK, and were read so; if names come out wrong, name its encoding with --encoding"}}
			}
			if !reflect.DeepEqual(*ws, want) {
				t.Errorf("warnings %+v, want %+v", *ws, want)
			}
		})
	}
}

// badBytes is an input that must be rejected with a message that starts
// "format: PATH" + where and holds every phrase of want.
type badBytes struct {
	name     string
	file     string
	content  []byte
	encoding string
	where    string
	want     []string
	not      string
}

func checkBad(t *testing.T, path, where string, err error, want []string, not string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	t.Log(msg)
	if prefix := "format: " + path + where; !strings.HasPrefix(msg, prefix) {
		t.Errorf("message %q does not start with %q", msg, prefix)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
	if not != "" && strings.Contains(msg, not) {
		t.Errorf("message %q should not contain %q", msg, not)
	}
}

func TestReadEncodingErrors(t *testing.T) {
	portuguese := "id,nome,lon,lat\n1,Estação Saúde,-46.63,-23.55\n2,São Paulo,-46.64,-23.56\n"
	tests := []badBytes{
		{name: "Windows-1252 is not taken for GB18030", content: latin1(t, portuguese), where: ":2:",
			want: []string{"not UTF-8", "byte 0xE7", `"1,Esta\xe7\xe3o Sa\xfade,-46.63,-23.55"`, "scattered characters between Latin letters", "--encoding", "windows-1252"}},
		{name: "bytes that are neither UTF-8 nor GB18030", content: []byte("id,lon,lat\na,1,1\nb\xff\xfe,2,2\n"), where: ":3:",
			want: []string{"byte 0xFF is not valid UTF-8", "does not read as GB18030/GBK either", "--encoding (gb18030, gbk, utf-16, windows-1252 or latin1)"}},
		{name: "GBK bytes named UTF-8", content: gbk(t, chineseCSV), encoding: "utf8", where: ":1:",
			want: []string{"byte 0xB1 is not valid UTF-8", `(in "\xb1\xe0\xba\xc5,`, "the encoding is given as UTF-8", "--encoding gbk: the bytes read as GB18030/GBK"}},
		{name: "a UTF-8 byte order mark on bytes that are not UTF-8", content: append([]byte("\xef\xbb\xbf"), gbk(t, chineseCSV)...), where: ":1:",
			want: []string{"starts with a UTF-8 byte order mark", "is not valid UTF-8", "--encoding"}},
		{name: "invalid GB18030 named", content: []byte("id,lon,lat\na,1,1\n\xff,2,2\n"), encoding: "gbk", where: ":3:",
			want: []string{"byte 0xFF is not valid GB18030/GBK", `"\xff,2,2"`}},
		{name: "GB18030 named on a UTF-8 file with byte order mark", content: []byte("\ufeff" + chineseCSV), encoding: "gb18030",
			want: []string{"given as gb18030", "valid UTF-8: drop --encoding"}},
		{name: "unknown encoding", content: []byte(chineseCSV), encoding: "big5",
			want: []string{`unknown encoding "big5"`, "utf-8, gb18030 (or gbk), utf-16 or windows-1252"}},
		{name: "UTF-16 cut short", content: []byte{0xff, 0xfe, 'i', 0, 'd'},
			want: []string{"read as UTF-16, the file has an odd number of bytes (5)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeBytes(t, "stations.csv", tc.content)
			_, err := ReadStations(path, PointOptions{Encoding: tc.encoding})
			checkBad(t, path, tc.where, err, tc.want, tc.not)
		})
	}
}

// The detector on its own: GB18030 text of Chinese place names is taken,
// Latin text in Windows-1252 is not, whichever letters it has.
func TestGB18030Detection(t *testing.T) {
	chinese := []string{"人民广场", "南京东路站,街道", "3号线 陆家嘴", "徐家汇(地铁站)", "A座 12层", "中山北路2000号", "Starbucks星巴克(iapm店)", "A区B座"}
	for _, s := range chinese {
		b := gbk(t, "name\n"+s+"\n")
		if bad, st := scanGB(b); bad >= 0 || st.readsLatin() {
			t.Errorf("%q in GBK: bad at %d, stats %+v: not taken as GB18030", s, bad, st)
		}
	}
	latin := []string{"São Paulo", "Posto de Saúde", "Estação", "Hospital Mãe de Deus", "École", "Straße", "Müller", "Jardim Botânico"}
	for _, s := range latin {
		b := latin1(t, "name\n"+s+"\n")
		if bad, st := scanGB(b); bad < 0 && !st.readsLatin() {
			t.Errorf("%q in Windows-1252: stats %+v: taken as GB18030", s, st)
		}
	}
}

func TestReadLineEndingsAndDelimiters(t *testing.T) {
	want := []coverage.Station{
		{ID: "a", Name: "Nanjing Rd", Pos: orb.Point{121.4737, 31.2304}},
		{ID: "b", Name: "Bund", Pos: orb.Point{121.4905, 31.2433}},
	}
	tests := []struct {
		name    string
		content string
	}{
		{"CR-only line endings", "id,name,lon,lat\ra,Nanjing Rd,121.4737,31.2304\rb,Bund,121.4905,31.2433\r"},
		{"decimal commas with semicolons", "id;name;lon;lat\na;Nanjing Rd;121,4737;31,2304\nb;Bund;121,4905;31,2433\n"},
		{"Excel sep= line with decimal commas and CRLF", "sep=;\r\nid;name;lon;lat\r\na;Nanjing Rd;121,4737;31,2304\r\nb;Bund;121,4905;31,2433\r\n"},
		{"Excel sep= line naming a pipe", "\"sep=|\"\nid|name|lon|lat\na|Nanjing Rd|121.4737|31.2304\nb|Bund|121.4905|31.2433\n"},
		{"decimal commas with tabs", "id\tname\tlon\tlat\na\tNanjing Rd\t121,4737\t31,2304\nb\tBund\t121.4905\t31.2433\n"},
		{"semicolons beside a quoted comma in the header", "id;\"name, short\";lon;lat\na;Nanjing Rd;121.4737;31.2304\nb;Bund;121,4905;31,2433\n"},
		{"CR-only with sep= and decimal commas", "sep=;\rid;name;lon;lat\ra;Nanjing Rd;121,4737;31,2304\rb;Bund;121,4905;31,2433"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := PointOptions{}
			if strings.Contains(tc.content, "name, short") {
				opt.NameCol = "name, short"
			}
			got, err := ReadStations(writeInput(t, "stations.csv", tc.content), opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// Decimal commas in a population table, in the filter and in the counts.
func TestReadDecimalCommaPopulation(t *testing.T) {
	pop, err := ReadPopulation(writeInput(t, "pop.csv", "sep=;\nlon;lat;pop;share\n-51,2;-30,05;12,5;0,8\n-51,3;-30,06;7;0,2\n"), PopulationOptions{Where: "share>0.5"})
	if err != nil {
		t.Fatal(err)
	}
	want := coverage.Population{Points: []coverage.PopPoint{{Pos: orb.Point{-51.2, -30.05}, Population: 12.5}}}
	if !reflect.DeepEqual(pop, want) {
		t.Errorf("got %+v, want %+v", pop, want)
	}
}

func TestReadLineEndingErrors(t *testing.T) {
	tests := []badBytes{
		{name: "CR-only: the bad row's own line", content: []byte("id,lon,lat\ra,1,1\rb,east,2\r"), where: ":3:",
			want: []string{`longitude (column "lon") "east" is not a number`}},
		{name: "sep= line counts as line 1", content: []byte("sep=;\nid;lon;lat\na;1;1\nb;1,5;north\n"), where: ":4:",
			want: []string{`latitude (column "lat") "north" is not a number`}},
		{name: "a comma is a delimiter in a comma file, never a decimal", content: []byte("id,lon,lat\na,\"121,47\",31.2\n"), where: ":2:",
			want: []string{`"121,47" is not a number`}},
		{name: "two commas are no decimal comma", content: []byte("id;lon;lat\na;1,2,3;4\n"), where: ":2:",
			want: []string{`"1,2,3" is not a number`}},
		{name: "sep= alone", content: []byte("sep=;"), where: ":1:", want: []string{`only a "sep=;" line: no header row`}},
		{name: "sep= then nothing", content: []byte("sep=;\n\n"), want: []string{"empty file: no header row"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeBytes(t, "stations.csv", tc.content)
			_, err := ReadStations(path, PointOptions{})
			checkBad(t, path, tc.where, err, tc.want, tc.not)
		})
	}
}

func TestReadArchives(t *testing.T) {
	csvText := "id,name,lon,lat\na,Nanjing Rd,121.4737,31.2304\nb,Bund,121.4905,31.2433\n"
	fc := pointFC(ptFeature(`{"name":"Nanjing Rd"}`, `[121.4737,31.2304]`), ptFeature(`{"name":"Bund"}`, `[121.4905,31.2433]`))
	want := []coverage.Station{
		{ID: "a", Name: "Nanjing Rd", Pos: orb.Point{121.4737, 31.2304}},
		{ID: "b", Name: "Bund", Pos: orb.Point{121.4905, 31.2433}},
	}
	wantJSON := []coverage.Station{
		{ID: "1", Name: "Nanjing Rd", Pos: orb.Point{121.4737, 31.2304}},
		{ID: "2", Name: "Bund", Pos: orb.Point{121.4905, 31.2433}},
	}
	tests := []struct {
		name    string
		file    string
		content []byte
		want    []coverage.Station
	}{
		{"gzipped CSV", "stations.csv.gz", gzipped(t, []byte(csvText)), want},
		{"gzipped GeoJSON under another name", "stations.dat", gzipped(t, []byte(fc)), wantJSON},
		{"gzipped GBK", "stations.csv.gz", gzipped(t, gbk(t, chineseCSV)), chineseStations},
		{"zip of one CSV", "stations.zip", zipped(t, "stops/stations.csv", csvText), want},
		{"zip of one GeoJSON beside macOS files and a folder", "stations.zip",
			zipped(t, "__MACOSX/._stations.geojson", "junk", ".DS_Store", "junk", "data/", "", "data/stations.geojson", fc), wantJSON},
		{"zip of one gzipped CSV", "stations.zip", zipped(t, "stations.csv.gz", string(gzipped(t, []byte(csvText)))), want},
		{"zip of one file of another name", "stations.zip", zipped(t, "export.dat", csvText), want},
		{"zip of a CSV beside a shapefile's parts", "stations.zip", zipped(t, "s.shp", "x", "s.dbf", "y", "s.csv", csvText), want},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadStations(writeBytes(t, tc.file, tc.content), PointOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReadArchiveErrors(t *testing.T) {
	bad := "id,lon,lat\na,1,1\nb,east,2\n"
	gz := gzipped(t, []byte(bad))
	tests := []struct {
		badBytes
		member string // the zip member messages name, after the path
	}{
		{badBytes: badBytes{name: "gzipped: lines of the content", file: "s.csv.gz", content: gz, where: ":3:", want: []string{`"east" is not a number`}}},
		{badBytes: badBytes{name: "zip member: named after the archive", file: "s.zip", content: zipped(t, "in/s.csv", bad), where: ":3:", want: []string{`"east" is not a number`}}, member: "/in/s.csv"},
		{badBytes: badBytes{name: "zip of two CSV files", file: "s.zip", content: zipped(t, "a.csv", bad, "b.csv", bad, "notes.pdf", "x"),
			want: []string{"the zip archive holds 2 files that could be read (a.csv, b.csv)", "unzip it and give the one to read"}, not: "notes.pdf"}},
		{badBytes: badBytes{name: "zip of a shapefile", file: "s.zip", content: zipped(t, "s.shp", "x", "s.dbf", "y", "s.prj", "z"),
			want: []string{"holds no CSV or GeoJSON file (it holds s.shp, s.dbf, s.prj)", "shapefile"}}},
		{badBytes: badBytes{name: "empty zip", file: "s.zip", content: zipped(t), want: []string{"the zip archive holds no file"}}},
		{badBytes: badBytes{name: "truncated gzip", file: "s.csv.gz", content: gz[:len(gz)-6], want: []string{"gzip content is broken"}}},
		{badBytes: badBytes{name: "broken zip", file: "s.zip", content: []byte("PK\x03\x04garbage"), want: []string{"not a valid zip archive"}}},
		{badBytes: badBytes{name: "gzip header only", file: "s.gz", content: []byte{0x1f, 0x8b, 8}, want: []string{"not a valid gzip file"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeBytes(t, tc.file, tc.content)
			_, err := ReadStations(path, PointOptions{})
			checkBad(t, path+tc.member, tc.where, err, tc.want, tc.not)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Path != path+tc.member {
				t.Errorf("error %v: InputError path %q, want %q", err, pathOf(ie), path+tc.member)
			}
		})
	}
}

func pathOf(ie *InputError) string {
	if ie == nil {
		return "(none)"
	}
	return ie.Path
}

// The typed error carries what its message says.
func TestInputErrorParts(t *testing.T) {
	path := writeInput(t, "s.csv", "id,lon,lat\na,1,1\nb,2,north\n")
	_, err := ReadStations(path, PointOptions{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Path != path || ie.Line != 3 || ie.Feature != 0 || ie.Err.Error() != `latitude (column "lat") "north" is not a number` {
		t.Fatalf("got %#v", ie)
	}
	path = writeInput(t, "s.geojson", pointFC(ptFeature(`{}`, `[1,1]`), ptFeature(`{}`, `[1]`)))
	_, err = ReadStations(path, PointOptions{})
	if !errors.As(err, &ie) || ie.Path != path || ie.Line != 0 || ie.Feature != 2 {
		t.Fatalf("got %#v", ie)
	}
	w := Warning{Path: "p.csv", Line: 4, Msg: "odd"}
	if w.String() != "p.csv:4: odd" || (Warning{Path: "p.json", Feature: 2, Msg: "odd"}).String() != "p.json: feature 2: odd" || (Warning{Path: "p", Msg: "odd"}).String() != "p: odd" {
		t.Errorf("warning strings %q", w.String())
	}
}

func TestReadMultiPointStations(t *testing.T) {
	fc := pointFC(
		`{"type":"Feature","id":"hub","properties":{"名称":"枢纽","层级":"区"},"geometry":{"type":"MultiPoint","coordinates":[[121.1,31.1],[121.2,31.2],[121.3,31.3,5]]}}`,
		`{"type":"Feature","id":"one","properties":{"名称":"单"},"geometry":{"type":"MultiPoint","coordinates":[[121.4,31.4]]}}`,
		`{"type":"Feature","id":"p","properties":{},"geometry":{"type":"Point","coordinates":[121.5,31.5]}}`,
	)
	warn, ws := collect()
	path := writeInput(t, "s.geojson", fc)
	got, err := ReadStations(path, PointOptions{Warn: warn})
	if err != nil {
		t.Fatal(err)
	}
	wantWarn := []Warning{{Path: path, Feature: 1, Msg: "1 MultiPoint feature of several points became 3 stations, one per point, with ids ID#1, ID#2, … (the first is feature 1)"}}
	if !reflect.DeepEqual(*ws, wantWarn) {
		t.Errorf("warnings %+v, want %+v", *ws, wantWarn)
	}
	want := []coverage.Station{
		{ID: "hub#1", Name: "枢纽", Tier: "区", Pos: orb.Point{121.1, 31.1}},
		{ID: "hub#2", Name: "枢纽", Tier: "区", Pos: orb.Point{121.2, 31.2}},
		{ID: "hub#3", Name: "枢纽", Tier: "区", Pos: orb.Point{121.3, 31.3}},
		{ID: "one", Name: "单", Pos: orb.Point{121.4, 31.4}},
		{ID: "p", Pos: orb.Point{121.5, 31.5}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	mp := func(id, coords string) string {
		return `{"type":"Feature","id":"` + id + `","properties":{},"geometry":{"type":"MultiPoint","coordinates":` + coords + `}}`
	}
	for _, tc := range []badBytes{
		{name: "empty MultiPoint", content: []byte(pointFC(mp("a", `[]`))), where: ": feature 1:", want: []string{"MultiPoint has no points"}},
		{name: "MultiPoint nested wrong", content: []byte(pointFC(mp("a", `[1,2]`))), where: ": feature 1:", want: []string{"MultiPoint coordinates", "nesting is wrong"}},
		{name: "MultiPoint with a point at (0, 0)", content: []byte(pointFC(mp("a", `[[1,2],[0,0]]`))), where: ": feature 1:",
			want: []string{"point 2 of the MultiPoint: position (0, 0)"}},
		{name: "split id meets a plain one", content: []byte(pointFC(mp("a", `[[1,2],[3,4]]`), mp("a#2", `[[5,6]]`))), where: ": feature 2:",
			want: []string{`duplicate station id "a#2" (also feature 1)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeBytes(t, "s.geojson", tc.content)
			_, err := ReadStations(path, PointOptions{})
			checkBad(t, path, tc.where, err, tc.want, tc.not)
		})
	}
}

// Events: the same decoding, Chinese column names and the (0, 0) check.
func TestReadEventsDecoded(t *testing.T) {
	content := gbk(t, "日期;操作;编号;名称;经度;纬度\n2026-02-01;open;n1;新站;121,48;31,23\n2026-01-01;close;o1;;;\n")
	evs, sorted, err := ReadEventsWith(writeBytes(t, "events.csv.gz", gzipped(t, content)), EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sorted || len(evs) != 2 || evs[0].Station.ID != "o1" || evs[1].Station.Name != "新站" || evs[1].Station.Pos != (orb.Point{121.48, 31.23}) {
		t.Errorf("got %+v (sorted %v)", evs, sorted)
	}
	path := writeInput(t, "events.csv", "date,action,id,lon,lat\n2026-01-01,open,a,1,1\n2026-01-02,close,a,0,0\n2026-01-02,open,b,0,0\n")
	_, _, err = ReadEvents(path)
	checkBad(t, path, ":4:", err, []string{"position (0, 0)", "missing position written as zeros"}, "")
	evs, _, err = ReadEvents(writeInput(t, "events.csv", "date,action,id,lon,lat\n2026-01-02,close,a,0,0\n2026-01-02,close,b,1,2\n"))
	if err != nil || evs[0].Station.Pos != (orb.Point{}) || evs[1].Station.Pos != (orb.Point{1, 2}) {
		t.Errorf("closings: %+v, %v", evs, err)
	}
}

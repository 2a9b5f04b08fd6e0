package format

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// This file turns the bytes of an input file into the UTF-8 text the CSV
// and GeoJSON readers parse: it unpacks gzip and zip, decodes the text
// encoding, and evens out line endings, so that every reader accepts the
// same files and every name comes out as valid UTF-8.

// input is a file ready to parse.
type input struct {
	path   string // for messages: the file, or "archive.zip/member.csv"
	data   []byte // UTF-8 without a byte order mark; lines end in \n or \r\n
	isJSON bool   // the first byte that is not white space is '{'
	comma  rune   // the delimiter an Excel "sep=" line names; 0 when none
}

// maxUnpackedBytes bounds what a gzip stream or zip member may expand to,
// so that a small malicious archive cannot exhaust memory.
const maxUnpackedBytes = 4 << 30

// loadInput reads a whole input file: unpacks it (gzip, or a zip holding
// one CSV or GeoJSON file, found by their first bytes whatever the file is
// called), decodes its text encoding (see decodeText), turns old Mac line
// endings (CR alone) into line feeds, and takes an Excel "sep=X" first line
// as the delimiter. A file whose first byte that is not white space is '{'
// is GeoJSON; anything else is CSV. Text taken for GB18030 without the
// encoding named is reported to warn, so that a wrong guess shows.
func loadInput(path, encoding string, warn func(Warning)) (*input, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	name, raw, err := unpack(path, raw)
	if err != nil {
		return nil, err
	}
	data, guessed, err := decodeText(name, raw, encoding)
	if err != nil {
		return nil, err
	}
	if guessed {
		warnf(warn, Warning{Path: name}, "the file is not UTF-8; its bytes read as Chinese text in GB18030/GBK, and were read so; if names come out wrong, name its encoding with --encoding")
	}
	data = crLines(data)
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 {
		return nil, fileErr(name, "empty file")
	}
	in := &input{path: name, data: data, isJSON: t[0] == '{'}
	if !in.isJSON {
		if err := in.excelSep(); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// crLines turns a file whose lines end in a carriage return alone (old Mac
// and Excel for Mac exports) into one whose lines end in line feeds; a file
// with any line feed is left as it is.
func crLines(b []byte) []byte {
	if bytes.IndexByte(b, '\n') >= 0 || bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	return bytes.ReplaceAll(b, []byte{'\r'}, []byte{'\n'})
}

// excelSep reads Excel's "sep=;" first line, which names the delimiter,
// and blanks it (keeping its line break, so that line numbers stay those
// of the file). A first line with more than one character after "sep=" is
// not such a line.
func (in *input) excelSep() error {
	line := in.data
	end := bytes.IndexByte(line, '\n')
	if end >= 0 {
		line = line[:end]
	}
	s := strings.TrimRight(string(line), "\r")
	if len(s) > 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if len(s) < 5 || !strings.EqualFold(s[:4], "sep=") {
		return nil
	}
	r, size := utf8.DecodeRuneInString(s[4:])
	if 4+size != len(s) || r == '"' || r == utf8.RuneError || r == '\uFEFF' || r == '\r' {
		return nil
	}
	in.comma = r
	if end < 0 {
		return lineErr(in.path, 1, "only a %q line: no header row", s)
	}
	in.data = in.data[end:]
	return nil
}

// unpack returns the content of a gzip file or of the one CSV or GeoJSON
// file in a zip archive (nested archives too, a few levels deep), with the
// name messages use for it: the path, or "archive.zip/member" for a zip
// member. Anything else is returned as it is.
func unpack(name string, b []byte) (string, []byte, error) {
	for range 4 {
		switch {
		case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return "", nil, fileErr(name, "not a valid gzip file: %v", err)
			}
			out, err := readCapped(zr)
			if err != nil {
				return "", nil, fileErr(name, "gzip content is broken: %v", err)
			}
			b = out
		case bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("PK\x05\x06")):
			member, out, err := unzipOne(name, b)
			if err != nil {
				return "", nil, err
			}
			name, b = name+"/"+member, out
		default:
			return name, b, nil
		}
	}
	return "", nil, fileErr(name, "archives nested more than 4 deep")
}

func readCapped(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, maxUnpackedBytes+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxUnpackedBytes {
		return nil, fmt.Errorf("it unpacks to more than %d GiB", maxUnpackedBytes>>30)
	}
	return out, nil
}

// readableExts are the member names a zip may hold for the readers.
var readableExts = []string{".csv", ".tsv", ".txt", ".geojson", ".json"}

// unzipOne finds the one file of a zip archive the readers can read: by its
// extension (.csv, .tsv, .txt, .geojson, .json, each possibly .gz), skipping
// folders and the hidden files macOS adds (__MACOSX/, ._name, .DS_Store);
// or, when no member has such an extension, the archive's only file.
func unzipOne(name string, b []byte) (string, []byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return "", nil, fileErr(name, "not a valid zip archive: %v", err)
	}
	var files, candidates []*zip.File
	for _, f := range zr.File {
		base := path.Base(f.Name)
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(base, ".") {
			continue
		}
		files = append(files, f)
		ext := strings.TrimSuffix(strings.ToLower(base), ".gz")
		for _, e := range readableExts {
			if strings.HasSuffix(ext, e) {
				candidates = append(candidates, f)
				break
			}
		}
	}
	if len(candidates) == 0 && len(files) == 1 {
		candidates = files
	}
	switch {
	case len(files) == 0:
		return "", nil, fileErr(name, "the zip archive holds no file")
	case len(candidates) == 0:
		return "", nil, fileErr(name, "the zip archive holds no CSV or GeoJSON file (it holds %s); a shapefile must be converted to GeoJSON or GeoPackage first", memberList(files))
	case len(candidates) > 1:
		return "", nil, fileErr(name, "the zip archive holds %d files that could be read (%s); unzip it and give the one to read", len(candidates), memberList(candidates))
	}
	f := candidates[0]
	if f.UncompressedSize64 > maxUnpackedBytes {
		return "", nil, fileErr(name, "%s unpacks to more than %d GiB", f.Name, maxUnpackedBytes>>30)
	}
	rc, err := f.Open()
	if err != nil {
		return "", nil, fileErr(name, "cannot open %s in the zip archive: %v", f.Name, err)
	}
	defer rc.Close()
	out, err := readCapped(rc)
	if err != nil {
		return "", nil, fileErr(name, "%s in the zip archive is broken: %v", f.Name, err)
	}
	return f.Name, out, nil
}

// memberList names up to 10 zip members for a message.
func memberList(fs []*zip.File) string {
	names := make([]string, 0, min(len(fs), 11))
	for i, f := range fs {
		if i == 10 {
			names = append(names, fmt.Sprintf("and %d more", len(fs)-10))
			break
		}
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

// Encoding names accepted in the options' Encoding field, case and the
// separators in "UTF-8", "GB-18030", "ISO-8859-1" aside.
const (
	encAuto    = ""
	encUTF8    = "utf-8"
	encGB18030 = "gb18030"
	encUTF16   = "utf-16"
	encLatin   = "windows-1252"
)

// canonicalEncoding maps an Encoding option to one of the encodings read.
// GBK, GB2312 and code page 936 are read as GB18030, which contains them;
// ISO-8859-1 (Latin-1) as Windows-1252, which contains its printable
// characters (as browsers do).
func canonicalEncoding(name string) (string, bool) {
	n := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(name)))
	switch n {
	case "", "auto":
		return encAuto, true
	case "utf8":
		return encUTF8, true
	case "gb18030", "gbk", "gb2312", "cp936", "936", "euccn", "windows936":
		return encGB18030, true
	case "utf16", "utf16le", "utf16be", "ucs2", "unicode":
		return encUTF16, true
	case "windows1252", "cp1252", "latin1", "iso88591", "l1":
		return encLatin, true
	}
	return "", false
}

// decodeText turns b into UTF-8. With encoding "" (detect):
//   - a UTF-8 byte order mark is dropped, and the rest must be UTF-8;
//   - a UTF-16 byte order mark (or the zero bytes of UTF-16 text, as
//     Excel's "Unicode text" writes it) means UTF-16;
//   - valid UTF-8 is taken as it is (ASCII is UTF-8);
//   - otherwise the bytes are taken as GB18030 (which contains GBK and
//     GB2312, the encodings of Chinese Excel and older GIS exports) when they
//     form valid GB18030 sequences throughout and read like Chinese text
//     rather than like accented Latin letters (see gbStats.readsLatin);
//     guessed reports this case;
//   - anything else is an error naming the first line that is not UTF-8
//     and the --encoding option.
//
// A named encoding is decoded as told; bytes that are invalid in it are an
// error naming their line.
func decodeText(name string, b []byte, encoding string) (text []byte, guessed bool, err error) {
	enc, ok := canonicalEncoding(encoding)
	if !ok {
		return nil, false, fileErr(name, "unknown encoding %q: use utf-8, gb18030 (or gbk), utf-16 or windows-1252 (or latin1)", encoding)
	}
	utf8BOM := bytes.HasPrefix(b, []byte("\xef\xbb\xbf"))
	switch enc {
	case encUTF8:
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		if i := invalidUTF8(b); i >= 0 {
			hint := "name its encoding with --encoding"
			if bad, st := scanGB(b); bad < 0 && !st.readsLatin() {
				hint = "name its encoding with --encoding gbk: the bytes read as GB18030/GBK"
			}
			return nil, false, lineErr(name, lineAt(b, i), "byte 0x%02X is not valid UTF-8 (in %s), and the encoding is given as UTF-8: save the file as UTF-8, or %s", b[i], excerpt(b, i), hint)
		}
		return b, false, nil
	case encGB18030, encUTF16, encLatin:
		if utf8BOM && utf8.Valid(b) {
			return nil, false, fileErr(name, "the encoding is given as %s, but the file starts with a UTF-8 byte order mark and is valid UTF-8: drop --encoding", enc)
		}
	}
	switch enc {
	case encGB18030:
		out, err := decodeGB(name, b)
		return out, false, err
	case encUTF16:
		out, err := decodeUTF16(name, b)
		return out, false, err
	case encLatin:
		out, err := charmap.Windows1252.NewDecoder().Bytes(b)
		if err != nil {
			return nil, false, fileErr(name, "cannot decode as Windows-1252: %v", err)
		}
		return out, false, nil
	}
	// Detect.
	if utf8BOM {
		b = b[3:]
		if i := invalidUTF8(b); i >= 0 {
			return nil, false, lineErr(name, lineAt(b, i), "the file starts with a UTF-8 byte order mark, but byte 0x%02X is not valid UTF-8 (in %s): save the file as UTF-8 again, or name its encoding with --encoding", b[i], excerpt(b, i))
		}
		return b, false, nil
	}
	if looksUTF16(b) {
		out, err := decodeUTF16(name, b)
		return out, false, err
	}
	bad := invalidUTF8(b)
	if bad < 0 {
		return b, false, nil
	}
	gbBad, st := scanGB(b)
	if gbBad < 0 && !st.readsLatin() {
		if out, err := decodeGB(name, b); err == nil {
			return out, true, nil
		}
	}
	why := "and it does not read as GB18030/GBK either"
	if gbBad < 0 {
		why = "and it reads as GB18030/GBK only as scattered characters between Latin letters, as accented letters in Windows-1252 or Latin-1 text do"
	}
	return nil, false, lineErr(name, lineAt(b, bad), "the file is not UTF-8: byte 0x%02X is not valid UTF-8 (in %s), %s; save the file as UTF-8, or name its encoding with --encoding (gb18030, gbk, utf-16, windows-1252 or latin1)", b[bad], excerpt(b, bad), why)
}

// invalidUTF8 returns the offset of the first byte that is not part of a
// valid UTF-8 sequence, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// lineAt is the 1-based line of offset i (lines end in \n, or in \r when
// the file has no \n at all, as crLines will read it).
func lineAt(b []byte, i int) int {
	nl := byte('\n')
	if bytes.IndexByte(b, '\n') < 0 {
		nl = '\r'
	}
	return 1 + bytes.Count(b[:i], []byte{nl})
}

// excerpt quotes up to 30 bytes either side of offset i on its line, with
// invalid bytes escaped, for messages.
func excerpt(b []byte, i int) string {
	from, to := max(0, i-30), min(len(b), i+30)
	if j := bytes.LastIndexAny(b[from:i], "\r\n"); j >= 0 {
		from += j + 1
	}
	if j := bytes.IndexAny(b[i:to], "\r\n"); j >= 0 {
		to = i + j
	}
	return fmt.Sprintf("%+q", b[from:to])
}

// looksUTF16 tells UTF-16 text by its byte order mark, or, without one, by
// the zero bytes that ASCII characters get in it at the start of the file.
func looksUTF16(b []byte) bool {
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}) {
		return true
	}
	return len(b) >= 4 && (b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0 || b[0] == 0 && b[1] != 0 && b[2] == 0 && b[3] != 0)
}

func decodeUTF16(name string, b []byte) ([]byte, error) {
	order := unicode.LittleEndian
	if bytes.HasPrefix(b, []byte{0xfe, 0xff}) || !bytes.HasPrefix(b, []byte{0xff, 0xfe}) && len(b) >= 2 && b[0] == 0 && b[1] != 0 {
		order = unicode.BigEndian
	}
	if len(b)%2 != 0 {
		return nil, fileErr(name, "read as UTF-16, the file has an odd number of bytes (%d): it is cut short, or not UTF-16; name its encoding with --encoding", len(b))
	}
	out, err := unicode.UTF16(order, unicode.UseBOM).NewDecoder().Bytes(b)
	if err != nil {
		return nil, fileErr(name, "cannot decode as UTF-16: %v", err)
	}
	return out, nil
}

// gbStats counts the multi-byte sequences of GB18030 text and those among
// them that look like accented letters inside Latin words.
type gbStats struct{ multi, latin int }

// readsLatin tells text that decodes as GB18030 but was more likely written
// in Windows-1252 or Latin-1: more than half its multi-byte sequences sit
// inside Latin words. In Windows-1252 text an accented letter is one byte between
// ASCII letters ("S\xe3o" in São), or two (the "\xe7\xe3" of ação); GB18030
// reads such a byte with the letter after it, or the pair, as one Chinese
// character. Chinese text has runs of characters beside digits, spaces and
// punctuation instead, and its second bytes are rarely ASCII letters.
func (s gbStats) readsLatin() bool { return 2*s.latin > s.multi }

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// scanGB checks that b is a sequence of valid GB18030 byte sequences:
// ASCII; 0x80 (the euro sign of code page 936); a first byte 0x81–0xFE
// followed by 0x40–0x7E or 0x80–0xFE; or four bytes 0x81–0xFE, 0x30–0x39,
// 0x81–0xFE, 0x30–0x39. It returns the offset of the first byte that
// begins no valid sequence, or -1, and counts for gbStats.readsLatin.
func scanGB(b []byte) (bad int, st gbStats) {
	for i := 0; i < len(b); {
		n := gbSeqLen(b[i:])
		switch {
		case n == 0:
			return i, st
		case n == 2:
			st.multi++
			before := i > 0 && isASCIILetter(b[i-1])
			after := i+2 < len(b) && isASCIILetter(b[i+2])
			if isASCIILetter(b[i+1]) || (before && after && b[i+1] >= 0x80) {
				st.latin++
			}
		case n == 4:
			st.multi++
		}
		i += n
	}
	return -1, st
}

// gbSeqLen is the length of the GB18030 sequence b starts with, 0 when it
// starts none.
func gbSeqLen(b []byte) int {
	c0 := b[0]
	switch {
	case c0 < 0x80 || c0 == 0x80:
		return 1
	case c0 == 0xff || len(b) < 2:
		return 0
	}
	c1 := b[1]
	switch {
	case c1 >= 0x40 && c1 <= 0x7e || c1 >= 0x80 && c1 <= 0xfe:
		return 2
	case c1 >= 0x30 && c1 <= 0x39:
		if len(b) >= 4 && b[2] >= 0x81 && b[2] <= 0xfe && b[3] >= 0x30 && b[3] <= 0x39 {
			return 4
		}
	}
	return 0
}

// gbReplacement is U+FFFD in GB18030, the one sequence that may decode to it.
var gbReplacement = []byte{0x84, 0x31, 0xa4, 0x37}

// decodeGB decodes GB18030 (a GB18030 byte order mark, U+FEFF, is
// dropped); a byte that begins no valid sequence, or a sequence with no
// character, is an error naming its line.
func decodeGB(name string, b []byte) ([]byte, error) {
	b = bytes.TrimPrefix(b, []byte{0x84, 0x31, 0x95, 0x33})
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err == nil && !bytes.Contains(out, []byte("\uFFFD")) {
		return out, nil
	}
	// Find the first bad sequence, for the message.
	dec := simplifiedchinese.GB18030.NewDecoder()
	for i := 0; i < len(b); {
		n := gbSeqLen(b[i:])
		if n == 0 {
			return nil, gbErr(name, b, i)
		}
		if n > 1 && !bytes.Equal(b[i:i+n], gbReplacement) {
			r, err := dec.Bytes(b[i : i+n])
			if err != nil || bytes.Contains(r, []byte("\uFFFD")) {
				return nil, gbErr(name, b, i)
			}
		}
		i += n
	}
	if err != nil {
		return nil, fileErr(name, "cannot decode as GB18030: %v", err)
	}
	return out, nil
}

func gbErr(name string, b []byte, i int) error {
	return lineErr(name, lineAt(b, i), "byte 0x%02X is not valid GB18030/GBK (in %s); if the file is UTF-8, drop --encoding, or name its encoding with --encoding (utf-8, utf-16, windows-1252)", b[i], excerpt(b, i))
}

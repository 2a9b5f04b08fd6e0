package format

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
)

// sequentialTable parses data the way small files are parsed, for
// comparison with the parallel path.
func sequentialTable(t *testing.T, path string, data []byte) (*csvTable, error) {
	t.Helper()
	return readCSVTableSequential(path, data, sniffDelimiter(data))
}

// bigCSV writes a table of n rows over 1 MB, with blank lines, CRLF line
// endings on some rows and spaces in the header.
func bigCSV(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.WriteString("\n h3 , population,name\n")
	for i := range n {
		fmt.Fprintf(&b, "8a3098200%03x%03xf,%d,row %d", i/4096, i%4096, r.IntN(500), i)
		if r.IntN(7) == 0 {
			b.WriteString("\r")
		}
		b.WriteString("\n")
		if r.IntN(50) == 0 {
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

func TestParallelCSVEqualsSequential(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		data := bigCSV(60000+int(seed)*777, seed)
		if len(data) < parallelMinBytes {
			t.Fatalf("fixture of %d bytes does not take the parallel path", len(data))
		}
		got, err := readCSVTable(&input{path: "big.csv", data: data})
		if err != nil {
			t.Fatal(err)
		}
		want, err := sequentialTable(t, "big.csv", data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.header, want.header) || got.headerLine != want.headerLine {
			t.Fatalf("header %q line %d, want %q line %d", got.header, got.headerLine, want.header, want.headerLine)
		}
		if len(got.rows) != len(want.rows) {
			t.Fatalf("%d rows, want %d", len(got.rows), len(want.rows))
		}
		if !reflect.DeepEqual(got.rows, want.rows) || !reflect.DeepEqual(got.lines, want.lines) {
			t.Fatal("rows or line numbers differ from the sequential parse")
		}
		// Line numbers count every line of the file, blank ones too.
		lines := strings.Split(string(data), "\n")
		for _, k := range []int{0, len(got.rows) / 2, len(got.rows) - 1} {
			if l := lines[got.lines[k]-1]; !strings.HasSuffix(strings.TrimSuffix(l, "\r"), got.rows[k][2]) {
				t.Fatalf("row %d says line %d, which holds %q", k, got.lines[k], l)
			}
		}
	}
}

// A bad row anywhere in the file is reported with its own line, and when
// several are bad, the first in file order is.
func TestParallelCSVFirstError(t *testing.T) {
	data := bigCSV(80000, 9)
	lines := strings.Split(string(data), "\n")
	late, early := len(lines)*9/10, len(lines)*3/4
	for lines[late] == "" {
		late++
	}
	for lines[early] == "" {
		early++
	}
	lines[late] += ",extra"
	_, err := readCSVTable(&input{path: "big.csv", data: []byte(strings.Join(lines, "\n"))})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("big.csv:%d: row has 4 fields, the header has 3", late+1)) {
		t.Fatalf("error %v, want one naming line %d", err, late+1)
	}
	lines[early] += ",extra,more"
	_, err = readCSVTable(&input{path: "big.csv", data: []byte(strings.Join(lines, "\n"))})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("big.csv:%d: row has 5 fields", early+1)) {
		t.Fatalf("error %v, want the first bad line %d", err, early+1)
	}
}

// A large H3 table is converted on every core; the cells come out in file
// order and a bad value is reported at its own line, the first one first.
func TestParallelPopulationRows(t *testing.T) {
	const n = 50000
	var b strings.Builder
	b.WriteString("h3,population\n")
	var want []coverage.PopCell
	seen := map[h3.Cell]bool{}
	r := rand.New(rand.NewPCG(4, 4))
	for len(want) < n {
		c, err := coverage.CellOf(orb.Point{121 + r.Float64(), 31 + r.Float64()}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		p := float64(r.IntN(1000))
		want = append(want, coverage.PopCell{H3: c, Population: p})
		fmt.Fprintf(&b, "%s,%v\n", c, p)
	}
	data := []byte(b.String())
	pop, err := populationCSV(&input{path: "grid.csv", data: data}, PopulationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pop.Cells, want) {
		t.Fatal("cells differ from the rows written")
	}
	lines := strings.Split(b.String(), "\n")
	lines[n-10] = strings.Replace(lines[n-10], ",", ",-3", 1)
	lines[n/3] = "zz" + lines[n/3]
	_, err = populationCSV(&input{path: "grid.csv", data: []byte(strings.Join(lines, "\n"))}, PopulationOptions{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("grid.csv:%d: invalid H3 index", n/3+1)) {
		t.Fatalf("error %v, want the invalid index at line %d", err, n/3+1)
	}
}

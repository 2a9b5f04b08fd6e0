package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/walkshed/walkshed/coverage/testenv"
)

// The files built into the binary are the ones data/README.md lists, by
// their SHA-256 sums.
func TestEmbeddedDemoMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	sums := regexp.MustCompile(`(?m)^([0-9a-f]{64})  (\S+)$`).FindAllSubmatch(readme, -1)
	if len(sums) != 6 {
		t.Fatalf("data/README.md lists %d checksums, want 6", len(sums))
	}
	for _, m := range sums {
		b, err := Demo.ReadFile("demo/" + string(m[2]))
		if err != nil {
			t.Fatalf("%s is not built in: %v", m[2], err)
		}
		h := sha256.Sum256(b)
		if got := hex.EncodeToString(h[:]); got != string(m[1]) {
			t.Errorf("%s: sha256 %s, README says %s", m[2], got, m[1])
		}
	}
}

// The generator, run again, writes the committed files byte for byte.
func TestDemoStudyRegenerates(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the demo generator in -short mode")
	}
	out := t.TempDir()
	cmd := exec.Command("go", "run", "./tools/demogen", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		if bytes.Contains(b, []byte("delaware")) && bytes.Contains(b, []byte("no such file")) {
			testenv.Missing(t, fmt.Sprintf("the Delaware extract of github.com/paulmach/osm is not in the module cache (go mod download github.com/paulmach/osm): %s", b))
		}
		t.Fatalf("demogen: %v\n%s", err, b)
	}
	for _, f := range []string{"streets.osm.gz", "stations.csv", "population.csv", "areas.geojson", "events.csv", "workers.csv"} {
		got, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(filepath.Join("demo", f))
		if !bytes.Equal(got, want) {
			t.Errorf("regenerated %s differs from data/demo/%s", f, f)
		}
	}
}

// workers.csv holds whole workers at points inside the study box that
// data/README.md gives, and sums to the published count of jobs its table
// cites.
func TestDemoWorkers(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The box, as the README states it: from 75.800°W 39.640°N to 75.710°W 39.715°N.
	m := regexp.MustCompile(`from ([0-9.]+)°W ([0-9.]+)°N to ([0-9.]+)°W ([0-9.]+)°N`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("data/README.md does not state the study box")
	}
	num := func(b []byte) float64 { f, _ := strconv.ParseFloat(string(b), 64); return f }
	west, south, east, north := -num(m[1]), num(m[2]), -num(m[3]), num(m[4])
	// The cited total, the first bold figure of the workers.csv row.
	row := regexp.MustCompile("(?m)^\\| `workers.csv` \\|.*$").Find(readme)
	cited := regexp.MustCompile(`\*\*([0-9,]+)\*\*`).FindSubmatch(row)
	if cited == nil {
		t.Fatal("data/README.md has no workers.csv row citing a bold total")
	}
	want, err := strconv.Atoi(strings.ReplaceAll(string(cited[1]), ",", ""))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Demo.ReadFile("demo/workers.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "lon,lat,workers" {
		t.Fatalf("workers.csv header %v, want lon,lat,workers and rows", rows[:min(1, len(rows))])
	}
	total := 0
	for i, r := range rows[1:] {
		lon, err1 := strconv.ParseFloat(r[0], 64)
		lat, err2 := strconv.ParseFloat(r[1], 64)
		n, err3 := strconv.Atoi(r[2])
		if err1 != nil || err2 != nil || err3 != nil || n < 1 {
			t.Fatalf("workers.csv:%d: %v: want a point and a whole number of workers ≥ 1", i+2, r)
		}
		if !(lon >= west && lon <= east && lat >= south && lat <= north) {
			t.Errorf("workers.csv:%d: %v,%v lies outside the box %v..%v, %v..%v", i+2, lon, lat, west, east, south, north)
		}
		total += n
	}
	if total != want {
		t.Errorf("workers.csv sums to %d workers, data/README.md cites %d", total, want)
	}
}

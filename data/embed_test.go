package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	if len(sums) != 5 {
		t.Fatalf("data/README.md lists %d checksums, want 5", len(sums))
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
	for _, f := range []string{"streets.osm.gz", "stations.csv", "population.csv", "areas.geojson", "events.csv"} {
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

package format

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/coverage"
)

// TestStateAreaNamesText replaces the name or the parent of a stored
// area with JSON values that are not text: each state file is refused,
// without a panic, by an error naming the file, the area and the value.
// A missing or null name reads as empty; a name that is the text "7" reads
// as written.
func TestStateAreaNamesText(t *testing.T) {
	r := handState(t)
	area := orb.MultiPolygon{{{{121.46, 31.225}, {121.473, 31.225}, {121.473, 31.235}, {121.46, 31.235}, {121.46, 31.225}}}}
	r.Finish([]coverage.Area{{Name: "W", Parent: "P", Geom: area}})
	var buf bytes.Buffer
	if err := WriteState(&buf, r, "v1", nil); err != nil {
		t.Fatal(err)
	}
	const props = `"properties":{"name":"W","parent":"P"}`
	if strings.Count(buf.String(), props) != 1 {
		t.Fatalf("state file without %s: %s", props, buf.String())
	}
	for _, c := range []struct {
		name, props string
		err         string // "" when read
		area        string // the area's name when read
	}{
		{"number name", `"properties":{"name":7,"parent":"P"}`, `: area 1: name 7 is not text`, ""},
		{"huge number name", `"properties":{"name":1e21}`, `: area 1: name 1e+21 is not text`, ""},
		{"list name", `"properties":{"name":["W"]}`, `: area 1: name ["W"] is not text`, ""},
		{"object name", `"properties":{"name":{"zh":"W"}}`, `: area 1: name {"zh":"W"} is not text`, ""},
		{"boolean name", `"properties":{"name":true}`, `: area 1: name true is not text`, ""},
		{"number parent", `"properties":{"name":"W","parent":7}`, `: area 1 ("W"): parent 7 is not text`, ""},
		{"text 7", `"properties":{"name":"7","parent":"P"}`, "", "7"},
		{"null name", `"properties":{"name":null,"parent":"P"}`, "", ""},
		{"no name", `"properties":{"parent":"P"}`, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, StateFile)
			if err := os.WriteFile(path, []byte(strings.Replace(buf.String(), props, c.props, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			var got *coverage.Result
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("panic: %v", p)
					}
				}()
				got, _, err = ReadState(dir)
			}()
			if c.err != "" {
				if err == nil || err.Error() != "format: "+path+c.err {
					t.Fatalf("%v; want %q", err, "format: "+path+c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Areas) != 2 || got.Areas[0].Level != "area" || got.Areas[0].Name != c.area || got.Areas[0].Parent != "P" || got.Areas[1].Name != "P" {
				t.Fatalf("areas %+v, want %q in P", got.Areas, c.area)
			}
		})
	}
}

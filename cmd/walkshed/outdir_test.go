package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// names lists the files of dir, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

func readManifest(t *testing.T, dir string) manifest {
	t.Helper()
	var m manifest
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, manifestName)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sha(t *testing.T, path string) string {
	t.Helper()
	h := sha256.Sum256(mustRead(t, path))
	return hex.EncodeToString(h[:])
}

// One folder, one answer: a run into a folder holding an earlier run's
// outputs leaves only its own outputs and the user's files, and its
// manifest says exactly what it read and wrote.
func TestOutputFolderHoldsOneAnswer(t *testing.T) {
	out := t.TempDir()
	study := []string{"--stations", small("stations.csv"), "--population", small("population.csv"), "--areas", small("areas.geojson"), "--quiet", "--out", out}
	if code, _, stderr := walkshed(t, append([]string{"analyze", "--format", "all"}, study...)...); code != 0 {
		t.Fatal(stderr)
	}
	want := []string{"areas.csv", "cells.csv", "cells.geojson", "gaps.geojson", manifestName, "summary.json", "walkshed.gpkg"}
	if got := names(t, out); !slices.Equal(got, want) {
		t.Fatalf("first run wrote %v, want %v", got, want)
	}
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)

	if code, _, stderr := walkshed(t, append([]string{"analyze", "--format", "csv"}, study...)...); code != 0 {
		t.Fatal(stderr)
	}
	// Without a GeoPackage, the state update continues from is a file.
	want = []string{"areas.csv", "cells.csv", manifestName, "notes.txt", "summary.json", "walkshed-state.json"}
	if got := names(t, out); !slices.Equal(got, want) {
		t.Fatalf("after a csv-only run the folder holds %v, want %v", got, want)
	}
	if string(mustRead(t, filepath.Join(out, "notes.txt"))) != "mine" {
		t.Error("the user's file changed")
	}
	m := readManifest(t, out)
	var files []string
	for _, f := range m.Files {
		files = append(files, f.Name)
		fi, err := os.Stat(filepath.Join(out, f.Name))
		if err != nil || (f.Name != manifestName && fi.Size() != f.Bytes) {
			t.Errorf("manifest says %s has %d bytes; the folder: %v", f.Name, f.Bytes, err)
		}
	}
	if want := []string{"areas.csv", "cells.csv", "summary.json", "walkshed-state.json"}; !slices.Equal(files, want) {
		t.Errorf("manifest files %v, want %v", files, want)
	}
	if len(m.Inputs) != 3 {
		t.Fatalf("manifest inputs %+v, want stations, population and areas", m.Inputs)
	}
	for _, in := range m.Inputs {
		src := small(map[string]string{"stations": "stations.csv", "population": "population.csv", "areas": "areas.geojson"}[in.Role])
		fi, _ := os.Stat(src)
		if in.SHA256 != sha(t, src) || in.Bytes != fi.Size() || !filepath.IsAbs(in.Path) {
			t.Errorf("input %+v: want %s, %d bytes, an absolute path", in, sha(t, src), fi.Size())
		}
	}
	if !strings.HasPrefix(m.Command, "walkshed analyze --format csv --stations ") || m.Walkshed != version || m.Settings["res"] != float64(9) {
		t.Errorf("manifest command %q, version %q, settings %v", m.Command, m.Walkshed, m.Settings)
	}
}

// A folder written before manifests (recognised by walkshed-state.json)
// loses the outputs of that version that the new run does not write, but
// an input of the run that lies there under such a name stays.
func TestOutputFolderFromBeforeManifests(t *testing.T) {
	out := t.TempDir()
	for _, n := range []string{"walkshed-state.json", "cells.geojson", "timeline.csv", "mine.csv"} {
		os.WriteFile(filepath.Join(out, n), []byte("old"), 0o644)
	}
	// sites.csv, a name the old version wrote, is this run's stations.
	stations := filepath.Join(out, "sites.csv")
	os.WriteFile(stations, mustRead(t, small("stations.csv")), 0o644)
	code, _, stderr := walkshed(t, "analyze", "--stations", stations, "--population", small("population.csv"), "--format", "csv", "--quiet", "--out", out)
	if code != 0 {
		t.Fatal(stderr)
	}
	want := []string{"cells.csv", manifestName, "mine.csv", "sites.csv", "summary.json", "walkshed-state.json"}
	if got := names(t, out); !slices.Equal(got, want) {
		t.Fatalf("folder %v, want %v", got, want)
	}
	if string(mustRead(t, filepath.Join(out, "walkshed-state.json"))) == "old" {
		t.Error("the old state file was kept instead of rewritten")
	}
}

// An update in place removes the exports of the analysis it did not
// rewrite (they would describe the stations before the events).
func TestUpdateRemovesStaleExports(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"), "--quiet", "--out", out); code != 0 {
		t.Fatal(stderr)
	}
	events := filepath.Join(t.TempDir(), "events.csv")
	st := readCSV(t, small("stations.csv"))
	os.WriteFile(events, []byte("date,action,id,lon,lat\n2026-01-01,close,"+st[0]["id"]+",,\n"), 0o644)
	if code, _, stderr := walkshed(t, "update", "--from", out, "--events", events, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	want := []string{manifestName, "summary.json", "walkshed.gpkg"}
	if got := names(t, out); !slices.Equal(got, want) {
		t.Fatalf("after the update the folder holds %v, want %v", got, want)
	}
	m := readManifest(t, out)
	if len(m.Files) != 2 || m.Files[0].Name != "summary.json" || m.Files[1].Name != "walkshed.gpkg" || !strings.HasPrefix(m.Command, "walkshed update ") {
		t.Errorf("manifest %+v", m)
	}
}

// An --out that cannot take the outputs is refused before any computation,
// naming the folder.
func TestOutputFolderRefusedFirst(t *testing.T) {
	file := filepath.Join(t.TempDir(), "result")
	os.WriteFile(file, []byte("x"), 0o644)
	// The population file does not exist: a refusal that names it would
	// mean the inputs were read before the folder was checked.
	for _, tc := range []struct {
		out  string
		code int
		want string
	}{
		{file, 2, "--out " + file + " is a file, not a folder"},
		{filepath.Join(file, "sub"), 1, "--out " + filepath.Join(file, "sub") + ": cannot create the folder: not a directory"},
	} {
		code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", "missing.csv", "--quiet", "--out", tc.out)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "missing.csv") {
			t.Errorf("--out %s: exit %d, stderr %q; want exit %d and %q", tc.out, code, stderr, tc.code, tc.want)
		}
	}
}

package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A GeoPackage zipped or gzipped, as it is mailed around, reads as the
// GeoPackage itself; an archive of two is refused, naming them.
func TestZippedGeoPackage(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first")
	if code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"), "--format", "gpkg", "--quiet", "--out", first); code != 0 {
		t.Fatal(stderr)
	}
	gp := mustRead(t, filepath.Join(first, "walkshed.gpkg"))
	var zbuf, zbuf2, gz bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("export/grid.gpkg")
	w.Write(gp)
	zw.Create("export/readme.pdf")
	zw.Close()
	zw = zip.NewWriter(&zbuf2)
	for _, n := range []string{"a.gpkg", "b.gpkg"} {
		w, _ := zw.Create(n)
		w.Write(gp)
	}
	zw.Close()
	gw := gzip.NewWriter(&gz)
	gw.Write(gp)
	gw.Close()
	files := map[string][]byte{"grid.zip": zbuf.Bytes(), "grid.gpkg.gz": gz.Bytes(), "two.zip": zbuf2.Bytes()}
	for n, b := range files {
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	run := func(pop, out string) (int, string) {
		code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", pop, "--population-layer", "cells",
			"--format", "csv", "--quiet", "--out", out)
		return code, stderr
	}
	ref := filepath.Join(dir, "ref")
	if code, stderr := run(filepath.Join(first, "walkshed.gpkg"), ref); code != 0 {
		t.Fatal(stderr)
	}
	for _, n := range []string{"grid.zip", "grid.gpkg.gz"} {
		out := filepath.Join(dir, n+"-out")
		if code, stderr := run(filepath.Join(dir, n), out); code != 0 {
			t.Fatalf("%s: %s", n, stderr)
		}
		if !bytes.Equal(mustRead(t, filepath.Join(out, "cells.csv")), mustRead(t, filepath.Join(ref, "cells.csv"))) {
			t.Errorf("%s: cells.csv differs from the GeoPackage's own", n)
		}
	}
	code, stderr := run(filepath.Join(dir, "two.zip"), filepath.Join(dir, "two-out"))
	if code != 1 || !strings.Contains(stderr, "holds 2 GeoPackages or GeoTIFFs (a.gpkg, b.gpkg)") {
		t.Errorf("two GeoPackages: exit %d, %s", code, stderr)
	}
	// A layer that is not there is named with the archive member, not the
	// temporary file it was read from.
	code, _, stderr = walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", filepath.Join(dir, "grid.zip"), "--population-layer", "nope",
		"--quiet", "--out", filepath.Join(dir, "x"))
	if code != 1 || !strings.Contains(stderr, "grid.zip/export/grid.gpkg") || strings.Contains(stderr, "walkshed-unpacked") {
		t.Errorf("missing layer: exit %d, %s", code, stderr)
	}
}

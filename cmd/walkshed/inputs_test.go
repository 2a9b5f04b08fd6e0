package main

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
	"github.com/walkshed/walkshed/coverage/testenv"
)

// cellsByH3 reads cells.csv into population by H3 index.
func cellsByH3(t *testing.T, dir string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range readCSV(t, filepath.Join(dir, "cells.csv")) {
		out[r["h3"]] = num(t, r["population"])
	}
	return out
}

// The São Paulo grid as polygons in UTM 23S (a GeoPackage) gives the same
// population, cell by cell, as the same grid as an H3 table.
func TestSaoPauloGeoPackageMatchesCSV(t *testing.T) {
	data := testenv.SharedData(t, "sao_paulo")
	dir := t.TempDir()
	zr, err := zip.OpenReader(filepath.Join(data, "spo_hexgrid_EPSG32723.gpkg.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var gpkg string
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".gpkg") {
			rc, _ := f.Open()
			gpkg = filepath.Join(dir, filepath.Base(f.Name))
			w, _ := os.Create(gpkg)
			io.Copy(w, rc)
			w.Close()
			rc.Close()
		}
	}
	grid := filepath.Join(data, "spo_hexgrid.csv")
	run := func(pop, out string) map[string]float64 {
		code, _, stderr := walkshed(t, "analyze", "--stations", grid, "--stations-where", "healthcare>0",
			"--population", pop, "--out", out, "--format", "csv", "--quiet")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return cellsByH3(t, out)
	}
	fromGpkg := run(gpkg, filepath.Join(dir, "a"))
	fromCSV := run(grid, filepath.Join(dir, "b"))
	var total float64
	for h, p := range fromCSV {
		total += p
		if math.Abs(fromGpkg[h]-p) > 1e-6 {
			t.Errorf("cell %s: %v people from the GeoPackage, %v from the CSV", h, fromGpkg[h], p)
		}
	}
	if len(fromGpkg) != len(fromCSV) || total != 517570 {
		t.Errorf("%d cells from the GeoPackage, %d from the CSV; CSV total %v (want 517,570)", len(fromGpkg), len(fromCSV), total)
	}
}

// A GHS-POP-style raster (Mollweide, LZW) and a WorldPop-style one (EPSG:4326,
// tiled, floating-point predictor) keep GDAL's population total.
func TestGeoTIFFPopulationTotals(t *testing.T) {
	testdata := filepath.Join("..", "..", "coverage", "format", "geotiff", "testdata")
	f, err := os.Open(filepath.Join(testdata, "expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 6 && !strings.HasPrefix(fields[0], "#") && fields[0] != "centre" {
			sums[fields[0]], _ = strconv.ParseFloat(fields[5], 64)
		}
	}
	for _, name := range []string{"f32_54009_lzw_ghspop", "f32_4326_lzw_pred3_tiled"} {
		out := t.TempDir()
		code, stdout, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"),
			"--population", filepath.Join(testdata, name+".tif"), "--out", out, "--format", "csv", "--quiet", "--res", "8")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		var total float64
		for _, p := range cellsByH3(t, out) {
			total += p
		}
		if math.Abs(total-sums[name]) > 1e-6*sums[name] || sums[name] == 0 {
			t.Errorf("%s: %v people in cells, GDAL sums the raster to %v", name, total, sums[name])
		}
		if !strings.Contains(stdout, fmt.Sprintf("input total %s", fmtInt(sums[name]))) {
			t.Errorf("%s: summary does not report the input total:\n%s", name, stdout)
		}
	}
}

// Central Shanghai's bus stops (WGS-84), shifted to GCJ-02 by walkshed's
// forward transform: read back with --crs gcj02 they land within 1 cm of
// where they were; read as if they were WGS-84, the offset check fires.
func TestShanghaiGCJ02Offsets(t *testing.T) {
	data := testenv.SharedData(t, "shanghai_central")
	var fc struct {
		Features []struct {
			Geometry struct{ Coordinates [2]float64 }
		}
	}
	b, err := os.ReadFile(filepath.Join(data, "sh_busstop.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var wgs []orb.Point
	var gcj strings.Builder
	gcj.WriteString("id,lon,lat\n")
	for i, f := range fc.Features {
		p := orb.Point(f.Geometry.Coordinates)
		wgs = append(wgs, p)
		q := crs.WGS84ToGCJ02(p)
		fmt.Fprintf(&gcj, "stop-%d,%s,%s\n", i+1, strconv.FormatFloat(q[0], 'f', -1, 64), strconv.FormatFloat(q[1], 'f', -1, 64))
	}
	stations := filepath.Join(dir, "stops_gcj02.csv")
	os.WriteFile(stations, []byte(gcj.String()), 0o644)
	// People on every res-9 cell of the extract's box.
	var pop strings.Builder
	pop.WriteString("h3,population\n")
	seen := map[string]bool{}
	for lon := 121.4611; lon <= 121.4863; lon += 0.001 {
		for lat := 31.2196; lat <= 31.2412; lat += 0.001 {
			c, _ := coverage.CellOf(orb.Point{lon, lat}, 9)
			if !seen[c.String()] {
				seen[c.String()] = true
				pop.WriteString(c.String() + ",100\n")
			}
		}
	}
	population := filepath.Join(dir, "population.csv")
	os.WriteFile(population, []byte(pop.String()), 0o644)
	osm := filepath.Join(data, "shanghai_central_drive.osm")

	out := filepath.Join(dir, "gcj")
	code, stdout, stderr := walkshed(t, "analyze", "--stations", stations, "--crs", "gcj02", "--population", population,
		"--network", osm, "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Stops beyond the small population box may be named as far from it;
	// the offset warning must be gone.
	if strings.Contains(stderr, "Chinese map service") || strings.Contains(stderr, "--crs") {
		t.Errorf("--crs gcj02 still warns of an offset: %s", stderr)
	}
	kept, err := gpkg.ReadStations(filepath.Join(out, "walkshed.gpkg"), "id", "", gpkg.ReadOptions{Layer: "stations"})
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != len(wgs) {
		t.Fatalf("%d stations kept, %d given: none may be dropped", len(kept), len(wgs))
	}
	for i, s := range kept {
		if d := coverage.Distance(s.Pos, wgs[i]); d > 0.01 {
			t.Errorf("stop %d lands %.4f m from its WGS-84 position", i+1, d)
		}
	}
	if !strings.Contains(stdout, "farther than the snapping limit") {
		t.Errorf("the stops beyond the extract are not reported:\n%s", stdout)
	}

	code, _, stderr = walkshed(t, "analyze", "--stations", stations, "--population", population,
		"--network", osm, "--out", filepath.Join(dir, "asis"), "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "pass --crs gcj02") {
		t.Errorf("GCJ-02 stops labelled WGS-84 gave no offset warning; stderr: %q", stderr)
	}
}

func TestNetworkThatMissesTheStudy(t *testing.T) {
	data := testenv.SharedData(t, "porto_alegre")
	code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"),
		"--network", filepath.Join(data, "poa_osm.pbf"), "--out", t.TempDir(), "--quiet")
	if code != 1 || !strings.Contains(stderr, "does not overlap the study: 0 of 9 cells and 0 of 3 stations") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"not OSM", "this is not OSM", "notosm.osm"},
		{"truncated PBF", "", "truncated.osm.pbf"},
	} {
		p := filepath.Join(t.TempDir(), strings.Fields(tc.want)[0])
		body := []byte(tc.body)
		if tc.name == "truncated PBF" {
			full, _ := os.ReadFile(filepath.Join(data, "poa_osm.pbf"))
			body = full[:len(full)/3]
		}
		os.WriteFile(p, body, 0o644)
		code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"),
			"--network", p, "--out", t.TempDir(), "--quiet")
		if code != 1 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%s: exit %d: %s", tc.name, code, stderr)
		}
	}
}

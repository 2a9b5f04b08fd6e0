package main

import (
	"fmt"
	"github.com/walkshed/walkshed/coverage/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPortoAlegreGeoPackageOpensInGDALAndQGIS runs the network analysis
// and a proposal on Porto Alegre with areas, and opens walkshed.gpkg with
// GDAL's validator and full read, and with headless QGIS and its styles.
func TestPortoAlegreGeoPackageOpensInGDALAndQGIS(t *testing.T) {
	data := sharedData(t, "porto_alegre")
	verify := testenv.SharedTool(t, "verify_gpkg.sh")
	qgis := testenv.SharedTool(t, "qgis_check_gpkg.py")
	testenv.Command(t, "ogrinfo", testenv.GIS)
	testenv.Command(t, "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py", testenv.GIS)
	testenv.Python(t, testenv.GIS, "qgis.core")

	dir := t.TempDir()
	areas := filepath.Join(dir, "areas.geojson")
	// Four quadrants of the city around (-51.20, -30.05), two per parent.
	q := func(name, parent string, x0, y0, x1, y1 float64) string {
		return fmt.Sprintf(`{"type":"Feature","properties":{"name":%q,"parent":%q},"geometry":{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}}`,
			name, parent, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
	}
	os.WriteFile(areas, []byte(`{"type":"FeatureCollection","features":[`+strings.Join([]string{
		q("Noroeste", "Norte", -51.30, -30.05, -51.20, -29.95),
		q("Nordeste", "Norte", -51.20, -30.05, -51.10, -29.95),
		q("Sudoeste", "Sul", -51.30, -30.15, -51.20, -30.05),
		q("Sudeste", "Sul", -51.20, -30.15, -51.10, -30.05),
	}, ",")+`]}`), 0o644)
	grid := filepath.Join(data, "poa_hexgrid.csv")
	out := filepath.Join(dir, "plan")
	code, _, stderr := walkshed(t, "propose", "--stations", grid, "--stations-where", "healthcare>0", "--population", grid,
		"--network", filepath.Join(data, "poa_osm.pbf"), "--areas", areas, "--add", "5", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	gpkg := filepath.Join(out, "walkshed.gpkg")
	cells := len(readCSV(t, filepath.Join(out, "cells.csv")))
	sites := len(readCSV(t, filepath.Join(out, "sites.csv")))
	stations := 117 + sites // the outputs show coverage with the plan: its sites are stations
	if sites != 5 {
		t.Fatalf("%d sites, asked for 5", sites)
	}
	gaps := strings.Count(string(mustRead(t, filepath.Join(out, "gaps.geojson"))), `"type":"Feature"`)
	areasRows := len(readCSV(t, filepath.Join(out, "areas.csv")))
	// The file is GeoPackage 1.3, which GDAL 3.6 (Debian 12) and QGIS 3.22
	// read without a warning: a plain ogrinfo must print none, and
	// verify_gpkg.sh, which fails on any warning, runs with no override.
	plain, _ := exec.Command("ogrinfo", "-ro", "-al", "-so", gpkg).CombinedOutput()
	for _, line := range strings.Split(string(plain), "\n") {
		if strings.HasPrefix(line, "Warning") || strings.HasPrefix(line, "ERROR") {
			t.Errorf("ogrinfo: %s", line)
		}
	}
	cmd := exec.Command("sh", verify, gpkg,
		fmt.Sprintf("stations:Point:%d:4326", stations),
		fmt.Sprintf("cells:Polygon:%d:4326", cells),
		fmt.Sprintf("gaps:Polygon:%d:4326", gaps),
		fmt.Sprintf("areas:Multi Polygon:%d:4326", areasRows),
		fmt.Sprintf("proposals:Point:%d:4326", sites))
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "OK: ") {
		t.Fatalf("verify_gpkg.sh failed: %v\n%s", err, b)
	}
	t.Logf("GDAL: %d cells, %d gaps, %d proposals, %d area rows", cells, gaps, sites, areasRows)
	png := filepath.Join(dir, "map.png")
	cmd = exec.Command("/usr/bin/python3", qgis, gpkg, png, "--require-style", "--layers=stations,cells,gaps,areas,proposals")
	cmd.Env = append(os.Environ(), "QT_QPA_PLATFORM=offscreen")
	b, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "OK") || strings.Contains(string(b), "FAIL") {
		t.Fatalf("qgis_check_gpkg.py failed: %v\n%s", err, b)
	}
	if fi, err := os.Stat(png); err != nil || fi.Size() < 10000 {
		t.Fatalf("QGIS rendered no map: %v", err)
	}
	if keep := os.Getenv("WALKSHED_KEEP_PNG"); keep != "" {
		os.WriteFile(keep, mustRead(t, png), 0o644)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

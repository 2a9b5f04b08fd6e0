package gpkg

import (
	"archive/zip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/planar"
	"github.com/walkshed/walkshed/coverage"
)

func TestReadBackWrittenFile(t *testing.T) {
	f, path := writeFixture(t)
	pop, err := ReadPopulation(path, "population", ReadOptions{Layer: "cells"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pop.Polygons) != len(f.r.Cells) || len(pop.Points) != 0 {
		t.Fatalf("%d polygons, %d points", len(pop.Polygons), len(pop.Points))
	}
	var want float64
	for i, c := range f.r.Cells {
		want += c.Population
		p := pop.Polygons[i]
		if p.Population != c.Population || !orb.Equal(p.Geom, orb.MultiPolygon{{coverage.CellRing(c.H3)}}) {
			t.Errorf("cell %d: %v", i, p)
		}
	}
	if pop.Total() != want {
		t.Errorf("total %v, want %v", pop.Total(), want)
	}

	st, err := ReadStations(path, "id", "name", ReadOptions{Layer: "stations"})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range f.r.Stations {
		if st[i].ID != s.ID || st[i].Name != s.Name || st[i].Pos != s.Pos {
			t.Errorf("station %d: %+v, want %+v", i, st[i], s)
		}
	}
	// Without an id field, the feature id names the station.
	st, err = ReadStations(path, "", "", ReadOptions{Layer: "proposals"})
	if err != nil || len(st) != 2 || st[1].ID != "2" || st[1].Pos != f.opt.Proposals[1].Pos {
		t.Fatalf("proposals as stations: %+v %v", st, err)
	}
	areas, err := ReadAreas(path, "name", "parent", ReadOptions{Layer: "areas"})
	if err != nil || len(areas) != 2 || areas[0].Name != "Huangpu" || areas[0].Parent != "Shanghai" || !orb.Equal(areas[0].Geom, f.areaGeom) {
		t.Fatalf("areas: %+v %v", areas, err)
	}
	ls, err := Layers(path)
	if err != nil || len(ls) != 5 || ls[1].Name != "cells" || ls[1].GeometryType != "POLYGON" || ls[1].Fields[0] != "h3" {
		t.Fatalf("layers: %+v %v", ls, err)
	}
}

// spoilt writes the fixture and applies SQL to it.
func spoilt(t *testing.T, stmts ...string) string {
	t.Helper()
	_, path := writeFixture(t)
	db := openDB(t, path)
	// The R-tree triggers call ST_* functions only GDAL and QGIS provide.
	for _, s := range []string{"insert", "update1", "update2", "update3", "update4", "delete"} {
		stmts = append([]string{"DROP TRIGGER rtree_cells_geom_" + s}, stmts...)
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	db.Close()
	return path
}

func TestReadErrors(t *testing.T) {
	utm := `INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 / UTM zone 23S', 32723, 'EPSG', 32723, 'PROJCS["WGS 84 / UTM zone 23S",GEOGCS["WGS 84"]]', '')`
	cases := []struct {
		name string
		sql  []string
		read func(path string) error
		want []string
		is   error
	}{
		{"missing layer", nil, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "grid"})
			return err
		}, []string{`no feature layer "grid"`, "layers: areas, cells, gaps, proposals, stations"}, ErrNoLayer},
		{"several layers, none named", nil, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{})
			return err
		}, []string{"5 feature layers, name one"}, ErrNoLayer},
		{"missing field", nil, func(p string) error {
			_, err := ReadPopulation(p, "pop", ReadOptions{Layer: "cells"})
			return err
		}, []string{`layer "cells" has no field "pop"`, "fields: h3, lon, lat, population, minutes"}, ErrNoField},
		{"negative population", []string{"UPDATE cells SET population = -5 WHERE fid = 3"}, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "cells"})
			return err
		}, []string{"feature 3", "negative"}, nil},
		{"text population", []string{"UPDATE cells SET population = 'many' WHERE fid = 4"}, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "cells"})
			return err
		}, []string{"feature 4", `"many" is not a number`}, nil},
		{"null population", []string{"UPDATE cells SET population = NULL WHERE fid = 7"}, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "cells"})
			return err
		}, []string{"feature 7", "NULL"}, nil},
		{"null geometry", []string{"UPDATE cells SET geom = NULL WHERE fid = 2"}, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "cells"})
			return err
		}, []string{"feature 2: no geometry"}, nil},
		{"empty geometry", []string{"UPDATE cells SET geom = X'47500011E6100000010300000000000000' WHERE fid = 2"}, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "cells"})
			return err
		}, []string{"feature 2: empty geometry"}, nil},
		{"garbage geometry", []string{"UPDATE cells SET geom = X'00112233' WHERE fid = 5"}, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "cells"})
			return err
		}, []string{"feature 5", "not GeoPackage binary"}, nil},
		{"polygons as stations", nil, func(p string) error {
			_, err := ReadStations(p, "h3", "", ReadOptions{Layer: "cells"})
			return err
		}, []string{"feature 1", "Polygon geometry: stations must be points"}, nil},
		{"projected without resolver", []string{utm, "UPDATE gpkg_geometry_columns SET srs_id = 32723 WHERE table_name = 'cells'"}, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "cells"})
			return err
		}, []string{"EPSG:32723", `"WGS 84 / UTM zone 23S"`, "no projection resolver"}, nil},
		{"resolver refuses", nil, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "cells", Resolve: func(org string, code int, wkt string) (func(x, y float64) (float64, float64, error), error) {
				return nil, fmt.Errorf("unsupported CRS")
			}})
			return err
		}, []string{"EPSG:4326", "unsupported CRS"}, nil},
		{"coordinates not lon/lat", nil, func(p string) error {
			_, err := ReadPopulation(p, "population", ReadOptions{Layer: "cells", Resolve: func(string, int, string) (func(x, y float64) (float64, float64, error), error) {
				return func(x, y float64) (float64, float64, error) { return x * 1000, y, nil }, nil
			}})
			return err
		}, []string{"feature 1", "not a lon/lat"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := spoilt(t, c.sql...)
			err := c.read(path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "gpkg: "+path) {
				t.Errorf("error does not start with the file: %s", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
		})
	}
	t.Run("not a geopackage", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.gpkg")
		os.WriteFile(p, []byte("id,population\n1,2\n"), 0o644)
		if _, err := Layers(p); err == nil || !strings.Contains(err.Error(), "not a GeoPackage") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "none.gpkg")
		if _, err := Layers(p); err == nil || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("error %v", err)
		}
		if _, err := os.Stat(p); err == nil {
			t.Fatal("reading created the file")
		}
	})
}

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		in  any
		ok  bool
		out float64
	}{{int64(5), true, 5}, {2.5, true, 2.5}, {0.0, true, 0}, {math.NaN(), false, 0}, {math.Inf(1), false, 0}, {-1.0, false, 0}, {"3", false, 0}, {nil, false, 0}} {
		v, err := number(c.in)
		if (err == nil) != c.ok || v != c.out {
			t.Errorf("number(%v) = %v, %v", c.in, v, err)
		}
	}
}

// utm23S is the inverse transverse Mercator of UTM zone 23S by Krüger's
// series in n (to n³, well under a millimetre at these latitudes), written
// here independently of any projection package.
func utm23S(org string, code int, def string) (func(x, y float64) (float64, float64, error), error) {
	if !strings.EqualFold(org, "EPSG") || code != 32723 {
		return nil, fmt.Errorf("test resolver knows only EPSG:32723, not %s:%d", org, code)
	}
	const (
		a    = 6378137.0
		f    = 1 / 298.257223563
		k0   = 0.9996
		fe   = 500000.0
		fn   = 10000000.0
		lon0 = -45.0
	)
	n := f / (2 - f)
	A := a / (1 + n) * (1 + n*n/4 + n*n*n*n/64)
	beta := []float64{n/2 - 2*n*n/3 + 37*n*n*n/96, n*n/48 + n*n*n/15, 17 * n * n * n / 480}
	delta := []float64{2*n - 2*n*n/3 - 2*n*n*n, 7*n*n/3 - 8*n*n*n/5, 56 * n * n * n / 15}
	return func(x, y float64) (float64, float64, error) {
		xi := (y - fn) / (k0 * A)
		eta := (x - fe) / (k0 * A)
		xp, ep := xi, eta
		for j, b := range beta {
			k := float64(2 * (j + 1))
			xp -= b * math.Sin(k*xi) * math.Cosh(k*eta)
			ep -= b * math.Cos(k*xi) * math.Sinh(k*eta)
		}
		chi := math.Asin(math.Sin(xp) / math.Cosh(ep))
		phi := chi
		for j, d := range delta {
			phi += d * math.Sin(float64(2*(j+1))*chi)
		}
		lam := math.Atan2(math.Sinh(ep), math.Cos(xp))
		return lon0 + lam*180/math.Pi, phi * 180 / math.Pi, nil
	}, nil
}

func unzipSaoPaulo(t *testing.T) string {
	zpath := sharedData(t, filepath.Join("sao_paulo", "spo_hexgrid_EPSG32723.gpkg.zip"))
	zr, err := zip.OpenReader(zpath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	dir := t.TempDir()
	for _, zf := range zr.File {
		if filepath.Base(zf.Name) != "spo_hexgrid_EPSG32723.gpkg" {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "spo.gpkg")
		w, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, io.LimitReader(rc, 64<<20)); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		w.Close()
		return out
	}
	t.Fatal("zip holds no spo_hexgrid_EPSG32723.gpkg")
	return ""
}

// São Paulo's hexagons in UTM 23S: population equals spo_hexgrid.csv in
// total and cell by cell (the cell of each polygon's centroid), and the
// reprojected vertices match GDAL's within 1 cm.
func TestReadSaoPauloUTM(t *testing.T) {
	path := unzipSaoPaulo(t)
	pop, err := ReadPopulation(path, "population", ReadOptions{Resolve: utm23S})
	if err != nil {
		t.Fatal(err)
	}
	if len(pop.Polygons) != 323 {
		t.Fatalf("%d polygons, want 323", len(pop.Polygons))
	}
	csvPop := map[string]float64{}
	fcsv, err := os.Open(sharedData(t, filepath.Join("sao_paulo", "spo_hexgrid.csv")))
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(fcsv)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	fcsv.Close()
	if err != nil {
		t.Fatal(err)
	}
	var csvTotal float64
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatal(err)
		}
		csvPop[r[0]] = v
		csvTotal += v
	}
	if pop.Total() != csvTotal || csvTotal != 517570 {
		t.Errorf("total %v, csv %v, want 517570", pop.Total(), csvTotal)
	}
	seen := map[string]bool{}
	for i, p := range pop.Polygons {
		c, _ := planar.CentroidArea(p.Geom)
		cell, err := coverage.CellOf(c, 9)
		if err != nil {
			t.Fatal(err)
		}
		h := cell.String()
		want, ok := csvPop[h]
		if !ok || want != p.Population || seen[h] {
			t.Errorf("polygon %d: centroid cell %s population %v, csv %v (present %v, repeated %v)", i, h, p.Population, want, ok, seen[h])
		}
		seen[h] = true
	}

	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ogr2ogr missing under CI=true; %s", installHint)
		}
		t.Skipf("ogr2ogr not found, vertex check against GDAL skipped; %s", installHint)
	}
	out, err := exec.Command("ogr2ogr", "-f", "CSV", "/vsistdout/", "-t_srs", "EPSG:4326", "-lco", "GEOMETRY=AS_WKT", "-sql", "SELECT geom FROM spo_hexgrid_EPSG32723 ORDER BY fid", path).Output()
	if err != nil {
		t.Fatalf("ogr2ogr: %v", err)
	}
	gr := csv.NewReader(strings.NewReader(string(out)))
	gr.FieldsPerRecord = -1
	rows, err := gr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(pop.Polygons) {
		t.Fatalf("GDAL gave %d rows", len(rows)-1)
	}
	var worst float64
	for i, r := range rows[1:] {
		g, err := wkt.Unmarshal(r[0])
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		var ring orb.Ring
		switch g := g.(type) {
		case orb.Polygon:
			ring = g[0]
		case orb.MultiPolygon:
			ring = g[0][0]
		}
		ours := pop.Polygons[i].Geom[0][0]
		if len(ring) != len(ours) {
			t.Fatalf("polygon %d: %d vertices, GDAL %d", i, len(ours), len(ring))
		}
		for j := range ring {
			d := float64(coverage.Distance(ring[j], ours[j]))
			worst = math.Max(worst, d)
		}
	}
	if worst > 0.01 {
		t.Errorf("worst vertex distance from GDAL %.4f m, want <= 1 cm", worst)
	}
	t.Logf("323 polygons, %d vertices per ring; worst distance from GDAL's reprojection %.2e m", len(pop.Polygons[0].Geom[0][0]), worst)
}

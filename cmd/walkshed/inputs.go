package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
)

// inputKind tells a file's format from its extension.
func inputKind(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".gpkg":
		return "gpkg"
	case ".tif", ".tiff":
		return "geotiff"
	}
	return "text" // CSV or GeoJSON, sniffed by the reader
}

// resolveCRS lets the GeoPackage reader reproject any CRS the crs package
// knows.
func resolveCRS(org string, code int, wkt string) (func(x, y float64) (float64, float64, error), error) {
	t, err := crs.Lookup(org, code, wkt)
	if err != nil {
		return nil, err
	}
	return t.ToWGS84, nil
}

// inputCRS is what --crs says about point inputs: a datum of Chinese map
// services (wgs84, gcj02, bd09), converted after reading, or a projected
// CRS such as EPSG:32651, through which x/y columns are read.
type inputCRS struct {
	name  string
	datum crs.Datum
	proj  crs.Transform // nil for a datum
}

// parseInputCRS reads a --crs value: a datum name, or any CRS the crs
// package knows by code or WKT.
func parseInputCRS(name string) (inputCRS, error) {
	if name == "" {
		name = "wgs84"
	}
	if d, err := crs.Parse(name); err == nil {
		return inputCRS{name: d.String(), datum: d}, nil
	}
	t, err := format.ParseCRS(name)
	if err != nil {
		return inputCRS{}, fmt.Errorf("--crs %s: not wgs84, gcj02 or bd09, nor a CRS walkshed knows (EPSG:CODE, e.g. EPSG:32651 for UTM zone 51N): %w", name, err)
	}
	if t.Geographic() {
		return inputCRS{name: "wgs84", datum: crs.WGS84}, nil
	}
	return inputCRS{name: name, datum: crs.WGS84, proj: t}, nil
}

// textOptions say how to read the text inputs (CSV, GeoJSON), whatever
// their role: their encoding, the coordinate columns when named, the CRS of
// point coordinates, and where warnings go.
type textOptions struct {
	encoding       string
	lonCol, latCol string
	crs            inputCRS
	warn           func(format.Warning)
}

// pointInput names a point file and how to read it.
type pointInput struct {
	path           string
	idCol, nameCol string
	where          string
	layer          string
	datum          string // --crs as given: wgs84, gcj02, bd09 or a CRS name
	capacityCol    string // "" detects capacity or 容量 (CSV and GeoJSON)
}

// readStations reads a station file of any kind, zipped or not.
func readStations(in pointInput, txt textOptions, near orb.Bound) ([]coverage.Station, error) {
	return unpacked(in.path, func(file string) ([]coverage.Station, error) {
		in.path = file
		return readStationsFrom(in, txt, near)
	})
}

func readStationsFrom(in pointInput, txt textOptions, near orb.Bound) ([]coverage.Station, error) {
	var st []coverage.Station
	var err error
	switch inputKind(in.path) {
	case "gpkg":
		if in.capacityCol != "" {
			return nil, fmt.Errorf("%s: capacities are read from CSV and GeoJSON stations only; export the layer to CSV to use --capacity-col", in.path)
		}
		st, err = gpkg.ReadStations(in.path, in.idCol, in.nameCol, gpkg.ReadOptions{Layer: in.layer, Resolve: resolveCRS})
	case "geotiff":
		return nil, fmt.Errorf("%s: a raster cannot hold stations; give a CSV, GeoJSON or GeoPackage of points", in.path)
	default:
		st, err = format.ReadStations(in.path, format.PointOptions{IDCol: in.idCol, NameCol: in.nameCol, CapacityCol: in.capacityCol, Where: in.where,
			LonCol: txt.lonCol, LatCol: txt.latCol, Encoding: txt.encoding, CRS: txt.crs.proj, Near: near, Warn: txt.warn})
	}
	if err != nil {
		return nil, err
	}
	if d := txt.crs.datum; d != crs.WGS84 {
		for i := range st {
			st[i].Pos = d.ToWGS84(st[i].Pos)
		}
	}
	return st, nil
}

// popInput names a population file and how to read it.
type popInput struct {
	path, popCol, where, layer string
	// name is the population layer's name when there are several: a
	// column of that name is detected first.
	name string
}

// readPopulation reads a population file of any kind, zipped or not.
func readPopulation(in popInput, res int, txt textOptions) (coverage.Population, error) {
	return unpacked(in.path, func(file string) (coverage.Population, error) {
		in.path = file
		return readPopulationFrom(in, res, txt)
	})
}

func readPopulationFrom(in popInput, res int, txt textOptions) (coverage.Population, error) {
	switch inputKind(in.path) {
	case "gpkg":
		field := in.popCol
		if field == "" {
			field = "population"
		}
		return gpkg.ReadPopulation(in.path, field, gpkg.ReadOptions{Layer: in.layer, Resolve: resolveCRS})
	case "geotiff":
		return readRaster(in.path, res)
	}
	pop, err := format.ReadPopulation(in.path, format.PopulationOptions{PopCol: in.popCol, Layer: in.name, Where: in.where,
		LonCol: txt.lonCol, LatCol: txt.latCol, Encoding: txt.encoding, CRS: txt.crs.proj, Warn: txt.warn})
	if err != nil {
		return pop, err
	}
	if d := txt.crs.datum; d != crs.WGS84 {
		for i := range pop.Points {
			pop.Points[i].Pos = d.ToWGS84(pop.Points[i].Pos)
		}
	}
	return pop, nil
}

// readAreas reads an area file of any kind, zipped or not.
func readAreas(path, nameCol, parentCol, layer string, txt textOptions) ([]coverage.Area, error) {
	return unpacked(path, func(file string) ([]coverage.Area, error) {
		return readAreasFrom(file, nameCol, parentCol, layer, txt)
	})
}

func readAreasFrom(path, nameCol, parentCol, layer string, txt textOptions) ([]coverage.Area, error) {
	if inputKind(path) == "gpkg" {
		return gpkg.ReadAreas(path, nameCol, parentCol, gpkg.ReadOptions{Layer: layer, Resolve: resolveCRS})
	}
	return format.ReadAreas(path, format.AreaOptions{NameCol: nameCol, ParentCol: parentCol, Encoding: txt.encoding, CRS: txt.crs.proj, Warn: txt.warn})
}

// fileFacts records an input file's name and size for the run table.
func fileFacts(kind, path string) []gpkg.KeyValue {
	if path == "" {
		return nil
	}
	kv := []gpkg.KeyValue{{Key: kind, Value: path}}
	if fi, err := os.Stat(path); err == nil {
		kv = append(kv, gpkg.KeyValue{Key: kind + "_bytes", Value: fmt.Sprint(fi.Size())})
	}
	return kv
}

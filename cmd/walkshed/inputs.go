package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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

// pointInput names a point file and how to read it.
type pointInput struct {
	path           string
	idCol, nameCol string
	where          string
	layer          string
	datum          string // wgs84, gcj02, bd09
}

func readStations(in pointInput) ([]coverage.Station, error) {
	var st []coverage.Station
	var err error
	switch inputKind(in.path) {
	case "gpkg":
		st, err = gpkg.ReadStations(in.path, in.idCol, in.nameCol, gpkg.ReadOptions{Layer: in.layer, Resolve: resolveCRS})
	case "geotiff":
		return nil, fmt.Errorf("%s: a raster cannot hold stations; give a CSV, GeoJSON or GeoPackage of points", in.path)
	default:
		st, err = format.ReadStations(in.path, format.PointOptions{IDCol: in.idCol, NameCol: in.nameCol, Where: in.where})
	}
	if err != nil {
		return nil, err
	}
	d, err := crs.Parse(in.datum)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if d != crs.WGS84 {
		for i := range st {
			st[i].Pos = d.ToWGS84(st[i].Pos)
		}
	}
	return st, nil
}

// popInput names a population file and how to read it.
type popInput struct {
	path, popCol, where, layer string
}

func readPopulation(in popInput, res int) (coverage.Population, error) {
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
	return format.ReadPopulation(in.path, format.PopulationOptions{PopCol: in.popCol, Where: in.where})
}

func readAreas(path, nameCol, parentCol, layer string) ([]coverage.Area, error) {
	if inputKind(path) == "gpkg" {
		return gpkg.ReadAreas(path, nameCol, parentCol, gpkg.ReadOptions{Layer: layer, Resolve: resolveCRS})
	}
	return format.ReadAreas(path, format.AreaOptions{NameCol: nameCol, ParentCol: parentCol})
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

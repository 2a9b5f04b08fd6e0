// Package format reads what planners have (station lists, population tables
// and polygons, area boundaries in CSV and GeoJSON) into coverage's types, and
// writes results (cells.csv, summary.json, GeoJSON layers). Readers validate
// every value and name the file and line or feature of bad input; writers go
// through WriteAtomic so a failed run never leaves a half-written file.
// Subpackages hold the binary formats: gpkg (GeoPackage) and geotiff.
package format

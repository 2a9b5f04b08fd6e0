// Package format reads what planners have (station lists, population tables
// and polygons, area boundaries in CSV and GeoJSON) into coverage's types, and
// writes results (cells.csv, summary.json, GeoJSON layers).
//
// Reading: a file is unpacked (.gz, a .zip holding one file), decoded to
// UTF-8 (GB18030/GBK, UTF-16 and Windows-1252 detected or named), split
// into rows (commas, semicolons with decimal commas or tabs; any line end;
// Excel's sep= line) or GeoJSON features, its columns found by their usual
// names (Chinese ones too), and its coordinates read in WGS-84 or through a
// projected CRS. Every value is checked, and what looks like a slip (metres
// read as degrees, swapped columns, (0, 0), an impossible density) is an
// InputError naming the file and line or feature; what is merely unusual
// (repeated H3 cells, empty values) reaches the caller's Warn callback.
//
// Writing goes through WriteAtomic or a Batch, so a failed run never leaves
// a half-written file.
// Subpackages hold the binary formats: gpkg (GeoPackage) and geotiff.
package format

// Package gpkg writes walkshed results as one OGC GeoPackage 1.3 file that
// GDAL and QGIS open styled and indexed, and reads GeoPackage inputs
// (population, stations, areas) in whatever CRS they declare.
//
// Writing: [Write] takes a coverage.Result (plus the per-cell snap legs,
// proposed sites and run settings in [WriteOptions]) and builds, in one
// SQLite transaction on a temporary file beside the target, the layers
// stations, cells, gaps and, when present, areas and proposals, each with its
// extent in gpkg_contents, an R-tree index and a default QGIS style in
// layer_styles, plus the attributes table run. Geometries are GeoPackage
// binary: a header with the envelope, then WKB from orb. The file is synced
// and renamed into place only when complete, so a failure leaves the
// previous file intact.
//
// Reading: [ReadPopulation], [ReadStations] and [ReadAreas] open a file
// read-only, pick the named (or only) feature layer, decode each geometry
// and pass its coordinates through the caller's [Resolver] (which maps the
// layer's gpkg_spatial_ref_sys entry to a WGS-84 transform), so this package
// depends on no projection library. SQLite is modernc.org/sqlite (pure Go);
// nothing here needs GDAL at run time.
package gpkg

// Package geotiff reads population rasters (WorldPop, GHS-POP and the like)
// from GeoTIFF files in pure Go, without GDAL at run time.
//
// Data flow: Open parses the first image directory of a classic or BigTIFF
// file (either byte order), its GeoKeys and its affine georeferencing
// (ModelPixelScale + ModelTiepoint, or ModelTransformation), and resolves
// the CRS through package crs (EPSG codes, or a user-defined Mollweide or
// Transverse Mercator as GDAL writes them). Raster.Pixels then decodes one
// band block by block — strips or tiles; uncompressed, LZW, Deflate or
// PackBits; with the horizontal or floating-point predictor; 8- to 64-bit
// integers and 32/64-bit floats — and hands each pixel to a callback, so no
// full image is held in memory.
//
// Raster.Population (and Read/ReadReader, for single-band files) turns
// pixels into coverage.Population for coverage.Aggregate: a pixel no larger
// than an average H3 cell at the target resolution counts in the cell of its
// centre (summed into one PopCell per cell), a larger one becomes a
// PopPolygon of its footprint in WGS-84, spread by area over the cells it
// covers. Zero, nodata and obvious fill values are skipped (fill values with
// a warning on the caller's *slog.Logger); a negative count is an error.
//
// Every size read from the file is checked against the file's length before
// anything is allocated for it, products of sizes are checked for overflow,
// and decompression stops at the block's size.
package geotiff

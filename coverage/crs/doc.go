// Package crs turns coordinates in the reference systems planners' data come
// in into WGS-84 longitude and latitude, the one system the rest of walkshed
// uses.
//
// Two kinds of conversion live here:
//
//   - Map projections, behind the Transform interface. Lookup (an authority
//     and code, with a WKT definition as fallback, as GeoPackage's
//     gpkg_spatial_ref_sys gives them) and ByEPSG (as GeoTIFF's geokeys give
//     them) return a Transform for: WGS-84 and CGCS2000 geographic, Web
//     Mercator, UTM on WGS-84 and SIRGAS 2000, World Mollweide (GHS-POP), and
//     the CGCS2000 Gauss-Krüger 3- and 6-degree zones of Chinese municipal
//     data. Transverse Mercator uses Krüger's series to sixth order in n
//     (Karney 2011), accurate to nanometres within the zones' extent.
//     Datums treated as WGS-84 (CGCS2000, SIRGAS 2000) differ from it by
//     centimetres; no datum shift is applied.
//
//   - The offsets of Chinese map services, behind Datum: GCJ-02 (Amap/Gaode,
//     Tencent) and BD-09 (Baidu). Forward transforms are the published
//     algorithm; the inverses iterate the forward transform until it
//     reproduces the input to 1e-9 degrees (about 0.1 mm). Points outside
//     mainland China's bounding box are left unshifted, as the algorithm says.
//
// Data flow: a reader finds the CRS of its file, asks Lookup or ByEPSG once,
// then calls ToWGS84 for every coordinate; a point reader given
// --crs gcj02|bd09 calls Parse once and Datum.ToWGS84 for every point.
package crs

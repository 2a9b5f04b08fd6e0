// Package tiles makes Mapbox vector tiles of a coverage result held in
// memory, for a map that pans and zooms over a city of any size while the
// result changes under it.
//
// Data flows one way:
//
//	coverage.Result ─ New ─┬─ levels: the cells, and their aggregates at every
//	                       │  coarser H3 resolution (population, covered
//	                       │  population, population-weighted minutes),
//	                       │  each sorted by quadkey for range lookups
//	                       ├─ gaps, stations, areas (read from the result)
//	                       └─ street segments (optional basemap)
//	Tile(layer, z, x, y) ─ features near the tile → project (maptile) →
//	                       clip → encoding/mvt → bytes, cached
//	Changed(cells, points) ─ refreshes the aggregates above the changed
//	                       cells and drops only the cached tiles they touch
//
// A Source reads the result it was built on; callers serialise Changed
// against Tile (a read lock for tiles, the write lock for an edit and its
// Changed call), and tiles may be made concurrently with each other.
package tiles

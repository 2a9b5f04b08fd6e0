// Package coverage answers one planning question: who lives outside the
// walking reach of every service station, and where are the gaps.
//
// Data flows one way. Stations ([Station]) and population aggregated into H3
// demand cells ([Cell], see [Aggregate]) go into a [Reach] model, which gives
// every cell the walking time to its nearest station ([Access]). [Analyze]
// turns those times into a [Result]: covered population, gaps (connected
// uncovered neighbourhoods with dissolved outlines) and by-area summaries.
// [Update] applies station openings and closings to a stored Result, touching
// only the cells an event can change.
//
// The package holds the domain and the straight-line ("crow") reach model. It
// never imports its subpackages: walknet implements [Reach] along streets,
// site proposes new stations through [Reach], and format reads and writes
// files. Coordinates are orb.Point{lon, lat} throughout; the conversion to
// H3's LatLng lives in h3conv.go alone. The package never prints: callers pass
// a progress callback or a *slog.Logger.
package coverage

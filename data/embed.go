// Package data ships the demo study inside the walkshed binary, so that
// `walkshed demo` works wherever the binary is installed. The files are the
// ones in data/demo; data/README.md says what is real, what is modelled and
// how they were made.
package data

import "embed"

// Demo holds demo/streets.osm.gz, stations.csv, population.csv,
// areas.geojson, events.csv and workers.csv.
//
//go:embed demo/*.csv demo/*.geojson demo/*.osm.gz
var Demo embed.FS

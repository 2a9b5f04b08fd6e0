package main

import (
	"log/slog"
	"os"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/format/geotiff"
)

// readRaster reads a population GeoTIFF; warnings (fill values read
// without a nodata tag) go to stderr.
func readRaster(path string, res int) (coverage.Population, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pop, _, err := geotiff.Read(path, res, log)
	return pop, err
}

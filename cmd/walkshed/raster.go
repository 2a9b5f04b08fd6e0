package main

import (
	"fmt"

	"github.com/walkshed/walkshed/coverage"
)

func readRaster(path string, res int) (coverage.Population, error) {
	return coverage.Population{}, fmt.Errorf("%s: GeoTIFF population rasters are not supported by this build", path)
}

//go:build !unix

package gpkg

import "time"

// processCPU is not measured here: CPU metrics read 0.
func processCPU() time.Duration { return 0 }

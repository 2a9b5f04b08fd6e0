package format_test

import (
	"fmt"
	"path/filepath"

	"github.com/walkshed/walkshed/coverage/format"
)

func ExampleReadStations() {
	st, err := format.ReadStations(filepath.Join("testdata", "read", "stations_points.csv"), format.PointOptions{Where: "tier=district"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range st {
		fmt.Printf("%s %q at %.4f, %.4f\n", s.ID, s.Name, s.Pos[0], s.Pos[1])
	}
	// Output:
	// sh-002 "Bund, north" at 121.4905, 31.2433
}

func ExampleReadPopulation() {
	pop, err := format.ReadPopulation(filepath.Join("testdata", "read", "bad_mixed_res.csv"), format.PopulationOptions{})
	fmt.Println(len(pop.Cells), err)
	// Output:
	// 0 format: testdata/read/bad_mixed_res.csv:3: H3 index 8828308281fffff has resolution 8, but the file's cells have resolution 9 (line 2): mixed resolutions
}

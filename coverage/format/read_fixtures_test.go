package format

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// The fixtures under testdata/read, read with answers worked out by hand
// from the files.

func fixture(name string) string { return filepath.Join("testdata", "read", name) }

func TestReadFixtures(t *testing.T) {
	st, err := ReadStations(fixture("stations_points.csv"), PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantSt := []coverage.Station{
		{ID: "sh-001", Name: "Nanjing East Road station", Tier: "subdistrict", Pos: orb.Point{121.4846, 31.2385}},
		{ID: "sh-002", Name: "Bund, north", Tier: "district", Pos: orb.Point{121.4905, 31.2433}},
		{ID: "sh-003", Name: "Laoximen", Pos: orb.Point{121.4801, 31.2240}},
	}
	if !reflect.DeepEqual(st, wantSt) {
		t.Errorf("stations_points.csv: got %+v", st)
	}

	// Five grid rows; healthcare > 0 in the last two only; one row with
	// blank jobs and healthcare, which the filter skips.
	st, err = ReadStations(fixture("grid_head.csv"), PointOptions{Where: "healthcare>0"})
	if err != nil {
		t.Fatal(err)
	}
	wantSt = []coverage.Station{
		{ID: "89a901281d7ffff", Pos: orb.Point{-51.2134968698701, -30.0657819202028}},
		{ID: "89a9012ae0bffff", Pos: orb.Point{-51.2355593499292, -30.0846916890718}},
	}
	if !reflect.DeepEqual(st, wantSt) {
		t.Errorf("grid_head.csv healthcare>0: got %+v", st)
	}
	pop, err := ReadPopulation(fixture("grid_head.csv"), PopulationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 0 + 214 + 0 + 1503 + 977 = 2694, by hand.
	if len(pop.Cells) != 5 || pop.Total() != 2694 || pop.Cells[4].H3.String() != "89a9012ae0bffff" || pop.Cells[4].Population != 977 {
		t.Errorf("grid_head.csv: %d cells, total %v", len(pop.Cells), pop.Total())
	}

	pop, err = ReadPopulation(fixture("population_mixed.geojson"), PopulationOptions{Where: "kind!=park"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (coverage.Population{Points: []coverage.PopPoint{{Pos: orb.Point{-51.2, -30.05}, Population: 120}}}); !reflect.DeepEqual(pop, want) {
		t.Errorf("population_mixed.geojson kind!=park: got %+v", pop)
	}

	areas, err := ReadAreas(fixture("areas.geojson"), AreaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(areas) != 2 || areas[0].Name != "South Bund" || areas[0].Parent != "Huangpu" ||
		areas[1].Name != "Two Islands" || len(areas[1].Geom) != 2 || len(areas[1].Geom[1]) != 2 {
		t.Errorf("areas.geojson: got %+v", areas)
	}

	st, err = ReadStations(fixture("busstops.geojson"), PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 3 || st[1].ID != "2" || st[1].Name != "西藏中路" || st[1].Pos != (orb.Point{121.4747, 31.2308}) {
		t.Errorf("busstops.geojson: got %+v", st)
	}
}

// Every broken fixture is rejected by every reader that accepts its kind,
// with a message naming the file.
func TestReadBrokenFixtures(t *testing.T) {
	files, err := filepath.Glob(fixture("bad_*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no broken fixtures: %v", err)
	}
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			_, errS := ReadStations(p, PointOptions{})
			_, errP := ReadPopulation(p, PopulationOptions{})
			errs := []error{errS, errP}
			if strings.HasSuffix(p, ".geojson") {
				_, errA := ReadAreas(p, AreaOptions{})
				errs = append(errs, errA)
			}
			for _, err := range errs {
				if err == nil || !strings.HasPrefix(err.Error(), "format: "+p) {
					t.Errorf("got %v, want an error naming %s", err, p)
				}
			}
		})
	}
}

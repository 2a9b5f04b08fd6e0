package coverage

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// The area summary of hand-placed cells in two boxes, and the same summary
// from the cells' areas when they are given (as a stored result gives them),
// or found again when what is given cannot be theirs.
func TestSummarizeAreasOf(t *testing.T) {
	var cells []Cell
	pts := []orb.Point{{121.401, 31.201}, {121.402, 31.202}, {121.451, 31.201}, {121.52, 31.2}}
	for k, p := range pts {
		c, err := CellOf(p, 9)
		if err != nil {
			t.Fatal(err)
		}
		cells = append(cells, Cell{H3: c, Pos: CellCenter(c), Population: []float64{10, 20, 50, 40}[k]})
	}
	slices.SortFunc(cells, func(a, b Cell) int { return cmp.Compare(a.H3, b.H3) })
	box := func(x0, x1 float64) orb.MultiPolygon {
		return orb.MultiPolygon{orb.Bound{Min: orb.Point{x0, 31.19}, Max: orb.Point{x1, 31.21}}.ToPolygon()}
	}
	areas := []Area{{Name: "A", Geom: box(121.39, 121.43)}, {Name: "B", Geom: box(121.43, 121.47)}}
	st := Study{Settings: DefaultSettings, Cells: cells, Stations: []Station{{ID: "s", Pos: orb.Point{121.401, 31.201}}}, Areas: areas}
	r, err := Analyze(context.Background(), st, NewCrow(cells, st.Settings.SpeedKmh), nil)
	if err != nil {
		t.Fatal(err)
	}
	pop := map[string]float64{}
	for _, a := range r.Areas {
		pop[a.Name] = a.Population
	}
	// By hand: the first two points lie in A (10 + 20), the third in B (50),
	// the fourth in neither.
	if pop["A"] != 30 || pop["B"] != 50 {
		t.Fatalf("area populations %v, want A 30 and B 50", pop)
	}
	in := r.CellAreas()
	if len(in) != len(cells) {
		t.Fatalf("CellAreas has %d entries for %d cells", len(in), len(cells))
	}
	if got := SummarizeAreasOf(r, areas, in); !reflect.DeepEqual(got, r.Areas) {
		t.Error("the summary from the cells' areas differs from the analysis")
	}
	swapped := make([]int32, len(in))
	for i, a := range in {
		swapped[i] = map[int32]int32{0: 1, 1: 0, -1: -1}[a]
	}
	for _, a := range SummarizeAreasOf(r, areas, swapped) {
		if want := map[string]float64{"A": 50, "B": 30}[a.Name]; a.Level == "area" && a.Population != want {
			t.Errorf("%s: %v people with the areas swapped, want %v", a.Name, a.Population, want)
		}
	}
	if got := SummarizeAreasOf(r, areas, []int32{0, 7, 0, 0}); !reflect.DeepEqual(got, r.Areas) {
		t.Error("an assignment naming a missing area was used instead of finding the areas")
	}
}

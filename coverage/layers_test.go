package coverage

import (
	"context"
	"testing"

	"github.com/paulmach/orb"
)

// TestMergeLayersByHand joins two layers over cells populated in one, the
// other or both.
func TestMergeLayersByHand(t *testing.T) {
	a, _ := CellOf(orb.Point{121.47, 31.23}, 9)
	nb := a.GridDisk(1)
	cs := []Cell{}
	for _, c := range nb[:3] {
		cs = append(cs, Cell{H3: c, Pos: CellCenter(c)})
	}
	// Sorted by H3 index.
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			if cs[j].H3 < cs[i].H3 {
				cs[i], cs[j] = cs[j], cs[i]
			}
		}
	}
	x, y, z := cs[0], cs[1], cs[2]
	res := []Cell{{H3: x.H3, Pos: x.Pos, Population: 10}, {H3: z.H3, Pos: z.Pos, Population: 5}}
	wk := []Cell{{H3: y.H3, Pos: y.Pos, Population: 7}, {H3: z.H3, Pos: z.Pos, Population: 3}}
	got := MergeLayers([][]Cell{res, wk})
	want := []struct {
		h   Cell
		pop float64
		l   [2]float64
	}{{x, 10, [2]float64{10, 0}}, {y, 7, [2]float64{0, 7}}, {z, 8, [2]float64{5, 3}}}
	if len(got) != len(want) {
		t.Fatalf("%d cells, want 3", len(got))
	}
	for i, w := range want {
		g := got[i]
		if g.H3 != w.h.H3 || g.Pos != w.h.Pos || g.Population != w.pop || len(g.Layers) != 2 || g.Layers[0] != w.l[0] || g.Layers[1] != w.l[1] {
			t.Errorf("cell %d: %+v, want %v %v %v", i, g, w.h.H3, w.pop, w.l)
		}
	}
}

// TestWeightedGapsByHand: two uncovered pockets, one of residents and one
// of workers; the weights decide which gap ranks first, and totals per
// layer count covered people by hand.
func TestWeightedGapsByHand(t *testing.T) {
	centre, _ := CellOf(orb.Point{121.47, 31.23}, 9)
	// Two far-apart single cells (distinct gaps) and a covered cell at the
	// station.
	p1, _ := CellOf(orb.Point{121.52, 31.23}, 9)
	p2, _ := CellOf(orb.Point{121.42, 31.23}, 9)
	lay := [][]Cell{
		{{H3: centre, Pos: CellCenter(centre), Population: 100}, {H3: p1, Pos: CellCenter(p1), Population: 60}},
		{{H3: centre, Pos: CellCenter(centre), Population: 40}, {H3: p2, Pos: CellCenter(p2), Population: 100}},
	}
	for k := range lay {
		if lay[k][1].H3 < lay[k][0].H3 { // each layer sorted by H3 index
			lay[k][0], lay[k][1] = lay[k][1], lay[k][0]
		}
	}
	cells := MergeLayers(lay)
	st := []Station{{ID: "s", Pos: CellCenter(centre)}}
	for _, c := range []struct {
		wWorkers float64
		first    orb.Point
		weighted [2]float64
	}{
		{1, CellCenter(p2), [2]float64{100, 60}},
		{0.5, CellCenter(p1), [2]float64{60, 50}},
	} {
		study := Study{Settings: Settings{Res: 9, Minutes: 15, SpeedKmh: 4}, Stations: st, Cells: cells,
			Layers: []Layer{{"residents", 1}, {"workers", c.wWorkers}}}
		r, err := Analyze(context.Background(), study, NewCrow(cells, 4), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Gaps) != 2 || r.Gaps[0].Point != c.first || r.Gaps[0].Weighted != c.weighted[0] || r.Gaps[1].Weighted != c.weighted[1] {
			t.Fatalf("weight %v: gaps %+v", c.wWorkers, r.Gaps)
		}
		lt := r.LayerTotals()
		if lt[0].Population != 160 || lt[0].CoveredPopulation != 100 || lt[1].Population != 140 || lt[1].CoveredPopulation != 40 {
			t.Fatalf("layer totals %+v", lt)
		}
		for _, g := range r.Gaps {
			if g.Layers[0]+g.Layers[1] != g.Population {
				t.Fatalf("gap %+v: layers do not add to its population", g)
			}
		}
	}
	bad := Study{Settings: DefaultSettings, Stations: st, Cells: cells, Layers: []Layer{{"residents", 1}, {"residents", 1}}}
	if _, err := Analyze(context.Background(), bad, NewCrow(cells, 4), nil); err == nil {
		t.Fatal("a layer named twice was accepted")
	}
	neg := Study{Settings: DefaultSettings, Stations: st, Cells: cells, Layers: []Layer{{"residents", 1}, {"workers", -1}}}
	if _, err := Analyze(context.Background(), neg, NewCrow(cells, 4), nil); err == nil {
		t.Fatal("a negative weight was accepted")
	}
}

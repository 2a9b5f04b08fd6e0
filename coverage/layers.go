package coverage

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Layer is one population of a study (residents, workers, …) and its
// weight when gaps are ranked and sites chosen.
type Layer struct {
	Name   string
	Weight float64
}

// LayerTotals is one layer's people and how many of them are covered.
type LayerTotals struct {
	Layer
	Population, CoveredPopulation float64
}

// Share is the covered share of the layer (0 when empty).
func (t LayerTotals) Share() float64 {
	if t.Population <= 0 {
		return 0
	}
	return t.CoveredPopulation / t.Population
}

// CheckLayers checks layer names (distinct, not empty, usable in a column
// name) and weights (finite, not negative, not all zero).
func CheckLayers(layers []Layer) error {
	seen := map[string]bool{}
	positive := false
	for _, l := range layers {
		switch {
		case l.Name == "":
			return fmt.Errorf("coverage: a population layer without a name")
		case strings.ContainsAny(l.Name, ",= \t\"'"):
			return fmt.Errorf("coverage: population layer name %q: use letters, digits, _ or -", l.Name)
		case seen[l.Name]:
			return fmt.Errorf("coverage: population layer %q given twice", l.Name)
		case !(l.Weight >= 0) || math.IsInf(l.Weight, 1):
			return fmt.Errorf("coverage: population layer %q: weight %v must be a number, 0 or more", l.Name, l.Weight)
		}
		seen[l.Name] = true
		positive = positive || l.Weight > 0
	}
	if len(layers) > 0 && !positive {
		return fmt.Errorf("coverage: every population layer has weight 0: nothing to weigh")
	}
	return nil
}

// MergeLayers joins the cells of several population layers, each sorted by
// H3 index (as Aggregate gives them), into one list: every cell populated
// in any layer, with Layers holding each layer's people (in the order of
// layers) and Population their sum. One backing array holds every cell's
// Layers.
func MergeLayers(layers [][]Cell) []Cell {
	if len(layers) == 1 {
		return layers[0]
	}
	n := 0
	for _, l := range layers {
		n += len(l)
	}
	k := len(layers)
	out := make([]Cell, 0, n)
	pos := make([]int, k)
	backing := make([]float64, 0, n*k)
	for {
		// The smallest next cell among the layers.
		best := -1
		for j, l := range layers {
			if pos[j] < len(l) && (best < 0 || l[pos[j]].H3 < layers[best][pos[best]].H3) {
				best = j
			}
		}
		if best < 0 {
			break
		}
		c := Cell{H3: layers[best][pos[best]].H3, Pos: layers[best][pos[best]].Pos}
		start := len(backing)
		for j, l := range layers {
			v := 0.0
			if pos[j] < len(l) && l[pos[j]].H3 == c.H3 {
				v = l[pos[j]].Population
				pos[j]++
			}
			backing = append(backing, v)
			c.Population += v
		}
		c.Layers = backing[start:len(backing):len(backing)]
		out = append(out, c)
	}
	return slices.Clip(out)
}

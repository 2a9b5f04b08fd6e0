package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/walkshed/walkshed/coverage"
)

// listFlag collects a flag given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// popLayer is one population layer of the study: its name and input.
type popLayer struct {
	name string
	in   popInput
}

// layerName reports whether s can name a layer: letters, digits, _ and -.
func layerName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127) {
			return false
		}
	}
	return true
}

// splitNamed reads NAME=VALUE; ok is false for a bare VALUE (a value whose
// text before '=' cannot name a layer, or a file that exists as written).
func splitNamed(v string, isFile bool) (name, value string, ok bool) {
	name, value, ok = strings.Cut(v, "=")
	if !ok || !layerName(name) {
		return "", v, false
	}
	if isFile {
		if _, err := os.Stat(v); err == nil {
			return "", v, false
		}
	}
	return name, value, true
}

// resolveLayers turns the --population, --pop-col and --weights flags into
// the study's layers. A bare --population FILE is the single layer
// "population", as before layers existed.
func (s *studyFlags) resolveLayers() error {
	if len(s.popSpecs) == 0 {
		return nil
	}
	var named, bare int
	for _, v := range s.popSpecs {
		name, file, ok := splitNamed(v, true)
		if !ok {
			bare++
			name = "population"
		} else {
			named++
		}
		if file == "" {
			return usagef("--population %s: no file after %s=", v, name)
		}
		for _, l := range s.layers {
			if l.name == name {
				if !ok {
					return usagef("--population %s: give each layer a name when there are several (--population residents=FILE --population workers=FILE)", v)
				}
				return usagef("--population: layer %q given twice", name)
			}
		}
		s.layers = append(s.layers, popLayer{name: name, in: popInput{path: file, where: s.pop.where, layer: s.pop.layer}})
	}
	if bare > 0 && named > 0 {
		return usagef("--population: name every layer (NAME=FILE) or give one bare FILE, not both")
	}
	for _, v := range s.popCols {
		name, col, ok := splitNamed(v, false)
		if !ok {
			if len(s.layers) > 1 {
				return usagef("--pop-col %s: with several layers, say which: --pop-col NAME=COLUMN", v)
			}
			s.layers[0].in.popCol = v
			continue
		}
		k := s.layerIndex(name)
		if k < 0 {
			if len(s.layers) == 1 && s.layers[0].name == "population" && bare == 1 {
				// A column name holding '=' for the one bare layer.
				s.layers[0].in.popCol = v
				continue
			}
			return usagef("--pop-col %s: no population layer %q (layers: %s)", v, name, s.layerNames())
		}
		if s.layers[k].in.popCol != "" {
			return usagef("--pop-col: layer %q given twice", name)
		}
		s.layers[k].in.popCol = col
	}
	if named > 0 {
		for k := range s.layers {
			s.layers[k].in.name = s.layers[k].name
		}
	}
	s.weights = make([]float64, len(s.layers))
	for i := range s.weights {
		s.weights[i] = 1
	}
	if s.weightText != "" {
		for part := range strings.SplitSeq(s.weightText, ",") {
			name, val, ok := strings.Cut(part, "=")
			name, val = strings.TrimSpace(name), strings.TrimSpace(val)
			if !ok {
				return usagef("--weights %s: want NAME=WEIGHT,…", part)
			}
			k := s.layerIndex(name)
			if k < 0 {
				return usagef("--weights %s: no population layer %q (layers: %s)", part, name, s.layerNames())
			}
			w, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return usagef("--weights %s: weight %q is not a number", part, val)
			}
			if !(w >= 0) || w > 1e12 {
				return usagef("--weights %s: a weight must be 0 or more", part)
			}
			s.weights[k] = w
		}
		positive := false
		for _, w := range s.weights {
			positive = positive || w > 0
		}
		if !positive {
			return usagef("--weights %s: every weight is 0", s.weightText)
		}
	}
	s.pop = s.layers[0].in
	return nil
}

func (s *studyFlags) layerIndex(name string) int {
	for i, l := range s.layers {
		if l.name == name {
			return i
		}
	}
	return -1
}

func (s *studyFlags) layerNames() string {
	n := make([]string, len(s.layers))
	for i, l := range s.layers {
		n[i] = l.name
	}
	return strings.Join(n, ", ")
}

// studyLayers are the layers the analysis keeps per cell: nil for a single
// population.
func (s *studyFlags) studyLayers() []coverage.Layer {
	if len(s.layers) < 2 {
		return nil
	}
	out := make([]coverage.Layer, len(s.layers))
	for i, l := range s.layers {
		out[i] = coverage.Layer{Name: l.name, Weight: s.weights[i]}
	}
	return out
}

// layerCells reads and aggregates every layer into cells, merged into one
// list. bar reports each step.
func (s *studyFlags) layerCells(res int, popTxt textOptions, bar *progress) ([]coverage.Cell, float64, error) {
	per := make([][]coverage.Cell, len(s.layers))
	total := 0.0
	for k, l := range s.layers {
		what := "population"
		if len(s.layers) > 1 {
			what = l.name
		}
		end := bar.step("reading " + what)
		pop, err := readPopulation(l.in, res, popTxt)
		end()
		if err != nil {
			return nil, 0, err
		}
		agg := "aggregating into H3"
		if len(s.layers) > 1 {
			agg = "aggregating " + what + " into H3"
		}
		end = bar.step(agg)
		cells, err := coverage.Aggregate(pop, res)
		end()
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", l.in.path, err)
		}
		if len(cells) == 0 && len(s.layers) == 1 {
			return nil, 0, fmt.Errorf("%s: no populated place in the file", l.in.path)
		}
		per[k] = cells
		total += pop.Total()
	}
	cells := coverage.MergeLayers(per)
	if len(cells) == 0 {
		return nil, 0, fmt.Errorf("%s: no populated place in any layer", s.layerNames())
	}
	return cells, total, nil
}

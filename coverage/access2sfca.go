package coverage

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// AccessMethod is a two-step floating catchment area (2SFCA) method: the
// supply of each station shared among the people within its catchment,
// then summed, for each cell, over the stations whose catchment holds it.
type AccessMethod int

const (
	// TwoStep is the 2SFCA of Luo and Wang (2003): every cell within a
	// station's threshold counts fully, every cell beyond it not at all.
	TwoStep AccessMethod = iota + 1
	// EnhancedTwoStep is E2SFCA with a Gaussian distance decay
	// (GaussianWeight) applied in both steps.
	EnhancedTwoStep
)

// String is the method's name on the command line: "2sfca" or "e2sfca".
func (m AccessMethod) String() string {
	switch m {
	case TwoStep:
		return "2sfca"
	case EnhancedTwoStep:
		return "e2sfca"
	}
	return fmt.Sprintf("AccessMethod(%d)", int(m))
}

// ParseAccessMethod reads "2sfca" or "e2sfca" (any case).
func ParseAccessMethod(s string) (AccessMethod, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "2sfca":
		return TwoStep, nil
	case "e2sfca":
		return EnhancedTwoStep, nil
	}
	return 0, fmt.Errorf("coverage: access method %q: want 2sfca or e2sfca", s)
}

// gaussFloor is exp(-½), the Gaussian at the threshold, which the weight
// subtracts so that it falls to exactly zero there.
var gaussFloor = math.Exp(-0.5)

// GaussianWeight is E2SFCA's distance decay at time t for threshold limit:
// G(t) = (exp(−½(t/limit)²) − exp(−½)) / (1 − exp(−½)) for t ≤ limit, 0
// beyond. It is 1 at the station and falls to 0 at the threshold.
func GaussianWeight(t, limit Minutes) float64 {
	if !(t <= limit) {
		return 0
	}
	r := float64(t) / float64(limit)
	return (math.Exp(-0.5*r*r) - gaussFloor) / (1 - gaussFloor)
}

// Weight is the share of a cell's demand at time t that a station with
// threshold limit counts: 1 or 0 for 2SFCA, GaussianWeight for E2SFCA.
func (m AccessMethod) Weight(t, limit Minutes) float64 {
	if m == EnhancedTwoStep {
		return GaussianWeight(t, limit)
	}
	if t <= limit {
		return 1
	}
	return 0
}

// Accessibility is every cell's supply per 1,000 people by method: with
// supply S_j the capacity of station j (1 when unknown), weights w from
// Weight, and each station's catchment its own tier's threshold (sr),
//
//	R_j = S_j / Σ_k w(t_kj) P_k        A_i = 1000 · Σ_j w(t_ij) R_j.
//
// A station with no weighted demand in its catchment gives R_j = 0. Sums run
// in ascending cell order within a station and ascending station order
// within a cell, so the answer is the same bit for bit on every run.
func Accessibility(ctx context.Context, tr *TierResult, sr *StationReach, method AccessMethod) ([]float64, error) {
	if method != TwoStep && method != EnhancedTwoStep {
		return nil, fmt.Errorf("coverage: access method %v unknown", method)
	}
	n := len(tr.Stations)
	ratio := make([]float64, n)
	err := parallelChunks(ctx, n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			cells, mins := sr.Cells(j)
			lim := sr.Limit[j]
			var demand float64
			for k, i := range cells {
				demand += method.Weight(mins[k], lim) * tr.Cells[i].Population
			}
			if demand > 0 {
				supply := tr.Stations[j].Capacity
				if supply == 0 {
					supply = 1
				}
				ratio[j] = supply / demand
			}
		}
	})
	if err != nil {
		return nil, err
	}
	access := make([]float64, len(tr.Cells))
	for j := range n {
		if ratio[j] == 0 {
			continue
		}
		cells, mins := sr.Cells(j)
		lim := sr.Limit[j]
		for k, i := range cells {
			access[i] += method.Weight(mins[k], lim) * ratio[j]
		}
	}
	for i := range access {
		access[i] *= 1000
	}
	return access, nil
}

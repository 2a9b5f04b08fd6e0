package coverage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// Tier is one level of a station hierarchy and its walking-time threshold:
// a cell is covered for the tier when a station serving it is at most
// Minutes away.
type Tier struct {
	Name    string
	Minutes Minutes
}

// String writes the tier as it is given on a command line: name=minutes.
func (t Tier) String() string {
	return t.Name + "=" + strconv.FormatFloat(float64(t.Minutes), 'g', -1, 64)
}

// TierSpec is a station hierarchy, its tiers listed from the top (district,
// subdistrict, neighbourhood). By default tiers are inclusive: a station
// serves its own tier and every tier below it, as a subdistrict centre also
// serves its neighbourhood. With Separate, each tier is served by its own
// stations alone.
type TierSpec struct {
	Tiers    []Tier
	Separate bool
}

// OneTier is the hierarchy of a study without tiers: one unnamed tier with
// threshold m, served by every station whatever its Tier field says.
func OneTier(m Minutes) TierSpec { return TierSpec{Tiers: []Tier{{Minutes: m}}} }

// TierSpecError is a tier specification that cannot be used. Part is the
// offending part as written ("district=abc"), or the whole text when the
// problem is not in one part.
type TierSpecError struct {
	Part   string
	Reason string
}

func (e *TierSpecError) Error() string {
	return fmt.Sprintf("coverage: tiers %q: %s", e.Part, e.Reason)
}

// ErrUnknownTier is wrapped by the StationError of a station whose tier is
// not in the tier spec.
var ErrUnknownTier = errors.New("tier not in the tier spec")

// ErrCapacity is wrapped by the StationError of a station whose capacity is
// negative or not a finite number.
var ErrCapacity = errors.New("capacity must be zero (unknown) or a positive number")

// StationError is a station an analysis cannot use, named by its position
// in the station list (Index, from 0) and its id.
type StationError struct {
	Index int
	ID    string
	Err   error
}

func (e *StationError) Error() string {
	return fmt.Sprintf("coverage: station %d (id %q): %v", e.Index+1, e.ID, e.Err)
}

func (e *StationError) Unwrap() error { return e.Err }

// ParseTierSpec reads tiers written as "district=30,subdistrict=15,
// neighbourhood=10": names from the top with each one's threshold in
// minutes. Spaces around names and numbers are ignored. The result is
// inclusive; set Separate for separate tiers.
func ParseTierSpec(s string) (TierSpec, error) {
	var spec TierSpec
	if strings.TrimSpace(s) == "" {
		return spec, &TierSpecError{Part: s, Reason: "no tiers (want name=minutes,…)"}
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			return TierSpec{}, &TierSpecError{Part: s, Reason: "an empty tier between commas"}
		}
		name, val, ok := strings.Cut(part, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok {
			return TierSpec{}, &TierSpecError{Part: part, Reason: "want name=minutes"}
		}
		m, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return TierSpec{}, &TierSpecError{Part: part, Reason: fmt.Sprintf("minutes %q is not a number", val)}
		}
		t := Tier{Name: name, Minutes: Minutes(m)}
		if reason := checkTier(t, seen, true); reason != "" {
			return TierSpec{}, &TierSpecError{Part: part, Reason: reason}
		}
		spec.Tiers = append(spec.Tiers, t)
	}
	return spec, nil
}

// checkTier is the reason tier t cannot be used, or "". seen holds the
// names met so far. An unnamed tier is allowed only alone (OneTier).
func checkTier(t Tier, seen map[string]bool, named bool) string {
	switch {
	case t.Name == "" && named:
		return "tier without a name"
	case strings.ContainsAny(t.Name, ",="):
		return "a tier name cannot hold ',' or '='"
	case seen[t.Name]:
		return fmt.Sprintf("tier %q listed twice", t.Name)
	case !(t.Minutes > 0) || !t.Minutes.Reached():
		return fmt.Sprintf("threshold %v minutes must be a positive number", float64(t.Minutes))
	}
	seen[t.Name] = true
	return ""
}

// Validate checks that the spec has tiers, with distinct names and
// positive finite thresholds.
func (s TierSpec) Validate() error {
	if len(s.Tiers) == 0 {
		return &TierSpecError{Reason: "no tiers"}
	}
	seen := map[string]bool{}
	for _, t := range s.Tiers {
		if reason := checkTier(t, seen, len(s.Tiers) > 1); reason != "" {
			return &TierSpecError{Part: t.String(), Reason: reason}
		}
	}
	return nil
}

// Index is the position of the tier named name in s.Tiers, or -1. The
// unnamed tier of OneTier takes every name.
func (s TierSpec) Index(name string) int {
	if len(s.Tiers) == 1 && s.Tiers[0].Name == "" {
		return 0
	}
	for i, t := range s.Tiers {
		if t.Name == name {
			return i
		}
	}
	return -1
}

// Serves reports whether a station of tier own (an index into s.Tiers)
// serves tier t.
func (s TierSpec) Serves(own, t int) bool {
	if s.Separate {
		return own == t
	}
	return own <= t
}

// names lists the tiers' names for messages.
func (s TierSpec) names() string {
	n := make([]string, len(s.Tiers))
	for i, t := range s.Tiers {
		n[i] = t.Name
	}
	return strings.Join(n, ", ")
}

// StationTiers gives each station's own tier (an index into spec.Tiers),
// and checks its capacity. The first station that cannot be used comes
// back as a *StationError wrapping ErrUnknownTier or ErrCapacity.
func StationTiers(stations []Station, spec TierSpec) ([]int32, error) {
	own := make([]int32, len(stations))
	for j, st := range stations {
		k := spec.Index(st.Tier)
		if k < 0 {
			return nil, &StationError{Index: j, ID: st.ID,
				Err: fmt.Errorf("%w: %q is not one of %s", ErrUnknownTier, st.Tier, spec.names())}
		}
		if c := st.Capacity; !(c >= 0) || math.IsInf(c, 1) {
			return nil, &StationError{Index: j, ID: st.ID, Err: fmt.Errorf("%w, not %v", ErrCapacity, c)}
		}
		own[j] = int32(k)
	}
	return own, nil
}

// TierResult is the coverage of every tier of a hierarchy.
type TierResult struct {
	Spec        TierSpec
	Cells       []Cell
	Stations    []Station
	StationTier []int32        // each station's own tier, an index into Spec.Tiers
	Tiers       []TierCoverage // one per tier, in Spec order
	// Full counts the cells covered for every tier ("fully served") in
	// CoveredPopulation and CoveredCells, and in UnreachedCells the cells
	// that some tier's stations do not reach at all.
	Full Totals
}

// TierCoverage is one tier's walking times and totals.
type TierCoverage struct {
	Tier     Tier
	Stations int // stations serving the tier
	// Access is each cell's time to the nearest station serving the tier
	// (equal times: the first listed); Station indexes the full station
	// list.
	Access []Access
	Totals Totals
}

// Covered reports whether cell i is within tier t's threshold of a station
// serving t.
func (r *TierResult) Covered(t, i int) bool {
	return r.Tiers[t].Access[i].Minutes <= r.Tiers[t].Tier.Minutes // Unreached is +Inf
}

// FullyServed reports whether cell i is covered for every tier.
func (r *TierResult) FullyServed(i int) bool {
	for t := range r.Tiers {
		if !r.Covered(t, i) {
			return false
		}
	}
	return true
}

// AnalyzeTiers gives every cell, for every tier of spec, the walking time
// to the nearest station serving that tier, with one Nearest call per tier
// over that tier's serving stations. reach must be bound to cells. Every
// threshold must be within reach's bound (a network model cut off sooner
// could not tell a covered cell from an uncovered one); every station's
// tier must be in spec.
func AnalyzeTiers(ctx context.Context, cells []Cell, stations []Station, spec TierSpec, reach Reach) (*TierResult, error) {
	return AnalyzeTiersWith(ctx, cells, stations, spec, reach, nil)
}

// AnalyzeTiersWith is AnalyzeTiers when the bottom tier's walking times
// are already known (a result's own times: every station serves the
// bottom tier when the tiers are inclusive, and a result kept for the
// bottom tier of separate ones): bottom is used as the bottom tier's
// Access, not searched again. A nil bottom searches it as AnalyzeTiers.
func AnalyzeTiersWith(ctx context.Context, cells []Cell, stations []Station, spec TierSpec, reach Reach, bottom []Access) (*TierResult, error) {
	if bottom != nil && len(bottom) != len(cells) {
		return nil, fmt.Errorf("coverage: %d bottom-tier walking times for %d cells", len(bottom), len(cells))
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	for _, t := range spec.Tiers {
		if b := reach.Bound(); t.Minutes > b {
			return nil, &TierSpecError{Part: t.String(), Reason: fmt.Sprintf(
				"threshold beyond the %s model's bound of %v minutes", reach.Mode(), float64(b))}
		}
	}
	own, err := StationTiers(stations, spec)
	if err != nil {
		return nil, err
	}
	access := make([][]Access, len(spec.Tiers))
	for t, tier := range spec.Tiers {
		if t == len(spec.Tiers)-1 && bottom != nil {
			access[t] = bottom
			continue
		}
		var idx []int32
		var pts []orb.Point
		for j, st := range stations {
			if spec.Serves(int(own[j]), t) {
				idx = append(idx, int32(j))
				pts = append(pts, st.Pos)
			}
		}
		acc := make([]Access, len(cells))
		if len(idx) == 0 {
			for i := range acc {
				acc[i] = NoAccess
			}
		} else if err := reach.Nearest(ctx, pts, nil, acc); err != nil {
			return nil, fmt.Errorf("coverage: walking times for tier %q: %w", tier.Name, err)
		}
		for i, a := range acc {
			if a.Station >= 0 {
				acc[i].Station = idx[a.Station]
			}
		}
		access[t] = acc
	}
	return NewTierResult(spec, cells, stations, access)
}

// NewTierResult gathers every tier's walking times (access[t][i]: cell i's
// time to the nearest station serving tier t, Station indexing stations)
// into a TierResult with its totals, as AnalyzeTiers does after its
// searches: for walking times kept up to date some other way.
func NewTierResult(spec TierSpec, cells []Cell, stations []Station, access [][]Access) (*TierResult, error) {
	own, err := StationTiers(stations, spec)
	if err != nil {
		return nil, err
	}
	if len(access) != len(spec.Tiers) {
		return nil, fmt.Errorf("coverage: walking times for %d tiers, the spec has %d", len(access), len(spec.Tiers))
	}
	r := &TierResult{
		Spec:        spec,
		Cells:       cells,
		Stations:    stations,
		StationTier: own,
		Tiers:       make([]TierCoverage, len(spec.Tiers)),
	}
	// A cell is fully served unless some tier leaves it uncovered.
	notFull := make([]bool, len(cells))
	unreached := make([]bool, len(cells))
	for t, tier := range spec.Tiers {
		acc := access[t]
		if len(acc) != len(cells) {
			return nil, fmt.Errorf("coverage: tier %q: %d walking times for %d cells", tier.Name, len(acc), len(cells))
		}
		n := 0
		for _, k := range own {
			if spec.Serves(int(k), t) {
				n++
			}
		}
		var tot Totals
		for i, a := range acc {
			p := cells[i].Population
			tot.Population += p
			tot.Cells++
			if a.Minutes <= tier.Minutes { // Unreached is +Inf
				tot.CoveredPopulation += p
				tot.CoveredCells++
			} else {
				notFull[i] = true
			}
			if !a.Minutes.Reached() {
				tot.UnreachedCells++
				unreached[i] = true
			}
		}
		r.Tiers[t] = TierCoverage{Tier: tier, Stations: n, Access: acc, Totals: tot}
	}
	for i, c := range cells {
		r.Full.Population += c.Population
		r.Full.Cells++
		if !notFull[i] {
			r.Full.CoveredPopulation += c.Population
			r.Full.CoveredCells++
		}
		if unreached[i] {
			r.Full.UnreachedCells++
		}
	}
	return r, nil
}

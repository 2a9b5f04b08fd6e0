package site

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// CostColumns names the columns of a long-form cost table.
type CostColumns struct {
	Demand string // demand id
	Site   string // site id
	Cost   string // travel cost (metres, minutes: the unit of the radius)
	Weight string // demand weight (population)
}

// DefaultCostColumns read spopt's San Francisco table as it is.
var DefaultCostColumns = CostColumns{Demand: "DestinationName", Site: "name", Cost: "distance", Weight: "demand"}

// CostTableStats says what a cost table held.
type CostTableStats struct {
	Pairs       int // data rows read
	PairsWithin int // rows with cost <= radius
	Demands     int // distinct demand ids
	Sites       int // distinct site ids
	Unreached   int // demand ids with no site within the radius
}

// ReadCostTable reads a long-form cost table (one row per demand–site pair)
// and keeps the pairs with cost <= radius. A pair absent from the table
// means the site does not reach the demand. Every demand id counts in the
// total, reached or not. Site ids become the candidates, in order of first
// appearance; those reaching nothing are left out of Problem.Sites.
func ReadCostTable(path string, cols CostColumns, radius float64) (*Problem, CostTableStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, CostTableStats{}, fmt.Errorf("site: %w", err)
	}
	defer f.Close()
	return ParseCostTable(f, path, cols, radius)
}

// ParseCostTable is ReadCostTable on a reader; name is used in errors.
func ParseCostTable(r io.Reader, name string, cols CostColumns, radius float64) (*Problem, CostTableStats, error) {
	var st CostTableStats
	if !(radius >= 0) || math.IsInf(radius, 1) {
		return nil, st, fmt.Errorf("site: radius %v must be a non-negative number", radius)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, st, fmt.Errorf("site: %s: empty cost table", name)
	}
	if err != nil {
		return nil, st, fmt.Errorf("site: %s: %w", name, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	idx := func(col string) int {
		for i, h := range header {
			if strings.TrimSpace(h) == col {
				return i
			}
		}
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), col) {
				return i
			}
		}
		return -1
	}
	want := []struct{ role, col string }{{"demand", cols.Demand}, {"site", cols.Site}, {"cost", cols.Cost}, {"weight", cols.Weight}}
	var at [4]int
	var missing []string
	for k, w := range want {
		at[k] = idx(w.col)
		if at[k] < 0 {
			missing = append(missing, fmt.Sprintf("%s column %q", w.role, w.col))
		}
	}
	if len(missing) > 0 {
		return nil, st, fmt.Errorf("site: %s:1: missing %s (header: %s)", name, strings.Join(missing, ", "), strings.Join(header, ","))
	}
	need := max(at[0], at[1], at[2], at[3]) + 1

	demandOf := map[string]int32{}
	siteOf := map[string]int32{}
	var siteIDs []string
	var weight []float64
	var weightLine []int
	var pairs [][2]int32 // (site, demand) within the radius
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, st, fmt.Errorf("site: %s:%d: %w", name, pe.Line, err)
			}
			return nil, st, fmt.Errorf("site: %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) < need {
			return nil, st, fmt.Errorf("site: %s:%d: %d fields, want at least %d", name, line, len(rec), need)
		}
		st.Pairs++
		did, sid := strings.TrimSpace(rec[at[0]]), strings.TrimSpace(rec[at[1]])
		if did == "" || sid == "" {
			return nil, st, fmt.Errorf("site: %s:%d: empty demand or site id", name, line)
		}
		cost, err := strconv.ParseFloat(strings.TrimSpace(rec[at[2]]), 64)
		if err != nil || math.IsNaN(cost) {
			return nil, st, fmt.Errorf("site: %s:%d: cost %q is not a number", name, line, rec[at[2]])
		}
		if cost < 0 {
			return nil, st, fmt.Errorf("site: %s:%d: negative cost %v", name, line, cost)
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(rec[at[3]]), 64)
		if err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, st, fmt.Errorf("site: %s:%d: weight %q is not a number", name, line, rec[at[3]])
		}
		if w < 0 {
			return nil, st, fmt.Errorf("site: %s:%d: negative weight %v", name, line, w)
		}
		d, ok := demandOf[did]
		if !ok {
			d = int32(len(weight))
			if d < 0 || len(weight) >= math.MaxInt32 {
				return nil, st, fmt.Errorf("site: %s:%d: too many demand ids", name, line)
			}
			demandOf[did] = d
			weight = append(weight, w)
			weightLine = append(weightLine, line)
		} else if weight[d] != w {
			return nil, st, fmt.Errorf("site: %s:%d: demand %q has weight %v, but %v on line %d", name, line, did, w, weight[d], weightLine[d])
		}
		s, ok := siteOf[sid]
		if !ok {
			s = int32(len(siteIDs))
			if len(siteIDs) >= math.MaxInt32 {
				return nil, st, fmt.Errorf("site: %s:%d: too many site ids", name, line)
			}
			siteOf[sid] = s
			siteIDs = append(siteIDs, sid)
		}
		if cost <= radius {
			st.PairsWithin++
			pairs = append(pairs, [2]int32{s, d})
		}
	}
	if st.Pairs == 0 {
		return nil, st, fmt.Errorf("site: %s: no pairs in the cost table", name)
	}
	st.Demands, st.Sites = len(weight), len(siteIDs)

	slices.SortFunc(pairs, func(a, b [2]int32) int {
		if a[0] != b[0] {
			return int(a[0] - b[0])
		}
		return int(a[1] - b[1])
	})
	pairs = slices.Compact(pairs)
	reached := make([]bool, len(weight))
	p := &Problem{Weight: weight, Considered: len(siteIDs), Start: []int{0}}
	for k := 0; k < len(pairs); {
		s := pairs[k][0]
		n := len(p.Demand)
		for ; k < len(pairs) && pairs[k][0] == s; k++ {
			d := pairs[k][1]
			reached[d] = true
			if weight[d] > 0 {
				p.Demand = append(p.Demand, d)
			}
		}
		if len(p.Demand) > n {
			p.Sites = append(p.Sites, Candidate{ID: siteIDs[s]})
			p.Input = append(p.Input, int(s))
			p.Start = append(p.Start, len(p.Demand))
		}
	}
	for _, r := range reached {
		if !r {
			st.Unreached++
		}
	}
	p.finish()
	return p, st, nil
}

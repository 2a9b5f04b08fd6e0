package site

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/coverage"
)

// poaCostTable writes Porto Alegre's res-9 grid as a long-form cost table:
// every populated cell (1,124) a demand, every grid cell (1,227) a
// candidate site at its centre (the file's lon, lat), the cost the
// great-circle distance in metres, pairs beyond maxCost left out. No
// existing stations: the network is planned from scratch.
func poaCostTable(tb testing.TB, maxCost float64) []byte {
	tb.Helper()
	f, err := os.Open(filepath.Join(sharedData(tb, "porto_alegre"), "poa_hexgrid.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	type cell struct {
		id  string
		pos orb.Point
		pop float64
	}
	var cells []cell
	for _, r := range recs[1:] {
		lon, _ := strconv.ParseFloat(r[col["lon"]], 64)
		lat, _ := strconv.ParseFloat(r[col["lat"]], 64)
		pop, _ := strconv.ParseFloat(r[col["population"]], 64)
		cells = append(cells, cell{r[col["id"]], orb.Point{lon, lat}, pop})
	}
	var b bytes.Buffer
	b.WriteString("demand,site,cost,weight\n")
	for _, d := range cells {
		if !(d.pop > 0) {
			continue
		}
		for _, s := range cells {
			if c := float64(coverage.Distance(d.pos, s.pos)); c <= maxCost {
				fmt.Fprintf(&b, "%s,%s,%.3f,%s\n", d.id, s.id, c, strconv.FormatFloat(d.pop, 'f', -1, 64))
			}
		}
	}
	return b.Bytes()
}

var poaCols = CostColumns{Demand: "demand", Site: "site", Cost: "cost", Weight: "weight"}

func poaProblem(tb testing.TB) (*Problem, CostTableStats) {
	tb.Helper()
	p, st, err := ParseCostTable(bytes.NewReader(poaCostTable(tb, 1500)), "poa", poaCols, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	return p, st
}

// TestPortoAlegreCostTableOptimal: Porto Alegre planned from scratch (no
// existing stations), 1,124 populated cells as demand, every grid cell as a
// candidate, 1,000 m, in cost-table mode: the search proves CBC's optima
// (399,099 people for 10 sites, 812,935, everyone, for 50), and the plans'
// sites cover that many by a count over the table's distances.
func TestPortoAlegreCostTableOptimal(t *testing.T) {
	p, st := poaProblem(t)
	if st.Demands != 1124 || p.Total != 812935 {
		t.Fatalf("%d demands of %v people, want 1,124 of 812,935", st.Demands, p.Total)
	}
	for _, c := range []struct {
		k    int
		want float64
	}{{10, 399099}, {50, 812935}} {
		plan, err := p.SolveK(context.Background(), c.k, Options{Exact: true, TimeLimit: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		// An independent count: the demand within 1,000 m of a site.
		got := 0.0
		for i, w := range p.Weight {
			for _, s := range plan.Sites {
				if slices.Contains(p.Set(s.Site), int32(i)) {
					got += w
					break
				}
			}
		}
		if plan.Objective != c.want || got != c.want || !plan.Optimal || plan.UpperBound-plan.Objective > 1e-6*c.want {
			t.Fatalf("K=%d: objective %v (counted %v), bound %v, optimal %v; CBC's optimum is %v", c.k, plan.Objective, got, plan.UpperBound, plan.Optimal, c.want)
		}
		t.Logf("K=%d: %v proven optimal in %.2f s, %d nodes", c.k, plan.Objective, plan.Seconds, plan.Nodes)
	}
}

// BenchmarkPortoAlegreCostTable: the two Porto Alegre cost-table instances
// solved to proven optimality (gap 0).
func BenchmarkPortoAlegreCostTable(b *testing.B) {
	p, _ := poaProblem(b)
	for _, k := range []int{10, 50} {
		b.Run(fmt.Sprintf("K%d", k), func(b *testing.B) {
			var plan *Plan
			for b.Loop() {
				var err error
				plan, err = p.SolveK(context.Background(), k, Options{Exact: true, TimeLimit: time.Minute})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(plan.Objective, "objective")
			b.ReportMetric(plan.UpperBound, "bound")
			b.ReportMetric(float64(plan.Nodes), "nodes")
			b.ReportMetric(map[bool]float64{true: 1}[plan.Optimal], "optimal")
		})
	}
}

// BenchmarkVersusCBC solves each instance with the search and, when Debian's
// cbc is installed, with CBC on the same LP within the same time limit
// (WALKSHED_CBC_LIMIT, default 60s), and prints both objectives, bounds
// and times.
func BenchmarkVersusCBC(b *testing.B) {
	limit := time.Minute
	if v := os.Getenv("WALKSHED_CBC_LIMIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatal(err)
		}
		limit = d
	}
	poa, _ := poaProblem(b)
	cases := []struct {
		name string
		p    *Problem
		k    int
	}{
		{"PortoAlegreK10", poa, 10},
		{"PortoAlegreK50", poa, 50},
		{"Dense5000K10", denseInstance(5, 5000, 2000, 600), 10},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var plan *Plan
			var r cbcResult
			for b.Loop() {
				var err error
				plan, err = c.p.SolveK(context.Background(), c.k, Options{Exact: true, TimeLimit: limit})
				if err != nil {
					b.Fatal(err)
				}
				if cbc, err := exec.LookPath("cbc"); err == nil {
					r = runCBC(b, cbc, c.p, c.k, limit)
				} else {
					b.Log("cbc not installed (apt-get install coinor-cbc): walkshed alone")
					r = cbcResult{objective: math.NaN(), bound: math.NaN(), seconds: math.NaN()}
				}
			}
			b.Logf("%s: walkshed objective %.0f bound %.1f (%s) %.2f s; CBC objective %.0f bound %.1f (%s) %.2f s",
				c.name, plan.Objective, plan.UpperBound, map[bool]string{true: "optimal", false: "gap"}[plan.Optimal], plan.Seconds,
				r.objective, r.bound, r.status, r.seconds)
			b.ReportMetric(plan.Objective, "objective")
			b.ReportMetric(plan.UpperBound, "bound")
			b.ReportMetric(plan.Seconds, "walkshed-s")
			b.ReportMetric(r.objective, "cbc-objective")
			b.ReportMetric(r.bound, "cbc-bound")
			b.ReportMetric(r.seconds, "cbc-s")
		})
	}
}

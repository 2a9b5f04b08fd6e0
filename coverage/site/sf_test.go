package site

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/walkshed/walkshed/coverage/testenv"
)

// sharedData is ../shared/data/<sub> beside the module root, or a skip.
func sharedData(t testing.TB, sub string) string { return testenv.SharedData(t, sub) }

func sfTable(t testing.TB) string {
	return filepath.Join(sharedData(t, "sf_spopt"), "SF_network_distance_candidateStore_16_censusTract_205_new.csv")
}

// spopt's published MCLP optimum: p = 4, S = 5000 m covers 875,247 people,
// 184 of 205 tracts, with Store_2, 11, 12, 15 (unique).
func TestSanFranciscoAdd4(t *testing.T) {
	p, st, err := ReadCostTable(sfTable(t), DefaultCostColumns, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pairs != 3280 || st.Demands != 205 || st.Sites != 16 {
		t.Fatalf("stats %+v, want 3280 pairs, 205 demands, 16 sites", st)
	}
	if p.Total != 955113 {
		t.Fatalf("total %v, want 955,113", p.Total)
	}
	plan, err := p.SolveK(context.Background(), 4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Objective != 875247 {
		t.Fatalf("objective %v, want 875,247", plan.Objective)
	}
	var ids []string
	for _, s := range plan.Sites {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	if want := []string{"Store_11", "Store_12", "Store_15", "Store_2"}; !slices.Equal(ids, want) {
		t.Fatalf("sites %v, want %v", ids, want)
	}
	// Tracts covered.
	s := newState(p)
	for _, ps := range plan.Sites {
		s.add(ps.Site)
	}
	n := 0
	for _, c := range s.cnt {
		if c > 0 {
			n++
		}
	}
	if n != 184 {
		t.Fatalf("%d tracts covered, want 184", n)
	}
	// The LP relaxation is integral here: its value for 4 sites is the
	// published optimum, and the bound must equal it.
	lp4, err := lpValue(p.Weight, problemSets(p), 4)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(lp4-875247) > 1e-6 {
		t.Fatalf("LP relaxation %v, want 875,247", lp4)
	}
	checkBound(t, "bound", plan.UpperBound, lp4)
	if plan.Gap > 1e-9 {
		t.Fatalf("gap %v, want 0 (the plan is optimal and the LP integral)", plan.Gap)
	}
	t.Logf("objective %.0f bound %.1f gap %.4f%% swaps %d iterations %d", plan.Objective, plan.UpperBound, 100*plan.Gap, plan.Swaps, plan.Iterations)
}

// spopt's published LSCP optimum: 8 sites cover all 205 tracts.
func TestSanFranciscoTarget1(t *testing.T) {
	p, _, err := ReadCostTable(sfTable(t), DefaultCostColumns, 5000)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.SolveTarget(context.Background(), 1.0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Reached || len(plan.Sites) != 8 || plan.Covered != p.Total {
		t.Fatalf("reached %v with %d sites covering %v of %v; want 8 sites covering all", plan.Reached, len(plan.Sites), plan.Covered, p.Total)
	}
	// The LP relaxation (solved here by gonum) covers 950,428 with 7 sites
	// and everyone with 8, so the LP-derived minimum is 8: the plan is
	// proved optimal.
	sets := problemSets(p)
	for _, c := range []struct {
		k    int
		want float64
	}{{7, 950428}, {8, 955113}} {
		v, err := lpValue(p.Weight, sets, c.k)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(v-c.want) > 1e-6 {
			t.Fatalf("LP relaxation with %d sites %v, want %v", c.k, v, c.want)
		}
	}
	if plan.MinSites != 8 {
		t.Fatalf("lower bound %d sites, want 8 (the LP with 7 sites covers 950,428 of 955,113)", plan.MinSites)
	}
	t.Logf("sites %d, lower bound %d, status %v", len(plan.Sites), plan.MinSites, plan.Status)
}

package site

import (
	"strings"
	"testing"
)

func TestParseCostTableErrors(t *testing.T) {
	cols := DefaultCostColumns
	const head = "distance,name,DestinationName,demand\n"
	cases := []struct {
		name, in, want string
	}{
		{"missing columns", "dist,name,DestinationName\n1,a,b\n", `t.csv:1: missing cost column "distance", weight column "demand"`},
		{"non-numeric cost", head + "1,s1,d1,10\nabc,s2,d1,10\n", `t.csv:3: cost "abc" is not a number`},
		{"NaN cost", head + "NaN,s1,d1,10\n", `t.csv:2: cost "NaN" is not a number`},
		{"negative cost", head + "1,s1,d1,10\n2,s1,d2,5\n-3,s2,d2,5\n", "t.csv:4: negative cost -3"},
		{"two weights", head + "1,s1,d1,10\n2,s2,d1,11\n", `t.csv:3: demand "d1" has weight 11, but 10 on line 2`},
		{"non-numeric weight", head + "1,s1,d1,ten\n", `t.csv:2: weight "ten" is not a number`},
		{"negative weight", head + "1,s1,d1,-1\n", "t.csv:2: negative weight -1"},
		{"short row", head + "1,s1\n", "t.csv:2: 2 fields, want at least 4"},
		{"empty id", head + "1,,d1,3\n", "t.csv:2: empty demand or site id"},
		{"empty", "", "t.csv: empty cost table"},
		{"no pairs", head, "t.csv: no pairs"},
		{"bad quoting", head + "1,\"s1,d1,3\n", "t.csv:2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ParseCostTable(strings.NewReader(c.in), "t.csv", cols, 10)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.HasPrefix(err.Error(), "site: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseCostTable(t *testing.T) {
	// d3 is reached by no site within the radius but counts in the total;
	// s3 reaches nothing and is not a useful candidate; the pair s1–d1
	// repeats; column names differ in case and order.
	in := "\ufeffSITE,Dem,w,Cost\n" +
		"s1,d1,10,5\n" +
		"s1,d2,20,9.5\n" +
		"s2,d2,20,1\n" +
		"s2,d3,40,11\n" +
		"s3,d3,40,50\n" +
		"s1,d1,10,2\n" +
		"\n"
	p, st, err := ParseCostTable(strings.NewReader(in), "t.csv", CostColumns{Demand: "dem", Site: "site", Cost: "cost", Weight: "W"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := CostTableStats{Pairs: 6, PairsWithin: 4, Demands: 3, Sites: 3, Unreached: 1}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	if p.Total != 70 || p.Reachable != 30 || p.NumSites() != 2 {
		t.Fatalf("total %v reachable %v sites %d", p.Total, p.Reachable, p.NumSites())
	}
	if p.Sites[0].ID != "s1" || len(p.Set(0)) != 2 || p.Sites[1].ID != "s2" || len(p.Set(1)) != 1 {
		t.Fatalf("sets %+v %v", p.Sites, p.Demand)
	}
}

func FuzzParseCostTable(f *testing.F) {
	f.Add("distance,name,DestinationName,demand\n1,s1,d1,10\n2,s2,d1,10\n", 1.5)
	f.Add("distance,name,DestinationName,demand\n1e400,s1,d1,1e-300\n", 0.0)
	f.Add("name,distance,demand,DestinationName,x\n\"s,1\",3,4,d,\n", 5.0)
	f.Fuzz(func(t *testing.T, in string, radius float64) {
		p, st, err := ParseCostTable(strings.NewReader(in), "f.csv", DefaultCostColumns, radius)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "site: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if st.PairsWithin > st.Pairs || len(p.Weight) != st.Demands || p.NumSites() > st.Sites {
			t.Fatalf("inconsistent stats %+v", st)
		}
		for j := range p.Sites {
			set := p.Set(j)
			if len(set) == 0 {
				t.Fatalf("site %d reaches nothing", j)
			}
			for k, i := range set {
				if int(i) >= len(p.Weight) || (k > 0 && set[k-1] >= i) {
					t.Fatalf("bad set %v", set)
				}
			}
		}
		if p.Reachable > p.Total*(1+1e-12) {
			t.Fatalf("reachable %v above total %v", p.Reachable, p.Total)
		}
	})
}

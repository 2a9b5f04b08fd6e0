package site

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/coverage"
)

// bruteReach is a straight-line reach by brute force: every cell's
// haversine distance, walked at speed. It calls fn in reverse cell order
// on purpose, so that Build's sorting is exercised.
type bruteReach struct {
	cells []coverage.Cell
	speed coverage.Speed
}

func (b bruteReach) Mode() string            { return "brute" }
func (b bruteReach) Bound() coverage.Minutes { return coverage.Unreached }
func (b bruteReach) Nearest(ctx context.Context, st []orb.Point, cells []int32, out []coverage.Access) error {
	for i, c := range b.cells {
		a := coverage.NoAccess
		for s, p := range st {
			if m := b.speed.Walk(coverage.Distance(p, c.Pos)); a.Better(m, int32(s)) {
				a = coverage.Access{Minutes: m, Station: int32(s)}
			}
		}
		out[i] = a
	}
	return nil
}
func (b bruteReach) Within(ctx context.Context, p orb.Point, limit coverage.Minutes, fn func(int32, coverage.Minutes)) error {
	for i := len(b.cells) - 1; i >= 0; i-- {
		if m := b.speed.Walk(coverage.Distance(p, b.cells[i].Pos)); m <= limit {
			fn(int32(i), m)
		}
	}
	return nil
}

var _ coverage.Reach = bruteReach{}

// randomCells puts n populated res-10 cells (n ≤ 800) in a 4 km square.
func randomCells(seed uint64, n int) []coverage.Cell {
	r := rand.New(rand.NewPCG(seed, 11))
	seen := map[uint64]bool{}
	var cells []coverage.Cell
	for len(cells) < n {
		p := orb.Point{121.40 + r.Float64()*0.04, 31.20 + r.Float64()*0.036}
		c, _ := coverage.CellOf(p, 10)
		if seen[uint64(c)] {
			continue
		}
		seen[uint64(c)] = true
		cells = append(cells, coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: float64(r.IntN(300))})
	}
	slices.SortFunc(cells, func(a, b coverage.Cell) int { return cmp.Compare(a.H3, b.H3) })
	return cells
}

func TestBuildMatchesBruteForce(t *testing.T) {
	cells := randomCells(3, 400)
	reach := bruteReach{cells, 4}
	covered := make([]bool, len(cells))
	for i := range covered {
		covered[i] = i%5 == 0
	}
	cands, err := DefaultCandidates(cells)
	if err != nil {
		t.Fatal(err)
	}
	// Every candidate is a populated cell or its neighbour, once.
	if len(cands) < len(cells) {
		t.Fatalf("%d candidates for %d cells", len(cands), len(cells))
	}
	p, err := Build(context.Background(), reach, cells, covered, cands, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	j := 0
	for k, c := range cands {
		var want []int32
		for i, cell := range cells {
			if !covered[i] && cell.Population > 0 && coverage.Distance(c.Pos, cell.Pos) <= 333.3333333333 {
				want = append(want, int32(i))
			}
		}
		if len(want) == 0 {
			continue
		}
		if j >= p.NumSites() || p.Input[j] != k {
			t.Fatalf("candidate %d missing from the problem", k)
		}
		if !slices.Equal(p.Set(j), want) {
			t.Fatalf("candidate %d reaches %v, want %v", k, p.Set(j), want)
		}
		j++
	}
	if j != p.NumSites() {
		t.Fatalf("%d useful candidates, want %d", p.NumSites(), j)
	}
}

// TestDeterminism: the same input twice, and with one worker or two, gives
// the same problem and the same plan.
func TestDeterminism(t *testing.T) {
	cells := randomCells(9, 700)
	reach := coverage.NewCrow(cells, 4)
	cands, _ := DefaultCandidates(cells)
	covered := make([]bool, len(cells))
	for i := range covered {
		covered[i] = i%3 == 0
	}
	run := func(procs int) (*Problem, *Plan, *Plan) {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		p, err := Build(context.Background(), reach, cells, covered, cands, 3, func(int, int) {})
		if err != nil {
			t.Fatal(err)
		}
		a, err := p.SolveK(context.Background(), 12, Options{MinSpacing: 150})
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.SolveTarget(context.Background(), 0.9, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return p, a, b
	}
	p1, a1, b1 := run(1)
	p2, a2, b2 := run(2)
	p3, a3, b3 := run(2)
	if !reflect.DeepEqual(p1, p2) || !reflect.DeepEqual(p2, p3) {
		t.Fatal("problems differ between runs")
	}
	for _, pair := range [][2]*Plan{{a1, a2}, {a2, a3}, {b1, b2}, {b2, b3}} {
		x, y := *pair[0], *pair[1]
		if !reflect.DeepEqual(x.Sites, y.Sites) || x.Objective != y.Objective || x.UpperBound != y.UpperBound {
			t.Fatalf("plans differ: %v %v / %v %v", x.Objective, x.UpperBound, y.Objective, y.UpperBound)
		}
	}
	if len(a1.Sites) == 0 || len(b1.Sites) == 0 {
		t.Fatal("empty plans")
	}
}

func TestWriters(t *testing.T) {
	cells := randomCells(5, 300)
	reach := coverage.NewCrow(cells, 4)
	cands, _ := DefaultCandidates(cells)
	p, err := Build(context.Background(), reach, cells, nil, cands, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.SolveK(context.Background(), 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSitesCSV(&buf, plan); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "rank,lon,lat,h3,added_population,covered_population,share_covered" {
		t.Fatalf("header %s", got)
	}
	if len(recs) != 4 || recs[1][0] != "1" || recs[1][3] != plan.Sites[0].H3.String() {
		t.Fatalf("rows %v", recs)
	}
	buf.Reset()
	if err := WriteProposalJSON(&buf, plan, Extra{"mode": "crow", "pairs": nil}); err != nil {
		t.Fatal(err)
	}
	var js map[string]any
	if err := json.Unmarshal(buf.Bytes(), &js); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"objective", "upper_bound", "gap", "sites", "curve", "mode", "k", "status"} {
		if _, ok := js[k]; !ok {
			t.Fatalf("proposal.json lacks %q: %s", k, buf.String())
		}
	}
	if _, ok := js["pairs"]; ok {
		t.Fatal("nil extra written")
	}
	if len(js["sites"].([]any)) != 3 || len(js["curve"].([]any)) != 3 {
		t.Fatalf("sites/curve: %s", buf.String())
	}
	buf.Reset()
	if err := WriteCurveCSV(&buf, plan); err != nil {
		t.Fatal(err)
	}
	// Each figure and its bound in the same terms: newly covered, then
	// totals (the population covered before added to both).
	rows, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "k,newly_covered,newly_covered_upper_bound,covered_population,covered_population_upper_bound,share_covered,share_covered_upper_bound" || len(rows) != 4 {
		t.Fatalf("curve.csv: %s", buf.String())
	}
	for r, c := range plan.Curve {
		want := []float64{float64(c.K), c.Covered - plan.Base, c.UpperBound, c.Covered, plan.Base + c.UpperBound, c.Covered / plan.Total, (plan.Base + c.UpperBound) / plan.Total}
		for x, w := range want {
			got, err := strconv.ParseFloat(rows[r+1][x], 64)
			if err != nil || math.Abs(got-w) > 1e-9*math.Max(1, w) {
				t.Fatalf("curve.csv row %d column %s: %q, want %v", r+1, rows[0][x], rows[r+1][x], w)
			}
		}
	}
	buf.Reset()
	if err := WriteSitesGeoJSON(&buf, plan); err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string
		Features []struct {
			Type     string
			Geometry struct {
				Type        string
				Coordinates []float64
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &fc); err != nil {
		t.Fatal(err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != 3 || fc.Features[0].Geometry.Type != "Point" ||
		fmt.Sprint(fc.Features[0].Geometry.Coordinates) != fmt.Sprint([]float64{round7(plan.Sites[0].Pos[0]), round7(plan.Sites[0].Pos[1])}) {
		t.Fatalf("geojson: %s", buf.String())
	}
}

func TestBadRequests(t *testing.T) {
	p := problemOf(randomInstance(4))
	if _, err := p.SolveK(context.Background(), 0, Options{}); err == nil || !strings.HasPrefix(err.Error(), "site: ") {
		t.Fatalf("K = 0: %v", err)
	}
	for _, s := range []float64{0, -0.1, 1.01} {
		if _, err := p.SolveTarget(context.Background(), s, Options{}); err == nil {
			t.Fatalf("share %v accepted", s)
		}
	}
	q, _, err := ParseCostTable(strings.NewReader("distance,name,DestinationName,demand\n1,s,d,3\n"), "t", DefaultCostColumns, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.SolveK(context.Background(), 1, Options{MinSpacing: 10}); err == nil {
		t.Fatal("spacing without positions accepted")
	}
	plan, err := q.SolveK(context.Background(), 5, Options{})
	if err != nil || len(plan.Sites) != 1 || len(plan.Status) == 0 {
		t.Fatalf("K beyond the candidates: %v %+v", err, plan)
	}
}

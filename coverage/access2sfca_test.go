package coverage_test

import (
	"context"
	"math"
	"testing"

	"github.com/walkshed/walkshed/coverage"
)

func TestParseAccessMethod(t *testing.T) {
	for in, want := range map[string]coverage.AccessMethod{"2sfca": coverage.TwoStep, "E2SFCA": coverage.EnhancedTwoStep, " e2sfca ": coverage.EnhancedTwoStep} {
		got, err := coverage.ParseAccessMethod(in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
		if s := got.String(); s != map[coverage.AccessMethod]string{coverage.TwoStep: "2sfca", coverage.EnhancedTwoStep: "e2sfca"}[want] {
			t.Errorf("%v prints as %q", want, s)
		}
	}
	for _, in := range []string{"", "3sfca", "gravity"} {
		if _, err := coverage.ParseAccessMethod(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// gauss is the Gaussian weight written from the formula on its own:
// G(r) = (exp(−r²/2) − exp(−1/2)) / (1 − exp(−1/2)), r = t/T.
func gauss(r float64) float64 {
	return (math.Exp(-r*r/2) - math.Exp(-0.5)) / (1 - math.Exp(-0.5))
}

func TestGaussianWeight(t *testing.T) {
	cases := []struct {
		t, limit coverage.Minutes
		want     float64
	}{
		{0, 15, 1},
		{15, 15, 0},
		{15.000001, 15, 0},
		{100, 15, 0},
		{7.5, 15, 0.7013665732390044},  // (e^{-1/8} − e^{-1/2}) / (1 − e^{-1/2})
		{2.5, 10, 0.9218064474828315},  // r = 1/4
		{22.5, 30, 0.3769262991826959}, // r = 3/4
	}
	for _, c := range cases {
		if got := coverage.GaussianWeight(c.t, c.limit); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("G(%v; T=%v) = %.17g, want %.17g", c.t, c.limit, got, c.want)
		}
	}
	for _, c := range []struct {
		t, limit coverage.Minutes
		want     float64
	}{{0, 15, 1}, {15, 15, 1}, {15.000001, 15, 0}} {
		if got := coverage.TwoStep.Weight(c.t, c.limit); got != c.want {
			t.Errorf("2SFCA weight at %v of %v: %v, want %v", c.t, c.limit, got, c.want)
		}
	}
}

func TestAccessibilityByHand(t *testing.T) {
	// Catchments are each station's own threshold, so the index does not
	// depend on inclusive or separate tiers. From handStudy: D (supply
	// 1000, threshold 6) reaches c0, c3, c4 at 1.5, 4.5, 2.5; S (200, 3)
	// reaches c1, c3 at 1.5 each; N1 (unknown: 1, 2) reaches c1 at 1.5;
	// N2 (5, 2) reaches c0, c3, c4 at 1.5, 1.5, 0.5. People: c0 100, c1
	// 200, c2 50, c3 30, c4 10.
	g := gauss
	twoStep := func() []float64 {
		rD, rS, rN1, rN2 := 1000.0/140, 200.0/230, 1.0/200, 5.0/140
		return []float64{
			1000 * (rD + rN2),
			1000 * (rS + rN1),
			0, // c2 is in nobody's catchment
			1000 * (rD + rS + rN2),
			1000 * (rD + rN2),
		}
	}()
	enhanced := func() []float64 {
		rD := 1000 / (100*g(1.5/6) + 30*g(4.5/6) + 10*g(2.5/6))
		rS := 200 / (200*g(0.5) + 30*g(0.5))
		rN1 := 1 / (200 * g(0.75))
		rN2 := 5 / (100*g(0.75) + 30*g(0.75) + 10*g(0.25))
		return []float64{
			1000 * (g(0.25)*rD + g(0.75)*rN2),
			1000 * (g(0.5)*rS + g(0.75)*rN1),
			0,
			1000 * (g(0.75)*rD + g(0.5)*rS + g(0.75)*rN2),
			1000 * (g(2.5/6)*rD + g(0.25)*rN2),
		}
	}()
	for _, separate := range []bool{false, true} {
		tr, sr, _ := handService(t, separate)
		for _, c := range []struct {
			m    coverage.AccessMethod
			want []float64
		}{{coverage.TwoStep, twoStep}, {coverage.EnhancedTwoStep, enhanced}} {
			got, err := coverage.Accessibility(context.Background(), tr, sr, c.m)
			if err != nil {
				t.Fatal(err)
			}
			var weighted float64
			for i, w := range c.want {
				if math.Abs(got[i]-w) > 1e-12*w {
					t.Errorf("%v (separate %v) cell %d: %.15g, want %.15g", c.m, separate, i, got[i], w)
				}
				weighted += got[i] * tr.Cells[i].Population
			}
			// Every station reaches someone, so the people-weighted index
			// hands out the whole supply: 1000 · (1000 + 200 + 1 + 5).
			if math.Abs(weighted-1206000) > 1e-9*1206000 {
				t.Errorf("%v: Σ P·A = %.6f, want 1,206,000", c.m, weighted)
			}
		}
	}
	tr, sr, _ := handService(t, false)
	if _, err := coverage.Accessibility(context.Background(), tr, sr, 0); err == nil {
		t.Error("method 0 accepted")
	}
}

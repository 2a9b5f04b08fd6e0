package coverage_test

import (
	"context"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// Two stations and three neighbourhoods, in a straight line at 4 km/h
// (1,000 m in 15 minutes).
func ExampleAnalyze() {
	pop := coverage.Population{Points: []coverage.PopPoint{
		{Pos: orb.Point{121.4740, 31.2300}, Population: 1200},
		{Pos: orb.Point{121.4800, 31.2350}, Population: 800},
		{Pos: orb.Point{121.5200, 31.2600}, Population: 500},
	}}
	cells, _ := coverage.Aggregate(pop, 9)
	study := coverage.Study{
		Settings: coverage.DefaultSettings,
		Stations: []coverage.Station{
			{ID: "A", Pos: orb.Point{121.4745, 31.2305}},
			{ID: "B", Pos: orb.Point{121.4900, 31.2400}},
		},
		Cells:           cells,
		InputPopulation: pop.Total(),
	}
	res, err := coverage.Analyze(context.Background(), study, coverage.NewCrow(cells, study.Settings.SpeedKmh), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	t := res.Totals()
	fmt.Printf("covered %.0f of %.0f people (%.0f%%)\n", t.CoveredPopulation, t.Population, 100*t.Share())
	for _, g := range res.Gaps {
		fmt.Printf("gap %d: %.0f people, up to %.0f minutes\n", g.ID, g.Population, float64(g.MaxMinutes))
	}
	// The far neighbourhood lies 3.6 km from B (0.03° of longitude at 31.25°N
	// and 0.02° of latitude): about 54 minutes; its H3 cell's centre is a
	// little closer.

	// Output:
	// covered 2000 of 2500 people (80%)
	// gap 1: 500 people, up to 52 minutes
}

package main

import (
	"database/sql"
	"math"
	"path/filepath"
	"strconv"
	"testing"
)

// sameTiersInGeoPackage checks that a tiered run's walkshed.gpkg holds what
// its cells.csv and stations.csv say (they are checked against a brute
// force): the per-tier columns of every cell, every station's catchment
// figures, and a catchment outline for every station that serves someone.
func sameTiersInGeoPackage(t *testing.T, out string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(out, "walkshed.gpkg")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	near := func(csv string, v sql.NullFloat64, decimals int) bool {
		if csv == "" {
			return !v.Valid
		}
		x, err := strconv.ParseFloat(csv, 64)
		return err == nil && v.Valid && math.Abs(x-v.Float64) <= 0.5*math.Pow(10, -float64(decimals))+1e-12
	}
	cells := readCSV(t, filepath.Join(out, "cells.csv"))
	for _, c := range cells {
		var fully int64
		var access sql.NullFloat64
		if err := db.QueryRow(`SELECT fully_served, access FROM cells WHERE h3 = ?`, c["h3"]).Scan(&fully, &access); err != nil {
			t.Fatalf("cell %s: %v", c["h3"], err)
		}
		if strconv.FormatInt(fully, 10) != c["fully_served"] || !near(c["access"], access, 6) {
			t.Fatalf("cell %s: GeoPackage fully_served %d access %v, cells.csv %s %s", c["h3"], fully, access, c["fully_served"], c["access"])
		}
		for _, tier := range tierNames {
			var m sql.NullFloat64
			var cov int64
			if err := db.QueryRow(`SELECT "minutes_`+tier+`", "covered_`+tier+`" FROM cells WHERE h3 = ?`, c["h3"]).Scan(&m, &cov); err != nil {
				t.Fatal(err)
			}
			if !near(c["minutes_"+tier], m, 4) || strconv.FormatInt(cov, 10) != c["covered_"+tier] {
				t.Fatalf("cell %s tier %s: GeoPackage %v %d, cells.csv %s %s", c["h3"], tier, m, cov, c["minutes_"+tier], c["covered_"+tier])
			}
		}
	}
	serving := 0
	for _, s := range readCSV(t, filepath.Join(out, "stations.csv")) {
		var served, potential float64
		var load sql.NullFloat64
		if err := db.QueryRow(`SELECT served_population, potential_population, load FROM stations WHERE id = ?`, s["id"]).Scan(&served, &potential, &load); err != nil {
			t.Fatalf("station %s: %v", s["id"], err)
		}
		if strconv.FormatFloat(served, 'f', -1, 64) != s["served_population"] || strconv.FormatFloat(potential, 'f', -1, 64) != s["potential_population"] || !near(s["load"], load, 4) {
			t.Fatalf("station %s: GeoPackage %v %v %v, stations.csv %v", s["id"], served, potential, load, s)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM catchments WHERE station_id = ? AND served_population = ?`, s["id"], served).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[served > 0]; n != want {
			t.Fatalf("station %s serving %v people has %d catchment outlines", s["id"], served, n)
		}
		if served > 0 {
			serving++
		}
	}
	if serving == 0 {
		t.Fatal("no station serves anyone: the catchments are not checked")
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateMatchesFreshAnalysis(t *testing.T) {
	dir := t.TempDir()
	first, updated, fresh := filepath.Join(dir, "first"), filepath.Join(dir, "updated"), filepath.Join(dir, "fresh")
	if code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"),
		"--areas", small("areas.geojson"), "--out", first, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	events := filepath.Join(dir, "events.csv")
	// Out of date order on purpose: the 2026-02-01 opening comes last.
	os.WriteFile(events, []byte("date,action,id,lon,lat,name\n"+
		"2026-03-01,open,D,10.7890,59.9250,Øst\n"+
		"2026-03-01,close,C,,,\n"+
		"2026-02-01,open,E,10.7300,59.9290,Nord\n"), 0o644)
	code, stdout, stderr := walkshed(t, "update", "--from", first, "--events", events, "--out", updated, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "out of date order") {
		t.Errorf("no note about the sorting: %q", stderr)
	}
	if !strings.Contains(stdout, "applied 3 events") {
		t.Errorf("summary: %s", stdout)
	}
	// The final station list: A, B (C closed), then E, D in date order.
	final := filepath.Join(dir, "final.csv")
	os.WriteFile(final, []byte("id,name,tier,lon,lat\n"+
		"A,Nordre,subdistrict,10.7500,59.9200\n"+
		"B,Søndre,subdistrict,10.7700,59.9050\n"+
		"E,Nord,,10.7300,59.9290\n"+
		"D,Øst,,10.7890,59.9250\n"), 0o644)
	if code, _, stderr := walkshed(t, "analyze", "--stations", final, "--population", small("population.csv"),
		"--areas", small("areas.geojson"), "--out", fresh, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	for _, name := range []string{"cells.csv", "areas.csv", "gaps.geojson"} {
		a, _ := os.ReadFile(filepath.Join(updated, name))
		b, _ := os.ReadFile(filepath.Join(fresh, name))
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s after update differs from a fresh analysis", name)
		}
	}
	// timeline.csv: two dates; the first adds E, the second D and drops C.
	tl := readCSV(t, filepath.Join(updated, "timeline.csv"))
	if len(tl) != 2 || tl[0]["date"] != "2026-02-01" || tl[0]["stations"] != "4" || tl[1]["stations"] != "4" {
		t.Fatalf("timeline: %v", tl)
	}
	freshCells := readCSV(t, filepath.Join(fresh, "cells.csv"))
	var covered float64
	for _, c := range freshCells {
		if c["covered"] == "1" {
			covered += num(t, c["population"])
		}
	}
	if got := num(t, tl[1]["population_covered"]); got != covered {
		t.Errorf("timeline ends at %v covered, a fresh analysis covers %v", got, covered)
	}
	ch := readCSV(t, filepath.Join(updated, "changes.csv"))
	if len(ch) == 0 || ch[0]["station_id"] != "E" {
		t.Errorf("changes: %v", ch)
	}
}

func TestUpdateBadEventsLeaveResultIntact(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "res")
	if code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"), "--out", res, "--quiet"); code != 0 {
		t.Fatal(stderr)
	}
	before := map[string]string{}
	entries, _ := os.ReadDir(res)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(res, e.Name()))
		before[e.Name()] = string(b)
	}
	cases := []struct{ name, body, want string }{
		{"close unknown id", "date,action,id,lon,lat\n2026-01-01,open,N1,10.75,59.91\n2026-01-02,close,ZZ,,\n", `events.csv:3: no open station has id "ZZ"`},
		{"open existing id", "date,action,id,lon,lat\n2026-01-01,open,A,10.75,59.91\n", `events.csv:2: station "A" is already open`},
		{"unknown action", "date,action,id,lon,lat\n2026-01-01,move,A,10.75,59.91\n", `events.csv:2: unknown action "move"`},
		{"bad date", "date,action,id,lon,lat\n1 March,open,N,10.75,59.91\n", `events.csv:2: date "1 March"`},
		{"open without position", "date,action,id,lon,lat\n2026-01-01,open,N,,\n", `events.csv:2: opening station "N" needs lon and lat`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := filepath.Join(t.TempDir(), "events.csv")
			os.WriteFile(ev, []byte(tc.body), 0o644)
			code, _, stderr := walkshed(t, "update", "--from", res, "--events", ev, "--out", res, "--quiet")
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q, want %q", code, stderr, tc.want)
			}
			entries, _ := os.ReadDir(res)
			if len(entries) != len(before) {
				t.Fatalf("%d files in the result folder, had %d", len(entries), len(before))
			}
			for name, body := range before {
				if b, _ := os.ReadFile(filepath.Join(res, name)); string(b) != body {
					t.Fatalf("%s changed after a failed update", name)
				}
			}
		})
	}
	// A folder that is not a result.
	code, _, stderr := walkshed(t, "update", "--from", dir, "--events", small("stations.csv"), "--out", filepath.Join(dir, "x"))
	if code != 1 || !strings.Contains(stderr, "is not a walkshed result") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

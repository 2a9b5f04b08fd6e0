package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func demoNum(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func demoJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// TestDemo runs the demo from the repository root, as a user would, and
// checks its outputs against facts computed here from the demo's inputs.
func TestDemo(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data", "demo")
	out := t.TempDir()
	t.Chdir(root) // the demo finds data/demo from the working directory
	var stdout, stderr bytes.Buffer
	if err := runDemo([]string{"--out", out, "--quiet"}, &stdout, &stderr); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	for _, f := range []string{"analyze/walkshed.gpkg", "propose/sites.csv", "update/timeline.csv"} {
		if !strings.Contains(stdout.String(), f) {
			t.Errorf("the guide does not mention %s:\n%s", f, stdout.String())
		}
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}

	// The population is kept exactly.
	var popTotal float64
	for _, r := range readCSV(t, filepath.Join(data, "population.csv")) {
		popTotal += demoNum(t, r["population"])
	}
	sum := demoJSON(t, filepath.Join(out, "analyze", "summary.json"))
	if got := sum["population_total"].(float64); got != popTotal {
		t.Errorf("summary population_total %v, population.csv sums to %v", got, popTotal)
	}
	stations := readCSV(t, filepath.Join(data, "stations.csv"))
	if got := sum["stations"].(float64); int(got) != len(stations) {
		t.Errorf("summary stations %v, stations.csv has %d", got, len(stations))
	}

	// cells.csv: covered agrees with minutes, and re-sums to the summary.
	var covered float64
	for _, c := range readCSV(t, filepath.Join(out, "analyze", "cells.csv")) {
		in := c["minutes"] != "" && demoNum(t, c["minutes"]) <= 15
		if in != (c["covered"] == "1") {
			t.Errorf("cell %s: minutes %q but covered %s", c["h3"], c["minutes"], c["covered"])
		}
		if in {
			covered += demoNum(t, c["population"])
		}
	}
	base := sum["population_covered"].(float64)
	if covered != base {
		t.Errorf("covered cells sum to %v, summary says %v", covered, base)
	}
	if base <= 0 || base >= popTotal {
		t.Errorf("covered %v of %v: the demo should show both coverage and gaps", base, popTotal)
	}

	// The proposal: five sites, each adding people, within the certified bound.
	prop := demoJSON(t, filepath.Join(out, "propose", "proposal.json"))
	sites := readCSV(t, filepath.Join(out, "propose", "sites.csv"))
	if len(sites) != 5 {
		t.Fatalf("%d proposed sites, want 5", len(sites))
	}
	added := 0.0
	for _, s := range sites {
		if a := demoNum(t, s["added_population"]); a <= 0 {
			t.Errorf("site %s adds %v people", s["rank"], a)
		} else {
			added += a
		}
	}
	obj, ub := prop["objective"].(float64), prop["upper_bound"].(float64)
	if added != obj {
		t.Errorf("sites add %v people, objective %v", added, obj)
	}
	if obj > ub+1e-6 {
		t.Errorf("objective %v above its upper bound %v", obj, ub)
	}
	if last := demoNum(t, sites[4]["covered_population"]); last != base+obj {
		t.Errorf("after the plan %v covered, want %v + %v", last, base, obj)
	}

	// The update equals a fresh analysis with the final station list, built
	// here from stations.csv and events.csv.
	final := map[string][2]string{}
	var order []string
	for _, s := range stations {
		final[s["id"]] = [2]string{s["lon"], s["lat"]}
		order = append(order, s["id"])
	}
	for _, e := range readCSV(t, filepath.Join(data, "events.csv")) {
		switch e["action"] {
		case "open":
			final[e["id"]] = [2]string{e["lon"], e["lat"]}
			order = append(order, e["id"])
		case "close":
			delete(final, e["id"])
		default:
			t.Fatalf("event action %q", e["action"])
		}
	}
	var b strings.Builder
	b.WriteString("id,lon,lat\n")
	for _, id := range order {
		if p, ok := final[id]; ok {
			b.WriteString(id + "," + p[0] + "," + p[1] + "\n")
		}
	}
	finalCSV := filepath.Join(t.TempDir(), "final.csv")
	if err := os.WriteFile(finalCSV, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	err = runAnalyze([]string{"--network", filepath.Join(data, "streets.osm.gz"), "--stations", finalCSV,
		"--population", filepath.Join(data, "population.csv"), "--out", fresh, "--quiet", "--format", "csv"}, &bytes.Buffer{}, &stderr)
	if err != nil {
		t.Fatalf("fresh analyze: %v", err)
	}
	want := demoJSON(t, filepath.Join(fresh, "summary.json"))["population_covered"].(float64)
	upd := demoJSON(t, filepath.Join(out, "update", "summary.json"))
	if got := upd["population_covered"].(float64); got != want {
		t.Errorf("update covers %v people, a fresh analysis with the final stations %v", got, want)
	}
	timeline := readCSV(t, filepath.Join(out, "update", "timeline.csv"))
	if got := demoNum(t, timeline[len(timeline)-1]["population_covered"]); got != want {
		t.Errorf("timeline ends at %v covered, want %v", got, want)
	}
	freshCells := map[string]string{}
	for _, c := range readCSV(t, filepath.Join(fresh, "cells.csv")) {
		freshCells[c["h3"]] = c["minutes"]
	}
	for _, c := range readCSV(t, filepath.Join(out, "update", "cells.csv")) {
		if fm := freshCells[c["h3"]]; fm != c["minutes"] {
			if fm == "" || c["minutes"] == "" || math.Abs(demoNum(t, fm)-demoNum(t, c["minutes"])) > 1e-3 {
				t.Errorf("cell %s: updated minutes %q, fresh %q", c["h3"], c["minutes"], fm)
			}
		}
	}
}

func TestDemoMissingData(t *testing.T) {
	err := runDemo([]string{"--data", t.TempDir(), "--out", t.TempDir(), "--quiet"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "stations.csv") {
		t.Errorf("demo on an empty folder: %v, want an error naming the missing files", err)
	}
}

// TestDemoFromEmbeddedCopy runs the demo away from any clone: it must unpack
// the study built into the binary, identical to data/demo.
func TestDemoFromEmbeddedCopy(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	t.Chdir(elsewhere)
	code, stdout, stderr := walkshed(t, "demo", "--out", "out", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "demo done") {
		t.Errorf("stdout: %s", stdout)
	}
	for _, f := range demoFiles {
		got, err := os.ReadFile(filepath.Join(elsewhere, "out", "study", f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(repo, "data", "demo", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("unpacked %s differs from data/demo/%s", f, f)
		}
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "out", "update", "timeline.csv")); err != nil {
		t.Errorf("the demo's update step wrote no timeline: %v", err)
	}
}

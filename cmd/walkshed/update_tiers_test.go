package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestUpdateTieredMatchesFreshAnalysis updates a result analysed with
// tiers, capacities and E2SFCA, in both tier modes, and compares it with a
// fresh analysis of the station list the events lead to: every cells,
// stations, catchments and gaps row of the GeoPackage, cells.csv,
// stations.csv and summary.json.
func TestUpdateTieredMatchesFreshAnalysis(t *testing.T) {
	// Openings of every tier, with and without a capacity, and closings of
	// a subdistrict centre and a neighbourhood station.
	events := "date,action,id,lon,lat,name,tier,capacity\n" +
		"2026-02-01,open,N9,10.7460,59.9060,Station N9,neighbourhood,4\n" +
		"2026-02-02,close,S1,,,,,\n" +
		"2026-02-03,open,S3,10.7330,59.9200,Station S3,subdistrict,\n" +
		"2026-02-04,close,N2,,,,,\n" +
		"2026-02-05,open,D2,10.7690,59.9080,Station D2,district,30\n"
	type final struct{ id, tier, lon, lat, capacity string }
	var list []final
	for _, s := range tierStudy {
		c := ""
		if s.capacity > 0 {
			c = fmt.Sprint(s.capacity)
		}
		list = append(list, final{s.id, s.tier, fmt.Sprintf("%.4f", s.lon), fmt.Sprintf("%.4f", s.lat), c})
	}
	for _, line := range strings.Split(strings.TrimSpace(events), "\n")[1:] {
		f := strings.Split(line, ",")
		if f[1] == "open" {
			list = append(list, final{f[2], f[6], f[3], f[4], f[7]})
			continue
		}
		for i := range list {
			if list[i].id == f[2] {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
	}
	for _, c := range []struct{ mode, access string }{{"inclusive", "e2sfca"}, {"separate", "e2sfca"}, {"inclusive", ""}, {"separate", ""}} {
		mode := c.mode
		t.Run(mode+"-"+c.access, func(t *testing.T) {
			dir := t.TempDir()
			stations, population := writeTierStudy(t, dir)
			study := []string{"--population", population, "--areas", small("areas.geojson"), "--tiers", "district=12,subdistrict=8,neighbourhood=5",
				"--tier-mode", mode, "--quiet", "--format", "csv,gpkg,geojson"}
			// Without an accessibility index, the update keeps the
			// stations' potential populations and searches only around
			// the new ones.
			if c.access != "" {
				study = append(study, "--access", c.access)
			}
			res, fresh := filepath.Join(dir, "res"), filepath.Join(dir, "fresh")
			if code, _, stderr := walkshed(t, append([]string{"analyze", "--stations", stations, "--out", res}, study...)...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			gpkgPath := filepath.Join(res, "walkshed.gpkg")
			cellsBefore := sqlDump(t, gpkgPath, `SELECT * FROM cells ORDER BY fid`)
			evPath := filepath.Join(dir, "events.csv")
			if err := os.WriteFile(evPath, []byte(events), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := walkshed(t, "update", "--from", res, "--events", evPath, "--quiet", "--format", "csv,geojson")
			if code != 0 {
				t.Fatalf("update exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "fully served") || !strings.Contains(stdout, "tier subdistrict") {
				t.Errorf("update prints no tier lines:\n%s", stdout)
			}

			var b strings.Builder
			b.WriteString("id,name,tier,lon,lat,capacity\n")
			for _, s := range list {
				fmt.Fprintf(&b, "%s,Station %s,%s,%s,%s,%s\n", s.id, s.id, s.tier, s.lon, s.lat, s.capacity)
			}
			finalPath := filepath.Join(dir, "final.csv")
			if err := os.WriteFile(finalPath, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, _, stderr := walkshed(t, append([]string{"analyze", "--stations", finalPath, "--out", fresh}, study...)...); code != 0 {
				t.Fatalf("fresh analysis exit %d: %s", code, stderr)
			}
			want := filepath.Join(fresh, "walkshed.gpkg")
			for _, q := range []string{
				`SELECT * FROM cells ORDER BY fid`,
				`SELECT id, name, tier, cells_nearest, population_nearest, capacity, served_population, potential_population, load, overloaded, geom FROM stations ORDER BY fid`,
				`SELECT station_id, tier, cells, served_population, load, geom FROM catchments ORDER BY station_id`,
				`SELECT * FROM tier_gaps ORDER BY fid`,
				`SELECT * FROM gaps ORDER BY fid`,
				`SELECT * FROM areas ORDER BY fid`,
				`SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name`,
			} {
				a, w := sqlDump(t, gpkgPath, q), sqlDump(t, want, q)
				if len(a) == 0 {
					t.Errorf("%s: no rows", q)
				}
				if !reflect.DeepEqual(a, w) {
					t.Errorf("%s: after the update\n%v\na fresh analysis\n%v", q, a, w)
				}
			}
			// The catchments' R-tree follows the rows the update replaced.
			for _, q := range []string{
				`SELECT count(*) FROM catchments`,
				`SELECT count(*) FROM catchments c JOIN rtree_catchments_geom r ON r.id = c.fid WHERE r.minx <= ST_MinX(c.geom) AND r.maxx >= ST_MaxX(c.geom) AND r.miny <= ST_MinY(c.geom) AND r.maxy >= ST_MaxY(c.geom)`,
				`SELECT count(*) FROM rtree_catchments_geom`,
			} {
				if got, n := sqlDump(t, gpkgPath, q), sqlDump(t, want, `SELECT count(*) FROM catchments`); !reflect.DeepEqual(got, n) {
					t.Errorf("%s: %v, want %v", q, got, n)
				}
			}
			for _, f := range []string{"cells.csv", "stations.csv", "areas.csv", "gaps.geojson", "tier_gaps.geojson"} {
				if a, w := mustRead(t, filepath.Join(res, f)), mustRead(t, filepath.Join(fresh, f)); string(a) != string(w) {
					t.Errorf("%s after the update:\n%s\na fresh analysis:\n%s", f, a, w)
				}
			}
			a, w := summaryWithout(t, filepath.Join(res, "summary.json")), summaryWithout(t, filepath.Join(fresh, "summary.json"))
			for _, k := range []string{"tiers", "fully_served_population", "fully_served_share", "tier_mode", "population_covered", "share_covered"} {
				if a[k] == nil || !reflect.DeepEqual(a[k], w[k]) {
					t.Errorf("summary.json %s after the update %v, a fresh analysis %v", k, a[k], w[k])
				}
			}
			if reflect.DeepEqual(sqlDump(t, gpkgPath, `SELECT * FROM cells ORDER BY fid`), cellsBefore) {
				t.Error("the events changed no cell")
			}
		})
	}
}

// TestUpdateTieredRefusals: an opening without a tier, or with one not in
// the result's tiers, is refused by line and leaves the result as it was;
// a tiered result kept only as CSV is refused with what to do.
func TestUpdateTieredRefusals(t *testing.T) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	res := filepath.Join(dir, "res")
	if code, _, stderr := walkshed(t, "analyze", "--stations", stations, "--population", population,
		"--tiers", "district=12,subdistrict=8,neighbourhood=5", "--out", res, "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	gp := filepath.Join(res, "walkshed.gpkg")
	before := sha256Of(t, gp)
	for _, c := range []struct{ events, want string }{
		{"date,action,id,lon,lat,tier\n2026-01-05,open,N9,10.7500,59.9100,\n", "events.csv:2: opening N9 needs a tier (one of district, subdistrict, neighbourhood)"},
		{"date,action,id,lon,lat,tier\n2026-01-05,close,N1,,,\n2026-01-06,open,N9,10.7500,59.9100,village\n", `events.csv:3: opening N9: tier "village" is not one of the result's tiers`},
		{"date,action,id,lon,lat,tier,capacity\n2026-01-05,open,N9,10.7500,59.9100,neighbourhood,-3\n", "events.csv:2: capacity -3"},
	} {
		ev := filepath.Join(dir, "events.csv")
		if err := os.WriteFile(ev, []byte(c.events), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := walkshed(t, "update", "--from", res, "--events", ev, "--quiet")
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("exit %d, stderr %q, want %q", code, stderr, c.want)
		}
		if sha256Of(t, gp) != before {
			t.Fatal("a refused update changed walkshed.gpkg")
		}
	}
	csvOnly := filepath.Join(dir, "csv")
	if code, _, stderr := walkshed(t, "analyze", "--stations", stations, "--population", population,
		"--tiers", "district=12,subdistrict=8,neighbourhood=5", "--out", csvOnly, "--quiet", "--format", "csv"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ev := filepath.Join(dir, "ok.csv")
	os.WriteFile(ev, []byte("date,action,id,lon,lat,tier\n2026-01-05,open,N9,10.7500,59.9100,neighbourhood\n"), 0o644)
	cells := mustRead(t, filepath.Join(csvOnly, "cells.csv"))
	code, _, stderr := walkshed(t, "update", "--from", csvOnly, "--events", ev, "--quiet")
	if code != 1 || !strings.Contains(stderr, "made with --tiers district=12,subdistrict=8,neighbourhood=5") || !strings.Contains(stderr, "rerun analyze with --format gpkg") {
		t.Errorf("csv-only tiered result: exit %d: %s", code, stderr)
	}
	if string(mustRead(t, filepath.Join(csvOnly, "cells.csv"))) != string(cells) {
		t.Error("a refused update changed cells.csv")
	}
}

// TestTierGapsFiles: tier_gaps.geojson and the GeoPackage's tier_gaps
// layer list the same gaps, as many per tier as summary.json counts, each
// tier's ranked by population, the bottom tier's equal to gaps.geojson.
func TestTierGapsFiles(t *testing.T) {
	dir := t.TempDir()
	stations, population := writeTierStudy(t, dir)
	out := filepath.Join(dir, "out")
	if code, _, stderr := walkshed(t, "analyze", "--stations", stations, "--population", population,
		"--tiers", "district=12,subdistrict=8,neighbourhood=5", "--out", out, "--quiet", "--format", "all"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var fc struct {
		Features []struct {
			ID         int
			Properties struct {
				Tier       string
				Minutes    float64
				ID         int
				Population float64
			}
		}
	}
	readJSON(t, filepath.Join(out, "tier_gaps.geojson"), &fc)
	var s struct {
		Tiers []struct {
			Name    string
			Minutes float64
			Gaps    int
		}
		Gaps []struct{ Population float64 }
	}
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	rows := sqlDump(t, filepath.Join(out, "walkshed.gpkg"), `SELECT fid, tier, minutes, id, population FROM tier_gaps ORDER BY fid`)
	bits := regexp.MustCompile(`\([0-9a-f]{16}\)`) // the dump's exact float bits
	for i := range rows {
		rows[i] = bits.ReplaceAllString(rows[i], "")
	}
	if len(rows) != len(fc.Features) || len(rows) == 0 {
		t.Fatalf("%d rows in the tier_gaps layer, %d features in tier_gaps.geojson", len(rows), len(fc.Features))
	}
	k := 0
	for _, tier := range s.Tiers {
		var pops []float64
		for n := 0; n < tier.Gaps; n++ {
			if k >= len(fc.Features) {
				t.Fatalf("tier_gaps.geojson ends before tier %s's gap %d", tier.Name, n+1)
			}
			f := fc.Features[k]
			if f.ID != k+1 || f.Properties.Tier != tier.Name || f.Properties.Minutes != tier.Minutes || f.Properties.ID != n+1 {
				t.Errorf("feature %d: %+v, want tier %s gap %d", k+1, f, tier.Name, n+1)
			}
			if want := fmt.Sprintf("%d|%s|%v|%d|%v", k+1, tier.Name, tier.Minutes, n+1, f.Properties.Population); rows[k] != want {
				t.Errorf("tier_gaps row %q, the GeoJSON feature %q", rows[k], want)
			}
			pops = append(pops, f.Properties.Population)
			k++
		}
		for n := 1; n < len(pops); n++ {
			if pops[n] > pops[n-1] {
				t.Errorf("tier %s gaps not ranked: %v", tier.Name, pops)
			}
		}
		if tier.Name == "neighbourhood" {
			if len(pops) != len(s.Gaps) {
				t.Fatalf("bottom tier: %d gaps, gaps.geojson %d", len(pops), len(s.Gaps))
			}
			for n := range pops {
				if pops[n] != s.Gaps[n].Population {
					t.Errorf("bottom tier gap %d: %v people, the study's gap %v", n+1, pops[n], s.Gaps[n].Population)
				}
			}
		}
	}
	if k != len(fc.Features) {
		t.Errorf("%d features, the tiers count %d gaps", len(fc.Features), k)
	}
}

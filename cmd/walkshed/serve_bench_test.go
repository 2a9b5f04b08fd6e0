package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/tiles"
)

// shanghaiServeArgs writes the Shanghai-scale synthetic study (walkshed
// synth: 412,624 cells, 12,457 stations) and returns serve's flags for it.
func shanghaiServeArgs(b *testing.B) []string {
	b.Helper()
	dir := synthStudy(b)
	return []string{"--stations", filepath.Join(dir, "stations.csv"), "--population", filepath.Join(dir, "population.csv"), "--quiet", "--listen", "127.0.0.1:0"}
}

// peakMB is the process's peak resident memory (VmHWM), 0 where unknown.
func peakMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func p95(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[(len(d)*95+99)/100-1]) / float64(time.Millisecond)
}

// BenchmarkServeShanghaiReady times serve from its flags to ready to
// answer (read, aggregate, analyse, build the tile levels), and reports
// the process's peak memory.
func BenchmarkServeShanghaiReady(b *testing.B) {
	args := shanghaiServeArgs(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := loadServe(args, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(peakMB(), "peak-MB")
}

// BenchmarkServeShanghaiEdit opens a station at a random populated cell
// and closes it again, server side (update, tiles' aggregates and cache,
// new summary), and reports the 95th percentile of each kind.
func BenchmarkServeShanghaiEdit(b *testing.B) {
	sv, _, err := loadServe(shanghaiServeArgs(b), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	var opens, closes []time.Duration
	n := 0
	for b.Loop() {
		p := sv.res.Cells[rng.IntN(len(sv.res.Cells))].Pos
		id := fmt.Sprintf("bench-%d", n)
		n++
		t0 := time.Now()
		sv.mu.Lock()
		_, err := sv.edit(ctx, coverage.Event{Action: coverage.Open, Station: coverage.Station{ID: id, Pos: p}})
		sv.mu.Unlock()
		opens = append(opens, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		sv.mu.Lock()
		_, err = sv.edit(ctx, coverage.Event{Action: coverage.Close, Station: coverage.Station{ID: id}})
		sv.mu.Unlock()
		closes = append(closes, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(p95(opens), "open-p95-ms")
	b.ReportMetric(p95(closes), "close-p95-ms")
	b.ReportMetric(peakMB(), "peak-MB")
}

// BenchmarkServeShanghaiEditTiers is BenchmarkServeShanghaiEdit with the
// synth's four tiers (and E2SFCA), in each tier mode: an edit updates every
// tier's times (those of the tiers the station serves incrementally) and
// the tiered summary. Each opening takes a random tier.
func BenchmarkServeShanghaiEditTiers(b *testing.B) {
	for _, mode := range []string{"inclusive", "separate"} {
		b.Run(mode, func(b *testing.B) {
			args := append(shanghaiServeArgs(b), "--tiers", "district=30,subdistrict=15,neighbourhood=10,building=5", "--tier-mode", mode, "--access", "e2sfca")
			sv, _, err := loadServe(args, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			ctx := context.Background()
			var opens, closes []time.Duration
			n := 0
			for b.Loop() {
				p := sv.res.Cells[rng.IntN(len(sv.res.Cells))].Pos
				id := fmt.Sprintf("bench-%d", n)
				n++
				tier := sv.cfg.tiers[rng.IntN(len(sv.cfg.tiers))]
				t0 := time.Now()
				sv.mu.Lock()
				_, err := sv.edit(ctx, coverage.Event{Action: coverage.Open, Station: coverage.Station{ID: id, Pos: p, Tier: tier}})
				sv.mu.Unlock()
				opens = append(opens, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				t0 = time.Now()
				sv.mu.Lock()
				_, err = sv.edit(ctx, coverage.Event{Action: coverage.Close, Station: coverage.Station{ID: id}})
				sv.mu.Unlock()
				closes = append(closes, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(p95(opens), "open-p95-ms")
			b.ReportMetric(p95(closes), "close-p95-ms")
		})
	}
}

// BenchmarkServeShanghaiTiles makes cell, gap and station tiles at zooms
// 8 to 16 over random populated places, and reports the 95th percentile
// per zoom of those made (not taken from the cache).
func BenchmarkServeShanghaiTiles(b *testing.B) {
	sv, _, err := loadServe(shanghaiServeArgs(b), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	zooms := []int{8, 10, 12, 14, 16}
	took := map[int][]time.Duration{}
	byLayer := map[string][]time.Duration{}
	var all []time.Duration
	src := sv.src
	for b.Loop() {
		for _, z := range zooms {
			p := sv.res.Cells[rng.IntN(len(sv.res.Cells))].Pos
			x, y := tileOf(p, z)
			for _, l := range []string{tiles.Cells, tiles.Gaps, tiles.Stations} {
				n := src.Cached()
				t0 := time.Now()
				if _, err := src.Tile(l, uint32(z), uint32(x), uint32(y)); err != nil {
					b.Fatal(err)
				}
				if d := time.Since(t0); src.Cached() > n { // made, not from the cache
					took[z] = append(took[z], d)
					byLayer[l] = append(byLayer[l], d)
					all = append(all, d)
				}
			}
		}
	}
	for _, z := range zooms {
		if len(took[z]) == 0 {
			continue
		}
		b.ReportMetric(p95(took[z]), fmt.Sprintf("z%d-p95-ms", z))
	}
	for l, d := range byLayer {
		b.ReportMetric(p95(d), l+"-p95-ms")
	}
	b.ReportMetric(p95(all), "p95-ms")
}

// BenchmarkServeShanghaiPropose asks the page's proposal (POST
// /api/propose, the handler itself) for the most sites it allows on the
// Shanghai-scale study, and reports its seconds, gap and whether the 1%
// was proven within the page's time limit.
func BenchmarkServeShanghaiPropose(b *testing.B) {
	sv, _, err := loadServe(shanghaiServeArgs(b), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	var pj proposalJSON
	var spent time.Duration
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/propose", strings.NewReader(fmt.Sprintf(`{"add":%d}`, maxProposeK)))
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		sv.postPropose(rec, req)
		spent += time.Since(t0)
		if rec.Code != 200 {
			b.Fatalf("propose: %d %s", rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &pj); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d sites newly cover %.0f, bound %.0f (gap %.3f%%), optimal %v, %d nodes, solver %.1f s, %d useful candidates",
		len(pj.Sites), pj.Objective, pj.UpperBound, 100*pj.Gap, pj.Optimal, pj.Nodes, pj.Seconds, pj.Candidates)
	b.ReportMetric(spent.Seconds()/float64(b.N), "propose-s")
	b.ReportMetric(100*pj.Gap, "gap%")
	b.ReportMetric(map[bool]float64{true: 1}[pj.Optimal], "optimal")
}

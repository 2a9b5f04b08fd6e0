package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"

	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/synth"
)

func runSynth(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("synth", stderr)
	cfg := synth.Shanghai
	var out string
	fs.StringVar(&out, "out", "", "output `DIR` for stations.csv, population.csv and workers.csv")
	fs.Float64Var(&cfg.AreaKm2, "area-km2", cfg.AreaKm2, "area of the city disc, km²")
	fs.IntVar(&cfg.Population, "people", cfg.Population, "residents")
	fs.IntVar(&cfg.Stations, "stations", cfg.Stations, "stations")
	fs.IntVar(&cfg.Res, "res", cfg.Res, "H3 resolution of the population table")
	fs.Float64Var(&cfg.WorkerShare, "worker-share", cfg.WorkerShare, "workers (daytime jobs) per resident, crowded into the centres; 0 writes no workers.csv")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed (the same seed gives the same city)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: walkshed synth --out DIR [flags]\nWrites a synthetic city (default: Shanghai scale) as stations.csv, population.csv and workers.csv.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// A study, not a result: no manifest, and nothing else in the folder
	// is touched.
	if err := checkOut("--out", out); err != nil {
		return err
	}
	if cfg.Res < 7 || cfg.Res > 12 {
		return usagef("--res %d outside 7..12", cfg.Res)
	}
	if !(cfg.AreaKm2 > 0) || cfg.Population <= 0 || cfg.Stations < 1 {
		return usagef("--area-km2, --people and --stations must be positive")
	}
	if !(cfg.WorkerShare >= 0) || math.IsInf(cfg.WorkerShare, 1) {
		return usagef("--worker-share %v must be a number, 0 or more", cfg.WorkerShare)
	}
	st, err := synth.Generate(cfg)
	if err != nil {
		return err
	}
	b, err := format.NewBatch(out)
	if err != nil {
		return err
	}
	err = b.Add("stations.csv", func(w io.Writer) error {
		if _, err := io.WriteString(w, "id,tier,capacity,lon,lat\n"); err != nil {
			return err
		}
		for _, s := range st.Stations {
			if _, err := fmt.Fprintf(w, "%s,%s,%g,%s,%s\n", s.ID, s.Tier, s.Capacity, strconv.FormatFloat(s.Pos[0], 'f', 7, 64), strconv.FormatFloat(s.Pos[1], 'f', 7, 64)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = b.Add("population.csv", func(w io.Writer) error {
			if _, err := io.WriteString(w, "h3,population\n"); err != nil {
				return err
			}
			for _, c := range st.Cells {
				if _, err := fmt.Fprintf(w, "%s,%.0f\n", c.H3, c.Population); err != nil {
					return err
				}
			}
			return nil
		})
	}
	workers := 0
	if err == nil && st.Workers != nil {
		// Points at the H3 centres of the populated cells, so the layer
		// aggregates into the residents' cells.
		err = b.Add("workers.csv", func(w io.Writer) error {
			if _, err := io.WriteString(w, "lon,lat,workers\n"); err != nil {
				return err
			}
			for i, c := range st.Cells {
				if st.Workers[i] == 0 {
					continue
				}
				workers += int(st.Workers[i])
				if _, err := fmt.Fprintf(w, "%s,%s,%.0f\n", strconv.FormatFloat(c.Pos[0], 'f', 7, 64), strconv.FormatFloat(c.Pos[1], 'f', 7, 64), st.Workers[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		b.Abort()
		return err
	}
	if err := b.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s: %s, %s on %s of H3 resolution %d\n",
		filepath.Join(out, "stations.csv"), filepath.Join(out, "population.csv"), nof(len(st.Stations), "station", "stations"),
		nof(cfg.Population, "person", "people"), nof(len(st.Cells), "cell", "cells"), cfg.Res)
	if st.Workers != nil {
		fmt.Fprintf(stdout, "wrote %s: %s\n", filepath.Join(out, "workers.csv"), nof(workers, "worker", "workers"))
	}
	return nil
}

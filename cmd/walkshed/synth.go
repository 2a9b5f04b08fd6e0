package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/synth"
)

func runSynth(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("synth", stderr)
	cfg := synth.Shanghai
	var out string
	fs.StringVar(&out, "out", "", "output `DIR` for stations.csv and population.csv")
	fs.Float64Var(&cfg.AreaKm2, "area-km2", cfg.AreaKm2, "area of the city disc, km²")
	fs.IntVar(&cfg.Population, "people", cfg.Population, "residents")
	fs.IntVar(&cfg.Stations, "stations", cfg.Stations, "stations")
	fs.IntVar(&cfg.Res, "res", cfg.Res, "H3 resolution of the population table")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed (the same seed gives the same city)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: walkshed synth --out DIR [flags]\nWrites a synthetic city (default: Shanghai scale) as stations.csv and population.csv.")
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
	return nil
}

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/walkshed/walkshed/coverage/format"
	demodata "github.com/walkshed/walkshed/data"
)

// demoFiles are the inputs of the demo study, in data/demo.
var demoFiles = []string{"streets.osm.gz", "stations.csv", "population.csv", "areas.geojson", "events.csv"}

// runDemo runs analyze, propose and update on the demo study shipped in
// data/demo, by calling the commands themselves with constructed flags.
func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	var out, data string
	var quiet bool
	fs.StringVar(&out, "out", "walkshed-demo", "output `DIR`: analyze, propose and update go in its subfolders")
	fs.StringVar(&data, "data", "", "the demo study `DIR` (default: data/demo here, or beside the executable)")
	fs.BoolVar(&quiet, "quiet", false, "print only the guide to the outputs")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: walkshed demo [--out DIR] [--data DIR] [--quiet]\n\n"+
			"Runs the demo study (Newark, Delaware: streets from OpenStreetMap, public parks as stations,\n"+
			"a modelled population) through analyze, propose --add 5 and update with events.csv.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := findDemo(data)
	if err != nil && data == "" {
		// Not beside a clone: unpack the copy built into the binary next
		// to the outputs, where update and the notebooks find it again.
		dir = filepath.Join(out, "study")
		err = unpackDemo(dir)
	}
	if err != nil {
		return err
	}
	in := func(name string) string { return filepath.Join(dir, name) }
	study := []string{
		"--network", in("streets.osm.gz"),
		"--stations", in("stations.csv"),
		"--population", in("population.csv"),
		"--areas", in("areas.geojson"),
		"--quiet",
	}
	steps := []struct {
		title string
		run   func([]string, io.Writer, io.Writer) error
		args  []string
	}{
		{"analyze: who lives within a 15-minute walk of a park", runAnalyze,
			append(append([]string{}, study...), "--out", filepath.Join(out, "analyze"))},
		{"propose: five new parks that reach the most people", runPropose,
			append(append([]string{}, study...), "--add", "5", "--out", filepath.Join(out, "propose"))},
		{"update: the openings and closing of events.csv", runUpdate,
			[]string{"--from", filepath.Join(out, "analyze"), "--events", in("events.csv"), "--out", filepath.Join(out, "update"), "--format", "csv,gpkg", "--quiet"}},
	}
	log := stdout
	if quiet {
		log = io.Discard
	}
	fmt.Fprintf(log, "demo study %s\n", dir)
	t0 := time.Now()
	for _, s := range steps {
		fmt.Fprintf(log, "\n== walkshed %s\n", s.title)
		if err := s.run(s.args, log, stderr); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	fmt.Fprintf(stdout, "\ndemo done in %s; wrote %s:\n", time.Since(t0).Round(100*time.Millisecond), out)
	guide := [][2]string{
		{"analyze/summary.json", "totals: population, covered share, the gaps ranked by population"},
		{"analyze/cells.csv", "every populated H3 cell: walking minutes to the nearest park, covered 1/0"},
		{"analyze/areas.csv", "coverage by quadrant of the town"},
		{"analyze/walkshed.gpkg", "open in QGIS: layers stations, cells, gaps, areas (styled)"},
		{"propose/sites.csv", "five new sites in rank order, with the people each adds"},
		{"propose/proposal.json", "the plan, its certified upper bound and the coverage curve"},
		{"update/timeline.csv", "covered population after each opening and closing"},
		{"update/changes.csv", "the cells each event newly covered or uncovered"},
	}
	for _, g := range guide {
		fmt.Fprintf(stdout, "  %-24s %s\n", g[0], g[1])
	}
	fmt.Fprintln(stdout, "\nnotebooks/ draws maps and charts of these; the data is described in data/README.md.")
	return nil
}

// findDemo locates the demo study: --data, else data/demo under the working
// directory, else data/demo beside the executable or one or two folders up
// (a binary in bin/ or a build folder of the repository).
func findDemo(flagDir string) (string, error) {
	if flagDir != "" {
		if err := isDemo(flagDir); err != nil {
			return "", fmt.Errorf("--data %s: %w", flagDir, err)
		}
		return flagDir, nil
	}
	tried := []string{filepath.Join("data", "demo")}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			d := filepath.Dir(exe)
			for range 3 {
				tried = append(tried, filepath.Join(d, "data", "demo"))
				d = filepath.Dir(d)
			}
		}
	}
	for _, d := range tried {
		if isDemo(d) == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no demo study found (looked in %v); run from the repository root or pass --data DIR", tried)
}

// unpackDemo writes the demo study built into the binary to dir.
func unpackDemo(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range demoFiles {
		b, err := demodata.Demo.ReadFile("demo/" + f)
		if err != nil {
			return fmt.Errorf("demo study: %w", err)
		}
		if err := format.WriteAtomic(filepath.Join(dir, f), func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return err
		}
	}
	return nil
}

// isDemo checks that dir holds every demo input.
func isDemo(dir string) error {
	var missing []error
	for _, f := range demoFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, err)
		}
	}
	return errors.Join(missing...)
}

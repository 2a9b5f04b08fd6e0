package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
	"github.com/walkshed/walkshed/coverage/walknet"
)

func runUpdate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("update", stderr)
	var from, events, out, formats string
	var quiet bool
	fs.StringVar(&from, "from", "", "a previous analyze or update output `DIR`")
	fs.StringVar(&events, "events", "", "station events `FILE` (CSV: date,action,id,lon,lat[,name,tier])")
	fs.StringVar(&out, "out", "", "output `DIR` (may be the same as --from)")
	fs.StringVar(&formats, "format", "csv,geojson,gpkg", "outputs to write: any of csv, geojson, gpkg")
	fs.BoolVar(&quiet, "quiet", false, "no progress bars")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: walkshed update --from DIR --events FILE --out DIR")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case from == "":
		return usagef("--from is required")
	case events == "":
		return usagef("--events is required")
	case out == "":
		return usagef("--out is required")
	}
	f, err := format.ParseFormats(formats)
	if err != nil {
		return usageError{err.Error()}
	}
	res, state, err := format.ReadState(from)
	if err != nil {
		return err
	}
	evs, resorted, err := format.ReadEvents(events)
	if err != nil {
		return err
	}
	if resorted {
		fmt.Fprintf(stderr, "note: %s lists events out of date order; they were applied in date order\n", events)
	}
	ctx := context.Background()
	bar := newProgress(stderr, quiet)
	var reach coverage.Reach
	switch res.Mode {
	case "crow":
		reach = coverage.NewCrow(res.Cells, res.Settings.SpeedKmh)
	case "network":
		ns := state.Network
		if ns == nil {
			return fmt.Errorf("%s: network result without network settings", from)
		}
		fi, err := os.Stat(ns.Path)
		if err != nil {
			return fmt.Errorf("%s: the result was computed on %s, which cannot be read now: %w", from, ns.Path, err)
		}
		if fi.Size() != ns.Bytes {
			return fmt.Errorf("%s: the street network %s changed since the result was computed (%d bytes, was %d); rerun analyze", from, ns.Path, fi.Size(), ns.Bytes)
		}
		opt := walknet.Options{MinComponent: ns.MinComponent, MaxSnap: coverage.Meters(ns.MaxSnapM), Progress: bar.update}
		g, err := walknet.Load(ctx, ns.Path, opt)
		if err != nil {
			return err
		}
		r, err := walknet.NewReach(ctx, g, res.Cells, res.Settings.SpeedKmh, coverage.Minutes(ns.BoundMinutes), opt)
		if err != nil {
			return err
		}
		reach = r
		bar.done()
	default:
		return fmt.Errorf("%s: unknown reach mode %q in the stored result", from, res.Mode)
	}
	before := res.Totals()
	t0 := time.Now()
	changes, err := coverage.Update(ctx, res, reach, evs)
	if err != nil {
		return err
	}
	took := time.Since(t0)
	ex := extrasOf(reach)
	run := []gpkg.KeyValue{
		{Key: "version", Value: version},
		{Key: "created", Value: time.Now().UTC().Format(time.RFC3339)},
		{Key: "updated_from", Value: from},
		{Key: "mode", Value: res.Mode},
		{Key: "res", Value: fmt.Sprint(res.Settings.Res)},
		{Key: "minutes", Value: fmt.Sprint(float64(res.Settings.Minutes))},
		{Key: "speed_kmh", Value: fmt.Sprint(float64(res.Settings.SpeedKmh))},
	}
	run = append(run, fileFacts("events", events)...)
	more := []extraFile{
		{"timeline.csv", func(w io.Writer) error { return format.WriteTimelineCSV(w, res, before, changes) }},
		{"changes.csv", func(w io.Writer) error { return format.WriteChangesCSV(w, res, changes) }},
	}
	if err := writeResult(out, res, ex, f, gpkg.WriteOptions{Run: run}, state.Network, more); err != nil {
		return err
	}
	after := res.Totals()
	fmt.Fprintf(stdout, "applied %d events in %s (%d opened, %d closed)\n", len(evs), took.Round(time.Millisecond), count(evs, coverage.Open), count(evs, coverage.Close))
	fmt.Fprintf(stdout, "covered %s → %s people (%.1f%% → %.1f%%), %s stations\n",
		fmtInt(before.CoveredPopulation), fmtInt(after.CoveredPopulation), 100*before.Share(), 100*after.Share(), fmtInt(float64(len(res.Stations))))
	for _, ch := range changes {
		fmt.Fprintf(stdout, "  %s %-5s %-14s %+10s people (%d cells newly covered, %d no longer)\n",
			ch.Event.Date.Format("2006-01-02"), ch.Event.Action, ch.Event.Station.ID, fmtSigned(ch.Gained-ch.Lost), len(ch.NewlyCovered), len(ch.NoLonger))
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", out)
	return nil
}

func count(evs []coverage.Event, a coverage.Action) int {
	n := 0
	for _, e := range evs {
		if e.Action == a {
			n++
		}
	}
	return n
}

func fmtSigned(v float64) string {
	if v >= 0 {
		return "+" + fmtInt(v)
	}
	return fmtInt(v)
}

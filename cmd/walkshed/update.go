package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
	"github.com/walkshed/walkshed/coverage/walknet"
)

// resultFile is the GeoPackage in a result folder: the result's store.
const resultFile = "walkshed.gpkg"

func runUpdate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("update", stderr)
	var from, file, events, out, formats, datum, network, encoding string
	var quiet, verbose bool
	fs.StringVar(&from, "from", "", "a result folder `DIR` (analyze, propose or update output); its walkshed.gpkg is updated")
	fs.StringVar(&file, "gpkg", "", "the result GeoPackage `FILE` to update, instead of --from")
	fs.StringVar(&events, "events", "", "station events `FILE` (CSV: date,action,id,lon,lat[,name,tier])")
	fs.StringVar(&out, "out", "", "write the updated result into `DIR` instead (default: update in place)")
	fs.StringVar(&formats, "format", "gpkg", "outputs: walkshed.gpkg and summary.json always; add csv (cells, areas, timeline, changes) or geojson")
	fs.StringVar(&datum, "crs", "", "coordinates of the events: wgs84, gcj02, bd09 or a projected CRS such as EPSG:32651 (default: as the analysis read its stations)")
	fs.StringVar(&encoding, "encoding", "", "text encoding of the events file (default: detect)")
	fs.StringVar(&network, "network", "", "the OSM `FILE` the result was computed on, when it moved (its content must be the same)")
	fs.BoolVar(&quiet, "quiet", false, "no progress bars")
	fs.BoolVar(&verbose, "v", false, "log each step's time to stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: walkshed update (--from DIR | --gpkg FILE) --events FILE [--out DIR]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case from == "" && file == "":
		return usagef("--from DIR or --gpkg FILE is required")
	case from != "" && file != "":
		return usagef("give --from DIR or --gpkg FILE, not both")
	case events == "":
		return usagef("--events is required")
	}
	f, err := format.ParseFormats(formats)
	if err != nil {
		return usageError{err.Error()}
	}
	if datum != "" {
		if _, err := parseInputCRS(datum); err != nil {
			return usageError{err.Error()}
		}
	}
	src := file
	if src == "" {
		src = filepath.Join(from, resultFile)
	} else {
		from = filepath.Dir(file)
	}
	if out == "" {
		out = from
	}
	inPlace := sameDir(out, from)
	if err := checkOut("--out", out); err != nil {
		return err
	}
	m := newManifest("update", args)
	m.input("events", events)
	m.set("from", src)
	m.set("formats", formats)

	if _, err := os.Stat(src); err != nil {
		if _, serr := os.Stat(filepath.Join(from, format.StateFile)); serr != nil {
			if file != "" {
				return fmt.Errorf("%s: %w", file, err)
			}
			return fmt.Errorf("%s is not a walkshed result: no %s in it", from, resultFile)
		}
	}

	bar := newProgress(stderr, quiet)
	bar.logTo(verbose, stderr)
	b, err := format.NewBatch(out)
	if err != nil {
		return err
	}
	var st *gpkg.Store
	done := false
	defer func() {
		if st != nil {
			st.Close()
		}
		if !done {
			b.Abort()
		}
	}()
	end := bar.step("reading the result")
	o, err := openResult(b, src, from, inPlace, network)
	end()
	if err != nil {
		return err
	}
	st = o.st
	// What the result was made with: the store's facts, or for a result
	// read from a state file, the facts gathered while migrating it.
	res, crsName, nf, last, where := o.pending, o.opt.CRS, o.opt.Network, time.Time{}, o.target
	if st != nil {
		res, crsName, nf, last, where = st.Result, st.CRS, st.Network, st.LastEvent, st.Path()
	}

	// Events are read in the coordinates the analysis read its stations
	// in, unless --crs says otherwise.
	name := datum
	if name == "" {
		name = crsName
	}
	c, err := parseInputCRS(name)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	evs, resorted, err := format.ReadEventsWith(events, format.EventOptions{Encoding: encoding, CRS: c.proj, Warn: warnTo(stderr)})
	if err != nil {
		return err
	}
	if resorted {
		fmt.Fprintf(stderr, "note: %s lists events out of date order; they were applied in date order\n", events)
	}
	for i := range evs {
		if p := evs[i].Station.Pos; p != (orb.Point{}) && c.datum != crs.WGS84 {
			evs[i].Station.Pos = c.datum.ToWGS84(p)
		}
	}
	if !last.IsZero() {
		for _, ev := range evs {
			if ev.Date.Before(last) {
				fmt.Fprintf(stderr, "warning: %s: %s %s %s is dated before the last event already applied (%s)\n",
					ev.Source, ev.Date.Format("2006-01-02"), ev.Action, ev.Station.ID, last.Format("2006-01-02"))
			}
		}
	}

	ctx := context.Background()
	var reach coverage.Reach
	var run []gpkg.KeyValue
	switch res.Mode {
	case "crow":
		reach = coverage.NewCrow(res.Cells, res.Settings.SpeedKmh)
	case "network":
		path, moved, err := checkNetwork(nf, network, where)
		if err != nil {
			return err
		}
		if moved {
			run = append(run, gpkg.KeyValue{Key: "network_path", Value: path})
		}
		m.input("network", path)
		opt := walknet.Options{MinComponent: nf.MinComponent, MaxSnap: coverage.Meters(nf.MaxSnapM), Progress: bar.update}
		end := bar.step("reading the streets")
		g, err := walknet.Load(ctx, path, opt)
		end()
		if err != nil {
			return err
		}
		end = bar.step("snapping to the streets")
		r, err := walknet.NewReach(ctx, g, res.Cells, res.Settings.SpeedKmh, res.Bound, opt)
		end()
		if err != nil {
			return err
		}
		reach = r
	default:
		return fmt.Errorf("%s: unknown reach mode %q in the stored result", where, res.Mode)
	}
	ex := extrasOf(reach)
	if o.pending != nil {
		// A result from a state file without a GeoPackage: written now,
		// with the snap legs the reach model knows, then updated.
		opt := o.opt
		opt.Snap = snapLegs(ex, len(res.Cells))
		if err := gpkg.Write(o.target, res, opt); err != nil {
			return err
		}
		if st, err = gpkg.OpenStore(o.target); err != nil {
			return err
		}
		res = st.Result
	}
	var svc *service
	if st != nil && st.Service.Any() {
		if svc, err = serviceOf(st.Service, res, where); err != nil {
			return err
		}
		if err := svc.checkEvents(evs); err != nil {
			return err
		}
	} else if spec := tieredResult(src, from); spec != "" {
		return fmt.Errorf("%s: this result was made with --tiers %s and written without its GeoPackage (--format csv); update keeps tiers in walkshed.gpkg: rerun analyze with --format gpkg", from, spec)
	} else {
		for _, ev := range evs {
			if ev.Station.Capacity > 0 {
				fmt.Fprintf(stderr, "warning: %s: the capacity of %s is not kept: the result was analysed without capacities\n", ev.Source, ev.Station.ID)
				break
			}
		}
	}
	before := res.Totals()
	t0 := time.Now()
	end = bar.step("applying the events")
	changes, err := coverage.UpdateServing(ctx, res, reach, evs, svc.serves())
	end()
	if err != nil {
		return err
	}
	took := time.Since(t0)
	if svc != nil {
		end = bar.step("tiers and catchments")
		ex.Tiers, err = svc.analyze(ctx, res, reach, st.KnownPotentials(res.Stations))
		end()
		if err != nil {
			return err
		}
		st.SetTiers(gpkgTiers(ex.Tiers))
	}
	if wr, ok := reach.(*walknet.Reach); ok {
		// summary.json tells, as analyze's does, the stations off the
		// streets and what the straight line would have said.
		unsnapped := 0
		for _, s := range wr.SnapStations(coverage.StationPoints(res.Stations)) {
			if !s.Snapped {
				unsnapped++
			}
		}
		if ex.Stats == nil {
			ex.Stats = map[string]any{}
		}
		ex.Stats["stations_unsnapped"] = unsnapped
		share, err := crowCoveredShare(ctx, coverage.Study{Settings: res.Settings, Stations: res.Stations, Cells: res.Cells})
		if err != nil {
			return err
		}
		ex.More = map[string]any{"crow_share_covered": share}
	}

	// The exports are prepared first and renamed into place once the
	// GeoPackage has committed.
	if err := addExports(b, res, ex, f, before, changes); err != nil {
		return err
	}
	run = append(run,
		gpkg.KeyValue{Key: "update_version", Value: version},
		gpkg.KeyValue{Key: "update_events", Value: events})
	end = bar.step("writing the result")
	stats, err := st.Commit(changes, run)
	st = nil
	if err != nil {
		return err
	}
	var also []string
	if inPlace {
		also = append(also, filepath.Base(src)) // updated where it stands
	}
	m.set("crs", crsName)
	err = commitOutputs(b, m, also...)
	end()
	if err != nil {
		return err
	}
	done = true
	// The former state file is superseded by the store in walkshed.gpkg.
	if _, err := os.Stat(filepath.Join(out, format.StateFile)); err == nil {
		os.Remove(filepath.Join(out, format.StateFile))
	}

	after := res.Totals()
	fmt.Fprintf(stdout, "applied %s in %s (%s opened, %s closed)\n", nof(len(evs), "event", "events"), took.Round(time.Millisecond),
		fmtInt(float64(count(evs, coverage.Open))), fmtInt(float64(count(evs, coverage.Close))))
	fmt.Fprintf(stdout, "covered %s → %s (%.1f%% → %.1f%%), %s\n",
		fmtInt(before.CoveredPopulation), nof(after.CoveredPopulation, "person", "people"), 100*before.Share(), 100*after.Share(), nof(len(res.Stations), "station", "stations"))
	for _, ch := range changes {
		fmt.Fprintf(stdout, "  %s %-5s %-14s %+10s people (%s newly covered, %s no longer)\n",
			ch.Event.Date.Format("2006-01-02"), ch.Event.Action, ch.Event.Station.ID, fmtSigned(ch.Gained-ch.Lost), nof(len(ch.NewlyCovered), "cell", "cells"), fmtInt(float64(len(ch.NoLonger))))
	}
	how := "in place"
	if !inPlace {
		how = "a copy of " + src
	}
	if ex.Tiers != nil {
		fmt.Fprintln(stdout)
		printTiers(stdout, ex.Tiers)
	}
	fmt.Fprintf(stdout, "\nwrote %s (%s: %s and %s changed, %s rewritten)\n", filepath.Join(out, filepath.Base(src)), how,
		nof(stats.CellRows, "cell", "cells"), nof(stats.StationsOpened+stats.StationsClosed+stats.StationCounts, "station", "stations"), nof(stats.GapRows, "gap", "gaps"))
	return nil
}

// opened is a result opened for update: its store, or (a result read from
// a state file with no GeoPackage to hold it) the result to write at
// target with opt once the reach model can give the snap legs.
type opened struct {
	st      *gpkg.Store
	pending *coverage.Result
	opt     gpkg.WriteOptions
	target  string
}

// openResult opens the result's store for update: src itself when updating
// in place, else a copy of it prepared in the batch. A folder written by a
// walkshed that kept its state in walkshed-state.json is migrated: the
// store is added to its GeoPackage in the same transaction as the update,
// or, when there is no GeoPackage or it does not hold that result, a new
// one is written from the state.
func openResult(b *format.Batch, src, from string, inPlace bool, network string) (opened, error) {
	target := src
	_, statErr := os.Stat(src)
	exists := statErr == nil
	if exists && !inPlace {
		if err := b.AddPath(filepath.Base(src), func(tmp string) error { target = tmp; return gpkg.CopyFile(src, tmp) }); err != nil {
			return opened{}, err
		}
	}
	if exists {
		st, err := gpkg.OpenStore(target)
		if err == nil || !errors.Is(err, gpkg.ErrNotStore) {
			return opened{st: st}, err
		}
	}
	if _, err := os.Stat(filepath.Join(from, format.StateFile)); err != nil {
		if exists {
			return opened{}, fmt.Errorf("%s is not a walkshed result: it has none of the tables walkshed analyze writes for updates, and there is no %s beside it", src, format.StateFile)
		}
		return opened{}, fmt.Errorf("%s is not a walkshed result: no %s in it", from, resultFile)
	}
	r, state, err := format.ReadState(from)
	if err != nil {
		return opened{}, err
	}
	opt := gpkg.WriteOptions{Run: []gpkg.KeyValue{{Key: "migrated_from", Value: filepath.Join(from, format.StateFile)}}}
	if state.Network != nil {
		if opt.Network, err = migratedNetwork(state.Network, network); err != nil {
			return opened{}, err
		}
	}
	if exists {
		if st, err := gpkg.MigrateStore(target, r, opt); err == nil {
			return opened{st: st}, nil
		}
		// The GeoPackage does not hold the state's result: a new one
		// replaces it.
	}
	if !exists || inPlace {
		if err := b.AddPath(filepath.Base(src), func(tmp string) error { target = tmp; return nil }); err != nil {
			return opened{}, err
		}
	}
	return opened{pending: r, opt: opt, target: target}, nil
}

// snapLegs lists each cell's snap leg in metres (NaN: none) for the
// GeoPackage, when the reach model has them.
func snapLegs(ex format.Extras, n int) []float64 {
	if ex.Snap == nil {
		return nil
	}
	legs := make([]float64, n)
	for i := range legs {
		d, ok := ex.Snap.CellSnap(int32(i))
		legs[i] = float64(d)
		if !ok {
			legs[i] = math.NaN()
		}
	}
	return legs
}

// addExports adds the exports asked for to the batch: summary.json always,
// the CSV and GeoJSON files with --format csv / geojson / cells-geojson.
func addExports(b *format.Batch, r *coverage.Result, ex format.Extras, f format.Formats, before coverage.Totals, changes []coverage.Change) error {
	files := []extraFile{{"summary.json", func(w io.Writer) error { return format.WriteSummaryJSON(w, r, ex) }}}
	if f.CSV {
		files = append(files,
			extraFile{"cells.csv", func(w io.Writer) error { return format.WriteCellsCSV(w, r, ex) }},
			extraFile{"timeline.csv", func(w io.Writer) error { return format.WriteTimelineCSV(w, r, before, changes) }},
			extraFile{"changes.csv", func(w io.Writer) error { return format.WriteChangesCSV(w, r, changes) }})
		if len(r.Areas) > 0 {
			files = append(files, extraFile{"areas.csv", func(w io.Writer) error { return format.WriteTierAreasCSV(w, r, ex.Tiers) }})
		}
		if tx := ex.Tiers; tx != nil {
			files = append(files, extraFile{"stations.csv", func(w io.Writer) error { return format.WriteStationsCSV(w, tx) }})
		}
	}
	if f.CellsGeoJSON {
		files = append(files, extraFile{"cells.geojson", func(w io.Writer) error { return format.WriteCellsGeoJSON(w, r, ex) }})
	}
	if f.GeoJSON {
		files = append(files, extraFile{"gaps.geojson", func(w io.Writer) error { return format.WriteGapsGeoJSON(w, r) }})
		if tx := ex.Tiers; tx != nil && tx.Named {
			files = append(files, extraFile{"tier_gaps.geojson", func(w io.Writer) error { return format.WriteTierGapsGeoJSON(w, r, tx) }})
		}
	}
	for _, x := range files {
		if err := b.Add(x.name, x.write); err != nil {
			return err
		}
	}
	return nil
}

// checkNetwork finds the street file a network result was computed on:
// given (--network) or the stored path, accepted only when its content
// hash is the stored one. moved reports a new path to store.
func checkNetwork(n *gpkg.NetworkFacts, given, store string) (path string, moved bool, err error) {
	if n == nil {
		return "", false, fmt.Errorf("%s: a network result without the street network's path and hash; rerun analyze", store)
	}
	path = n.Path
	if given != "" {
		if path, err = filepath.Abs(given); err != nil {
			return "", false, err
		}
	}
	sum, _, err := fileSHA256(path)
	if err != nil {
		if given != "" {
			return "", false, fmt.Errorf("--network %s: %w", given, err)
		}
		return "", false, fmt.Errorf("the result was computed on %s, which cannot be read now (%v); if it moved, pass --network FILE", n.Path, err)
	}
	if sum != n.SHA256 {
		return "", false, fmt.Errorf("%s is not the street network the result was computed on: its SHA-256 is %s, the result's %s (rerun analyze)", path, sum, n.SHA256)
	}
	return path, path != n.Path, nil
}

// migratedNetwork builds the network facts of a result read from a state
// file, which recorded the street file's size but not its hash: the file
// (or --network) must still have that size, and its hash is taken now.
func migratedNetwork(ns *format.NetworkState, given string) (*gpkg.NetworkFacts, error) {
	path := ns.Path
	if given != "" {
		var err error
		if path, err = filepath.Abs(given); err != nil {
			return nil, err
		}
	}
	sum, size, err := fileSHA256(path)
	if err != nil {
		return nil, fmt.Errorf("the result was computed on %s, which cannot be read now (%v); if it moved, pass --network FILE", path, err)
	}
	if size != ns.Bytes {
		return nil, fmt.Errorf("the street network %s changed since the result was computed (%d bytes, was %d); rerun analyze", path, size, ns.Bytes)
	}
	return &gpkg.NetworkFacts{Path: path, Bytes: size, SHA256: sum, MaxSnapM: ns.MaxSnapM, MinComponent: ns.MinComponent}, nil
}

// networkFacts describes the street network an analysis read, for the
// result's store.
func networkFacts(ns *format.NetworkState) (*gpkg.NetworkFacts, error) {
	if ns == nil {
		return nil, nil
	}
	sum, size, err := fileSHA256(ns.Path)
	if err != nil {
		return nil, err
	}
	return &gpkg.NetworkFacts{Path: ns.Path, Bytes: size, SHA256: sum, MaxSnapM: ns.MaxSnapM, MinComponent: ns.MinComponent}, nil
}

// sameDir reports whether two folder names name the same folder.
func sameDir(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
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

// service is the tier analysis a stored result was made with, redone after
// its update.
type service struct {
	spec   coverage.TierSpec
	named  bool
	method coverage.AccessMethod
}

// serviceOf reads the stored facts. where names the store in messages.
func serviceOf(f gpkg.ServiceFacts, res *coverage.Result, where string) (*service, error) {
	s := &service{spec: coverage.OneTier(res.Settings.Minutes)}
	if f.Tiers != "" {
		spec, err := coverage.ParseTierSpec(f.Tiers)
		if err != nil {
			return nil, fmt.Errorf("%s: run table: %w", where, err)
		}
		switch f.TierMode {
		case "separate":
			spec.Separate = true
		case "inclusive", "":
		default:
			return nil, fmt.Errorf("%s: run table: tier_mode %q is not inclusive or separate", where, f.TierMode)
		}
		s.spec, s.named = spec, true
	}
	if f.Access != "" {
		m, err := coverage.ParseAccessMethod(f.Access)
		if err != nil {
			return nil, fmt.Errorf("%s: run table: access %q: %w", where, f.Access, err)
		}
		s.method = m
	}
	return s, nil
}

// checkEvents refuses an opening whose tier is not one of the result's,
// naming the event's line.
func (s *service) checkEvents(evs []coverage.Event) error {
	if !s.named {
		return nil
	}
	for _, ev := range evs {
		if ev.Action != coverage.Open || s.spec.Index(ev.Station.Tier) >= 0 {
			continue
		}
		names := make([]string, len(s.spec.Tiers))
		for i, t := range s.spec.Tiers {
			names[i] = t.Name
		}
		if ev.Station.Tier == "" {
			return fmt.Errorf("%s: opening %s needs a tier (one of %s): the result was analysed with tiers", ev.Source, ev.Station.ID, strings.Join(names, ", "))
		}
		return fmt.Errorf("%s: opening %s: tier %q is not one of the result's tiers (%s)", ev.Source, ev.Station.ID, ev.Station.Tier, strings.Join(names, ", "))
	}
	return nil
}

// serves picks the stations whose times the result keeps: with separate
// tiers, the bottom tier's; otherwise every station (nil).
func (s *service) serves() func(coverage.Station) bool {
	if s == nil || !s.named || !s.spec.Separate {
		return nil
	}
	bottom := len(s.spec.Tiers) - 1
	return func(st coverage.Station) bool { return s.spec.Index(st.Tier) == bottom }
}

// analyze redoes the tiers, catchments and accessibility of the updated
// result; known are the stations' potential populations the store kept.
func (s *service) analyze(ctx context.Context, res *coverage.Result, reach coverage.Reach, known []float64) (*format.TierExtras, error) {
	// The result's own times are the bottom tier's (UpdateServing kept
	// them for its stations alone with separate tiers).
	tr, err := coverage.AnalyzeTiersWith(ctx, res.Cells, res.Stations, s.spec, reach, res.Access)
	if err != nil {
		return nil, err
	}
	return serviceExtras(ctx, res, tr, res.AreaInputs(), s.named, s.method, reach, known)
}

package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
	"github.com/walkshed/walkshed/coverage/walknet"
)

func runAnalyze(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analyze", stderr)
	var sf studyFlags
	sf.register(fs)
	var tf tierFlags
	tf.register(fs, &sf)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: walkshed analyze --stations FILE --population FILE [--areas FILE] [--network FILE.osm.pbf] --out DIR [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	formats, err := format.ParseFormats(sf.formats)
	if err != nil {
		return usageError{err.Error()}
	}
	minutesSet := false
	fs.Visit(func(f *flag.Flag) { minutesSet = minutesSet || f.Name == "minutes" })
	if err := tf.parse(&sf, minutesSet); err != nil {
		return err
	}
	ctx := context.Background()
	bar := newProgress(stderr, sf.quiet)
	bar.logTo(sf.verbose, stderr)
	l, err := sf.load(ctx, stderr, bar)
	if err != nil {
		return err
	}
	end := bar.step("walking times and gaps")
	res, err := coverage.Analyze(ctx, l.study, l.reach, sf.logger(stderr))
	end()
	if err != nil {
		return err
	}
	ex := extrasOf(l.reach)
	if tf.wanted(l.study.Stations) {
		end = bar.step("tiers and catchments")
		ex.Tiers, err = tf.analyze(ctx, l, res)
		end()
		if err != nil {
			return err
		}
		if tf.named {
			l.run = append(l.run, gpkg.KeyValue{Key: "tiers", Value: tf.specText()}, gpkg.KeyValue{Key: "tier_mode", Value: tf.mode})
		}
		if tf.method != 0 {
			l.run = append(l.run, gpkg.KeyValue{Key: "access", Value: tf.method.String()})
		}
	}
	crowShare := math.NaN()
	var offset *offsetHint
	if sf.network != "" {
		crowShare, err = crowCoveredShare(ctx, l.study)
		if err != nil {
			return err
		}
		offset = checkOffset(l.reach.(*walknet.Reach), l.study.Stations, sf.stations.datum)
		ex.Stats["stations_unsnapped"] = l.reach.(*walknet.Reach).UnsnappedStations()
		ex.More = map[string]any{"crow_share_covered": crowShare}
	}
	end = bar.step("writing the outputs")
	var more []extraFile
	if ex.Tiers != nil {
		tx := ex.Tiers
		more = append(more, extraFile{"stations.csv", func(w io.Writer) error { return format.WriteStationsCSV(w, tx) }})
		if tx.Named && formats.GeoJSON {
			more = append(more, extraFile{"tier_gaps.geojson", func(w io.Writer) error { return format.WriteTierGapsGeoJSON(w, res, tx) }})
		}
	}
	m := sf.manifest("analyze", args)
	tf.record(m)
	gopt := gpkg.WriteOptions{Run: l.run, CRS: sf.stations.datum}
	if tx := ex.Tiers; tx != nil {
		gopt.Tiers = gpkgTiers(tx)
	}
	err = writeResult(sf.out, res, ex, formats, gopt, sf.networkState(), more, m)
	end()
	if err != nil {
		return err
	}
	printSummary(stdout, res, ex, crowShare)
	if ex.Tiers != nil {
		printTiers(stdout, ex.Tiers)
	}
	if offset != nil {
		fmt.Fprintln(stderr, offset.message())
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", sf.out)
	return nil
}

// gpkgTiers is what the GeoPackage shows of a service analysis.
func gpkgTiers(tx *format.TierExtras) *gpkg.Tiers {
	return &gpkg.Tiers{Result: tx.Result, Named: tx.Named, Catchments: tx.Catchments, Access: tx.Access, Gaps: tx.Gaps}
}

// extrasOf collects what the reach model adds to the outputs.
func extrasOf(r coverage.Reach) format.Extras {
	var ex format.Extras
	if s, ok := r.(coverage.Snapper); ok {
		ex.Snap = s
	}
	if d, ok := r.(coverage.Describer); ok {
		ex.Stats = d.Stats()
	}
	return ex
}

// crowCoveredShare is the share the straight line would have reported, for
// comparison with the network.
func crowCoveredShare(ctx context.Context, st coverage.Study) (float64, error) {
	crow := coverage.NewCrow(st.Cells, st.Settings.SpeedKmh)
	acc := make([]coverage.Access, len(st.Cells))
	if err := crow.Nearest(ctx, coverage.StationPoints(st.Stations), nil, acc); err != nil {
		return 0, err
	}
	r := coverage.Result{Settings: st.Settings, Cells: st.Cells, Access: acc}
	return r.Totals().Share(), nil
}

// extraFile is one more output a command adds to the batch.
type extraFile struct {
	name  string
	write func(io.Writer) error
}

// writeResult writes every output of a result into dir as one batch: all
// files are prepared first and renamed into place only when all succeeded.
func writeResult(dir string, r *coverage.Result, ex format.Extras, f format.Formats, gopt gpkg.WriteOptions, net *format.NetworkState, more []extraFile, m *manifest) error {
	b, err := format.NewBatch(dir)
	if err != nil {
		return err
	}
	ok := false
	// The GeoPackage, the longest to write, is written alongside the other
	// files (writers only read the result).
	var gpkgDone sync.WaitGroup
	var gpkgErr error
	defer func() {
		gpkgDone.Wait()
		if !ok {
			b.Abort()
		}
	}()
	if f.GPKG {
		if ex.Snap != nil {
			gopt.Snap = make([]float64, len(r.Cells))
			for i := range r.Cells {
				d, ok := ex.Snap.CellSnap(int32(i))
				gopt.Snap[i] = float64(d)
				if !ok {
					gopt.Snap[i] = math.NaN()
				}
			}
		}
		if gopt.Network, err = networkFacts(net); err != nil {
			return err
		}
		gpkgDone.Add(1)
		go func() {
			defer gpkgDone.Done()
			gpkgErr = b.AddPath("walkshed.gpkg", func(tmp string) error { return gpkg.Write(tmp, r, gopt) })
		}()
	}
	add := func(name string, w func(io.Writer) error) error { return b.Add(name, w) }
	if err := add("summary.json", func(w io.Writer) error { return format.WriteSummaryJSON(w, r, ex) }); err != nil {
		return err
	}
	if !f.GPKG {
		// Without a GeoPackage (the result's store), update continues
		// from the state file.
		if err := add(format.StateFile, func(w io.Writer) error { return format.WriteState(w, r, version, net) }); err != nil {
			return err
		}
	}
	if f.CSV {
		if err := add("cells.csv", func(w io.Writer) error { return format.WriteCellsCSV(w, r, ex) }); err != nil {
			return err
		}
		if len(r.Areas) > 0 {
			if err := add("areas.csv", func(w io.Writer) error { return format.WriteTierAreasCSV(w, r, ex.Tiers) }); err != nil {
				return err
			}
		}
	}
	if f.CellsGeoJSON {
		if err := add("cells.geojson", func(w io.Writer) error { return format.WriteCellsGeoJSON(w, r, ex) }); err != nil {
			return err
		}
	}
	if f.GeoJSON {
		if err := add("gaps.geojson", func(w io.Writer) error { return format.WriteGapsGeoJSON(w, r) }); err != nil {
			return err
		}
	}
	for _, m := range more {
		if err := add(m.name, m.write); err != nil {
			return err
		}
	}
	gpkgDone.Wait()
	if gpkgErr != nil {
		return gpkgErr
	}
	if err := commitOutputs(b, m); err != nil {
		return err
	}
	ok = true
	if f.GPKG {
		os.Remove(filepath.Join(dir, format.StateFile)) // superseded by the store in walkshed.gpkg
	}
	return nil
}

// printSummary prints the human summary of an analysis.
func printSummary(w io.Writer, r *coverage.Result, ex format.Extras, crowShare float64) {
	t := r.Totals()
	set := r.Settings
	mode := "straight line"
	if r.Mode == "network" {
		mode = "along the street network"
	}
	fmt.Fprintf(w, "walkshed %s: %s-minute walk at %.1f km/h = %s m, measured %s\n",
		version, fmtNum(float64(set.Minutes)), float64(set.SpeedKmh), fmtInt(float64(set.Radius())), mode)
	fmt.Fprintf(w, "population  %s in %s of H3 resolution %d (input total %s)\n",
		nof(t.Population, "person", "people"), nof(t.Cells, "cell", "cells"), set.Res, fmtInt(r.InputPopulation))
	fmt.Fprintf(w, "stations    %s\n", fmtInt(float64(len(r.Stations))))
	fmt.Fprintf(w, "covered     %s, %.1f%% (%s of %s)\n",
		nof(t.CoveredPopulation, "person", "people"), 100*t.Share(), fmtInt(float64(t.CoveredCells)), nof(t.Cells, "cell", "cells"))
	if !math.IsNaN(crowShare) {
		fmt.Fprintf(w, "            the straight line would say %.1f%%\n", 100*crowShare)
	}
	for _, l := range r.LayerTotals() {
		fmt.Fprintf(w, "  %-10s %s of %s covered, %.1f%% (weight %s)\n", l.Name,
			fmtInt(l.CoveredPopulation), fmtInt(l.Population), 100*l.Share(), fmtNum(l.Weight))
	}
	if t.UnreachedCells > 0 {
		fmt.Fprintf(w, "unreachable %s with no station within %s min", nof(t.UnreachedCells, "cell", "cells"), fmtNum(float64(r.Bound)))
		if ex.Stats != nil {
			fmt.Fprintf(w, " (%v farther than the snapping limit from any street)", ex.Stats["unreachable_cells"])
		}
		fmt.Fprintln(w)
	}
	if ex.Stats != nil {
		fmt.Fprintf(w, "network     %s, %s, %s kept, %s dropped; snap mean %.0f m, max %.0f m\n",
			nofAny(ex.Stats["nodes"], "node", "nodes"), nofAny(ex.Stats["edges"], "edge", "edges"), nofAny(ex.Stats["ways_kept"], "way", "ways"),
			nofAny(ex.Stats["components_dropped"], "fragment", "fragments"), ex.Stats["mean_snap_m"], ex.Stats["max_snap_m"])
		if n, ok := ex.Stats["stations_unsnapped"].(int); ok && n > 0 {
			verb := "are"
			if n == 1 {
				verb = "is"
			}
			fmt.Fprintf(w, "            %s %s farther than the snapping limit from any street and left out\n", nof(n, "station", "stations"), verb)
		}
	}
	fmt.Fprintf(w, "gaps        %s\n", nof(len(r.Gaps), "connected uncovered neighbourhood", "connected uncovered neighbourhoods"))
	for _, g := range r.Gaps[:min(5, len(r.Gaps))] {
		var slowest coverage.Minutes
		unreached := 0
		for _, c := range g.Cells {
			if m := r.Access[c].Minutes; m.Reached() {
				slowest = max(slowest, m)
			} else {
				unreached++
			}
		}
		var worst string
		switch {
		case unreached == len(g.Cells):
			worst = "no station in reach"
		case unreached > 0:
			worst = fmt.Sprintf("up to %.1f min; %s with no station in reach", float64(slowest), nof(unreached, "cell", "cells"))
		default:
			worst = fmt.Sprintf("up to %.1f min", float64(slowest))
		}
		fmt.Fprintf(w, "  #%-3d %16s  %11s  at %.5f,%.5f  %s\n", g.ID, nof(g.Population, "person", "people"), nof(len(g.Cells), "cell", "cells"), g.Point[0], g.Point[1], worst)
	}
	if len(r.Areas) > 0 {
		areas := slices.Clone(r.Areas)
		slices.SortStableFunc(areas, func(a, b coverage.AreaSummary) int {
			switch {
			case a.Share() < b.Share():
				return -1
			case a.Share() > b.Share():
				return 1
			}
			return 0
		})
		fmt.Fprintln(w, "worst-served areas")
		n := 0
		for _, a := range areas {
			if a.Population <= 0 {
				continue
			}
			name := a.Name
			if a.Level == "parent" {
				name += " (all)"
			} else if a.Parent != "" {
				name = a.Parent + " / " + a.Name
			}
			fmt.Fprintf(w, "  %-32s %5.1f%% of %s, %s, %s\n", name, 100*a.Share(), nof(a.Population, "person", "people"), nof(a.Stations, "station", "stations"), nof(a.Gaps, "gap", "gaps"))
			if n++; n == 5 {
				break
			}
		}
	}
}

// nof prints a count with thousands separators and the noun that agrees
// with it: "1 gap", "1,204 gaps".
func nof[T int | int32 | int64 | float64](n T, one, many string) string {
	s := fmtInt(float64(n))
	if s == "1" || s == "-1" {
		return s + " " + one
	}
	return s + " " + many
}

// nofAny is nof for a statistic of unknown numeric type.
func nofAny(v any, one, many string) string {
	switch x := v.(type) {
	case int:
		return nof(x, one, many)
	case int32:
		return nof(x, one, many)
	case int64:
		return nof(x, one, many)
	case float64:
		return nof(x, one, many)
	}
	return fmt.Sprint(v) + " " + many
}

// fmtInt prints a rounded number with thousands separators.
func fmtInt(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "-"
	}
	s := fmt.Sprintf("%.0f", math.Abs(v))
	var b strings.Builder
	if v < 0 && s != "0" {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", v)
}

// offsetHint is a warning that station coordinates look offset.
type offsetHint struct {
	median, fixed float64
	flag          string
}

func (o *offsetHint) message() string {
	return fmt.Sprintf("warning: stations sit a median %.0f m from the nearest street; read as %s they would sit %.0f m away.\n"+
		"         The coordinates look like they come from a Chinese map service: pass --crs %s.", o.median, strings.ToUpper(o.flag), o.fixed, o.flag)
}

// checkOffset compares the stations' median snap distance as given with what
// it would be if they were GCJ-02 or BD-09 coordinates; a cut by more than
// half from a large median means the points were offset.
func checkOffset(r *walknet.Reach, all []coverage.Station, given string) *offsetHint {
	if given != "wgs84" && given != "" || len(all) == 0 {
		return nil
	}
	// Only stations on the extract tell anything: those beyond its edge sit
	// far from any street whatever their datum. The box is the graph's
	// nodes' with a 1 km margin (the largest offset is about 700 m).
	box := r.Graph().Bound()
	box = box.Pad(0.01)
	var st []coverage.Station
	for _, s := range all {
		if box.Contains(s.Pos) {
			st = append(st, s)
		}
	}
	if len(st) < 3 {
		return nil
	}
	// The offsets only exist inside mainland China: elsewhere map services
	// use WGS-84, and the check must not fire.
	inChina := 0
	for _, s := range st {
		if !crs.OutOfChina(s.Pos) {
			inChina++
		}
	}
	if inChina*2 < len(st) {
		return nil
	}
	median := func(conv func(p coverage.Station) coverage.Station) float64 {
		ds := make([]float64, 0, len(st))
		for _, s := range st {
			d, _ := r.Snap(conv(s).Pos)
			ds = append(ds, float64(d))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	asIs := median(func(s coverage.Station) coverage.Station { return s })
	const large = 40 // metres: well-placed stations sit on or beside a street
	if asIs < large {
		return nil
	}
	var best *offsetHint
	for _, d := range []crs.Datum{crs.GCJ02, crs.BD09} {
		fixed := median(func(s coverage.Station) coverage.Station { s.Pos = d.ToWGS84(s.Pos); return s })
		if fixed < asIs/2 && (best == nil || fixed < best.fixed) {
			best = &offsetHint{median: asIs, fixed: fixed, flag: d.String()}
		}
	}
	return best
}

// tierFlags are analyze's station hierarchy and accessibility flags.
type tierFlags struct {
	tiers, mode, access string

	spec   coverage.TierSpec
	named  bool // --tiers given
	method coverage.AccessMethod
	path   string // the stations file, for messages
}

func (t *tierFlags) register(fs *flag.FlagSet, sf *studyFlags) {
	fs.StringVar(&t.tiers, "tiers", "", "station hierarchy from the top, `SPEC` name=minutes,… (e.g. district=30,subdistrict=15,neighbourhood=10), or a CSV file of tier,minutes rows; stations name theirs in a tier column")
	fs.StringVar(&t.mode, "tier-mode", "inclusive", "inclusive: a station serves its tier and every tier below; separate: its own tier only")
	fs.StringVar(&sf.stations.capacityCol, "capacity-col", "", "station capacity column, a positive number or empty when unknown (default: detect capacity/容量)")
	fs.StringVar(&t.access, "access", "", "accessibility index per cell: 2sfca or e2sfca (supply per 1,000 people within reach)")
}

// parse checks the flags before anything is read: the spec becomes the
// study's threshold (its bottom tier) and the network bound (its top).
func (t *tierFlags) parse(sf *studyFlags, minutesSet bool) error {
	if t.mode != "inclusive" && t.mode != "separate" {
		return usagef("--tier-mode %q: want inclusive or separate", t.mode)
	}
	if t.access != "" {
		m, err := coverage.ParseAccessMethod(t.access)
		if err != nil {
			return usagef("--access %q: want 2sfca or e2sfca", t.access)
		}
		t.method = m
	}
	t.path = sf.stations.path
	if t.tiers == "" {
		if t.mode != "inclusive" {
			return usagef("--tier-mode needs --tiers")
		}
		return nil
	}
	text := t.tiers
	if fi, err := os.Stat(t.tiers); err == nil && !fi.IsDir() {
		var ferr error
		if text, ferr = readTierFile(t.tiers); ferr != nil {
			return ferr
		}
	}
	spec, err := coverage.ParseTierSpec(text)
	if err != nil {
		var te *coverage.TierSpecError
		if errors.As(err, &te) {
			msg := fmt.Sprintf("--tiers %s: %s", te.Part, te.Reason)
			if text != t.tiers {
				return fmt.Errorf("%s: %s: %s", t.tiers, te.Part, te.Reason)
			}
			return usageError{msg}
		}
		return usagef("--tiers: %v", err)
	}
	spec.Separate = t.mode == "separate"
	t.spec, t.named = spec, true
	bottom := float64(spec.Tiers[len(spec.Tiers)-1].Minutes)
	if minutesSet && sf.minutes != bottom {
		return usagef("--minutes %g and --tiers disagree: with tiers, the bottom tier's threshold (%g) is the study's; leave --minutes out", sf.minutes, bottom)
	}
	sf.minutes = bottom
	for _, tr := range spec.Tiers {
		sf.tierMinutes = max(sf.tierMinutes, float64(tr.Minutes))
	}
	sf.checkStations = func(st []coverage.Station) error {
		_, err := coverage.StationTiers(st, t.spec)
		var se *coverage.StationError
		if errors.As(err, &se) {
			return fmt.Errorf("%s: station %d (id %q): tier %q is not in --tiers (%s)", t.path, se.Index+1, se.ID, st[se.Index].Tier, t.specText())
		}
		return err
	}
	return nil
}

// readTierFile reads a CSV file of tier,minutes rows (a header row
// naming them is skipped) into a spec's text.
func readTierFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.TrimLeadingSpace = true
	rd.FieldsPerRecord = -1
	var parts []string
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		line, _ := rd.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != 2 {
			return "", fmt.Errorf("%s:%d: want two columns, tier,minutes", path, line)
		}
		name, mins := strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")), strings.TrimSpace(rec[1])
		if len(parts) == 0 && strings.EqualFold(name, "tier") && strings.EqualFold(mins, "minutes") {
			continue
		}
		if strings.ContainsAny(name, ",=") {
			return "", fmt.Errorf("%s:%d: a tier name cannot hold ',' or '='", path, line)
		}
		parts = append(parts, name+"="+mins)
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("%s: no tiers (want rows of tier,minutes)", path)
	}
	return strings.Join(parts, ","), nil
}

// specText is the spec as name=minutes,….
func (t *tierFlags) specText() string {
	s := make([]string, len(t.spec.Tiers))
	for i, tr := range t.spec.Tiers {
		s[i] = tr.String()
	}
	return strings.Join(s, ",")
}

// wanted tells whether the analysis adds tiers, catchments or
// accessibility: with --tiers, --access, or stations of known capacity.
func (t *tierFlags) wanted(st []coverage.Station) bool {
	if t.named || t.method != 0 {
		return true
	}
	for _, s := range st {
		if s.Capacity > 0 {
			return true
		}
	}
	return false
}

// analyze computes every tier's coverage, the catchments and the
// accessibility. The result's own walking times become the bottom tier's
// (in separate mode, those of the bottom tier's stations alone).
func (t *tierFlags) analyze(ctx context.Context, l *loaded, res *coverage.Result) (*format.TierExtras, error) {
	spec := t.spec
	if !t.named {
		spec = coverage.OneTier(l.study.Settings.Minutes)
	}
	// With inclusive tiers every station serves the bottom tier: its times
	// are the result's own.
	var bottom []coverage.Access
	if !spec.Separate {
		bottom = res.Access
	}
	tr, err := coverage.AnalyzeTiersWith(ctx, l.study.Cells, l.study.Stations, spec, l.reach, bottom)
	if err != nil {
		return nil, err
	}
	if spec.Separate {
		bottom := len(spec.Tiers) - 1
		copy(res.Access, tr.Tiers[bottom].Access)
		if c, ok := l.reach.(coverage.Counter); ok && res.InReach != nil {
			var pts []orb.Point
			for j, st := range l.study.Stations {
				if int(tr.StationTier[j]) == bottom {
					pts = append(pts, st.Pos)
				}
			}
			clear(res.InReach)
			if len(pts) > 0 {
				if err := c.InReach(ctx, pts, l.study.Settings.Minutes, res.InReach); err != nil {
					return nil, err
				}
			}
		}
		res.Finish(l.study.Areas)
	}
	return serviceExtras(ctx, res, tr, l.study.Areas, t.named, t.method, l.reach, nil)
}

// serviceExtras completes a tier analysis of res's cells and stations:
// the catchments and loads, every tier's gaps and area summaries when the
// tiers are named, and the accessibility index when method is set. known
// holds potential populations kept from an earlier analysis of the same
// cells (NaN: unknown; nil: none): without an accessibility index, only
// the other stations' catchments are searched.
func serviceExtras(ctx context.Context, res *coverage.Result, tr *coverage.TierResult, areas []coverage.Area, named bool, method coverage.AccessMethod, reach coverage.Reach, known []float64) (*format.TierExtras, error) {
	var want []bool
	if known != nil && method == 0 {
		want = make([]bool, len(known))
		for j, p := range known {
			want[j] = math.IsNaN(p)
		}
	} else {
		known = nil // the accessibility index needs every station's catchment
	}
	sr, err := coverage.ReachFromSomeStations(ctx, tr, reach, want)
	if err != nil {
		return nil, err
	}
	tx := &format.TierExtras{Result: tr, Catchments: coverage.CatchmentsWith(tr, sr, known), Named: named, Method: method, Layers: res.Layers}
	if named {
		tx.Gaps, tx.Areas = tierGapsAndAreas(res, tr, areas)
	}
	if method != 0 {
		if tx.Access, err = coverage.Accessibility(ctx, tr, sr, method); err != nil {
			return nil, err
		}
	}
	return tx, nil
}

// tierGapsAndAreas finds every tier's gaps and area summaries. The bottom
// tier's are the result's own; each tier above is a shallow copy of the
// result with the tier's walking times and threshold. The copy shares the
// result's cell-edge cache: it is keyed by cell, so the copy only adds the
// same entries the result would compute, and nothing else it writes
// (Gaps, Areas, the cells' areas) reaches the result.
func tierGapsAndAreas(res *coverage.Result, tr *coverage.TierResult, areas []coverage.Area) ([][]coverage.Gap, [][]coverage.AreaSummary) {
	bottom := len(tr.Tiers) - 1
	gaps := make([][]coverage.Gap, len(tr.Tiers))
	var sums [][]coverage.AreaSummary
	if len(res.Areas) > 0 {
		sums = make([][]coverage.AreaSummary, len(tr.Tiers))
	}
	for k, tc := range tr.Tiers {
		if k == bottom {
			gaps[k] = res.Gaps
			if sums != nil {
				sums[k] = res.Areas
			}
			continue
		}
		c := *res
		c.Access = tc.Access
		c.Settings.Minutes = tc.Tier.Minutes
		c.Gaps = coverage.FindGaps(&c)
		gaps[k] = c.Gaps
		if sums != nil {
			sums[k] = coverage.SummarizeAreasOf(&c, areas, res.CellAreas())
		}
	}
	return gaps, sums
}

// record adds the tier settings to the manifest.
func (t *tierFlags) record(m *manifest) {
	if t.named {
		m.set("tiers", t.specText())
		m.set("tier_mode", t.mode)
	}
	if t.method != 0 {
		m.set("access", t.method.String())
	}
}

// printTiers prints each tier's coverage, the fully served, and the most
// loaded stations when capacities are known.
func printTiers(w io.Writer, tx *format.TierExtras) {
	tr := tx.Result
	if tx.Named {
		for t, tc := range tr.Tiers {
			fmt.Fprintf(w, "tier %-14s %s min: %s, %.1f%% covered by %s", tc.Tier.Name, fmtNum(float64(tc.Tier.Minutes)),
				nof(tc.Totals.CoveredPopulation, "person", "people"), 100*tc.Totals.Share(), nof(tc.Stations, "station", "stations"))
			if t < len(tx.Gaps) {
				fmt.Fprintf(w, ", %s", nof(len(tx.Gaps[t]), "gap", "gaps"))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "fully served %s, %.1f%% (covered for every tier)\n", nof(tr.Full.CoveredPopulation, "person", "people"), 100*tr.Full.Share())
	}
	if tx.Access != nil {
		fmt.Fprintf(w, "access      %s index per cell in cells.csv (supply per 1,000 people within reach)\n", tx.Method)
	}
	var loaded []int
	for j, c := range tx.Catchments {
		if !math.IsNaN(c.Load) {
			loaded = append(loaded, j)
		}
	}
	if len(loaded) == 0 {
		return
	}
	slices.SortStableFunc(loaded, func(a, b int) int {
		la, lb := tx.Catchments[a].Load, tx.Catchments[b].Load
		switch {
		case la > lb:
			return -1
		case la < lb:
			return 1
		}
		return 0
	})
	fmt.Fprintln(w, "most loaded stations (served people per unit of capacity)")
	for _, j := range loaded[:min(5, len(loaded))] {
		c, st := tx.Catchments[j], tr.Stations[j]
		name := st.ID
		if st.Name != "" {
			name += " " + st.Name
		}
		fmt.Fprintf(w, "  %-32s load %.2f: %s served, capacity %s\n", name, c.Load, nof(c.Served, "person", "people"), fmtNum(c.Capacity))
	}
}

// tieredResult is the tier spec a result was made with ("" for none): the
// tiers key of its GeoPackage's run table, or for a result kept in a
// state file, summary.json's tiers.
func tieredResult(store, dir string) string {
	if _, err := os.Stat(store); err == nil {
		u := url.URL{Scheme: "file", Path: store, RawQuery: "mode=ro"}
		if abs, err := filepath.Abs(store); err == nil {
			u.Path = abs
		}
		db, err := sql.Open("sqlite", u.String())
		if err == nil {
			defer db.Close()
			var v string
			if db.QueryRow(`SELECT "value" FROM "run" WHERE "key" = 'tiers' LIMIT 1`).Scan(&v) == nil {
				return v
			}
			return ""
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return ""
	}
	var s struct {
		Tiers []format.TierJSON `json:"tiers"`
	}
	if json.Unmarshal(b, &s) != nil || len(s.Tiers) == 0 {
		return ""
	}
	parts := make([]string, len(s.Tiers))
	for i, t := range s.Tiers {
		parts[i] = coverage.Tier{Name: t.Name, Minutes: coverage.Minutes(t.Minutes)}.String()
	}
	return strings.Join(parts, ",")
}

package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

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
	err = writeResult(sf.out, res, ex, formats, gpkg.WriteOptions{Run: l.run, CRS: sf.stations.datum}, sf.networkState(), nil, sf.manifest("analyze", args))
	end()
	if err != nil {
		return err
	}
	printSummary(stdout, res, ex, crowShare)
	if offset != nil {
		fmt.Fprintln(stderr, offset.message())
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", sf.out)
	return nil
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
	defer func() {
		if !ok {
			b.Abort()
		}
	}()
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
			if err := add("areas.csv", func(w io.Writer) error { return format.WriteAreasCSV(w, r) }); err != nil {
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
		if err := b.AddPath("walkshed.gpkg", func(tmp string) error { return gpkg.Write(tmp, r, gopt) }); err != nil {
			return err
		}
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

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage/format"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
	"github.com/walkshed/walkshed/coverage/walknet"
)

// studyFlags are the inputs and settings shared by analyze and propose.
type studyFlags struct {
	stations pointInput
	pop      popInput // the first layer's input (the only one without layers)
	// Population layers: --population [NAME=]FILE and --pop-col
	// [NAME=]COLUMN as given, then resolved (resolveLayers).
	popSpecs, popCols listFlag
	weightText        string
	layers            []popLayer
	weights           []float64
	areas             string
	areaName          string
	areaPar           string
	network           string

	res          int
	minutes      float64
	speed        float64
	maxSnap      float64
	minComponent int
	boundFactor  float64
	// tierMinutes is the largest tier threshold (--tiers), which the
	// network search must reach; 0 without tiers.
	tierMinutes float64
	// checkStations, when set, vets the stations as soon as they are read,
	// before anything is computed.
	checkStations func([]coverage.Station) error
	// stationsOptional lets --stations be left out: no existing stations
	// (propose plans a network from scratch).
	stationsOptional bool

	encoding       string
	lonCol, latCol string
	popCRS         string

	out     string
	formats string
	quiet   bool
	verbose bool
}

func (s *studyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.stations.path, "stations", "", "stations `FILE` (CSV, GeoJSON or GeoPackage points)")
	fs.StringVar(&s.stations.idCol, "id-col", "", "station id column (default: detect id)")
	fs.StringVar(&s.stations.nameCol, "name-col", "", "station name column (default: detect name)")
	fs.StringVar(&s.stations.where, "stations-where", "", "keep only stations passing `COND`, e.g. healthcare>0")
	fs.StringVar(&s.stations.layer, "stations-layer", "", "GeoPackage layer of the stations")
	fs.StringVar(&s.stations.datum, "crs", "wgs84", "coordinates of point inputs: wgs84, gcj02 (Amap, Tencent), bd09 (Baidu), or a projected CRS such as EPSG:32651 for x/y columns in metres")
	fs.StringVar(&s.encoding, "encoding", "", "text encoding of CSV and GeoJSON inputs: utf-8, gb18030 (gbk), utf-16, windows-1252 (default: detect)")
	fs.StringVar(&s.lonCol, "lon-col", "", "longitude (or x) column of the stations and candidates (default: detect lon/lng/longitude/x/经度)")
	fs.StringVar(&s.latCol, "lat-col", "", "latitude (or y) column of the stations and candidates (default: detect lat/latitude/y/纬度)")
	fs.StringVar(&s.popCRS, "population-crs", "wgs84", "coordinates of a population file of points: as --crs (GeoPackages, GeoTIFFs and GeoJSON with a crs member say theirs)")
	fs.Var(&s.popSpecs, "population", "population `FILE` (CSV points or H3 table, GeoJSON, GeoPackage, GeoTIFF); repeat as NAME=FILE for several layers (residents=grid.csv, workers=jobs.tif)")
	fs.Var(&s.popCols, "pop-col", "population `COLUMN` (default: detect population/pop/total/count/value); NAME=COLUMN for a layer")
	fs.StringVar(&s.weightText, "weights", "", "weights of the population layers in gap ranking and proposals, `NAME=W,…` (default 1 each)")
	fs.StringVar(&s.pop.where, "population-where", "", "keep only population rows passing `COND`")
	fs.StringVar(&s.pop.layer, "population-layer", "", "GeoPackage layer of the population")
	fs.StringVar(&s.areas, "areas", "", "area polygons `FILE` (GeoJSON or GeoPackage) for by-area summaries")
	fs.StringVar(&s.areaName, "area-name-col", "", "area name property (default: detect name)")
	fs.StringVar(&s.areaPar, "area-parent-col", "", "area parent property (default: detect parent)")
	fs.StringVar(&s.network, "network", "", "walk along the streets of this OSM `FILE` (.osm.pbf or .osm); straight lines when absent")
	fs.IntVar(&s.res, "res", 9, "H3 resolution of demand cells, 7..12")
	fs.Float64Var(&s.minutes, "minutes", 15, "walking-time threshold in minutes")
	fs.Float64Var(&s.speed, "speed-kmh", 4, "walking speed in km/h (4 km/h = 1,000 m in 15 min, GB 50180-2018)")
	fs.Float64Var(&s.maxSnap, "max-snap", float64(walknet.DefaultMaxSnap), "network: farthest straight-line leg to a street, metres")
	fs.IntVar(&s.minComponent, "min-component", walknet.DefaultMinComponent, "network: drop street fragments with fewer nodes")
	fs.Float64Var(&s.boundFactor, "bound", 4, "network: search up to this many times --minutes; farther cells get no time")
	fs.StringVar(&s.out, "out", "", "output `DIR`")
	fs.StringVar(&s.formats, "format", "csv,geojson,gpkg", "outputs to write: any of csv, geojson, gpkg, cells-geojson, all")
	fs.BoolVar(&s.quiet, "quiet", false, "no progress bars")
	fs.BoolVar(&s.verbose, "v", false, "log timings to stderr")
}

func (s *studyFlags) settings() (coverage.Settings, error) {
	set := coverage.Settings{Res: s.res, Minutes: coverage.Minutes(s.minutes), SpeedKmh: coverage.Speed(s.speed)}
	if err := set.Validate(); err != nil {
		return set, usageError{fmt.Sprintf("--res/--minutes/--speed-kmh: %v", err)}
	}
	if s.network != "" {
		if !(s.maxSnap > 0) || math.IsInf(s.maxSnap, 0) {
			return set, usagef("--max-snap %v must be a positive number of metres", s.maxSnap)
		}
		if s.minComponent < 1 {
			return set, usagef("--min-component %d must be at least 1", s.minComponent)
		}
		if !(s.boundFactor >= 1) || math.IsInf(s.boundFactor, 0) {
			return set, usagef("--bound %v must be at least 1", s.boundFactor)
		}
	}
	return set, nil
}

// Walking speeds and thresholds that planners use: a speed outside them is
// more likely a slip (metres per second, a cycling speed) than a choice.
const (
	slowestWalkKmh = 2.0   // a frail pedestrian
	fastestWalkKmh = 7.0   // a brisk walk; beyond it people run or ride
	longestWalkMin = 180.0 // three hours: beyond it no one walks to a service
)

// settingWarnings says which settings look like slips, one line each.
func settingWarnings(set coverage.Settings) []string {
	var w []string
	if v := float64(set.SpeedKmh); v > fastestWalkKmh || v < slowestWalkKmh {
		w = append(w, fmt.Sprintf("--speed-kmh %g is outside walking speeds (%g to %g km/h); %g m/s would be %g km/h", v, slowestWalkKmh, fastestWalkKmh, v, v*3.6))
	}
	if m := float64(set.Minutes); m > longestWalkMin {
		w = append(w, fmt.Sprintf("--minutes %g is more than a %g-hour walk (%s m at %g km/h); did you mean %g?", m, longestWalkMin/60, fmtInt(float64(set.Radius())), float64(set.SpeedKmh), m/60))
	}
	return w
}

// loaded is a study read from files, with its reach model.
type loaded struct {
	study coverage.Study
	reach coverage.Reach
	graph *walknet.Graph
	run   []gpkg.KeyValue
}

func (s *studyFlags) logger(stderr io.Writer) *slog.Logger {
	if !s.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// load reads the inputs and builds the reach model.
func (s *studyFlags) load(ctx context.Context, stderr io.Writer, bar *progress) (*loaded, error) {
	if s.stations.path == "" && !s.stationsOptional {
		return nil, usagef("--stations is required")
	}
	if err := s.resolveLayers(); err != nil {
		return nil, err
	}
	if s.pop.path == "" {
		return nil, usagef("--population is required")
	}
	set, err := s.settings()
	if err != nil {
		return nil, err
	}
	// The output folder must take the outputs before anything is computed.
	if err := checkOut("--out", s.out); err != nil {
		return nil, err
	}
	for _, w := range settingWarnings(set) {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	txt, err := s.text(stderr)
	if err != nil {
		return nil, err
	}
	popTxt, err := s.popText(stderr)
	if err != nil {
		return nil, err
	}
	// The population first: its extent tells whether the stations' columns
	// are swapped or their coordinates in another system.
	cells, inputPop, err := s.layerCells(set.Res, popTxt, bar)
	if err != nil {
		return nil, err
	}
	extent, haveExtent := cellsExtent(cells)
	end := bar.step("reading stations")
	var near orb.Bound
	if haveExtent {
		near = extent
	}
	var stations []coverage.Station
	if s.stations.path != "" {
		stations, err = readStations(s.stations, txt, near)
	}
	end()
	if err != nil {
		return nil, err
	}
	if haveExtent {
		if err := format.CheckPlacement(stations, s.stations.path, extent, s.pop.path, txt.warn); err != nil {
			return nil, err
		}
	}
	if s.checkStations != nil {
		if err := s.checkStations(stations); err != nil {
			return nil, err
		}
	}
	var areas []coverage.Area
	if s.areas != "" {
		end = bar.step("reading areas")
		areas, err = readAreas(s.areas, s.areaName, s.areaPar, "", txt)
		end()
		if err != nil {
			return nil, err
		}
	}
	l := &loaded{study: coverage.Study{
		Settings: set, Stations: stations, Cells: cells, InputPopulation: inputPop, Areas: areas,
		Layers: s.studyLayers(),
	}}
	if s.network == "" {
		l.reach = coverage.NewCrow(cells, set.SpeedKmh)
	} else {
		opt := walknet.Options{MinComponent: s.minComponent, MaxSnap: coverage.Meters(s.maxSnap), Progress: bar.update}
		end = bar.step("reading the streets")
		g, err := walknet.Load(ctx, s.network, opt)
		end()
		if err != nil {
			return nil, err
		}
		bound := coverage.Minutes(s.boundMinutes())
		if s.tierMinutes > s.boundFactor*s.minutes {
			s.logger(stderr).Info(fmt.Sprintf("network search bound raised from %g to %g minutes to cover the largest tier", s.boundFactor*s.minutes, s.tierMinutes))
		}
		end = bar.step("snapping to the streets")
		r, err := walknet.NewReach(ctx, g, cells, set.SpeedKmh, bound, opt)
		end()
		if err != nil {
			return nil, err
		}
		if err := checkOverlap(s.network, r, len(cells), coverage.StationPoints(stations), s.maxSnap); err != nil {
			return nil, err
		}
		l.reach, l.graph = r, g
	}
	l.run = s.runFacts(set)
	return l, nil
}

// runFacts lists every setting and input for the GeoPackage's run table.
func (s *studyFlags) runFacts(set coverage.Settings) []gpkg.KeyValue {
	kv := []gpkg.KeyValue{
		{Key: "version", Value: version},
		{Key: "created", Value: time.Now().UTC().Format(time.RFC3339)},
		{Key: "res", Value: fmt.Sprint(set.Res)},
		{Key: "minutes", Value: fmt.Sprint(float64(set.Minutes))},
		{Key: "speed_kmh", Value: fmt.Sprint(float64(set.SpeedKmh))},
		{Key: "distance_m", Value: fmt.Sprint(float64(set.Radius()))},
		{Key: "crs", Value: s.stations.datum},
	}
	if s.stations.where != "" {
		kv = append(kv, gpkg.KeyValue{Key: "stations_where", Value: s.stations.where})
	}
	kv = append(kv, fileFacts("stations", s.stations.path)...)
	if len(s.layers) > 1 {
		for _, l := range s.layers {
			kv = append(kv, fileFacts("population_"+l.name, l.in.path)...)
		}
	} else {
		kv = append(kv, fileFacts("population", s.pop.path)...)
	}
	kv = append(kv, fileFacts("areas", s.areas)...)
	if s.network != "" {
		kv = append(kv, fileFacts("network", s.network)...)
		kv = append(kv,
			gpkg.KeyValue{Key: "max_snap_m", Value: fmt.Sprint(s.maxSnap)},
			gpkg.KeyValue{Key: "min_component", Value: fmt.Sprint(s.minComponent)},
			gpkg.KeyValue{Key: "bound_minutes", Value: fmt.Sprint(s.boundMinutes())})
	}
	return kv
}

// cellsExtent is the extent of the populated cells: their centres' box,
// widened by a cell's reach from its centre (its farthest vertex, with a
// margin for H3's distortion), so that it holds every cell whole.
func cellsExtent(cells []coverage.Cell) (orb.Bound, bool) {
	if len(cells) == 0 {
		return orb.Bound{}, false
	}
	b := orb.Bound{Min: cells[0].Pos, Max: cells[0].Pos}
	for _, c := range cells[1:] {
		b = b.Extend(c.Pos)
	}
	var r float64 // degrees
	for _, v := range coverage.CellRing(cells[0].H3) {
		r = max(r, math.Abs(v[0]-cells[0].Pos[0]), math.Abs(v[1]-cells[0].Pos[1]))
	}
	pad := 2 * r / max(math.Cos(math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1]))*math.Pi/180), 0.01)
	return b.Pad(pad), true
}

// text is how the study's text inputs are read; warnings go to stderr.
func (s *studyFlags) text(stderr io.Writer) (textOptions, error) {
	c, err := parseInputCRS(s.stations.datum)
	if err != nil {
		return textOptions{}, usageError{err.Error()}
	}
	return textOptions{encoding: s.encoding, lonCol: s.lonCol, latCol: s.latCol, crs: c, warn: warnTo(stderr)}, nil
}

// popText is how the population file is read: its own CRS, columns
// detected.
func (s *studyFlags) popText(stderr io.Writer) (textOptions, error) {
	c, err := parseInputCRS(s.popCRS)
	if err != nil {
		return textOptions{}, usageError{strings.Replace(err.Error(), "--crs", "--population-crs", 1)}
	}
	return textOptions{encoding: s.encoding, crs: c, warn: warnTo(stderr)}, nil
}

// warnTo prints the readers' warnings, one line each.
func warnTo(stderr io.Writer) func(format.Warning) {
	return func(w format.Warning) { fmt.Fprintf(stderr, "warning: %s\n", forPeople(errors.New(w.String()))) }
}

// manifest starts the manifest of a run on this study: its inputs and
// settings.
func (s *studyFlags) manifest(command string, args []string) *manifest {
	m := newManifest(command, args)
	m.input("stations", s.stations.path)
	if len(s.layers) > 1 {
		for _, l := range s.layers {
			m.input("population_"+l.name, l.in.path)
		}
		m.set("weights", gpkg.LayersText(s.studyLayers()))
	} else {
		m.input("population", s.pop.path)
	}
	m.input("areas", s.areas)
	m.input("network", s.network)
	m.set("res", s.res)
	m.set("minutes", s.minutes)
	m.set("speed_kmh", s.speed)
	m.set("crs", s.stations.datum)
	m.set("formats", s.formats)
	if s.network != "" {
		m.set("max_snap_m", s.maxSnap)
		m.set("min_component", s.minComponent)
		m.set("bound_minutes", s.boundMinutes())
	}
	return m
}

// networkState records how the network reach was built, for update.
func (s *studyFlags) networkState() *format.NetworkState {
	if s.network == "" {
		return nil
	}
	ns := &format.NetworkState{Path: s.network, MaxSnapM: s.maxSnap, MinComponent: s.minComponent, BoundMinutes: s.boundMinutes()}
	if abs, err := filepath.Abs(s.network); err == nil {
		ns.Path = abs
	}
	if fi, err := os.Stat(s.network); err == nil {
		ns.Bytes = fi.Size()
		ns.ModTime = fi.ModTime().UTC().Format(time.RFC3339)
	}
	return ns
}

// boundMinutes is how far the network search goes: --bound times
// --minutes, raised to the largest tier's threshold when that is farther.
func (s *studyFlags) boundMinutes() float64 {
	return max(s.boundFactor*s.minutes, s.tierMinutes)
}

// checkOverlap refuses a street network that no cell or no station can
// reach: the analysis would report 0% coverage for a reason that has
// nothing to do with walking.
func checkOverlap(path string, r *walknet.Reach, cells int, stations []orb.Point, maxSnap float64) error {
	snappedCells, _ := r.Stats()["cells_snapped"].(int)
	snappedStations := 0
	for _, s := range r.SnapStations(stations) {
		if s.Snapped {
			snappedStations++
		}
	}
	if snappedCells == 0 || snappedStations == 0 && len(stations) > 0 {
		return fmt.Errorf("%s does not overlap the study: %d of %d cells and %d of %d stations lie within %g m of a walkable street (is it the right extract?)",
			path, snappedCells, cells, snappedStations, len(stations), maxSnap)
	}
	return nil
}

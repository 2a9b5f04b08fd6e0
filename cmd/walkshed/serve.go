package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
	"github.com/walkshed/walkshed/coverage/walknet"
)

// defaultListen is where serve listens unless --listen says otherwise.
const defaultListen = "127.0.0.1:7915"

func runServe(args []string, stdout, stderr io.Writer) error {
	sv, listen, err := loadServe(args, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", listen, err)
	}
	sv.setAddr(ln.Addr().String())
	srv := &http.Server{
		Handler:           sv.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintln(stdout, sv.url())
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "walkshed serve: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loadServe parses serve's flags and loads the study (from the study's
// files or a result folder) into a server ready to listen.
func loadServe(args []string, stderr io.Writer) (*server, string, error) {
	fs := newFlags("serve", stderr)
	var sf studyFlags
	sf.register(fs)
	var tf tierFlags
	tf.register(fs, &sf)
	var from, file, listen, basemap string
	fs.StringVar(&from, "from", "", "serve a result folder `DIR` (analyze, propose or update output) instead of the study's files")
	fs.StringVar(&file, "gpkg", "", "serve a result GeoPackage `FILE` instead of the study's files")
	fs.StringVar(&listen, "listen", defaultListen, "`ADDR` to listen on (port 0 picks a free port); other machines reach it only when ADDR says so")
	fs.StringVar(&basemap, "basemap", "", "raster tile `URL` template ({z}/{x}/{y}) drawn under the map, for users online")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: walkshed serve --stations FILE --population FILE [--network FILE] [--areas FILE] [--tiers SPEC] [--listen ADDR]\n"+
			"       walkshed serve (--from DIR | --gpkg FILE) [--listen ADDR]\n\n"+
			"Serves a what-if map of the study and its JSON API on one local web server, and prints the\n"+
			"address to open, with its access token.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, "", err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, f := range []string{"out", "format"} {
		if given[f] {
			return nil, "", usagef("--%s does not go with serve: the result stays in memory (download it from the page)", f)
		}
	}
	if basemap != "" && !(strings.HasPrefix(basemap, "https://") || strings.HasPrefix(basemap, "http://")) || basemap != "" && !strings.Contains(basemap, "{z}") {
		return nil, "", usagef("--basemap %q: want an http(s) URL template with {z}, {x} and {y}", basemap)
	}
	ctx := context.Background()
	var cfg serveConfig
	var err error
	switch {
	case from != "" && file != "":
		return nil, "", usagef("give --from DIR or --gpkg FILE, not both")
	case from != "" || file != "":
		for _, f := range []string{"stations", "population", "network", "areas", "tiers"} {
			if given[f] {
				return nil, "", usagef("--%s does not go with --from/--gpkg: the result already holds the study", f)
			}
		}
		cfg, err = loadStored(ctx, from, file, stderr)
	default:
		cfg, err = loadStudy(ctx, &sf, &tf, given, stderr)
	}
	if err != nil {
		return nil, "", err
	}
	cfg.basemap = basemap
	sv, err := newServer(cfg)
	if err != nil {
		return nil, "", err
	}
	return sv, listen, nil
}

// loadStudy reads the study's files and analyses them, as analyze does.
func loadStudy(ctx context.Context, sf *studyFlags, tf *tierFlags, given map[string]bool, stderr io.Writer) (serveConfig, error) {
	if err := tf.parse(sf, given["minutes"]); err != nil {
		return serveConfig{}, err
	}
	// The study loader checks an output folder; serve writes none, so it
	// gets a scratch one.
	tmp, err := os.MkdirTemp("", "walkshed-serve-")
	if err != nil {
		return serveConfig{}, err
	}
	defer os.RemoveAll(tmp)
	sf.out = tmp
	bar := newProgress(stderr, sf.quiet)
	bar.logTo(sf.verbose, stderr)
	l, err := sf.load(ctx, stderr, bar)
	if err != nil {
		return serveConfig{}, err
	}
	end := bar.step("walking times and gaps")
	res, err := coverage.Analyze(ctx, l.study, l.reach, sf.logger(stderr))
	end()
	if err != nil {
		return serveConfig{}, err
	}
	cfg := serveConfig{res: res, reach: l.reach, areas: l.study.Areas, crs: sf.stations.datum, run: l.run, maxSnap: sf.maxSnap}
	if tf.wanted(l.study.Stations) {
		cfg.service, cfg.method = true, tf.method
		if tf.method != 0 {
			cfg.run = append(cfg.run, gpkg.KeyValue{Key: "access", Value: tf.method.String()})
		}
	}
	if tf.named {
		cfg.spec, cfg.named = tf.spec, true
		for _, t := range tf.spec.Tiers {
			cfg.tiers = append(cfg.tiers, t.Name)
		}
		cfg.run = append(cfg.run, gpkg.KeyValue{Key: "tiers", Value: tf.specText()}, gpkg.KeyValue{Key: "tier_mode", Value: tf.mode})
	}
	if l.graph != nil {
		cfg.graph = l.graph
		ns := sf.networkState()
		cfg.networkFacts = func() (*gpkg.NetworkFacts, error) { return networkFacts(ns) }
	}
	return cfg, nil
}

// loadStored reads a walkshed result (its GeoPackage) and rebuilds its
// reach model, as update does.
func loadStored(ctx context.Context, from, file string, stderr io.Writer) (serveConfig, error) {
	src := file
	if src == "" {
		src = filepath.Join(from, resultFile)
	}
	if _, err := os.Stat(src); err != nil {
		if file != "" {
			return serveConfig{}, fmt.Errorf("%s: %w", file, err)
		}
		return serveConfig{}, fmt.Errorf("%s is not a walkshed result: no %s in it", from, resultFile)
	}
	st, err := gpkg.OpenStore(src)
	if err != nil {
		return serveConfig{}, err
	}
	res, nf, crsName, facts := st.Result, st.Network, st.CRS, st.Service
	st.Close() // read only: the file is left as it was
	cfg := serveConfig{res: res, areas: res.AreaInputs(), crs: crsName, run: []gpkg.KeyValue{{Key: "served_from", Value: src}}}
	if facts.Any() {
		svc, err := serviceOf(facts, res, src)
		if err != nil {
			return serveConfig{}, err
		}
		cfg.service, cfg.spec, cfg.named, cfg.method = true, svc.spec, svc.named, svc.method
		if svc.named {
			for _, t := range svc.spec.Tiers {
				cfg.tiers = append(cfg.tiers, t.Name)
			}
			mode := "inclusive"
			if svc.spec.Separate {
				mode = "separate"
			}
			cfg.run = append(cfg.run, gpkg.KeyValue{Key: "tiers", Value: facts.Tiers}, gpkg.KeyValue{Key: "tier_mode", Value: mode})
		}
		if svc.method != 0 {
			cfg.run = append(cfg.run, gpkg.KeyValue{Key: "access", Value: svc.method.String()})
		}
	}
	switch res.Mode {
	case "crow":
		cfg.reach = coverage.NewCrow(res.Cells, res.Settings.SpeedKmh)
	case "network":
		path, _, err := checkNetwork(nf, "", src)
		if err != nil {
			return serveConfig{}, err
		}
		opt := walknet.Options{MinComponent: nf.MinComponent, MaxSnap: coverage.Meters(nf.MaxSnapM)}
		g, err := walknet.Load(ctx, path, opt)
		if err != nil {
			return serveConfig{}, err
		}
		r, err := walknet.NewReach(ctx, g, res.Cells, res.Settings.SpeedKmh, res.Bound, opt)
		if err != nil {
			return serveConfig{}, err
		}
		cfg.reach, cfg.graph, cfg.maxSnap = r, g, nf.MaxSnapM
		cfg.networkFacts = func() (*gpkg.NetworkFacts, error) { return nf, nil }
	default:
		return serveConfig{}, fmt.Errorf("%s: unknown reach mode %q in the stored result", src, res.Mode)
	}
	return cfg, nil
}

// streetSegments lists the graph's segments for the streets layer.
func streetSegments(g *walknet.Graph) [][2]orb.Point {
	n := g.Stats().Edges
	out := make([][2]orb.Point, 0, n)
	for s := range int32(n) {
		a, b, _ := g.Edge(s)
		pa, _ := g.Node(a)
		pb, _ := g.Node(b)
		out = append(out, [2]orb.Point{pa, pb})
	}
	return out
}

// studyBound is the box of the cells' centres, padded by the walking
// distance of the threshold: a station beyond it reaches no cell.
func studyBound(res *coverage.Result) orb.Bound {
	if len(res.Cells) == 0 {
		return orb.Bound{}
	}
	b := orb.Bound{Min: res.Cells[0].Pos, Max: res.Cells[0].Pos}
	for _, c := range res.Cells[1:] {
		b = b.Extend(c.Pos)
	}
	d := float64(res.Settings.Radius()) / 111_000 // degrees of latitude
	cos := math.Max(math.Cos(math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1]))*math.Pi/180), 0.01)
	return orb.Bound{Min: orb.Point{b.Min[0] - d/cos, b.Min[1] - d}, Max: orb.Point{b.Max[0] + d/cos, b.Max[1] + d}}
}

// summaryExtras are what summary.json adds for the reach model: the
// network's statistics with the stations off the streets, and what the
// straight line would say.
func summaryExtras(reach coverage.Reach, stations []coverage.Station, crowShare float64) format.Extras {
	ex := extrasOf(reach)
	if wr, ok := reach.(*walknet.Reach); ok {
		stats := map[string]any{}
		for k, v := range ex.Stats {
			stats[k] = v
		}
		unsnapped := 0
		for _, s := range wr.SnapStations(coverage.StationPoints(stations)) {
			if !s.Snapped {
				unsnapped++
			}
		}
		stats["stations_unsnapped"] = unsnapped
		ex.Stats = stats
		ex.More = map[string]any{"crow_share_covered": crowShare}
	}
	return ex
}

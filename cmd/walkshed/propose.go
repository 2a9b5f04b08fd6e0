package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
	"github.com/walkshed/walkshed/coverage/site"
)

// proposeFlags are propose's own flags, beside the study's.
type proposeFlags struct {
	add        int
	target     float64
	candidates string
	candWhere  string
	minSpacing float64
	tier       string // --tier: the tier the new sites are of (with --tiers)
	gap        float64
	timeLimit  time.Duration
	date       string

	costs  string
	radius float64
	cols   site.CostColumns
}

func (p *proposeFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&p.add, "add", 0, "propose `K` new sites that newly cover the most people")
	fs.Float64Var(&p.target, "target", 0, "propose the fewest sites that bring the covered share to `SHARE` (0..1]")
	fs.StringVar(&p.candidates, "candidates", "", "candidate sites `FILE` (points; default: centres of populated cells and their neighbours)")
	fs.StringVar(&p.candWhere, "candidates-where", "", "keep only candidates passing `COND`")
	fs.Float64Var(&p.minSpacing, "min-spacing", 0, "least distance between two new sites, metres")
	fs.StringVar(&p.tier, "tier", "", "with --tiers: propose stations of tier `T`, maximising the people newly covered for T (default: the bottom tier)")
	fs.Float64Var(&p.gap, "gap", 0.001, "stop searching when the plan is proven within `G` of the optimum (0.001 = 0.1%; 0: prove the optimum)")
	fs.DurationVar(&p.timeLimit, "time-limit", time.Minute, "stop searching after `D` (e.g. 30s, 5m; 0: no limit) with the best plan and bound found")
	fs.StringVar(&p.date, "date", "", "opening date `YYYY-MM-DD` of the sites in events.csv (default: today)")
	fs.StringVar(&p.costs, "costs", "", "optimise over a precomputed cost `TABLE` (CSV: demand id, site id, cost, weight) instead of a study")
	fs.Float64Var(&p.radius, "radius", 0, "cost-table mode: a site reaches a demand when cost <= `R` (the table's unit)")
	fs.StringVar(&p.cols.Demand, "demand-col", site.DefaultCostColumns.Demand, "cost-table demand id column")
	fs.StringVar(&p.cols.Site, "site-col", site.DefaultCostColumns.Site, "cost-table site id column")
	fs.StringVar(&p.cols.Cost, "cost-col", site.DefaultCostColumns.Cost, "cost-table cost column")
	fs.StringVar(&p.cols.Weight, "weight-col", site.DefaultCostColumns.Weight, "cost-table demand weight column")
}

func (p *proposeFlags) check(set map[string]bool) error {
	switch {
	case set["add"] && set["target"]:
		return usagef("give either --add or --target, not both")
	case !set["add"] && !set["target"]:
		return usagef("give --add K or --target SHARE")
	case set["add"] && p.add < 1:
		return usagef("--add %d: K must be a positive integer", p.add)
	case set["target"] && !(p.target > 0 && p.target <= 1):
		return usagef("--target %v: SHARE must be in (0, 1]", p.target)
	case p.minSpacing < 0 || math.IsNaN(p.minSpacing):
		return usagef("--min-spacing %v must not be negative", p.minSpacing)
	case !(p.gap >= 0 && p.gap < 1):
		return usagef("--gap %v must be in [0, 1)", p.gap)
	case p.timeLimit < 0:
		return usagef("--time-limit %v must not be negative", p.timeLimit)
	}
	if p.date != "" {
		if _, err := time.Parse(time.DateOnly, p.date); err != nil {
			return usagef("--date %q is not a date (want YYYY-MM-DD)", p.date)
		}
	}
	return nil
}

// describe records the proposal's settings in the manifest.
func (p *proposeFlags) describe(m *manifest) {
	if p.add > 0 {
		m.set("add", p.add)
	} else {
		m.set("target", p.target)
	}
	if p.minSpacing > 0 {
		m.set("min_spacing_m", p.minSpacing)
	}
	m.set("gap", p.gap)
	m.set("time_limit_s", p.timeLimit.Seconds())
}

func (p *proposeFlags) solve(ctx context.Context, prob *site.Problem, bar *progress) (*site.Plan, error) {
	opt := site.Options{MinSpacing: coverage.Meters(p.minSpacing), Progress: func(stage string) { bar.update(stage, 0, -1) },
		Exact: true, Gap: p.gap, TimeLimit: p.timeLimit}
	defer bar.done()
	if p.add > 0 {
		return prob.SolveK(ctx, p.add, opt)
	}
	return prob.SolveTarget(ctx, p.target, opt)
}

func runPropose(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("propose", stderr)
	var sf studyFlags
	var pf proposeFlags
	var tf tierFlags
	sf.register(fs)
	sf.stationsOptional = true
	tf.register(fs, &sf)
	pf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: walkshed propose [--stations FILE] --population FILE [--network FILE] [--tiers SPEC [--tier T]] (--add K | --target SHARE) --out DIR [flags]\n"+
			"       walkshed propose --costs TABLE.csv --radius R (--add K | --target SHARE) --out DIR")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := pf.check(given); err != nil {
		return err
	}
	if given["access"] {
		return usagef("--access does not go with propose")
	}
	if err := tf.parse(&sf, given["minutes"]); err != nil {
		return err
	}
	tier := -1 // the tier proposed for, an index into tf.spec.Tiers; -1: no tiers
	switch {
	case given["tier"] && !tf.named:
		return usagef("--tier needs --tiers")
	case tf.named && given["tier"]:
		if tier = tf.spec.Index(pf.tier); tier < 0 {
			return usagef("--tier %q is not one of the tiers in --tiers (%s)", pf.tier, tf.specText())
		}
	case tf.named:
		tier = len(tf.spec.Tiers) - 1
	}
	ctx := context.Background()
	bar := newProgress(stderr, sf.quiet)
	bar.logTo(sf.verbose, stderr)
	if pf.costs != "" {
		return proposeFromCosts(ctx, &sf, &pf, given, args, stdout, bar)
	}
	formats, err := format.ParseFormats(sf.formats)
	if err != nil {
		return usageError{err.Error()}
	}
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
	covered := make([]bool, len(res.Cells))
	limit := l.study.Settings.Minutes
	if tier >= 0 {
		// The cells already covered for the tier, by the stations serving
		// it; the new sites reach as far as its threshold.
		end = bar.step("tiers and catchments")
		ex.Tiers, err = tf.analyze(ctx, l, res)
		end()
		if err != nil {
			return err
		}
		tr := ex.Tiers.Result
		for i := range covered {
			covered[i] = tr.Covered(tier, i)
		}
		limit = tf.spec.Tiers[tier].Minutes
	} else {
		for i := range covered {
			covered[i] = res.Covered(i)
		}
	}
	var cands []site.Candidate
	if pf.candidates != "" {
		txt, err := sf.text(stderr)
		if err != nil {
			return err
		}
		pts, err := readStations(pointInput{path: pf.candidates, where: pf.candWhere, datum: sf.stations.datum}, txt, orb.Bound{})
		if err != nil {
			return err
		}
		for _, s := range pts {
			c, err := site.NewCandidate(s.ID, s.Pos, sf.res)
			if err != nil {
				return fmt.Errorf("%s: %w", pf.candidates, err)
			}
			cands = append(cands, c)
		}
	} else if cands, err = site.DefaultCandidates(res.Cells); err != nil {
		return err
	}
	// With several population layers the sites are chosen for the weighted
	// people (--weights).
	demand := res.Cells
	if len(res.Layers) > 0 {
		demand = slices.Clone(res.Cells)
		for i := range demand {
			demand[i].Population = res.Weighted(i)
		}
	}
	prob, err := site.Build(ctx, l.reach, demand, covered, cands, limit, bar.count("candidates"))
	if err != nil {
		return err
	}
	bar.done()
	if prob.NumSites() == 0 && pf.candidates != "" {
		return fmt.Errorf("%s: no usable candidate: none of the %d points reaches an uncovered populated cell within %g minutes", pf.candidates, len(cands), float64(limit))
	}
	end = bar.step("choosing sites")
	plan, err := pf.solve(ctx, prob, bar)
	end()
	if err != nil {
		return err
	}
	demandCells, layers := res.Cells, res.Layers // before the plan
	// The analysis outputs show coverage with the plan: the sites join the
	// study as stations and it is analysed again.
	date := pf.openingDate()
	opened := plannedStations(plan, tier, tf.spec)
	l.study.Stations = append(l.study.Stations, opened...)
	end = bar.step("walking times and gaps with the plan")
	res, err = coverage.Analyze(ctx, l.study, l.reach, sf.logger(stderr))
	end()
	if err != nil {
		return err
	}
	ex = extrasOf(l.reach)
	if tier >= 0 {
		end = bar.step("tiers and catchments with the plan")
		ex.Tiers, err = tf.analyze(ctx, l, res)
		end()
		if err != nil {
			return err
		}
	}
	eventsCRS, err := parseInputCRS(sf.stations.datum)
	if err != nil {
		return err
	}
	extra := site.Extra{"mode": res.Mode, "minutes": float64(limit), "speed_kmh": sf.speed, "res": sf.res, "opening_date": date}
	if len(layers) > 0 {
		// The objective, bound and curve count weighted people.
		extra["weights"] = gpkg.LayersText(layers)
	}
	if tier >= 0 {
		extra["tier"] = tf.spec.Tiers[tier].Name
		extra["tiers"] = tf.specText()
		extra["tier_mode"] = tf.mode
	}
	layerCols := layerGains(prob, plan, demandCells, covered, layers)
	more := []extraFile{
		{"sites.csv", func(w io.Writer) error { return site.WriteSitesCSV(w, plan, layerCols...) }},
		{"curve.csv", func(w io.Writer) error { return site.WriteCurveCSV(w, plan) }},
		{"proposal.json", func(w io.Writer) error { return site.WriteProposalJSON(w, plan, extra) }},
		{"sites.geojson", func(w io.Writer) error { return site.WriteSitesGeoJSON(w, plan) }},
		{"events.csv", func(w io.Writer) error { return writeOpenings(w, opened, date, eventsCRS) }},
	}
	run := append(l.run, proposeFacts(&pf)...)
	if tier >= 0 {
		run = append(run, gpkg.KeyValue{Key: "tiers", Value: tf.specText()}, gpkg.KeyValue{Key: "tier_mode", Value: tf.mode},
			gpkg.KeyValue{Key: "tier", Value: tf.spec.Tiers[tier].Name})
	}
	gopt := gpkg.WriteOptions{Run: run, Proposals: proposalsLayer(plan), CRS: sf.stations.datum}
	if tx := ex.Tiers; tx != nil {
		gopt.Tiers = gpkgTiers(tx)
	}
	m := sf.manifest("propose", args)
	m.input("candidates", pf.candidates)
	tf.record(m)
	if tier >= 0 {
		m.set("tier", tf.spec.Tiers[tier].Name)
	}
	pf.describe(m)
	end = bar.step("writing the outputs")
	err = writeResult(sf.out, res, ex, formats, gopt, sf.networkState(), more, m)
	end()
	if err != nil {
		return err
	}
	if tier >= 0 {
		printTier(stdout, tf.spec, tier)
	}
	unit := "people"
	if len(layers) > 0 {
		unit = "weighted people"
	}
	printPlan(stdout, plan, len(cands), unit)
	fmt.Fprintf(stdout, "the outputs show coverage with the plan; events.csv opens its sites on %s (walkshed update --events)\n", date)
	fmt.Fprintf(stdout, "\nwrote %s\n", sf.out)
	return nil
}

// openingDate is --date, or today.
func (p *proposeFlags) openingDate() string {
	if p.date != "" {
		return p.date
	}
	return time.Now().Format(time.DateOnly)
}

// plannedStations returns the plan's sites as stations, in rank order, with
// ids proposed-1, proposed-2, … (the candidate's id, when it has one, as the
// name) and, with tiers, of the tier proposed for.
func plannedStations(plan *site.Plan, tier int, spec coverage.TierSpec) []coverage.Station {
	out := make([]coverage.Station, 0, len(plan.Sites))
	for _, s := range plan.Sites {
		st := coverage.Station{ID: "proposed-" + strconv.Itoa(s.Rank), Name: s.ID, Pos: s.Pos}
		if tier >= 0 {
			st.Tier = spec.Tiers[tier].Name
		}
		out = append(out, st)
	}
	return out
}

// writeOpenings writes events.csv: one opening per new site
// (date,action,id,lon,lat,name[,tier]), the positions in the coordinates the
// stations were read in, which walkshed update reads them in.
func writeOpenings(w io.Writer, opened []coverage.Station, date string, c inputCRS) error {
	tiers := len(opened) > 0 && opened[0].Tier != ""
	cw := csv.NewWriter(w)
	header := []string{"date", "action", "id", "lon", "lat", "name"}
	if tiers {
		header = append(header, "tier")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, s := range opened {
		x, y := s.Pos[0], s.Pos[1]
		if c.proj != nil {
			var err error
			if x, y, err = c.proj.FromWGS84(x, y); err != nil {
				return fmt.Errorf("events.csv: %s: %w", s.ID, err)
			}
		} else {
			q := c.datum.FromWGS84(s.Pos)
			x, y = q[0], q[1]
		}
		rec := []string{date, "open", s.ID, strconv.FormatFloat(x, 'f', -1, 64), strconv.FormatFloat(y, 'f', -1, 64), s.Name}
		if tiers {
			rec = append(rec, s.Tier)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// printTier says which tier the plan is for and which tiers its new sites
// also serve.
func printTier(w io.Writer, spec coverage.TierSpec, tier int) {
	t := spec.Tiers[tier]
	fmt.Fprintf(w, "tier        %s, %s min: new %s stations, chosen for the people newly covered for %s alone\n", t.Name, fmtNum(float64(t.Minutes)), t.Name, t.Name)
	var below []string
	for k := tier + 1; k < len(spec.Tiers); k++ {
		if spec.Serves(tier, k) {
			below = append(below, spec.Tiers[k].Name)
		}
	}
	if len(below) > 0 {
		fmt.Fprintf(w, "            they also serve %s (inclusive tiers)\n", strings.Join(below, ", "))
	}
}

func proposeFromCosts(ctx context.Context, sf *studyFlags, pf *proposeFlags, given map[string]bool, args []string, stdout io.Writer, bar *progress) error {
	for _, f := range []string{"stations", "population", "network", "candidates", "areas", "tiers", "tier"} {
		if given[f] {
			return usagef("--%s does not go with --costs: the cost table already says which site reaches which demand", f)
		}
	}
	if !given["radius"] || !(pf.radius >= 0) || math.IsInf(pf.radius, 0) {
		return usagef("--costs needs --radius R, a number >= 0 in the table's cost unit")
	}
	if err := checkOut("--out", sf.out); err != nil {
		return err
	}
	prob, stats, err := site.ReadCostTable(pf.costs, pf.cols, pf.radius)
	if err != nil {
		return err
	}
	plan, err := pf.solve(ctx, prob, bar)
	if err != nil {
		return err
	}
	extra := site.Extra{"mode": "costs", "costs": pf.costs, "radius": pf.radius, "pairs": stats.Pairs,
		"pairs_within_radius": stats.PairsWithin, "demands": stats.Demands, "sites_in_table": stats.Sites, "demands_unreached": stats.Unreached}
	b, err := format.NewBatch(sf.out)
	if err != nil {
		return err
	}
	files := []extraFile{
		{"sites.csv", func(w io.Writer) error { return site.WriteSitesCSV(w, plan) }},
		{"curve.csv", func(w io.Writer) error { return site.WriteCurveCSV(w, plan) }},
		{"proposal.json", func(w io.Writer) error { return site.WriteProposalJSON(w, plan, extra) }},
	}
	for _, f := range files {
		if err := b.Add(f.name, f.write); err != nil {
			b.Abort()
			return err
		}
	}
	m := newManifest("propose", args)
	m.input("costs", pf.costs)
	m.set("radius", pf.radius)
	pf.describe(m)
	if err := commitOutputs(b, m); err != nil {
		b.Abort()
		return err
	}
	fmt.Fprintf(stdout, "cost table %s: %s read, %s within %g; %s (%s with no site in reach), %s\n",
		pf.costs, nof(stats.Pairs, "pair", "pairs"), fmtInt(float64(stats.PairsWithin)), pf.radius, nof(stats.Demands, "demand", "demands"),
		fmtInt(float64(stats.Unreached)), nof(stats.Sites, "site", "sites"))
	printPlan(stdout, plan, stats.Sites, "weight")
	fmt.Fprintf(stdout, "\nwrote %s\n", sf.out)
	return nil
}

func proposeFacts(pf *proposeFlags) []gpkg.KeyValue {
	kv := []gpkg.KeyValue{}
	if pf.add > 0 {
		kv = append(kv, gpkg.KeyValue{Key: "add", Value: fmt.Sprint(pf.add)})
	} else {
		kv = append(kv, gpkg.KeyValue{Key: "target", Value: fmt.Sprint(pf.target)})
	}
	if pf.minSpacing > 0 {
		kv = append(kv, gpkg.KeyValue{Key: "min_spacing_m", Value: fmt.Sprint(pf.minSpacing)})
	}
	return append(kv, fileFacts("candidates", pf.candidates)...)
}

func proposalsLayer(plan *site.Plan) []gpkg.Proposal {
	out := make([]gpkg.Proposal, 0, len(plan.Sites))
	for _, s := range plan.Sites {
		p := gpkg.Proposal{Rank: s.Rank, ID: s.ID, Pos: s.Pos, Added: s.Added, Covered: s.Covered, Share: s.Share}
		if s.H3 != 0 {
			p.H3 = s.H3.String()
		}
		out = append(out, p)
	}
	return out
}

// printPlan prints the plan, its bound and gap.
func printPlan(w io.Writer, pl *site.Plan, candidates int, unit string) {
	if pl.Mode == "add" {
		fmt.Fprintf(w, "proposal    %s (asked for %s) from %s of %s\n", nof(len(pl.Sites), "new site", "new sites"), fmtInt(float64(pl.K)),
			nof(pl.Candidates, "useful candidate", "useful candidates"), fmtInt(float64(candidates)))
	} else {
		fmt.Fprintf(w, "proposal    %s to reach %.1f%% covered (at least %s needed)\n", nof(len(pl.Sites), "new site", "new sites"), 100*pl.Target, fmtInt(float64(pl.MinSites)))
	}
	fmt.Fprintf(w, "covered     %s → %s %s (%.1f%% → %.1f%%)\n", fmtInt(pl.Base), fmtInt(pl.Covered), unit, 100*ratioOf(pl.Base, pl.Total), 100*pl.Share)
	if !math.IsNaN(pl.UpperBound) {
		fmt.Fprintf(w, "certified   the plan newly covers %s; no plan of %s can newly cover more than %s (gap %.2f%%)\n",
			fmtInt(pl.Objective), nof(len(pl.Sites), "site", "sites"), fmtInt(pl.UpperBound), 100*pl.Gap)
	}
	fmt.Fprintf(w, "status      %s\n", planStatus(pl))
	for _, s := range pl.Sites[:min(10, len(pl.Sites))] {
		where := s.ID
		if s.HasPos {
			where = fmt.Sprintf("%.5f,%.5f", s.Pos[0], s.Pos[1])
			if s.ID != "" {
				where = s.ID + " " + where
			}
		}
		fmt.Fprintf(w, "  #%-3d %-30s +%s %s, %.1f%% covered\n", s.Rank, where, fmtInt(s.Added), unit, 100*s.Share)
	}
	if len(pl.Sites) > 10 {
		fmt.Fprintf(w, "  … %s more in sites.csv\n", fmtInt(float64(len(pl.Sites)-10)))
	}
	for _, s := range pl.Status {
		fmt.Fprintf(w, "note: %s\n", strings.TrimSpace(s))
	}
}

// planStatus says whether the plan is proven optimal, and how the search
// ended.
func planStatus(pl *site.Plan) string {
	how := fmt.Sprintf("%s searched in %.1f s", nof(pl.Nodes, "node", "nodes"), pl.Seconds)
	if pl.TimedOut {
		how += ", stopped by the time limit"
	}
	switch {
	case pl.Mode == "target" && pl.Optimal:
		return fmt.Sprintf("optimal: no plan of fewer sites reaches the target (proven; %s)", how)
	case pl.Mode == "target":
		return fmt.Sprintf("gap: at least %s needed (proven), the plan has %s (%s)", fmtInt(float64(pl.MinSites)), fmtInt(float64(len(pl.Sites))), how)
	case pl.Optimal && pl.GapTolerance > 0:
		return fmt.Sprintf("optimal within %g%% (proven; %s)", 100*pl.GapTolerance, how)
	case pl.Optimal:
		return fmt.Sprintf("optimal (proven; %s)", how)
	default:
		return fmt.Sprintf("gap: proven within %.2f%% of the optimum, not within the %g%% asked (%s)", 100*pl.Gap, 100*pl.GapTolerance, how)
	}
}

func ratioOf(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// layerGains gives, with several population layers, sites.csv's
// added_<layer> columns: the people of each layer that each site newly
// covers, the sites taken in rank order as the plan counts its gains.
func layerGains(prob *site.Problem, plan *site.Plan, cells []coverage.Cell, covered []bool, layers []coverage.Layer) []site.SiteColumn {
	if len(layers) == 0 {
		return nil
	}
	cols := make([]site.SiteColumn, len(layers))
	for l, ly := range layers {
		cols[l] = site.SiteColumn{Name: "added_" + ly.Name, Values: make([]float64, len(plan.Sites))}
	}
	done := slices.Clone(covered)
	for k, s := range plan.Sites {
		for _, i := range prob.Set(s.Site) {
			if done[i] {
				continue
			}
			done[i] = true
			for l, v := range cells[i].Layers {
				cols[l].Values[k] += v
			}
		}
	}
	return cols
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
	"github.com/walkshed/walkshed/coverage/tiles"
	"github.com/walkshed/walkshed/coverage/walknet"
)

// serveConfig is a loaded study, ready to serve.
type serveConfig struct {
	res   *coverage.Result
	reach coverage.Reach
	graph *walknet.Graph // nil in straight-line mode
	areas []coverage.Area
	tiers []string // tier names from the top; nil without tiers
	// The service analysis summary.json carries (analyze's tierFlags.wanted:
	// tiers, capacities or an access index): spec (OneTier of the
	// threshold when the tiers are not named) and method.
	service      bool
	spec         coverage.TierSpec
	named        bool
	method       coverage.AccessMethod
	crs          string
	run          []gpkg.KeyValue
	maxSnap      float64
	basemap      string
	networkFacts func() (*gpkg.NetworkFacts, error)
}

// smallStreets is the most street segments drawn from zoom 10 on (a
// town); a city's are drawn from tiles.StreetsMinZoom.
const smallStreets = 150_000

// server is the what-if state: the result in memory, changed in place by
// one edit at a time (the write lock) while tiles, summaries and exports
// read it concurrently (the read lock).
type server struct {
	cfg   serveConfig
	token string

	mu  sync.RWMutex
	res *coverage.Result
	// views are each tier's walking times, from the top (cfg.spec's
	// order), as results of their own kept by the incremental update with
	// serves[t] picking the stations serving tier t; the bottom tier's is
	// res itself. Without a service analysis, views is res alone.
	views   []*coverage.Result
	serves  []func(coverage.Station) bool
	crow    *coverage.Result // network mode: the straight line's result, for crow_share_covered
	crowR   coverage.Reach
	topt    tiles.Options
	src     *tiles.Source
	minutes []coverage.Minutes // each cell's time as tiles last saw it
	applied []coverage.Event   // the scenario: edits in order
	at      []int              // for each applied closing, where the station stood in the list
	redo    []coverage.Event   // edits undone, last undone last
	redoAt  []int
	nextID  int
	summary []byte // /api/summary, rebuilt after each edit
	bound   orb.Bound

	addrMu sync.RWMutex
	addr   string // host:port listened on

	propose sync.Mutex // one proposal at a time
	// One export at a time: the tier gaps an export finds fill the result's
	// shared cell-edge cache.
	export sync.Mutex
}

func newServer(cfg serveConfig) (*server, error) {
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	if cfg.spec.Tiers == nil {
		cfg.spec = coverage.OneTier(cfg.res.Settings.Minutes)
	}
	s := &server{cfg: cfg, token: hex.EncodeToString(tok), res: cfg.res, nextID: 1}
	s.topt = tiles.Options{Tiers: cfg.tiers}
	if cfg.graph != nil {
		s.topt.Streets = streetSegments(cfg.graph)
		if len(s.topt.Streets) <= smallStreets {
			s.topt.StreetsMinZoom = 10 // a town's streets: drawn from further out
		}
	}
	ctx := context.Background()
	if err := s.buildTiers(ctx); err != nil {
		return nil, err
	}
	if cfg.res.Mode == "network" {
		s.crowR = coverage.NewCrow(cfg.res.Cells, cfg.res.Settings.SpeedKmh)
		var err error
		if s.crow, err = coverage.Analyze(ctx, coverage.Study{Settings: cfg.res.Settings, Stations: cfg.res.Stations, Cells: cfg.res.Cells}, s.crowR, nil); err != nil {
			return nil, err
		}
	}
	if err := s.buildTiles(); err != nil {
		return nil, err
	}
	s.bound = studyBound(cfg.res)
	if err := s.rebuildSummary(); err != nil {
		return nil, err
	}
	return s, nil
}

// buildTiles makes the tile source over the result as it stands.
func (s *server) buildTiles() error {
	var err error
	if s.src, err = tiles.New(s.res, s.topt); err != nil {
		return err
	}
	s.minutes = make([]coverage.Minutes, len(s.res.Cells))
	for i, a := range s.res.Access {
		s.minutes[i] = a.Minutes
	}
	return nil
}

// tierServes is whether a station serves tier t of spec.
func tierServes(spec coverage.TierSpec, t int) func(coverage.Station) bool {
	return func(st coverage.Station) bool {
		k := spec.Index(st.Tier)
		return k >= 0 && spec.Serves(k, t)
	}
}

// buildTiers computes every tier's walking times from the result's
// stations, as analyze does, and makes a view of each tier above the
// bottom one. With separate tiers the result's own times become those of
// the bottom tier's stations alone (and its stations in reach, gaps and
// area summaries follow), as in analyze's output.
func (s *server) buildTiers(ctx context.Context) error {
	res, spec := s.res, s.cfg.spec
	s.views, s.serves = []*coverage.Result{res}, []func(coverage.Station) bool{nil}
	if !s.cfg.service || len(spec.Tiers) == 1 && !spec.Separate {
		return nil // one tier served by every station: the result's own times
	}
	var known []coverage.Access // inclusive tiers: the bottom tier's times are the result's
	if !spec.Separate {
		known = res.Access
	}
	tr, err := coverage.AnalyzeTiersWith(ctx, res.Cells, res.Stations, spec, s.cfg.reach, known)
	if err != nil {
		return err
	}
	bottom := len(spec.Tiers) - 1
	s.views = make([]*coverage.Result, len(spec.Tiers))
	s.serves = make([]func(coverage.Station) bool, len(spec.Tiers))
	for t, tier := range spec.Tiers {
		if t == bottom {
			s.views[t] = res
			if spec.Separate {
				s.serves[t] = tierServes(spec, t)
				copy(res.Access, tr.Tiers[t].Access)
				if c, ok := s.cfg.reach.(coverage.Counter); ok && res.InReach != nil {
					var pts []orb.Point
					for j, st := range res.Stations {
						if int(tr.StationTier[j]) == bottom {
							pts = append(pts, st.Pos)
						}
					}
					clear(res.InReach)
					if len(pts) > 0 {
						if err := c.InReach(ctx, pts, res.Settings.Minutes, res.InReach); err != nil {
							return err
						}
					}
				}
				res.Finish(s.cfg.areas)
			}
			continue
		}
		set := res.Settings
		set.Minutes = tier.Minutes
		v := &coverage.Result{Settings: set, Mode: res.Mode, Bound: res.Bound, Stations: res.Stations, Cells: res.Cells,
			Access: tr.Tiers[t].Access, InputPopulation: res.InputPopulation, Layers: res.Layers, Created: res.Created,
			SkipOutlines: true} // the summary lists an upper tier's gaps; the export traces them anew
		v.Finish(s.cfg.areas)
		s.views[t], s.serves[t] = v, tierServes(spec, t)
	}
	return nil
}

// tierExtras is the service analysis of the current scenario, as
// analyze's serviceExtras makes it for summary.json (the catchments and
// access values, which summary.json does not show, are left out): every
// tier's coverage from its view, counted as AnalyzeTiers counts it.
func (s *server) tierExtras() (*format.TierExtras, error) {
	access := make([][]coverage.Access, len(s.views))
	for t, v := range s.views {
		access[t] = v.Access
	}
	tr, err := coverage.NewTierResult(s.cfg.spec, s.res.Cells, s.res.Stations, access)
	if err != nil {
		return nil, err
	}
	tx := &format.TierExtras{Result: tr, Named: s.cfg.named, Method: s.cfg.method, Layers: s.res.Layers}
	if s.cfg.method != 0 {
		// summary.json names the method; the values per cell are made for
		// the GeoPackage export only.
		tx.Access = []float64{}
	}
	if s.cfg.named {
		tx.Gaps = make([][]coverage.Gap, len(s.views))
		for t, v := range s.views {
			tx.Gaps[t] = v.Gaps
		}
		if len(s.res.Areas) > 0 {
			tx.Areas = make([][]coverage.AreaSummary, len(s.views))
			for t, v := range s.views {
				tx.Areas[t] = v.Areas
			}
		}
	}
	return tx, nil
}

// rebuildSummary renders /api/summary: summary.json's content, made by
// the same function as analyze's.
func (s *server) rebuildSummary() error {
	share := math.NaN()
	if s.crow != nil {
		share = s.crow.Totals().Share()
	}
	ex := summaryExtras(s.cfg.reach, s.res.Stations, share)
	if s.cfg.service {
		var err error
		if ex.Tiers, err = s.tierExtras(); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	if err := format.WriteSummaryJSON(&b, s.res, ex); err != nil {
		return err
	}
	s.summary = b.Bytes()
	return nil
}

// editError is an edit refused for a reason the client can fix (400).
type editError struct{ msg string }

func (e editError) Error() string { return e.msg }

func refusef(format string, a ...any) error { return editError{fmt.Sprintf(format, a...)} }

// stationInput is the body of POST /api/stations.
type stationInput struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Tier     string   `json:"tier"`
	Lon      *float64 `json:"lon"`
	Lat      *float64 `json:"lat"`
	Capacity float64  `json:"capacity"` // 0: unknown
}

// openEvent checks a new station and makes its opening event. Positions
// are kept to 7 decimals (about 1 cm), as events.csv writes them, so that
// replaying the scenario's file gives the same walking times.
func (s *server) openEvent(in stationInput) (coverage.Event, error) {
	if in.Lon == nil || in.Lat == nil {
		return coverage.Event{}, refusef("a new station needs lon and lat")
	}
	p := orb.Point{math.Round(*in.Lon*1e7) / 1e7, math.Round(*in.Lat*1e7) / 1e7}
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
		return coverage.Event{}, refusef("lon %v, lat %v is not a position (lon -180..180, lat -90..90)", *in.Lon, *in.Lat)
	}
	if !s.bound.Contains(p) {
		return coverage.Event{}, refusef("%.5f,%.5f is outside the study (%.4f,%.4f to %.4f,%.4f): a station there reaches no one",
			p[0], p[1], s.bound.Min[0], s.bound.Min[1], s.bound.Max[0], s.bound.Max[1])
	}
	if len(in.ID) > 200 || len(in.Name) > 500 || len(in.Tier) > 200 {
		return coverage.Event{}, refusef("id, name or tier too long")
	}
	if s.cfg.tiers != nil {
		if in.Tier == "" {
			in.Tier = s.cfg.tiers[len(s.cfg.tiers)-1]
		}
		known := false
		for _, t := range s.cfg.tiers {
			known = known || t == in.Tier
		}
		if !known {
			return coverage.Event{}, refusef("tier %q is not one of the study's tiers %v", in.Tier, s.cfg.tiers)
		}
	} else if in.Tier != "" {
		return coverage.Event{}, refusef("the study has no tiers (tier %q)", in.Tier)
	}
	if !(in.Capacity >= 0) || math.IsInf(in.Capacity, 1) {
		return coverage.Event{}, refusef("capacity %v: want 0 (unknown) or a positive number", in.Capacity)
	}
	if wr, ok := s.cfg.reach.(*walknet.Reach); ok {
		if leg, ok := wr.Snap(p); !ok {
			return coverage.Event{}, refusef("%.5f,%.5f is %.0f m from the nearest street, farther than the snapping limit of %g m: not opened", p[0], p[1], float64(leg), s.cfg.maxSnap)
		}
	}
	return coverage.Event{Action: coverage.Open, Station: coverage.Station{ID: in.ID, Name: in.Name, Tier: in.Tier, Pos: p, Capacity: in.Capacity}}, nil
}

// freshID is an id no open station has.
func (s *server) freshID() string {
	taken := map[string]bool{}
	for _, st := range s.res.Stations {
		taken[st.ID] = true
	}
	for {
		id := "new-" + strconv.Itoa(s.nextID)
		s.nextID++
		if !taken[id] {
			return id
		}
	}
}

// stationByID finds an open station and its place in the list (-1 when
// none has that id).
func (s *server) stationByID(id string) (coverage.Station, int) {
	for j, st := range s.res.Stations {
		if st.ID == id {
			return st, j
		}
	}
	return coverage.Station{}, -1
}

// apply runs one event through the incremental update of every tier's
// times (and the straight line's, in network mode), then refreshes tiles
// and the summary. An opening with at >= 0 puts the station back at that
// place in the list (the undo of a closing). It returns what the event did
// to the result and, for a closing, where the station stood. The caller
// holds the write lock.
//
// An edit is whole or not at all: an update that fails half way, or
// panics, leaves the state of before the edit, recomputed from its
// station list (the panic then goes on to the handler's guard).
func (s *server) apply(ctx context.Context, ev coverage.Event, at int) (ch coverage.Change, closedAt int, err error) {
	// A client that goes away must not stop an edit half way.
	ctx = context.WithoutCancel(ctx)
	ev.Date = time.Now().UTC().Truncate(24 * time.Hour)
	ev.Source = "edit " + strconv.Itoa(len(s.applied)+1)
	closedAt = -1
	var pos orb.Point
	switch ev.Action {
	case coverage.Open:
		if ev.Station.ID == "" {
			ev.Station.ID = s.freshID()
		}
		if _, j := s.stationByID(ev.Station.ID); j >= 0 {
			return ch, -1, refusef("station %q is already open", ev.Station.ID)
		}
		if at > len(s.res.Stations) {
			return ch, -1, fmt.Errorf("place %d beyond the %d stations", at, len(s.res.Stations))
		}
		pos = ev.Station.Pos
	case coverage.Close:
		st, j := s.stationByID(ev.Station.ID)
		if j < 0 {
			return ch, -1, refusef("no open station has id %q", ev.Station.ID)
		}
		// The event carries the whole station, so that undo reopens it
		// and events.csv says where it stood.
		ev.Station, closedAt = st, j
		pos = st.Pos
	}
	before := slices.Clone(s.res.Stations)
	defer func() {
		if v := recover(); v != nil {
			if err := s.restore(before); err != nil {
				panic(fmt.Sprintf("%v; restoring the scenario: %v", v, err))
			}
			panic(v)
		}
	}()
	evs := []coverage.Event{ev}
	bottom := len(s.views) - 1
	chs, err := coverage.UpdateServing(ctx, s.res, s.cfg.reach, evs, s.serves[bottom])
	if err != nil {
		return ch, -1, err // the result is as it was
	}
	fail := func(err error) (coverage.Change, int, error) {
		if rerr := s.restore(before); rerr != nil {
			return coverage.Change{}, -1, fmt.Errorf("%w; restoring the scenario: %v", err, rerr)
		}
		return coverage.Change{}, -1, err
	}
	for t, v := range s.views[:bottom] {
		if _, err := coverage.UpdateServing(ctx, v, s.cfg.reach, evs, s.serves[t]); err != nil {
			return fail(err)
		}
	}
	if s.crow != nil {
		if _, err := coverage.Update(ctx, s.crow, s.crowR, evs); err != nil {
			return fail(err)
		}
	}
	if ev.Action == coverage.Open && at >= 0 {
		last := len(s.res.Stations) - 1
		for t, v := range s.views {
			if err := coverage.MoveStation(ctx, v, s.cfg.reach, last, at, s.serves[t]); err != nil {
				return fail(err)
			}
		}
		if s.crow != nil {
			if err := coverage.MoveStation(ctx, s.crow, s.crowR, last, at, nil); err != nil {
				return fail(err)
			}
		}
	}
	var retimed []int32
	for i, a := range s.res.Access {
		if a.Minutes != s.minutes[i] {
			retimed = append(retimed, int32(i))
			s.minutes[i] = a.Minutes
		}
	}
	s.src.Changed(retimed, []orb.Point{pos})
	if err := s.rebuildSummary(); err != nil {
		return fail(err)
	}
	return chs[0], closedAt, nil
}

// restore puts the state back to a full analysis of stations (the list
// before a failed edit), as the server started: every tier's times, the
// straight line's, the tiles and the summary.
func (s *server) restore(stations []coverage.Station) error {
	ctx := context.Background()
	res, err := coverage.Analyze(ctx, coverage.Study{Settings: s.res.Settings, Stations: stations, Cells: s.res.Cells,
		InputPopulation: s.res.InputPopulation, Areas: s.cfg.areas, Layers: s.res.Layers}, s.cfg.reach, nil)
	if err != nil {
		return err
	}
	*s.res = *res // the same result, which the tiles read
	if err := s.buildTiers(ctx); err != nil {
		return err
	}
	if s.crow != nil {
		c, err := coverage.Analyze(ctx, coverage.Study{Settings: s.res.Settings, Stations: stations, Cells: s.res.Cells}, s.crowR, nil)
		if err != nil {
			return err
		}
		*s.crow = *c
	}
	if err := s.buildTiles(); err != nil {
		return err
	}
	return s.rebuildSummary()
}

// edit applies a new edit: the redo list is dropped.
func (s *server) edit(ctx context.Context, ev coverage.Event) (coverage.Change, error) {
	ch, at, err := s.apply(ctx, ev, -1)
	if err != nil {
		return ch, err
	}
	s.applied = append(s.applied, ch.Event)
	s.at = append(s.at, at)
	s.redo, s.redoAt = s.redo[:0], s.redoAt[:0]
	return ch, nil
}

// inverse is the event that undoes ev.
func inverse(ev coverage.Event) coverage.Event {
	inv := ev
	if ev.Action == coverage.Open {
		inv.Action = coverage.Close
	} else {
		inv.Action = coverage.Open
	}
	return inv
}

// undo reverts the last edit exactly: a closed station reopens where it
// stood in the list (which decides equal times), an opened one closes.
func (s *server) undo(ctx context.Context) (coverage.Change, error) {
	n := len(s.applied)
	if n == 0 {
		return coverage.Change{}, refusef("nothing to undo")
	}
	last, at := s.applied[n-1], s.at[n-1]
	ch, _, err := s.apply(ctx, inverse(last), at)
	if err != nil {
		return ch, err
	}
	s.applied, s.at = s.applied[:n-1], s.at[:n-1]
	s.redo, s.redoAt = append(s.redo, last), append(s.redoAt, at)
	return ch, nil
}

// redoLast applies the last undone edit again.
func (s *server) redoLast(ctx context.Context) (coverage.Change, error) {
	n := len(s.redo)
	if n == 0 {
		return coverage.Change{}, refusef("nothing to redo")
	}
	next := s.redo[n-1]
	ch, at, err := s.apply(ctx, next, -1)
	if err != nil {
		return ch, err
	}
	s.redo, s.redoAt = s.redo[:n-1], s.redoAt[:n-1]
	s.applied, s.at = append(s.applied, ch.Event), append(s.at, at)
	return ch, nil
}

// eventsCSV writes the scenario as update reads it.
func eventsCSV(evs []coverage.Event) []byte {
	var b bytes.Buffer
	b.WriteString("date,action,id,lon,lat,name,tier,capacity\n")
	for _, ev := range evs {
		capacity := ""
		if c := ev.Station.Capacity; c > 0 && ev.Action == coverage.Open {
			capacity = strconv.FormatFloat(c, 'g', -1, 64)
		}
		fmt.Fprintf(&b, "%s,%s,%s,%.7f,%.7f,%s,%s,%s\n", ev.Date.Format("2006-01-02"), ev.Action,
			csvField(ev.Station.ID), ev.Station.Pos[0], ev.Station.Pos[1], csvField(ev.Station.Name), csvField(ev.Station.Tier), capacity)
	}
	return b.Bytes()
}

// csvField quotes a field when it holds a separator, quote or line break.
func csvField(s string) string {
	for _, c := range s {
		if c == ',' || c == '"' || c == '\n' || c == '\r' {
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
	}
	return s
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
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
	res          *coverage.Result
	reach        coverage.Reach
	graph        *walknet.Graph // nil in straight-line mode
	areas        []coverage.Area
	tiers        []string // tier names from the top; nil without tiers
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

	mu      sync.RWMutex
	res     *coverage.Result
	crow    *coverage.Result // network mode: the straight line's result, for crow_share_covered
	crowR   coverage.Reach
	src     *tiles.Source
	minutes []coverage.Minutes // each cell's time as tiles last saw it
	applied []coverage.Event   // the scenario: edits in order
	redo    []coverage.Event   // edits undone, last undone last
	nextID  int
	summary []byte // /api/summary, rebuilt after each edit
	bound   orb.Bound

	addrMu sync.RWMutex
	addr   string // host:port listened on

	propose sync.Mutex // one proposal at a time
}

func newServer(cfg serveConfig) (*server, error) {
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, token: hex.EncodeToString(tok), res: cfg.res, nextID: 1}
	opt := tiles.Options{Tiers: cfg.tiers}
	if cfg.graph != nil {
		opt.Streets = streetSegments(cfg.graph)
		if len(opt.Streets) <= smallStreets {
			opt.StreetsMinZoom = 10 // a town's streets: drawn from further out
		}
	}
	var err error
	if s.src, err = tiles.New(cfg.res, opt); err != nil {
		return nil, err
	}
	s.minutes = make([]coverage.Minutes, len(cfg.res.Cells))
	for i, a := range cfg.res.Access {
		s.minutes[i] = a.Minutes
	}
	if cfg.res.Mode == "network" {
		s.crowR = coverage.NewCrow(cfg.res.Cells, cfg.res.Settings.SpeedKmh)
		if s.crow, err = coverage.Analyze(context.Background(), coverage.Study{Settings: cfg.res.Settings, Stations: cfg.res.Stations, Cells: cfg.res.Cells}, s.crowR, nil); err != nil {
			return nil, err
		}
	}
	s.bound = studyBound(cfg.res)
	if err := s.rebuildSummary(); err != nil {
		return nil, err
	}
	return s, nil
}

// rebuildSummary renders /api/summary: summary.json's content.
func (s *server) rebuildSummary() error {
	share := math.NaN()
	if s.crow != nil {
		share = s.crow.Totals().Share()
	}
	var b bytes.Buffer
	if err := format.WriteSummaryJSON(&b, s.res, summaryExtras(s.cfg.reach, s.res.Stations, share)); err != nil {
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
	ID   string   `json:"id"`
	Name string   `json:"name"`
	Tier string   `json:"tier"`
	Lon  *float64 `json:"lon"`
	Lat  *float64 `json:"lat"`
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
	if wr, ok := s.cfg.reach.(*walknet.Reach); ok {
		if leg, ok := wr.Snap(p); !ok {
			return coverage.Event{}, refusef("%.5f,%.5f is %.0f m from the nearest street, farther than the snapping limit of %g m: not opened", p[0], p[1], float64(leg), s.cfg.maxSnap)
		}
	}
	return coverage.Event{Action: coverage.Open, Station: coverage.Station{ID: in.ID, Name: in.Name, Tier: in.Tier, Pos: p}}, nil
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

// stationByID finds an open station.
func (s *server) stationByID(id string) (coverage.Station, bool) {
	for _, st := range s.res.Stations {
		if st.ID == id {
			return st, true
		}
	}
	return coverage.Station{}, false
}

// apply runs one event through the incremental update (and the straight
// line's, in network mode), then refreshes tiles and the summary. The
// caller holds the write lock.
func (s *server) apply(ctx context.Context, ev coverage.Event) (coverage.Change, error) {
	ev.Date = time.Now().UTC().Truncate(24 * time.Hour)
	ev.Source = "edit " + strconv.Itoa(len(s.applied)+1)
	var at orb.Point
	switch ev.Action {
	case coverage.Open:
		if ev.Station.ID == "" {
			ev.Station.ID = s.freshID()
		}
		if _, dup := s.stationByID(ev.Station.ID); dup {
			return coverage.Change{}, refusef("station %q is already open", ev.Station.ID)
		}
		at = ev.Station.Pos
	case coverage.Close:
		st, ok := s.stationByID(ev.Station.ID)
		if !ok {
			return coverage.Change{}, refusef("no open station has id %q", ev.Station.ID)
		}
		// The event carries the whole station, so that undo reopens it
		// and events.csv says where it stood.
		ev.Station = st
		at = st.Pos
	}
	ch, err := coverage.Update(ctx, s.res, s.cfg.reach, []coverage.Event{ev})
	if err != nil {
		return coverage.Change{}, err
	}
	if s.crow != nil {
		if _, err := coverage.Update(ctx, s.crow, s.crowR, []coverage.Event{ev}); err != nil {
			return coverage.Change{}, err
		}
	}
	var changed []int32
	for i, a := range s.res.Access {
		if a.Minutes != s.minutes[i] {
			changed = append(changed, int32(i))
			s.minutes[i] = a.Minutes
		}
	}
	s.src.Changed(changed, []orb.Point{at})
	if err := s.rebuildSummary(); err != nil {
		return coverage.Change{}, err
	}
	return ch[0], nil
}

// edit applies a new edit: the redo list is dropped.
func (s *server) edit(ctx context.Context, ev coverage.Event) (coverage.Change, error) {
	ch, err := s.apply(ctx, ev)
	if err != nil {
		return ch, err
	}
	s.applied = append(s.applied, ch.Event)
	s.redo = s.redo[:0]
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

// undo reverts the last edit.
func (s *server) undo(ctx context.Context) (coverage.Change, error) {
	if len(s.applied) == 0 {
		return coverage.Change{}, refusef("nothing to undo")
	}
	last := s.applied[len(s.applied)-1]
	ch, err := s.apply(ctx, inverse(last))
	if err != nil {
		return ch, err
	}
	s.applied = s.applied[:len(s.applied)-1]
	s.redo = append(s.redo, last)
	return ch, nil
}

// redoLast applies the last undone edit again.
func (s *server) redoLast(ctx context.Context) (coverage.Change, error) {
	if len(s.redo) == 0 {
		return coverage.Change{}, refusef("nothing to redo")
	}
	next := s.redo[len(s.redo)-1]
	ch, err := s.apply(ctx, next)
	if err != nil {
		return ch, err
	}
	s.redo = s.redo[:len(s.redo)-1]
	s.applied = append(s.applied, ch.Event)
	return ch, nil
}

// eventsCSV writes the scenario as update reads it.
func eventsCSV(evs []coverage.Event) []byte {
	var b bytes.Buffer
	b.WriteString("date,action,id,lon,lat,name,tier\n")
	for _, ev := range evs {
		fmt.Fprintf(&b, "%s,%s,%s,%.7f,%.7f,%s,%s\n", ev.Date.Format("2006-01-02"), ev.Action,
			csvField(ev.Station.ID), ev.Station.Pos[0], ev.Station.Pos[1], csvField(ev.Station.Name), csvField(ev.Station.Tier))
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

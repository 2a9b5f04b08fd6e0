package main

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/cmd/walkshed/webui"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/format"
	"github.com/walkshed/walkshed/coverage/format/gpkg"
	"github.com/walkshed/walkshed/coverage/site"
	"github.com/walkshed/walkshed/coverage/tiles"
)

// maxBody caps every request body: the API's bodies are a few hundred
// bytes.
const maxBody = 64 << 10

// maxProposeK is the most sites one proposal may ask for.
const maxProposeK = 100

// A proposal on the page stops once proven within 1% of the optimum, or
// after 10 seconds with the best plan and bound found: a planner clicking
// waits for an answer, and the command line is there for tighter proofs.
const (
	serveProposeGap   = 0.01
	serveProposeLimit = 10 * time.Second
)

// setAddr records the address listened on, for the Host check and the URL.
func (s *server) setAddr(addr string) {
	s.addrMu.Lock()
	s.addr = addr
	s.addrMu.Unlock()
}

func (s *server) listenAddr() string {
	s.addrMu.RLock()
	defer s.addrMu.RUnlock()
	return s.addr
}

// url is the address to open, with the token: on a wildcard address, the
// loopback one.
func (s *server) url() string {
	host, port, _ := net.SplitHostPort(s.listenAddr())
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/?token=" + s.token
}

// cookieName is per port: cookies ignore ports, and two servers on one
// machine must not take each other's token.
func (s *server) cookieName() string {
	_, port, _ := net.SplitHostPort(s.listenAddr())
	return "walkshed_token_" + port
}

// handler is the whole server: every request passes the panic guard, the
// Host check (DNS rebinding), the token, the body limit and, for requests
// that change state, the cross-origin check.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(webui.Files)))
	mux.HandleFunc("GET /api/info", s.getInfo)
	mux.HandleFunc("GET /api/summary", s.getSummary)
	mux.HandleFunc("GET /api/stations", s.getStations)
	mux.HandleFunc("POST /api/stations", s.postStation)
	mux.HandleFunc("DELETE /api/stations/{id}", s.deleteStation)
	mux.HandleFunc("POST /api/undo", s.postUndo)
	mux.HandleFunc("POST /api/redo", s.postRedo)
	mux.HandleFunc("GET /api/history", s.getHistory)
	mux.HandleFunc("POST /api/propose", s.postPropose)
	mux.HandleFunc("GET /api/cell", s.getCell)
	mux.HandleFunc("GET /api/events.csv", s.getEvents)
	mux.HandleFunc("GET /api/result.gpkg", s.getGPKG)
	mux.HandleFunc("GET /tiles/{layer}/{z}/{x}/{file}", s.getTile)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jsonError(w, http.StatusForbidden, "a request that changes the scenario must come from the page itself, not from another site")
	}))
	return s.guard(cop.Handler(mux))
}

// guard answers a panic with 500 and keeps serving, and checks the Host,
// the token and the body size before anything else.
func (s *server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				fmt.Fprintf(os.Stderr, "walkshed serve: %s %s: panic: %v\n%s", r.Method, r.URL.Path, v, debug.Stack())
				jsonError(w, http.StatusInternalServerError, "internal error; the server keeps serving")
			}
		}()
		if !s.hostAllowed(r.Host) {
			jsonError(w, http.StatusForbidden, fmt.Sprintf("host %q is not this server's address", r.Host))
			return
		}
		fromQuery, ok := s.authorized(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="walkshed"`)
			jsonError(w, http.StatusUnauthorized, "missing or wrong token: open the address walkshed serve printed (it ends with ?token=…), or send Authorization: Bearer TOKEN")
			return
		}
		if fromQuery {
			http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// hostAllowed accepts the listening address and loopback names with its
// port; on a wildcard address, any IP literal (a rebinding attack needs a
// DNS name).
func (s *server) hostAllowed(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	lhost, lport, err := net.SplitHostPort(s.listenAddr())
	if err != nil || port != lport {
		return false
	}
	ip := net.ParseIP(host)
	switch {
	case strings.EqualFold(host, "localhost"), ip != nil && ip.IsLoopback(), host == lhost:
		return true
	}
	lip := net.ParseIP(lhost)
	return ip != nil && (lhost == "" || lip != nil && lip.IsUnspecified())
}

// authorized checks the token: a bearer header, the cookie, or ?token=
// (fromQuery: the cookie is to be set).
func (s *server) authorized(r *http.Request) (fromQuery, ok bool) {
	same := func(t string) bool { return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.token)) == 1 }
	if h := r.Header.Get("Authorization"); h != "" {
		t, found := strings.CutPrefix(h, "Bearer ")
		return false, found && same(strings.TrimSpace(t))
	}
	if c, err := r.Cookie(s.cookieName()); err == nil && same(c.Value) {
		return false, true
	}
	if t := r.URL.Query().Get("token"); same(t) {
		return true, true
	}
	return false, false
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// decodeBody decodes a request body: 413 when it is over the limit, 400 when
// it is not the JSON expected.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			jsonError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", maxBody))
		} else {
			jsonError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		}
		return false
	}
	return true
}

func (s *server) page(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(webui.Files, "index.html")
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob: http: https:; worker-src blob:; child-src blob:; style-src 'self' 'unsafe-inline'; connect-src 'self' http: https:; frame-ancestors 'none'")
	w.Write(b)
}

// info is what the page needs to set itself up.
type info struct {
	Version        string     `json:"version"`
	Mode           string     `json:"mode"`
	Minutes        float64    `json:"minutes"`
	SpeedKmh       float64    `json:"speed_kmh"`
	Res            int        `json:"res"`
	Tiers          []string   `json:"tiers"`
	Bounds         [4]float64 `json:"bounds"`
	Basemap        string     `json:"basemap,omitempty"`
	Streets        bool       `json:"streets"`
	Layers         []string   `json:"layers"`
	MaxZoom        int        `json:"max_zoom"`
	MinZoomStreets int        `json:"streets_min_zoom"`
}

func (s *server) getInfo(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	res := s.res
	b := studyBound(res)
	in := info{Version: version, Mode: res.Mode, Minutes: float64(res.Settings.Minutes), SpeedKmh: float64(res.Settings.SpeedKmh), Res: res.Settings.Res,
		Tiers: s.cfg.tiers, Bounds: [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}, Basemap: s.cfg.basemap, Streets: s.cfg.graph != nil,
		Layers: tiles.Layers, MaxZoom: tiles.MaxZoom, MinZoomStreets: s.streetsMinZoom()}
	s.mu.RUnlock()
	if in.Tiers == nil {
		in.Tiers = []string{}
	}
	writeJSON(w, in)
}

func (s *server) streetsMinZoom() int {
	if s.cfg.graph != nil && s.cfg.graph.Stats().Edges <= smallStreets {
		return 10
	}
	return tiles.StreetsMinZoom
}

func (s *server) getSummary(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	b := s.summary
	s.mu.RUnlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// stationJSON is a station as the API gives it.
type stationJSON struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Tier     string  `json:"tier"`
	Lon      float64 `json:"lon"`
	Lat      float64 `json:"lat"`
	Capacity float64 `json:"capacity,omitempty"` // 0: unknown
}

func toJSON(st coverage.Station) stationJSON {
	return stationJSON{ID: st.ID, Name: st.Name, Tier: st.Tier, Lon: st.Pos[0], Lat: st.Pos[1], Capacity: st.Capacity}
}

func (s *server) getStations(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	out := make([]stationJSON, len(s.res.Stations))
	for i, st := range s.res.Stations {
		out[i] = toJSON(st)
	}
	s.mu.RUnlock()
	writeJSON(w, out)
}

// changeJSON is what an edit did, with the summary after it.
type changeJSON struct {
	Action       string          `json:"action"`
	Station      stationJSON     `json:"station"`
	Gained       float64         `json:"gained"`
	Lost         float64         `json:"lost"`
	NewlyCovered int             `json:"cells_newly_covered"`
	NoLonger     int             `json:"cells_no_longer_covered"`
	CoveredAfter float64         `json:"covered_after"`
	Stations     int             `json:"stations"`
	Summary      json.RawMessage `json:"summary"`
}

// answerEdit runs an edit under the write lock and answers with what it
// did: 400 with the reason when refused.
func (s *server) answerEdit(w http.ResponseWriter, r *http.Request, do func() (coverage.Change, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := do()
	if err != nil {
		var ee editError
		if errors.As(err, &ee) {
			jsonError(w, http.StatusBadRequest, ee.msg)
		} else {
			jsonError(w, http.StatusBadRequest, forPeople(err))
		}
		return
	}
	writeJSON(w, changeJSON{Action: ch.Event.Action.String(), Station: toJSON(ch.Event.Station), Gained: ch.Gained, Lost: ch.Lost,
		NewlyCovered: len(ch.NewlyCovered), NoLonger: len(ch.NoLonger), CoveredAfter: ch.CoveredAfter, Stations: ch.StationsActive, Summary: s.summary})
}

func (s *server) postStation(w http.ResponseWriter, r *http.Request) {
	var in stationInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.answerEdit(w, r, func() (coverage.Change, error) {
		ev, err := s.openEvent(in)
		if err != nil {
			return coverage.Change{}, err
		}
		return s.edit(r.Context(), ev)
	})
}

func (s *server) deleteStation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.answerEdit(w, r, func() (coverage.Change, error) {
		return s.edit(r.Context(), coverage.Event{Action: coverage.Close, Station: coverage.Station{ID: id}})
	})
}

func (s *server) postUndo(w http.ResponseWriter, r *http.Request) {
	s.answerEdit(w, r, func() (coverage.Change, error) { return s.undo(r.Context()) })
}

func (s *server) postRedo(w http.ResponseWriter, r *http.Request) {
	s.answerEdit(w, r, func() (coverage.Change, error) { return s.redoLast(r.Context()) })
}

// historyJSON is the scenario so far.
type historyJSON struct {
	Edits []editJSON `json:"edits"`
	Redo  int        `json:"redo"`
}

type editJSON struct {
	Action  string      `json:"action"`
	Station stationJSON `json:"station"`
}

func (s *server) getHistory(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	h := historyJSON{Edits: make([]editJSON, len(s.applied)), Redo: len(s.redo)}
	for i, ev := range s.applied {
		h.Edits[i] = editJSON{Action: ev.Action.String(), Station: toJSON(ev.Station)}
	}
	s.mu.RUnlock()
	writeJSON(w, h)
}

// proposalJSON is a proposal on the current scenario.
type proposalJSON struct {
	K          int            `json:"k"`
	Objective  float64        `json:"objective"`
	UpperBound float64        `json:"upper_bound"`
	Gap        float64        `json:"gap"`
	Base       float64        `json:"base"`
	Covered    float64        `json:"covered"`
	Share      float64        `json:"share"`
	Candidates int            `json:"candidates"`
	Sites      []proposalSite `json:"sites"`
	Status     []string       `json:"status"`
	// Optimal: the plan is proven within GapTolerance of the optimum.
	Optimal      bool    `json:"optimal"`
	GapTolerance float64 `json:"gap_tolerance"`
	Nodes        int     `json:"nodes"`
	Seconds      float64 `json:"seconds"`
}

type proposalSite struct {
	Rank    int     `json:"rank"`
	Lon     float64 `json:"lon"`
	Lat     float64 `json:"lat"`
	H3      string  `json:"h3"`
	Added   float64 `json:"added_population"`
	Covered float64 `json:"covered_population"`
	Share   float64 `json:"share_covered"`
}

// postPropose runs propose --add K on the current scenario, as the command
// does: the candidates are the centres of the populated cells and of their
// neighbours (a site inside covered ground may still reach two gaps), and
// the search runs until the plan is proven within serveProposeGap of the
// optimum or serveProposeLimit passes. The scenario is read once under the
// read lock; the solve runs without it, so edits go on.
func (s *server) postPropose(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Add *int `json:"add"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Add == nil || *in.Add < 1 || *in.Add > maxProposeK {
		jsonError(w, http.StatusBadRequest, fmt.Sprintf("add: want a number of sites from 1 to %d", maxProposeK))
		return
	}
	s.propose.Lock()
	defer s.propose.Unlock()
	s.mu.RLock()
	res := s.res
	covered := make([]bool, len(res.Cells))
	for i := range res.Cells {
		covered[i] = res.Covered(i)
	}
	limit := res.Settings.Minutes
	cells := res.Cells // the cells never change; only their times do
	s.mu.RUnlock()
	ctx := r.Context()
	cands, err := site.DefaultCandidates(cells)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, forPeople(err))
		return
	}
	prob, err := site.Build(ctx, s.cfg.reach, cells, covered, cands, limit, nil)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, forPeople(err))
		return
	}
	out := proposalJSON{K: *in.Add, Candidates: prob.NumSites(), Sites: []proposalSite{}, Status: []string{}}
	if prob.NumSites() == 0 {
		out.Status = append(out.Status, "no candidate site reaches an uncovered populated cell")
		writeJSON(w, out)
		return
	}
	plan, err := prob.SolveK(ctx, *in.Add, site.Options{Exact: true, Gap: serveProposeGap, TimeLimit: serveProposeLimit})
	if err != nil {
		jsonError(w, http.StatusInternalServerError, forPeople(err))
		return
	}
	out.Objective, out.UpperBound, out.Gap = plan.Objective, plan.UpperBound, plan.Gap
	out.Optimal, out.GapTolerance, out.Nodes, out.Seconds = plan.Optimal, plan.GapTolerance, plan.Nodes, plan.Seconds
	out.Base, out.Covered, out.Share = plan.Base, plan.Covered, plan.Share
	if math.IsNaN(out.UpperBound) {
		out.UpperBound = -1
	}
	for _, st := range plan.Sites {
		ps := proposalSite{Rank: st.Rank, Lon: st.Pos[0], Lat: st.Pos[1], Added: st.Added, Covered: st.Covered, Share: st.Share}
		if st.H3 != 0 {
			ps.H3 = st.H3.String()
		}
		out.Sites = append(out.Sites, ps)
	}
	out.Status = append(out.Status, plan.Status...)
	writeJSON(w, out)
}

// parseLonLat reads lon and lat query parameters.
func parseLonLat(r *http.Request) (orb.Point, error) {
	q := r.URL.Query()
	lon, err1 := strconv.ParseFloat(q.Get("lon"), 64)
	lat, err2 := strconv.ParseFloat(q.Get("lat"), 64)
	if err1 != nil || err2 != nil || math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return orb.Point{}, fmt.Errorf("lon=%q&lat=%q: want decimal degrees, lon -180..180 and lat -90..90", q.Get("lon"), q.Get("lat"))
	}
	return orb.Point{lon, lat}, nil
}

// cellJSON is one cell's answer.
type cellJSON struct {
	H3         string       `json:"h3"`
	Lon        float64      `json:"lon"`
	Lat        float64      `json:"lat"`
	Populated  bool         `json:"populated"`
	Population float64      `json:"population"`
	Minutes    *float64     `json:"minutes"`
	Covered    bool         `json:"covered"`
	Station    *stationJSON `json:"nearest_station"`
}

func (s *server) getCell(w http.ResponseWriter, r *http.Request) {
	p, err := parseLonLat(r)
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := coverage.CellOf(p, s.res.Settings.Res)
	if err != nil {
		jsonError(w, http.StatusBadRequest, forPeople(err))
		return
	}
	ctr := coverage.CellCenter(c)
	out := cellJSON{H3: c.String(), Lon: ctr[0], Lat: ctr[1]}
	if i := s.res.CellIndex(c); i >= 0 {
		a := s.res.Access[i]
		out.Populated, out.Population, out.Covered = true, s.res.Cells[i].Population, s.res.Covered(i)
		if a.Minutes.Reached() {
			m := float64(a.Minutes)
			out.Minutes = &m
		}
		if a.Station >= 0 {
			st := toJSON(s.res.Stations[a.Station])
			out.Station = &st
		}
	}
	writeJSON(w, out)
}

func (s *server) getEvents(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	b := eventsCSV(s.applied)
	s.mu.RUnlock()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="events.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// getGPKG writes the current result as a walkshed GeoPackage into a
// temporary file (read lock held while writing) and streams it.
func (s *server) getGPKG(w http.ResponseWriter, r *http.Request) {
	dir, err := os.MkdirTemp("", "walkshed-serve-gpkg-")
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, resultFile)
	opt := gpkg.WriteOptions{CRS: s.cfg.crs, Run: append(append([]gpkg.KeyValue{}, s.cfg.run...), gpkg.KeyValue{Key: "exported_by", Value: "walkshed serve " + version})}
	if s.cfg.networkFacts != nil {
		if opt.Network, err = s.cfg.networkFacts(); err != nil {
			jsonError(w, http.StatusInternalServerError, forPeople(err))
			return
		}
	}
	s.export.Lock()
	defer s.export.Unlock()
	s.mu.RLock()
	opt.Snap = snapLegs(extrasOf(s.cfg.reach), len(s.res.Cells))
	if s.cfg.service {
		// The catchments and access values too, as analyze writes them, so
		// that update continues from the file.
		var tx *format.TierExtras
		if tx, err = s.tierExtras(); err == nil {
			tx, err = serviceExtras(r.Context(), s.res, tx.Result, s.cfg.areas, s.cfg.named, s.cfg.method, s.cfg.reach, nil)
		}
		if err == nil {
			opt.Tiers = gpkgTiers(tx)
		}
	}
	if err == nil {
		err = gpkg.Write(path, s.res, opt)
	}
	s.mu.RUnlock()
	if err != nil {
		jsonError(w, http.StatusInternalServerError, forPeople(err))
		return
	}
	f, err := os.Open(path)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/geopackage+sqlite3")
	w.Header().Set("Content-Disposition", `attachment; filename="walkshed.gpkg"`)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, resultFile, time.Now(), f)
}

func (s *server) getTile(w http.ResponseWriter, r *http.Request) {
	z, err1 := strconv.ParseUint(r.PathValue("z"), 10, 32)
	x, err2 := strconv.ParseUint(r.PathValue("x"), 10, 32)
	ys, ok := strings.CutSuffix(r.PathValue("file"), ".mvt")
	y, err3 := strconv.ParseUint(ys, 10, 32)
	if err1 != nil || err2 != nil || err3 != nil || !ok {
		jsonError(w, http.StatusBadRequest, "want /tiles/LAYER/Z/X/Y.mvt with whole numbers")
		return
	}
	s.mu.RLock()
	b, err := s.src.Tile(r.PathValue("layer"), uint32(z), uint32(x), uint32(y))
	s.mu.RUnlock()
	switch {
	case errors.Is(err, tiles.ErrUnknownLayer), errors.Is(err, tiles.ErrOutOfRange):
		jsonError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "tiles: "))
		return
	case err != nil:
		jsonError(w, http.StatusInternalServerError, forPeople(err))
		return
	}
	w.Header().Set("Content-Type", "application/vnd.mapbox-vector-tile")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

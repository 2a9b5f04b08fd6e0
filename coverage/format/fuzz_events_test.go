package format

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walkshed/walkshed/coverage"
)

// FuzzReadEvents: any bytes give events or one error naming the file (and
// a line of it); accepted events come from distinct data lines, in date
// order, and a plain rewrite of them reads back the same events.
func FuzzReadEvents(f *testing.F) {
	for _, s := range []string{
		"date,action,id,lon,lat,name\n2026-01-02,open,N1,121.47,31.23,New\n2026-01-03,close,S1,,,\n",
		"date,action,id\n2026-01-03,close,S1\n2026-01-01,close,S2\n",
		"date,action,id,lon,lat\nMarch,open,N1,121.47,31.23\n",
		"date,action,id,lon,lat\n2026-01-02,move,N1,121.47,31.23\n",
		"date,action,id,lat,lon\n2026-01-02,open,N1,121.47,31.23\n",
		"date,action,id,lon,lat\n2026-01-02,open,N1,,\n",
		"\"date\",action\n\"unterminated",
		"",
		"Date;Action;ID;x;y;stop_name;tier\n2026-02-01T08:00:00+08:00;Opened;\"a;b\";-0;-90;\"two\nlines\";2\n2026/01/31;closed; z ;0;0; ;\n",
		"\ufeffdate\taction\tid\tlon\tlat\n2026-01-02 10:11:12\topen\tA\t180\t1e-300\n2026-01-02T10:11:12\tclose\tA\t\t\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := fuzzInput(t, dir, ".csv", b)
		evs, _, err := ReadEvents(p)
		checkEventsRead(t, p, b, evs, err)
	})
}

// FuzzReadState: a damaged state file is refused with an error, never a
// panic; an accepted one keeps its own invariants and survives a round
// trip: written back by WriteState and read again, it is the same result
// (times, populations and positions bit for bit) and the same settings.
func FuzzReadState(f *testing.F) {
	f.Add([]byte(`{"format":"walkshed-state","version":1,"mode":"crow","res":9,"minutes":15,"speed_kmh":4,` +
		`"stations":[{"id":"A","lon":10.75,"lat":59.92}],"cells":{"h3":["89099938627ffff"],"population":[5],"minutes":[1.5],"station":[0]}}`))
	f.Add([]byte(`{"format":"walkshed-state","version":1,"mode":"crow","res":9,"minutes":15,"speed_kmh":4,` +
		`"stations":[],"cells":{"h3":["89099938627ffff"],"population":[5],"minutes":[null],"station":[3]}}`))
	f.Add([]byte(`{"format":"walkshed-state","version":1,"walkshed":"v2","created":"2025-03-01T08:30:00.25+08:00","mode":"network","res":9,` +
		`"minutes":14.999999999999998,"speed_kmh":4.123456789012345,"input_population":1234.5678901234567,` +
		`"network":{"path":"g.pbf","bytes":7,"mod_time":"x","max_snap_m":250,"min_component":100,"bound_minutes":22.5},` +
		`"stations":[{"id":"A","name":"Hall","tier":"1","lon":121.4737,"lat":31.2304},{"id":"B","lon":-0,"lat":-90}],` +
		`"cells":{"h3":["89309959d0bffff","89309959d0fffff","89309959d47ffff"],"population":[120,0.30000000000000004,-0],` +
		`"minutes":[12.345678901234567,null,14.999999999999998],"station":[0,-1,1],"in_reach":[1,0,2]},` +
		`"areas":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"W","parent":"P"},` +
		`"geometry":{"type":"Polygon","coordinates":[[[121.46,31.225],[121.473,31.225],[121.473,31.235],[121.46,31.235],[121.46,31.225]]]}},` +
		`{"type":"Feature","properties":{"name":""},"geometry":null}]}}`))
	f.Add([]byte(`{"format":"walkshed-state","version":1,"mode":"crow","res":7,"minutes":0.0001,"speed_kmh":1e6,"input_population":0,` +
		`"stations":null,"cells":{"h3":[],"population":[],"minutes":[],"station":[],"in_reach":[]}}`))
	f.Add([]byte(`{"format":"walkshed-state","version":2}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, StateFile), b, 0o644); err != nil {
			t.Skip()
		}
		r, s, err := ReadState(dir)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "format: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if len(r.Access) != len(r.Cells) {
			t.Fatal("access and cells differ in length")
		}
		for i, a := range r.Access {
			if a.Station >= int32(len(r.Stations)) || (a.Minutes.Reached() && a.Station < 0) || (!a.Minutes.Reached() && a != coverage.NoAccess) {
				t.Fatalf("cell %d names station %d of %d", i, a.Station, len(r.Stations))
			}
			if m := float64(a.Minutes); !(m >= 0) {
				t.Fatalf("cell %d: %v minutes", i, m)
			}
			if i > 0 && r.Cells[i].H3 <= r.Cells[i-1].H3 {
				t.Fatalf("cell %d out of H3 order", i)
			}
		}
		roundTrip(t, r, s)
	})
}

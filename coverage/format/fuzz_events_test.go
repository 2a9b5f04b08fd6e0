package format

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadEvents: any bytes give events or one error naming the file.
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
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "events.csv")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Skip()
		}
		evs, _, err := ReadEvents(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "format: "+p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for k, ev := range evs {
			if ev.Station.ID == "" || (ev.Action != 1 && ev.Action != 2) {
				t.Fatalf("event %d accepted with %+v", k, ev)
			}
			if k > 0 && ev.Date.Before(evs[k-1].Date) {
				t.Fatal("events not in date order")
			}
		}
	})
}

// FuzzReadState: a damaged state file is refused with an error, never a
// panic or a result that breaks its own invariants.
func FuzzReadState(f *testing.F) {
	f.Add([]byte(`{"format":"walkshed-state","version":1,"mode":"crow","res":9,"minutes":15,"speed_kmh":4,` +
		`"stations":[{"id":"A","lon":10.75,"lat":59.92}],"cells":{"h3":["89099938627ffff"],"population":[5],"minutes":[1.5],"station":[0]}}`))
	f.Add([]byte(`{"format":"walkshed-state","version":1,"mode":"crow","res":9,"minutes":15,"speed_kmh":4,` +
		`"stations":[],"cells":{"h3":["89099938627ffff"],"population":[5],"minutes":[null],"station":[3]}}`))
	f.Add([]byte(`{"format":"walkshed-state","version":2}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, StateFile), b, 0o644); err != nil {
			t.Skip()
		}
		r, _, err := ReadState(dir)
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
			if a.Station >= int32(len(r.Stations)) || (a.Minutes.Reached() && a.Station < 0) {
				t.Fatalf("cell %d names station %d of %d", i, a.Station, len(r.Stations))
			}
		}
	})
}

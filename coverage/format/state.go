package format

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/walkshed/walkshed/coverage"
)

// StateFile is the name of the file, written beside the other outputs, that
// holds everything `walkshed update` needs to continue from a result: the
// settings, the stations in order, every cell with its exact walking time and
// nearest station, the areas, and how the reach model was built. Times are
// stored at full precision (cells.csv rounds them), so an update equals a
// full recomputation to the last bit.
const StateFile = "walkshed-state.json"

// StateFormat names and versions the state file's layout.
const (
	StateFormat  = "walkshed-state"
	StateVersion = 1
)

// NetworkState records how a network reach model was built, so an update
// rebuilds the same graph (and refuses a changed file).
type NetworkState struct {
	Path         string  `json:"path"`
	Bytes        int64   `json:"bytes"`
	ModTime      string  `json:"mod_time"`
	MaxSnapM     float64 `json:"max_snap_m"`
	MinComponent int     `json:"min_component"`
	BoundMinutes float64 `json:"bound_minutes"`
}

// State is the content of the state file.
type State struct {
	Format          string          `json:"format"`
	Version         int             `json:"version"`
	Walkshed        string          `json:"walkshed"`
	Created         string          `json:"created"`
	Mode            string          `json:"mode"`
	Res             int             `json:"res"`
	Minutes         float64         `json:"minutes"`
	SpeedKmh        float64         `json:"speed_kmh"`
	Network         *NetworkState   `json:"network,omitempty"`
	InputPopulation float64         `json:"input_population"`
	Stations        []stateStation  `json:"stations"`
	Cells           stateCells      `json:"cells"`
	Areas           json.RawMessage `json:"areas,omitempty"`
}

type stateStation struct {
	ID   string  `json:"id"`
	Name string  `json:"name,omitempty"`
	Tier string  `json:"tier,omitempty"`
	Lon  float64 `json:"lon"`
	Lat  float64 `json:"lat"`
}

type stateCells struct {
	H3         []string   `json:"h3"`
	Population []float64  `json:"population"`
	Minutes    []*float64 `json:"minutes"` // null: no station within the bound
	Station    []int32    `json:"station"` // index into stations, -1 for none
	InReach    []int32    `json:"in_reach,omitempty"`
}

// WriteState writes the state of r. walkshed is the program's version;
// network is nil in straight-line mode.
func WriteState(w io.Writer, r *coverage.Result, walkshed string, network *NetworkState) error {
	s := State{
		Format: StateFormat, Version: StateVersion, Walkshed: walkshed,
		Created: r.Created.Format(time.RFC3339), Mode: r.Mode,
		Res: r.Settings.Res, Minutes: float64(r.Settings.Minutes), SpeedKmh: float64(r.Settings.SpeedKmh),
		Network: network, InputPopulation: r.InputPopulation,
	}
	for _, st := range r.Stations {
		s.Stations = append(s.Stations, stateStation{st.ID, st.Name, st.Tier, st.Pos[0], st.Pos[1]})
	}
	n := len(r.Cells)
	s.Cells = stateCells{H3: make([]string, n), Population: make([]float64, n), Minutes: make([]*float64, n), Station: make([]int32, n)}
	for i, c := range r.Cells {
		s.Cells.H3[i] = c.H3.String()
		s.Cells.Population[i] = c.Population
		if m := r.Access[i].Minutes; m.Reached() {
			v := float64(m)
			s.Cells.Minutes[i] = &v
		}
		s.Cells.Station[i] = r.Access[i].Station
	}
	s.Cells.InReach = r.InReach
	if areas := r.AreaInputs(); len(areas) > 0 {
		fc := geojson.NewFeatureCollection()
		for _, a := range areas {
			f := geojson.NewFeature(a.Geom)
			f.Properties["name"] = a.Name
			if a.Parent != "" {
				f.Properties["parent"] = a.Parent
			}
			fc.Append(f)
		}
		b, err := json.Marshal(fc)
		if err != nil {
			return err
		}
		s.Areas = b
	}
	enc := json.NewEncoder(w)
	return enc.Encode(s)
}

// ReadState reads a result back from the state file in dir. The gaps and
// area summaries are recomputed from the stored times (they derive from
// them alone).
func ReadState(dir string) (*coverage.Result, *State, error) {
	path := dir + string(os.PathSeparator) + StateFile
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, fmt.Errorf("format: %s is not a walkshed result: no %s in it", dir, StateFile)
		}
		return nil, nil, fmt.Errorf("format: %w", err)
	}
	defer f.Close()
	var s State
	if err := json.NewDecoder(f).Decode(&s); err != nil {
		return nil, nil, fmt.Errorf("format: %s: not a walkshed state file: %w", path, err)
	}
	if s.Format != StateFormat {
		return nil, nil, fmt.Errorf("format: %s: not a walkshed state file (format %q)", path, s.Format)
	}
	if s.Version != StateVersion {
		return nil, nil, fmt.Errorf("format: %s: state version %d, this walkshed reads version %d (rerun analyze)", path, s.Version, StateVersion)
	}
	set := coverage.Settings{Res: s.Res, Minutes: coverage.Minutes(s.Minutes), SpeedKmh: coverage.Speed(s.SpeedKmh)}
	if err := set.Validate(); err != nil {
		return nil, nil, fmt.Errorf("format: %s: %w", path, err)
	}
	n := len(s.Cells.H3)
	if len(s.Cells.Population) != n || len(s.Cells.Minutes) != n || len(s.Cells.Station) != n {
		return nil, nil, fmt.Errorf("format: %s: cell arrays of different lengths", path)
	}
	r := &coverage.Result{Settings: set, Mode: s.Mode, Bound: coverage.Unreached, InputPopulation: s.InputPopulation}
	if s.Network != nil {
		r.Bound = coverage.Minutes(s.Network.BoundMinutes)
	}
	if t, err := time.Parse(time.RFC3339, s.Created); err == nil {
		r.Created = t
	}
	for i, st := range s.Stations {
		p := orb.Point{st.Lon, st.Lat}
		if math.IsNaN(p[0]) || math.Abs(p[0]) > 180 || math.Abs(p[1]) > 90 {
			return nil, nil, fmt.Errorf("format: %s: station %d has an invalid position", path, i+1)
		}
		r.Stations = append(r.Stations, coverage.Station{ID: st.ID, Name: st.Name, Tier: st.Tier, Pos: p})
	}
	r.Cells = make([]coverage.Cell, n)
	r.Access = make([]coverage.Access, n)
	for i := range n {
		c, err := coverage.ParseCell(s.Cells.H3[i])
		if err != nil {
			return nil, nil, fmt.Errorf("format: %s: cell %d: %w", path, i+1, err)
		}
		if i > 0 && c <= r.Cells[i-1].H3 {
			return nil, nil, fmt.Errorf("format: %s: cells not in H3 order at cell %d", path, i+1)
		}
		if p := s.Cells.Population[i]; !(p >= 0) || math.IsInf(p, 0) {
			return nil, nil, fmt.Errorf("format: %s: cell %d: population %v", path, i+1, p)
		}
		r.Cells[i] = coverage.Cell{H3: c, Pos: coverage.CellCenter(c), Population: s.Cells.Population[i]}
		a := coverage.NoAccess
		if m := s.Cells.Minutes[i]; m != nil {
			if !(*m >= 0) || math.IsInf(*m, 0) {
				return nil, nil, fmt.Errorf("format: %s: cell %d: walking time %v minutes", path, i+1, *m)
			}
			a = coverage.Access{Minutes: coverage.Minutes(*m), Station: s.Cells.Station[i]}
		}
		if a.Station >= int32(len(r.Stations)) || (a.Minutes.Reached() && a.Station < 0) {
			return nil, nil, fmt.Errorf("format: %s: cell %d names station %d of %d", path, i+1, a.Station, len(r.Stations))
		}
		r.Access[i] = a
	}
	if s.Cells.InReach != nil {
		if len(s.Cells.InReach) != n {
			return nil, nil, fmt.Errorf("format: %s: in_reach has %d entries for %d cells", path, len(s.Cells.InReach), n)
		}
		r.InReach = s.Cells.InReach
	}
	var areas []coverage.Area
	if len(s.Areas) > 0 {
		fc, err := geojson.UnmarshalFeatureCollection(s.Areas)
		if err != nil {
			return nil, nil, fmt.Errorf("format: %s: areas: %w", path, err)
		}
		for i, f := range fc.Features {
			var mp orb.MultiPolygon
			switch g := f.Geometry.(type) {
			case orb.MultiPolygon:
				mp = g
			case orb.Polygon:
				mp = orb.MultiPolygon{g}
			}
			// WriteState writes names as strings. Anything else (a number,
			// a list) means the file was edited or damaged; it is refused
			// rather than taken as text, since a number's text need not be
			// what was typed (1e21 for 1000000000000000000000, 0.1 for 0.10)
			// and area names are matched as written.
			var names [2]string
			for k, key := range []string{"name", "parent"} {
				switch v := f.Properties[key].(type) {
				case string:
					names[k] = v
				case nil:
				default:
					area := fmt.Sprintf("area %d", i+1)
					if names[0] != "" {
						area += fmt.Sprintf(" (%q)", names[0])
					}
					return nil, nil, fmt.Errorf("format: %s: %s: %s %s is not text", path, area, key, jsonText(v))
				}
			}
			areas = append(areas, coverage.Area{Name: names[0], Parent: names[1], Geom: mp})
		}
	}
	r.Finish(areas)
	return r, &s, nil
}

// jsonText shows a decoded JSON value as it reads in the file.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

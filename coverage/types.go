package coverage

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// Station is a place people walk to. Stations keep their input order: among
// stations at exactly equal walking time, the one listed first is nearest.
type Station struct {
	ID   string
	Name string
	Tier string
	Pos  orb.Point
	// Capacity is the supply the station offers (places, staff, floor
	// area: one unit for all stations of a study); 0 when unknown. Loads
	// need it; accessibility counts an unknown capacity as 1.
	Capacity float64
}

// Cell is a demand cell: an H3 cell, its centre and the people living in it.
type Cell struct {
	H3         h3.Cell
	Pos        orb.Point // the H3 centre
	Population float64   // everyone: the sum of Layers when there are layers
	// Layers holds the people of each population layer of the study
	// (Study.Layers order); nil in a study of one population.
	Layers []float64
}

// Access is a cell's walking time to its nearest station.
type Access struct {
	Minutes Minutes // Unreached when no station is within the model's bound
	Station int32   // index of the nearest station, -1 when none
}

// NoAccess is the Access of a cell no station reaches.
var NoAccess = Access{Minutes: Unreached, Station: -1}

// Better reports whether reaching the cell in m minutes from station s beats
// a, with the house tie rule: equal times go to the lower station index.
func (a Access) Better(m Minutes, s int32) bool {
	if !m.Reached() {
		return false
	}
	return m < a.Minutes || (m == a.Minutes && (a.Station < 0 || s < a.Station))
}

// Settings are the knobs of a study.
type Settings struct {
	Res      int     // H3 resolution of demand cells, 7..12
	Minutes  Minutes // walking-time threshold: covered when minutes <= Minutes
	SpeedKmh Speed   // walking speed
}

// DefaultSettings are GB 50180-2018's 15-minute life circle: 1,000 m in 15
// minutes (4 km/h), on H3 resolution 9 cells.
var DefaultSettings = Settings{Res: 9, Minutes: 15, SpeedKmh: 4}

// Radius is the distance walked in the threshold time.
func (s Settings) Radius() Meters { return s.SpeedKmh.Distance(s.Minutes) }

// Validate checks the settings' ranges.
func (s Settings) Validate() error {
	switch {
	case s.Res < 7 || s.Res > 12:
		return fmt.Errorf("coverage: resolution %d outside 7..12", s.Res)
	case !(s.Minutes > 0) || !s.Minutes.Reached():
		return fmt.Errorf("coverage: minutes %v must be a positive number", float64(s.Minutes))
	case !(s.SpeedKmh > 0) || float64(s.SpeedKmh) > 1e6:
		return fmt.Errorf("coverage: speed %v km/h must be a positive number", float64(s.SpeedKmh))
	}
	return nil
}

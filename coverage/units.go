package coverage

import "math"

// Meters is a distance on the ground.
type Meters float64

// Minutes is a walking time.
type Minutes float64

// EarthRadius is the mean Earth radius used for every haversine distance.
const EarthRadius Meters = 6371008.8

// Unreached is the walking time of a cell that no station reaches within the
// reach model's bound.
var Unreached = Minutes(math.Inf(1))

// Reached reports whether m is a finite walking time.
func (m Minutes) Reached() bool { return !math.IsInf(float64(m), 1) && !math.IsNaN(float64(m)) }

// Speed is a walking speed in kilometres per hour.
type Speed float64

// MetersPerMinute converts the speed to metres walked per minute.
func (s Speed) MetersPerMinute() float64 { return float64(s) * 1000 / 60 }

// Walk is the time to walk d at speed s.
// It is computed as d·60/(km/h·1000) so that 1,000 m at 4 km/h is exactly
// 15 minutes: a cell on the threshold is covered, not lost to rounding.
func (s Speed) Walk(d Meters) Minutes { return Minutes(float64(d) * 60 / (float64(s) * 1000)) }

// Distance is the ground distance walked in m minutes at speed s.
func (s Speed) Distance(m Minutes) Meters { return Meters(float64(m) * float64(s) * 1000 / 60) }

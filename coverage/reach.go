package coverage

import (
	"context"

	"github.com/paulmach/orb"
)

// Reach is a walking model bound to a fixed set of demand cells. It answers
// the two questions the pipeline asks: how far is each cell from its nearest
// station (analysis, closing a station), and which cells can one new point
// reach (opening a station, proposing sites). Implementations are safe for
// concurrent use by several goroutines once built.
type Reach interface {
	// Mode names the model ("crow", "network") for summaries.
	Mode() string

	// Bound is the longest time the model reports. Times beyond it are
	// Unreached. The straight-line model has no bound (+Inf).
	Bound() Minutes

	// Nearest sets out[i] for every cell index i in cells (every cell when
	// cells is nil) to the walking time to the nearest of stations and that
	// station's index in stations. Equal times go to the lower index. out has
	// one entry per demand cell; entries not named in cells are left alone.
	Nearest(ctx context.Context, stations []orb.Point, cells []int32, out []Access) error

	// Within calls fn for every cell reachable from p in at most limit
	// minutes (limit <= Bound), with its walking time. The order of calls is
	// unspecified.
	Within(ctx context.Context, p orb.Point, limit Minutes, fn func(cell int32, m Minutes)) error
}

// Snapper is implemented by reach models that attach cells to a network: it
// gives the straight-line leg from a cell's centre to the network, and false
// when the cell is farther than the model's snapping limit.
type Snapper interface {
	CellSnap(cell int32) (Meters, bool)
}

// Describer is implemented by reach models with facts worth a summary (graph
// size, snapping statistics). Stats returns a JSON-ready object, written into
// summary.json under the model's Mode.
type Describer interface {
	Stats() map[string]any
}

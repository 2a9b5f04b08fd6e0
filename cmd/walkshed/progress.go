package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress draws a one-line progress bar on stderr when stderr is a
// terminal, and nothing otherwise or with --quiet.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	stage string
	last  time.Time
	drawn bool
	pct   int // last percentage drawn
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && !quiet {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

// update is a progress callback: stage name, units done and total (-1 when
// unknown). Redraws at most ten times a second.
func (p *progress) update(stage string, done, total int64) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	pct := -1
	if total > 0 {
		pct = int(100 * done / total)
	}
	// Redraw on a new stage, or at most ten times a second when the
	// figure moved.
	if stage == p.stage && (pct == p.pct || now.Sub(p.last) < 100*time.Millisecond && pct != 100) {
		return
	}
	p.stage, p.last, p.drawn, p.pct = stage, now, true, pct
	if total > 0 {
		frac := float64(done) / float64(total)
		if frac > 1 {
			frac = 1
		}
		const width = 30
		n := int(frac * width)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < n {
				bar[i] = '#'
			}
		}
		fmt.Fprintf(p.w, "\r%-12s [%s] %3.0f%%  ", stage, bar, 100*frac)
	} else {
		fmt.Fprintf(p.w, "\r%-12s %d  ", stage, done)
	}
}

// count adapts the bar to callbacks that report ints.
func (p *progress) count(stage string) func(done, total int) {
	return func(done, total int) { p.update(stage, int64(done), int64(total)) }
}

// done clears the bar's line.
func (p *progress) done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintf(p.w, "\r%60s\r", "")
		p.drawn = false
	}
}

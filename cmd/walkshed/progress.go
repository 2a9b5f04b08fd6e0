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
	pct   int       // last percentage drawn; -2 while a step without counts is drawn
	log   io.Writer // where -v logs each step's time, nil without -v
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
	if total == -2 { // a step starting: its name, then its seconds (see step)
		p.stage, p.last, p.drawn, p.pct = stage, now, true, -2
		fmt.Fprintf(p.w, "\r%-24s        ", stage)
		return
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

// logTo makes every step log its time to w when verbose (-v).
func (p *progress) logTo(verbose bool, w io.Writer) {
	if verbose {
		p.log = w
	}
}

// step starts a named step of the command: on a terminal its name and the
// seconds spent are redrawn twice a second until the returned function
// ends it; with -v its time is logged when it ends. Steps that report
// counts through update draw a bar instead, in the same line.
func (p *progress) step(name string) (end func()) {
	if p == nil {
		return func() {}
	}
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if p.on {
		p.update(name, 0, -2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					p.mu.Lock()
					if p.stage == name && p.pct == -2 {
						fmt.Fprintf(p.w, "\r%-24s %5.1f s  ", name, time.Since(start).Seconds())
						p.drawn = true
					}
					p.mu.Unlock()
				}
			}
		}()
	}
	return func() {
		close(stop)
		wg.Wait()
		p.done()
		if p.log != nil {
			fmt.Fprintf(p.log, "%-24s %.3f s\n", name, time.Since(start).Seconds())
		}
	}
}

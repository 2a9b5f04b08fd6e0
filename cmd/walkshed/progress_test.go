package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A step on a terminal shows its name at once and its seconds while it
// runs, and clears its line when it ends; with -v its time is logged.
func TestProgressStep(t *testing.T) {
	var screen, log bytes.Buffer
	p := &progress{w: &screen, on: true}
	p.logTo(true, &log)
	end := p.step("reading population")
	time.Sleep(1200 * time.Millisecond)
	end()
	s := screen.String()
	if !strings.HasPrefix(s, "\rreading population") || !regexp.MustCompile(`reading population +[01]\.\d s`).MatchString(s) || !strings.HasSuffix(s, "\r") {
		t.Errorf("terminal showed %q", s)
	}
	if !regexp.MustCompile(`^reading population +1\.\d{3} s\n$`).MatchString(log.String()) {
		t.Errorf("-v logged %q", log.String())
	}
	// Off a terminal and without -v: nothing at all.
	var quiet bytes.Buffer
	q := &progress{w: &quiet}
	q.step("x")()
	if quiet.Len() != 0 {
		t.Errorf("printed %q off a terminal", quiet.String())
	}
}

// -v logs every step of a command with its time.
func TestVerboseLogsSteps(t *testing.T) {
	code, _, stderr := walkshed(t, "analyze", "--stations", small("stations.csv"), "--population", small("population.csv"), "--areas", small("areas.geojson"),
		"--format", "csv", "--out", t.TempDir(), "-v")
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, step := range []string{"reading stations", "reading population", "aggregating into H3", "reading areas", "walking times and gaps", "writing the outputs"} {
		if !regexp.MustCompile(`(?m)^` + step + ` +\d+\.\d{3} s$`).MatchString(stderr) {
			t.Errorf("-v does not log %q:\n%s", step, stderr)
		}
	}
}

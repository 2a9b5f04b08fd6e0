package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/walkshed/walkshed/coverage/testenv"
)

// readmeBlock is a fenced block of README.md: its info string and lines.
type readmeBlock struct {
	lang    string
	lines   []string
	line    int
	heading string // the section it stands in
}

func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	sc := bufio.NewScanner(f)
	n := 0
	heading := ""
	for sc.Scan() {
		n++
		l := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(l, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(l, "#"))
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &readmeBlock{lang: strings.TrimSpace(strings.TrimPrefix(l, "```")), line: n, heading: heading}
		case cur != nil && strings.TrimSpace(l) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	return blocks
}

// timing matches the parts of an output line that change from run to run.
var timing = regexp.MustCompile(`\d+(\.\d+)?(ms|s)\b|wrote |demo study `)

// TestREADMECommands follows README.md as a new user would: in a fresh
// clone, with ../shared beside it, it runs every `sh` block in order in one
// shell, and checks that every line of the output shown after a block (but
// for "..." and timings) is printed by that block. The clone holds what is
// committed: commit a README change before running this test on it.
func TestREADMECommands(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the README walk-through in -short mode")
	}
	shared := filepath.Dir(testenv.SharedData(t)) // ../shared
	root := testenv.ModuleRoot(t)
	base := t.TempDir()
	clone := filepath.Join(base, "walkshed")
	if out, err := exec.Command("git", "clone", "-q", root, clone).CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("cannot clone %s: %v %s", root, err, out))
	}
	if err := os.Symlink(shared, filepath.Join(base, "shared")); err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, filepath.Join(clone, "README.md"))
	var script strings.Builder
	script.WriteString("set -eu\n")
	var runs []int // index in blocks of each sh block
	for i, b := range blocks {
		if b.lang != "sh" {
			continue
		}
		fmt.Fprintf(&script, "echo '@@block %d@@'\n", len(runs))
		script.WriteString(strings.Join(b.lines, "\n") + "\n")
		runs = append(runs, i)
	}
	if len(runs) < 4 {
		t.Fatalf("README.md has %d sh blocks; the walk-through expects the build, the examples, the demo and the update", len(runs))
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = clone
	cmd.Env = append(os.Environ(), "PATH="+clone+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, out)
	}
	parts := regexp.MustCompile(`(?m)^@@block (\d+)@@\n`).Split(string(out), -1)[1:]
	for k, i := range runs {
		// The output shown right after the block, if any.
		if i+1 >= len(blocks) || blocks[i+1].lang != "" {
			continue
		}
		got := parts[k]
		for _, want := range blocks[i+1].lines {
			w := strings.TrimSpace(want)
			if w == "" || w == "..." || timing.MatchString(w) {
				continue
			}
			if !strings.Contains(got, want) {
				t.Errorf("README.md line %d: the command prints no line %q; it printed:\n%s", blocks[i+1].line, want, got)
			}
		}
	}
	for _, f := range []string{"poa/summary.json", "poa-plan/proposal.json", "walkshed-demo/propose/walkshed.gpkg", "walkshed-demo/analyze/timeline.csv"} {
		if _, err := os.Stat(filepath.Join(clone, f)); err != nil {
			t.Errorf("the README's commands did not write %s", f)
		}
	}

	// The first of "the two commands" works as written in a fresh clone,
	// before anything is built.
	first := ""
	for _, b := range blocks {
		if b.heading == "The two commands" && len(b.lines) > 0 {
			first = strings.TrimSpace(strings.SplitN(b.lines[0], "#", 2)[0])
			break
		}
	}
	if !strings.HasPrefix(first, "go run ") {
		t.Fatalf("the README's first command %q does not build what it runs", first)
	}
	fresh := filepath.Join(base, "fresh")
	if out, err := exec.Command("git", "clone", "-q", root, fresh).CombinedOutput(); err != nil {
		t.Fatalf("cannot clone %s: %v %s", root, err, out)
	}
	demo := exec.Command("bash", "-c", first)
	demo.Dir = fresh
	if out, err := demo.CombinedOutput(); err != nil || !strings.Contains(string(out), "demo done") {
		t.Fatalf("%q in a fresh clone: %v\n%s", first, err, out)
	}
}

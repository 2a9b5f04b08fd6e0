// Command walkshed tells who lives outside a walk of every service station,
// where the next stations should go, and how good that plan provably is.
//
// Subcommands: analyze, propose, update, serve, demo, synth, version. The command
// parses flags, wires the coverage library, and owns printing and progress
// bars; everything else lives in coverage/.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"analyze", "walking-time coverage, gaps and area summaries", runAnalyze},
		{"propose", "new station sites with a certified bound", runPropose},
		{"update", "apply station openings and closings to a result", runUpdate},
		{"serve", "a what-if map in the browser: open and close stations", runServe},
		{"demo", "run the demo study shipped in data/", runDemo},
		{"synth", "write a synthetic Shanghai-scale study", runSynth},
		{"version", "print the version", func(_ []string, stdout, _ io.Writer) error { fmt.Fprintln(stdout, "walkshed", version); return nil }},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		args[0] = "version"
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			}
			var ue usageError
			if errors.As(err, &ue) {
				fmt.Fprintf(stderr, "walkshed %s: %s\n(run 'walkshed %s -h' for the flags)\n", c.name, forPeople(err), c.name)
				return 2
			}
			fmt.Fprintf(stderr, "walkshed %s: %s\n", c.name, forPeople(err))
			return 1
		}
	}
	fmt.Fprintf(stderr, "walkshed: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// packagePrefix matches the package names the library starts its errors
// with ("format: ", "walknet: "), at the start or after another message.
var packagePrefix = regexp.MustCompile(`(^|: )(coverage|format|gpkg|geotiff|walknet|site|crs|synth): `)

// forPeople is an error's message as the command prints it: on one line,
// without the library's package names, which say nothing to a planner.
func forPeople(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	for {
		next := packagePrefix.ReplaceAllString(msg, "$1")
		if next == msg {
			return msg
		}
		msg = next
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: walkshed COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nrun 'walkshed COMMAND -h' for a command's flags.")
}

// newFlags makes a flag set whose errors become usage errors.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("walkshed "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, turning flag errors and stray arguments into usage
// errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", strings.Join(fs.Args(), " "))
	}
	return nil
}

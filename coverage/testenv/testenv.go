package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CI reports whether the tests run under continuous integration: the
// environment variable CI holds a truthy value (true, 1, yes or on, in any
// case), as the CI services that set it write it.
func CI() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("CI"))) {
	case "1", "t", "true", "y", "yes", "on":
		return true
	}
	return false
}

// Missing skips the test with msg, or fails it under CI, where everything a
// test needs but ../shared/data is installed.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s (a missing tool fails the test under CI)", msg)
	}
	t.Skip("skipping: " + msg)
}

// GIS is the Debian install line for the GDAL, PROJ and QGIS checkers.
const GIS = "apt-get install gdal-bin python3-gdal proj-bin qgis qgis-providers python3-qgis"

// ModuleRoot walks up from the test's directory to the folder with go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("testenv: no go.mod above the test's directory")
		}
		dir = up
	}
}

// SharedData returns ../shared/data/<parts...> beside the module root, and
// skips the test when it is absent.
func SharedData(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{ModuleRoot(t), "..", "shared", "data"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: real test data %s is absent (it lives in ../shared/data beside the project)", p)
	}
	return p
}

// SharedTool returns the absolute path of ../shared/tools/<name>. When it
// is absent the test skips, or fails under CI, which always has the
// checkers beside the clone.
func SharedTool(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(ModuleRoot(t), "..", "shared", "tools", name)
	if _, err := os.Stat(p); err != nil {
		Missing(t, "checker "+p+" is absent (it lives in ../shared/tools beside the project)")
	}
	return p
}

// Need skips the test (or fails it under CI) when check reports that a
// tool is missing; what names the tool, install how to get it.
func Need(t testing.TB, what, install string, check func() error) {
	t.Helper()
	if err := check(); err != nil {
		Missing(t, what+" not available ("+err.Error()+"); install with: "+install)
	}
}

// Command is Need for a program: an absolute path that must exist, or a
// name looked up on PATH. It returns the program's path.
func Command(t testing.TB, name, install string) string {
	t.Helper()
	path := name
	Need(t, name, install, func() error {
		if filepath.IsAbs(name) {
			_, err := os.Stat(name)
			return err
		}
		p, err := exec.LookPath(name)
		path = p
		return err
	})
	return path
}

// Python is Need for modules importable by Debian's /usr/bin/python3.
func Python(t testing.TB, install string, modules ...string) {
	t.Helper()
	Command(t, "/usr/bin/python3", install)
	for _, m := range modules {
		Need(t, "python module "+m, install, func() error {
			return exec.Command("/usr/bin/python3", "-c", "import "+m).Run()
		})
	}
}

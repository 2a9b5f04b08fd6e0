package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/walkshed/walkshed/coverage/testenv"
)

// notebookPackages are the Debian packages the notebooks need.
const notebookPackages = "jupyter python3-nbconvert python3-ipykernel python3-geopandas python3-matplotlib python3-folium"

// TestNotebooks executes each notebook headlessly; a notebook fails on any
// cell error, including its own assertions about the results. Without the
// Python packages it skips, except under CI=true, where it fails.
func TestNotebooks(t *testing.T) {
	if testing.Short() {
		t.Skip("notebooks take a minute; skipped in -short mode")
	}
	const python = "/usr/bin/python3"
	check := exec.Command(python, "-c", "import nbconvert, ipykernel, geopandas, matplotlib, folium, pandas")
	if out, err := check.CombinedOutput(); err != nil {
		msg := "notebooks need " + python + " with nbconvert, ipykernel, geopandas, matplotlib, folium: apt-get install " + notebookPackages + "\n" + string(out)
		testenv.Missing(t, msg)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "walkshed")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	runner := filepath.Join(root, "..", "shared", "tools", "run_notebook.sh")
	for _, nb := range []string{"01-gap-analysis", "02-new-sites", "03-after-openings"} {
		t.Run(nb, func(t *testing.T) {
			src := filepath.Join(root, "notebooks", nb+".ipynb")
			dst := filepath.Join(t.TempDir(), nb+".out.ipynb")
			var cmd *exec.Cmd
			if _, err := os.Stat(runner); err == nil {
				cmd = exec.Command("sh", runner, src, dst)
			} else {
				cmd = exec.Command(python, "-m", "nbconvert", "--to", "notebook", "--execute",
					"--ExecutePreprocessor.timeout=600", "--output", dst, src)
			}
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "WALKSHED_BIN="+bin, "WALKSHED_ROOT="+root, "WALKSHED_NB_OUT="+t.TempDir(),
				"PYDEVD_DISABLE_FILE_VALIDATION=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", nb, err, out)
			}
			if _, err := os.Stat(dst); err != nil {
				t.Errorf("no executed notebook: %v", err)
			}
		})
	}
}

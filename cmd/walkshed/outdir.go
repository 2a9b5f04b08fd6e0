package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/walkshed/walkshed/coverage/format"
)

// A run owns its output folder: it writes manifest.json (the command, the
// version, the inputs with their sizes and hashes, the settings, the files
// written) and, in the same atomic step as its outputs take their places,
// removes the walkshed outputs of an earlier run that it did not write
// again, so that a folder never holds two answers. Only files that an
// earlier manifest lists (or, for a folder written before manifests, the
// fixed names walkshed wrote beside walkshed-state.json) are removed;
// anything else in the folder is left alone, and so is any input of the
// run that happens to lie there.

// manifestName is the file every run writes into its output folder.
const manifestName = "manifest.json"

// legacyOutputs are the files walkshed wrote before it kept a manifest.
var legacyOutputs = []string{
	"summary.json", "cells.csv", "areas.csv", "cells.geojson", "gaps.geojson", "walkshed.gpkg",
	format.StateFile, "sites.csv", "curve.csv", "proposal.json", "sites.geojson", "timeline.csv", "changes.csv",
}

// manifest is the content of manifest.json.
type manifest struct {
	Format   string          `json:"format"`
	Version  int             `json:"version"`
	Walkshed string          `json:"walkshed"`
	Command  string          `json:"command"`
	Created  string          `json:"created"`
	Inputs   []manifestInput `json:"inputs"`
	Settings map[string]any  `json:"settings"`
	Files    []manifestFile  `json:"files"`
}

type manifestInput struct {
	Role   string `json:"role"`
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

type manifestFile struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

// newManifest starts the manifest of `walkshed command args…`.
func newManifest(command string, args []string) *manifest {
	quoted := []string{"walkshed", command}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted = append(quoted, a)
	}
	return &manifest{
		Format: "walkshed-manifest", Version: 1, Walkshed: version,
		Command: strings.Join(quoted, " "), Settings: map[string]any{},
	}
}

// input records an input file (no-op for an empty path).
func (m *manifest) input(role, path string) {
	if m == nil || path == "" {
		return
	}
	m.Inputs = append(m.Inputs, manifestInput{Role: role, Path: path})
}

// set records a setting.
func (m *manifest) set(key string, value any) {
	if m != nil {
		m.Settings[key] = value
	}
}

// hashInputs fills in the inputs' sizes and SHA-256 hashes.
func (m *manifest) hashInputs() error {
	for i := range m.Inputs {
		in := &m.Inputs[i]
		sum, n, err := fileSHA256(in.Path)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
		in.SHA256, in.Bytes = sum, n
		if abs, err := filepath.Abs(in.Path); err == nil {
			in.Path = abs
		}
	}
	return nil
}

// checkOut makes sure the output folder can take the outputs before any
// computation: it is created when missing, and refused when it is a file or
// not writable.
func checkOut(flag, dir string) error {
	if dir == "" {
		return usagef("%s is required", flag)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return usagef("%s %s is a file, not a folder", flag, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s %s: cannot create the folder: %w", flag, dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".walkshed-probe-*")
	if err != nil {
		return fmt.Errorf("%s %s: cannot write into the folder: %w", flag, dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// unwrapPath drops the path an *os.PathError repeats, keeping its reason.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// previousOutputs lists the files of dir that an earlier walkshed run
// wrote: those its manifest names, or for a folder from before manifests
// (recognised by walkshed-state.json), the fixed names of its outputs.
func previousOutputs(dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err == nil {
		var m manifest
		if json.Unmarshal(b, &m) == nil && m.Format == "walkshed-manifest" {
			var names []string
			for _, f := range m.Files {
				// Names only, never a path out of the folder.
				if f.Name != "" && f.Name == filepath.Base(f.Name) && f.Name != "." && f.Name != ".." {
					names = append(names, f.Name)
				}
			}
			return names
		}
	}
	if _, err := os.Stat(filepath.Join(dir, format.StateFile)); err == nil {
		return legacyOutputs
	}
	return nil
}

// commitOutputs finishes a run's batch: the earlier run's outputs that this
// run did not write are scheduled for removal (never an input of this run,
// nor a file in also, which the run wrote in place itself), the manifest is
// added, and the batch is committed.
func commitOutputs(b *format.Batch, m *manifest, also ...string) error {
	if err := m.hashInputs(); err != nil {
		return err
	}
	m.Created = time.Now().UTC().Format(time.RFC3339)
	dir := b.Dir()
	written := []string{manifestName}
	m.Files = nil
	for _, p := range b.Prepared() {
		written = append(written, p.Name)
		fi, err := os.Stat(p.Temp)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, manifestFile{Name: p.Name, Bytes: fi.Size()})
	}
	for _, name := range also {
		if slices.Contains(written, name) {
			continue // prepared in the batch after all
		}
		written = append(written, name)
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		m.Files = append(m.Files, manifestFile{Name: name, Bytes: fi.Size()})
	}
	inputs := map[string]bool{}
	for _, in := range m.Inputs {
		inputs[in.Path] = true
	}
	for _, name := range previousOutputs(dir) {
		abs, err := filepath.Abs(filepath.Join(dir, name))
		if err != nil || inputs[abs] || slices.Contains(written, name) {
			continue
		}
		b.Remove(name)
	}
	slices.SortFunc(m.Files, func(a, b manifestFile) int { return strings.Compare(a.Name, b.Name) })
	if err := b.Add(manifestName, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}); err != nil {
		return err
	}
	return b.Commit()
}

// hashed remembers the files hashed in this process (a street file is
// hashed for the store and again for the manifest), by path, size and
// modification time.
var hashed sync.Map

type hashKey struct {
	path  string
	size  int64
	mtime time.Time
}

// fileSHA256 returns the hex SHA-256 of a file's content and its size.
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	abs, _ := filepath.Abs(path)
	key := hashKey{abs, fi.Size(), fi.ModTime()}
	if sum, ok := hashed.Load(key); ok {
		return sum.(string), fi.Size(), nil
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	hashed.Store(key, sum)
	return sum, n, nil
}

package format

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func readAll(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestBatchCommitReplacesAll(t *testing.T) {
	dir := t.TempDir()
	for _, gen := range []string{"old", "new"} {
		b, err := NewBatch(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"a.csv", "b.json", "c.gpkg"} {
			if err := b.Add(n, writeString(gen+" "+n)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	got := readAll(t, dir)
	if len(got) != 3 || got["a.csv"] != "new a.csv" || got["c.gpkg"] != "new c.gpkg" {
		t.Fatalf("folder after two commits: %v", got)
	}
}

func TestBatchFailureLeavesPreviousOutputs(t *testing.T) {
	dir := t.TempDir()
	b, _ := NewBatch(dir)
	for _, n := range []string{"a.csv", "b.json", "c.gpkg"} {
		if err := b.Add(n, writeString("old "+n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, dir)

	// A writer failing halfway through preparing.
	b, _ = NewBatch(dir)
	if err := b.Add("a.csv", writeString("new a")); err != nil {
		t.Fatal(err)
	}
	err := b.Add("b.json", func(w io.Writer) error {
		io.WriteString(w, "half of it")
		return errors.New("disk on fire")
	})
	if err == nil || !strings.Contains(err.Error(), "b.json") {
		t.Fatalf("error %v should name the file", err)
	}
	b.Abort()
	if got := readAll(t, dir); len(got) != len(want) || got["a.csv"] != want["a.csv"] || got["b.json"] != want["b.json"] {
		t.Fatalf("after a failed prepare: %v", got)
	}

	// A rename failing midway through the commit: the first file is
	// already in place and must be rolled back.
	b, _ = NewBatch(dir)
	for _, n := range []string{"a.csv", "b.json", "c.gpkg"} {
		if err := b.Add(n, writeString("new "+n)); err != nil {
			t.Fatal(err)
		}
	}
	defer func(h func(string) error) { commitHook = h }(commitHook)
	commitHook = func(final string) error {
		if strings.HasSuffix(final, "c.gpkg") {
			return errors.New("interrupted")
		}
		return nil
	}
	if err := b.Commit(); err == nil {
		t.Fatal("commit should fail")
	}
	if got := readAll(t, dir); len(got) != len(want) || got["a.csv"] != want["a.csv"] || got["b.json"] != want["b.json"] || got["c.gpkg"] != want["c.gpkg"] {
		t.Fatalf("after a failed commit the folder holds %v, want %v", got, want)
	}
}

// Files scheduled for removal go in the same step as the new files come:
// gone after a commit, back after a failed one; a user's file the batch
// was not told about is never touched.
func TestBatchRemove(t *testing.T) {
	dir := t.TempDir()
	b, _ := NewBatch(dir)
	for _, n := range []string{"a.csv", "stale.geojson", "keep.txt"} {
		if err := b.Add(n, writeString("old "+n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	defer func(h func(string) error) { commitHook = h }(commitHook)
	for _, fail := range []bool{true, false} {
		b, _ = NewBatch(dir)
		if err := b.Add("a.csv", writeString("new a.csv")); err != nil {
			t.Fatal(err)
		}
		b.Remove("stale.geojson")
		b.Remove("a.csv")        // prepared too: replaced, not removed
		b.Remove("missing.json") // absent: nothing to do
		if got := b.Prepared(); len(got) != 1 || got[0].Name != "a.csv" || !strings.Contains(got[0].Temp, ".a.csv.tmp-") {
			t.Fatalf("prepared %+v", got)
		}
		commitHook = func(string) error {
			if fail {
				return errors.New("interrupted")
			}
			return nil
		}
		err := b.Commit()
		got := readAll(t, dir)
		if fail {
			want := map[string]string{"a.csv": "old a.csv", "stale.geojson": "old stale.geojson", "keep.txt": "old keep.txt"}
			if err == nil || len(got) != 3 || got["a.csv"] != want["a.csv"] || got["stale.geojson"] != want["stale.geojson"] || got["keep.txt"] != want["keep.txt"] {
				t.Fatalf("after a failed commit (%v): %v, want %v", err, got, want)
			}
			continue
		}
		if err != nil || len(got) != 2 || got["a.csv"] != "new a.csv" || got["keep.txt"] != "old keep.txt" {
			t.Fatalf("after the commit (%v): %v", err, got)
		}
	}
}

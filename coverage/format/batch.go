package format

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Batch prepares several output files in one folder as temporary files and
// renames them into place together on Commit. Until Commit, the previous
// outputs stay untouched; Abort removes what was prepared.
type Batch struct {
	dir     string
	pending [][2]string // temporary path, final path
}

// NewBatch starts a batch of outputs in dir, creating dir if needed.
func NewBatch(dir string) (*Batch, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("format: output folder: %w", err)
	}
	return &Batch{dir: dir}, nil
}

// Dir is the batch's output folder.
func (b *Batch) Dir() string { return b.dir }

// Add prepares file name through write.
func (b *Batch) Add(name string, write func(w io.Writer) error) error {
	return b.AddPath(name, func(tmp string) error {
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 1<<16)
		if err := write(bw); err != nil {
			f.Close()
			return err
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}

// AddPath prepares file name by letting write fill a temporary path (for
// writers that open files themselves, such as SQLite).
func (b *Batch) AddPath(name string, write func(tmpPath string) error) error {
	final := filepath.Join(b.dir, name)
	f, err := os.CreateTemp(b.dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("format: %w", err)
	}
	tmp := f.Name()
	f.Close()
	if err := write(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("format: writing %s: %w", final, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("format: %w", err)
	}
	b.pending = append(b.pending, [2]string{tmp, final})
	return nil
}

// Commit renames every prepared file into place.
func (b *Batch) Commit() error {
	err := CommitFiles(b.pending)
	if err != nil {
		b.Abort()
	}
	b.pending = nil
	return err
}

// Abort removes every prepared temporary file.
func (b *Batch) Abort() {
	var errs []error
	for _, p := range b.pending {
		if err := os.Remove(p[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	b.pending = nil
	_ = errs
}

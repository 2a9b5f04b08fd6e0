package format

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Batch prepares several output files in one folder as temporary files and
// renames them into place together on Commit. Until Commit, the previous
// outputs stay untouched; Abort removes what was prepared. Add and AddPath
// may be called from several goroutines at once (files are written in
// parallel); Commit and Abort are called once they have all returned.
type Batch struct {
	dir     string
	mu      sync.Mutex
	pending [][2]string // temporary path, final path
	remove  []string    // files of the folder to remove on Commit
}

// Prepared is a file prepared in a batch, not yet in place.
type Prepared struct {
	Name string // its name in the folder
	Temp string // the temporary file holding it until Commit
}

// Prepared lists the files prepared so far, in order.
func (b *Batch) Prepared() []Prepared {
	out := make([]Prepared, len(b.pending))
	for i, p := range b.pending {
		out[i] = Prepared{Name: filepath.Base(p[1]), Temp: p[0]}
	}
	return out
}

// Remove schedules file name of the folder for removal on Commit, in the
// same step as the new files take their places: a failed commit puts it
// back. A name that is also prepared, or that does not exist, is ignored.
func (b *Batch) Remove(name string) {
	b.remove = append(b.remove, filepath.Join(b.dir, name))
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
	b.mu.Lock()
	b.pending = append(b.pending, [2]string{tmp, final})
	b.mu.Unlock()
	return nil
}

// Commit renames every prepared file into place. The previous outputs are
// first moved aside; if any rename fails, those already renamed are put back,
// so the folder holds either all the new outputs or all the old ones.
func (b *Batch) Commit() error {
	type moved struct{ final, backup string }
	var backups []moved
	var done []string
	rollback := func() {
		for i := len(done) - 1; i >= 0; i-- {
			os.Remove(done[i])
		}
		for i := len(backups) - 1; i >= 0; i-- {
			os.Rename(backups[i].backup, backups[i].final)
		}
	}
	for _, p := range b.pending {
		if _, err := os.Lstat(p[1]); err == nil {
			bak := p[0] + ".previous"
			if err := os.Rename(p[1], bak); err != nil {
				rollback()
				b.Abort()
				return fmt.Errorf("format: %w", err)
			}
			backups = append(backups, moved{p[1], bak})
		}
	}
	// Files to remove are moved aside with the replaced ones, and deleted
	// with them once every new file is in place.
	for k, final := range b.remove {
		if b.isPending(final) {
			continue
		}
		if _, err := os.Lstat(final); err != nil {
			continue
		}
		bak := filepath.Join(b.dir, fmt.Sprintf(".%s.removed-%d", filepath.Base(final), k))
		if err := os.Rename(final, bak); err != nil {
			rollback()
			b.Abort()
			return fmt.Errorf("format: %w", err)
		}
		backups = append(backups, moved{final, bak})
	}
	for _, p := range b.pending {
		if err := commitHook(p[1]); err != nil {
			rollback()
			b.Abort()
			return fmt.Errorf("format: %w", err)
		}
		if err := os.Rename(p[0], p[1]); err != nil {
			rollback()
			b.Abort()
			return fmt.Errorf("format: %w", err)
		}
		done = append(done, p[1])
	}
	for _, m := range backups {
		os.RemoveAll(m.backup)
	}
	b.pending, b.remove = nil, nil
	return nil
}

func (b *Batch) isPending(final string) bool {
	for _, p := range b.pending {
		if p[1] == final {
			return true
		}
	}
	return false
}

// commitHook lets tests fail a commit midway.
var commitHook = func(final string) error { return nil }

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

package main

import (
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// GeoPackages and GeoTIFFs are read from a file on disk (SQLite and the
// TIFF reader seek), so a zipped or gzipped one is unpacked to a temporary
// folder first; CSV and GeoJSON are unpacked in memory by the readers.

// binaryExts are the kinds unpacked to disk.
var binaryExts = []string{".gpkg", ".tif", ".tiff"}

func isBinary(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range binaryExts {
		if ext == e {
			return true
		}
	}
	return false
}

// unpackBinary returns the path to read for path: path itself, or, for a
// .zip holding one GeoPackage or GeoTIFF (and nothing a text reader could
// take instead) or a .gpkg.gz/.tif.gz, that file unpacked into a temporary
// folder, with the name to give it in messages ("archive.zip/x.gpkg") and
// a function that removes it.
func unpackBinary(path string) (file, shown string, cleanup func(), err error) {
	cleanup = func() {}
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".gz") && isBinary(strings.TrimSuffix(lower, ".gz")):
		f, err := os.Open(path)
		if err != nil {
			return "", "", cleanup, err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return "", "", cleanup, fmt.Errorf("%s: not a gzip file: %w", path, err)
		}
		return extract(zr, path, filepath.Base(strings.TrimSuffix(path, filepath.Ext(path))), -1)
	case strings.HasSuffix(lower, ".zip"):
		zr, err := zip.OpenReader(path)
		if err != nil {
			return path, path, cleanup, nil // the text reader says what is wrong
		}
		defer zr.Close()
		var bin []*zip.File
		text := false
		for _, m := range zr.File {
			base := filepath.Base(m.Name)
			if m.FileInfo().IsDir() || strings.HasPrefix(m.Name, "__MACOSX/") || strings.HasPrefix(base, ".") {
				continue
			}
			if isBinary(base) {
				bin = append(bin, m)
			} else if ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(base, ".gz"))); ext == ".csv" || ext == ".geojson" || ext == ".json" || ext == ".tsv" || ext == ".txt" {
				text = true
			}
		}
		if len(bin) == 0 || text {
			return path, path, cleanup, nil // a CSV or GeoJSON archive: the text reader takes it
		}
		if len(bin) > 1 {
			var names []string
			for _, m := range bin {
				names = append(names, m.Name)
			}
			return "", "", cleanup, fmt.Errorf("%s: the zip archive holds %d GeoPackages or GeoTIFFs (%s); unzip it and give the one to read", path, len(bin), strings.Join(names, ", "))
		}
		r, err := bin[0].Open()
		if err != nil {
			return "", "", cleanup, fmt.Errorf("%s/%s: %w", path, bin[0].Name, err)
		}
		defer r.Close()
		return extract(r, path+"/"+bin[0].Name, filepath.Base(bin[0].Name), int64(bin[0].UncompressedSize64))
	}
	return path, path, cleanup, nil
}

// extract copies r into a new temporary folder as name; size, when known,
// is what the archive says the file holds, and a file that grows past it is
// refused (a forged size would otherwise fill the disk).
func extract(r io.Reader, shown, name string, size int64) (string, string, func(), error) {
	dir, err := os.MkdirTemp("", "walkshed-unpacked-*")
	if err != nil {
		return "", "", func() {}, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	out := filepath.Join(dir, name)
	f, err := os.Create(out)
	if err != nil {
		cleanup()
		return "", "", func() {}, err
	}
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size+1)
	}
	n, err := io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("the archive says %d bytes, it holds %d", size, n)
	}
	if err != nil {
		cleanup()
		return "", "", func() {}, fmt.Errorf("%s: %w", shown, err)
	}
	return out, shown, cleanup, nil
}

// renamed is an error whose message names the archive member instead of
// the temporary file it was unpacked to.
type renamed struct {
	err      error
	tmp, how string
}

func (e renamed) Error() string { return strings.ReplaceAll(e.err.Error(), e.tmp, e.how) }
func (e renamed) Unwrap() error { return e.err }

// unpacked runs read on the file to read for path (see unpackBinary).
func unpacked[T any](path string, read func(file string) (T, error)) (T, error) {
	var zero T
	file, shown, cleanup, err := unpackBinary(path)
	if err != nil {
		return zero, err
	}
	defer cleanup()
	v, err := read(file)
	if err != nil && file != path {
		return zero, renamed{err, file, shown}
	}
	return v, err
}

package geotiff

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
)

// expected is one fixture's row of testdata/expected.txt, written by
// testdata/make_fixtures.py from GDAL's answers.
type expected struct {
	name          string
	width, height int
	dataType      string
	sum           float64
	gt            [6]float64
	centres       [][4]float64 // row, col, lon, lat
}

func loadExpected(t testing.TB) []*expected {
	t.Helper()
	f, err := os.Open("testdata/expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*expected
	byName := map[string]*expected{}
	sc := bufio.NewScanner(f)
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("expected.txt: %v", err)
		}
		return v
	}
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) == 0 || strings.HasPrefix(fs[0], "#"):
		case fs[0] == "centre":
			e := byName[fs[1]]
			e.centres = append(e.centres, [4]float64{num(fs[2]), num(fs[3]), num(fs[4]), num(fs[5])})
		default:
			e := &expected{name: fs[0], dataType: fs[3], sum: num(fs[5])}
			e.width, e.height = int(num(fs[1])), int(num(fs[2]))
			for i := range 6 {
				e.gt[i] = num(fs[9+i])
			}
			out = append(out, e)
			byName[e.name] = e
		}
	}
	if len(out) < 12 {
		t.Fatalf("expected.txt lists %d fixtures", len(out))
	}
	return out
}

// readASC reads an ESRI ASCII grid as GDAL's AAIGrid driver writes it.
func readASC(t testing.TB, path string) (w, h int, v []float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		if _, err := strconv.ParseFloat(fs[0], 64); err != nil && !strings.EqualFold(fs[0], "nan") {
			switch strings.ToLower(fs[0]) {
			case "ncols":
				w, _ = strconv.Atoi(fs[1])
			case "nrows":
				h, _ = strconv.Atoi(fs[1])
			}
			continue
		}
		for _, s := range fs {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			v = append(v, x)
		}
	}
	if len(v) != w*h {
		t.Fatalf("%s: %d values for %d × %d", path, len(v), w, h)
	}
	return w, h, v
}

func openFixture(t testing.TB, name string) *Raster {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".tif"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(bytes.NewReader(b), int64(len(b)), name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sameValue(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b || math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b))
}

// comparePixels checks every pixel Pixels decodes against GDAL's AAIGrid dump.
func comparePixels(t *testing.T, e *expected, ascPath string) {
	r := openFixture(t, e.name)
	w, h, want := readASC(t, ascPath)
	if w != r.Width || h != r.Height {
		t.Fatalf("size %d × %d, GDAL %d × %d", r.Width, r.Height, w, h)
	}
	n := 0
	err := r.Pixels(func(row, col int, v float64) error {
		ar := row
		if e.gt[5] > 0 { // AAIGrid is written north up: GDAL flips a south-up raster
			ar = h - 1 - row
		}
		if g := want[ar*w+col]; !sameValue(v, g) {
			t.Errorf("pixel (row %d, col %d) = %v, GDAL %v", row, col, v, g)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != w*h {
		t.Fatalf("visited %d pixels of %d", n, w*h)
	}
}

func TestPixelsMatchGDAL(t *testing.T) {
	for _, e := range loadExpected(t) {
		t.Run(e.name, func(t *testing.T) {
			comparePixels(t, e, filepath.Join("testdata", e.name+".asc"))
		})
	}
}

// TestPixelsMatchGDALLive regenerates GDAL's dump of every fixture now, so
// the committed expectations cannot drift from what GDAL reads.
func TestPixelsMatchGDALLive(t *testing.T) {
	if _, err := exec.LookPath("gdal_translate"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("gdal_translate not found; CI must have gdal-bin installed")
		}
		t.Skip("gdal_translate not found (apt install gdal-bin) — skipping the live GDAL comparison")
	}
	dir := t.TempDir()
	for _, e := range loadExpected(t) {
		t.Run(e.name, func(t *testing.T) {
			asc := filepath.Join(dir, e.name+".asc")
			out, err := exec.Command("gdal_translate", "-q", "-of", "AAIGrid", filepath.Join("testdata", e.name+".tif"), asc).CombinedOutput()
			if err != nil {
				t.Fatalf("gdal_translate: %v\n%s", err, out)
			}
			comparePixels(t, e, asc)
		})
	}
}

// TestTotalsAndGeoreferencing checks the population total against GDAL's
// sum of valid pixels, the geotransform against GDAL's, and pixel centres in
// WGS-84 against gdaltransform's (PROJ) within 1 cm.
func TestTotalsAndGeoreferencing(t *testing.T) {
	for _, e := range loadExpected(t) {
		t.Run(e.name, func(t *testing.T) {
			b, _ := os.ReadFile(filepath.Join("testdata", e.name+".tif"))
			pop, info, err := ReadReader(bytes.NewReader(b), int64(len(b)), e.name, 9, nil)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(info.Total-e.sum) > 1e-9*e.sum || math.Abs(pop.Total()-e.sum) > 1e-6*e.sum {
				t.Errorf("total %v (population %v), GDAL %v", info.Total, pop.Total(), e.sum)
			}
			if info.Width != e.width || info.Height != e.height || info.DataType != e.dataType {
				t.Errorf("info %+v", info)
			}
			r := openFixture(t, e.name)
			for i, g := range r.GeoTransform {
				if math.Abs(g-e.gt[i]) > 1e-9*math.Max(1, math.Abs(g)) {
					t.Errorf("geotransform %v, GDAL %v", r.GeoTransform, e.gt)
				}
			}
			fp := footprinter{r: r}
			for _, c := range e.centres {
				p, err := fp.toWGS84(c[1]+0.5, c[0]+0.5)
				if err != nil {
					t.Fatal(err)
				}
				d := float64(coverage.Distance(p, [2]float64{c[2], c[3]}))
				if d > 0.01 {
					t.Errorf("centre of pixel (%v, %v) at %v, PROJ (%v, %v): %.3f m apart", c[0], c[1], p, c[2], c[3], d)
				}
			}
		})
	}
}

// TestCellsAreaWeighted checks the H3 cells after coverage.Aggregate against
// an independent reference: each pixel larger than a cell is sampled at
// 32 × 32 points of its own grid (every point carrying 1/1024 of its
// population to the cell containing it); smaller pixels go to the cell of
// their centre. Totals must match exactly; cell by cell, the total absolute
// difference must stay within the sampling error.
func TestCellsAreaWeighted(t *testing.T) {
	const res, sub = 9, 32
	for _, c := range []struct {
		name   string
		spread bool // pixels larger than a res-9 cell
	}{
		{"f32_4326_lzw_pred3_tiled", true},
		{"f32_54009_lzw_ghspop", true},
		{"u16_3857_deflate_pred2_tiled_be", false},
		{"f32_32651_rotated", false},
		{"u8_4528_packbits", true},
		{"i16_32651_lzw_pred2", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := openFixture(t, c.name)
			pop, info, err := r.Population(res, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.spread != (info.SpreadPixels > 0) || c.spread == (info.CentrePixels > 0) {
				t.Fatalf("pixel area %.0f m², cell %.0f m²: %d spread, %d at centre", info.PixelAreaM2, info.CellAreaM2, info.SpreadPixels, info.CentrePixels)
			}
			cells, err := coverage.Aggregate(pop, res)
			if err != nil {
				t.Fatal(err)
			}
			ref := map[h3.Cell]float64{}
			g := r.GeoTransform
			at := func(col, row float64) h3.Cell {
				x := g[0] + col*g[1] + row*g[2]
				y := g[3] + col*g[4] + row*g[5]
				lon, lat, err := r.CRS.ToWGS84(x, y)
				if err != nil {
					t.Fatal(err)
				}
				cell, err := coverage.CellOf([2]float64{lon, lat}, res)
				if err != nil {
					t.Fatal(err)
				}
				return cell
			}
			noData := r.NoData
			if r.DataType == "Float32" {
				noData = float64(float32(noData))
			}
			var total float64
			err = r.Pixels(func(row, col int, v float64) error {
				if (r.HasNoData && v == noData) || v <= 0 {
					return nil
				}
				total += v
				if !c.spread {
					ref[at(float64(col)+0.5, float64(row)+0.5)] += v
					return nil
				}
				for i := range sub {
					for j := range sub {
						ref[at(float64(col)+(float64(j)+0.5)/sub, float64(row)+(float64(i)+0.5)/sub)] += v / (sub * sub)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var got, diff float64
			seen := map[h3.Cell]bool{}
			for _, cell := range cells {
				got += cell.Population
				diff += math.Abs(cell.Population - ref[cell.H3])
				seen[cell.H3] = true
			}
			for k, v := range ref {
				if !seen[k] {
					diff += v
				}
			}
			if math.Abs(got-total) > 1e-9*total {
				t.Errorf("cells hold %v, pixels %v", got, total)
			}
			limit := 1e-9
			if c.spread {
				limit = 0.015 // sampling error of 32 × 32 points per pixel (0.021 at 24², 0.008 at 48²)
			}
			if diff/total > limit {
				t.Errorf("cells differ from the area-weighted reference by %.4f of the total", diff/total)
			}
			t.Logf("%d cells, %d pixels spread, %d at centre; L1 difference from reference %.2g of %v", len(cells), info.SpreadPixels, info.CentrePixels, diff/total, total)
		})
	}
}

func TestCRS(t *testing.T) {
	for name, want := range map[string]int{
		"f32_4326_lzw_pred3_tiled":        4326,
		"i16_32651_lzw_pred2":             32651,
		"u16_3857_deflate_pred2_tiled_be": 3857,
		"i32_4549_deflate":                4549,
		"u32_32723_none_tiled":            32723,
		"u8_4528_packbits":                4528,
		"f32_54009_lzw_ghspop":            0,
	} {
		r := openFixture(t, name)
		if r.EPSG != want {
			t.Errorf("%s: EPSG %d, want %d (%s)", name, r.EPSG, want, r.CRS.Name())
		}
	}
	if n := openFixture(t, "f32_54009_lzw_ghspop").CRS.Name(); !strings.Contains(n, "Mollweide") {
		t.Errorf("GHS-POP CRS %q", n)
	}
}

func TestFillValuesWarn(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	_, info, err := Read("testdata/f32_4326_fill_no_nodata.tif", 9, logger)
	if err != nil {
		t.Fatal(err)
	}
	// Two rows of -3.4e38 (40 pixels), one -99999 and one NaN.
	if info.FillPixels != 42 || info.HasNoData {
		t.Errorf("fill pixels %d, nodata %v", info.FillPixels, info.HasNoData)
	}
	if !strings.Contains(logs.String(), "pixels=42") || !strings.Contains(logs.String(), "f32_4326_fill_no_nodata.tif") {
		t.Errorf("warning: %q", logs.String())
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		file string
		is   error
		says []string
	}{
		{"bad_no_georef.tif", ErrNoGeoreference, []string{"bad_no_georef.tif", "ModelPixelScale"}},
		{"bad_jpeg.tif", ErrUnsupported, []string{"bad_jpeg.tif", "JPEG", "code 7"}},
		{"bad_crs_lambert93.tif", crs.ErrUnsupported, []string{"bad_crs_lambert93.tif", "EPSG:2154"}},
		{"bad_two_bands.tif", ErrUnsupported, []string{"bad_two_bands.tif", "2 bands"}},
		{"bad_negative.tif", nil, []string{"bad_negative.tif", "(row 2, col 5)", "-7"}},
		{"missing.tif", os.ErrNotExist, []string{"missing.tif"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, _, err := Read(filepath.Join("testdata", c.file), 9, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("%v is not %v", err, c.is)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "geotiff: ") {
				t.Errorf("%q lacks the package prefix", err)
			}
		})
	}
}

// TestTruncated cuts every fixture at many lengths: each cut must fail
// cleanly (or, when only trailing bytes were lost, read the same total).
func TestTruncated(t *testing.T) {
	for _, e := range loadExpected(t) {
		b, _ := os.ReadFile(filepath.Join("testdata", e.name+".tif"))
		for cut := 0; cut < len(b); cut += 1 + len(b)/97 {
			_, info, err := ReadReader(bytes.NewReader(b[:cut]), int64(cut), e.name, 9, nil)
			if err == nil {
				if math.Abs(info.Total-e.sum) > 1e-9*e.sum {
					t.Errorf("%s cut at %d: read %v silently, want %v", e.name, cut, info.Total, e.sum)
				}
				continue
			}
			if !strings.Contains(err.Error(), e.name) {
				t.Errorf("%s cut at %d: %v does not name the file", e.name, cut, err)
			}
		}
	}
}

// FuzzReadReader: any bytes give a population or an error naming the file.
// An accepted raster's population is consistent with its pixels, read again
// through Open and Pixels: the pixels kept (positive, not nodata, not a
// fill value) are counted in Populated and summed, in the same order, into
// Total; each is either a cell's share or a footprint polygon, so the cells
// and polygons add up to Total; cells are valid, of resolution 9, in H3
// order; footprints are closed rings of valid lon/lat.
func FuzzReadReader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.tif")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, big := range []bool{false, true} {
			b, _ := smallRaster(order, big, nil)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pop, info, err := ReadReader(bytes.NewReader(b), int64(len(b)), "fuzz.tif", 9, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "geotiff: fuzz.tif") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkPopulationRead(t, b, pop, info)
	})
}

func checkPopulationRead(t *testing.T, b []byte, pop coverage.Population, info Info) {
	t.Helper()
	ras, err := Open(bytes.NewReader(b), int64(len(b)), "again.tif")
	if err != nil {
		t.Fatalf("read, but does not open again: %v", err)
	}
	noData := ras.NoData
	if ras.DataType == "Float32" {
		noData = float64(float32(noData))
	}
	var kept, noDataPx, fill int
	var total float64
	if err := ras.Pixels(func(row, col int, v float64) error {
		switch {
		case ras.HasNoData && (v == noData || math.IsNaN(v) && math.IsNaN(noData)):
			noDataPx++
		case math.IsNaN(v) || math.Abs(v) >= 3e38 || v == -9999 || v == -99999:
			fill++
		case v > 0:
			kept++
			total += v
		}
		return nil
	}); err != nil {
		t.Fatalf("read, but its pixels fail: %v", err)
	}
	if kept != info.Populated || noDataPx != info.NoDataPixels || fill != info.FillPixels || total != info.Total {
		t.Fatalf("info %+v; the pixels: %d kept, %d nodata, %d fill, total %v", info, kept, noDataPx, fill, total)
	}
	if info.Populated != info.CentrePixels+info.SpreadPixels || len(pop.Polygons) != info.SpreadPixels || len(pop.Cells) > info.CentrePixels ||
		uint64(info.Populated+info.NoDataPixels+info.FillPixels) > uint64(info.Width)*uint64(info.Height) {
		t.Fatalf("info %+v with %d cells and %d polygons", info, len(pop.Cells), len(pop.Polygons))
	}
	var sum float64
	for i, c := range pop.Cells {
		if !c.H3.IsValid() || c.H3.Resolution() != 9 || !(c.Population > 0) || math.IsInf(c.Population, 0) || i > 0 && c.H3 <= pop.Cells[i-1].H3 {
			t.Fatalf("cell %d: %+v", i, c)
		}
		sum += c.Population
	}
	for i, p := range pop.Polygons {
		if !(p.Population > 0) || math.IsInf(p.Population, 0) || len(p.Geom) != 1 || len(p.Geom[0]) != 1 {
			t.Fatalf("polygon %d: population %v, %d parts", i, p.Population, len(p.Geom))
		}
		r := p.Geom[0][0]
		if len(r) < 5 || r[0] != r[len(r)-1] {
			t.Fatalf("polygon %d: ring %v", i, r)
		}
		for _, q := range r {
			if !(q[0] >= -180 && q[0] <= 180 && q[1] >= -90 && q[1] <= 90) {
				t.Fatalf("polygon %d: vertex %v", i, q)
			}
		}
		sum += p.Population
	}
	if math.Abs(sum-info.Total) > 1e-9*info.Total {
		t.Fatalf("cells and polygons hold %v people, total %v", sum, info.Total)
	}
}

func BenchmarkReadReader(b *testing.B) {
	for _, name := range []string{"f32_4326_lzw_pred3_tiled", "i16_32651_lzw_pred2", "f32_54009_lzw_ghspop"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".tif"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ReadReader(bytes.NewReader(data), int64(len(data)), name, 9, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

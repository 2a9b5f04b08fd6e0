package geotiff

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
)

// Info describes a raster read as population.
type Info struct {
	Name          string
	Width, Height int
	DataType      string
	Compression   string
	CRS           string  // the CRS's name, e.g. "EPSG:32651 WGS 84 / UTM zone 51N"
	EPSG          int     // 0 when user-defined (e.g. GHS-POP's Mollweide)
	PixelWidth    float64 // length of a pixel's column step, in CRS units
	PixelHeight   float64 // length of a pixel's row step, in CRS units
	PixelAreaM2   float64 // ground area of the raster's central pixel
	CellAreaM2    float64 // average H3 cell area at the target resolution
	NoData        float64 // valid when HasNoData
	HasNoData     bool
	Total         float64 // population read (the sum of all values kept)
	Populated     int     // pixels with a positive value
	NoDataPixels  int     // pixels equal to the nodata value
	FillPixels    int     // pixels holding obvious fill values (NaN, ±3.4e38, -9999, -99999), skipped
	SpreadPixels  int     // pixels larger than a cell, returned as footprint polygons
	CentrePixels  int     // pixels smaller than a cell, counted in the cell of their centre
}

// Read reads the single-band population raster at path for H3 resolution
// res. See ReadReader.
func Read(path string, res int, logger *slog.Logger) (coverage.Population, Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return coverage.Population{}, Info{}, fmt.Errorf("geotiff: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return coverage.Population{}, Info{}, fmt.Errorf("geotiff: %w", err)
	}
	return ReadReader(f, st.Size(), path, res, logger)
}

// ReadReader reads a single-band population GeoTIFF of the given size from
// r; name labels errors and log records. Each pixel's value is a head count.
//
// A pixel whose ground area is at most the average H3 cell area at res
// counts in the cell of its centre: those pixels are summed into one
// coverage.PopCell per cell at res (what Aggregate would do with a point per
// pixel, without holding a point per pixel). A larger pixel becomes a
// coverage.PopPolygon with its footprint in WGS-84 (edges densified in a
// projected CRS, clipped at ±180° on the side of the pixel's centre), which
// Aggregate spreads over the cells it covers by area.
//
// Zero and nodata pixels are skipped. Obvious fill values (NaN, |v| ≥ 3e38,
// -9999, -99999) are skipped too, with a warning giving their count: a
// raster without a nodata tag often holds them. Any other negative value is
// an error naming the pixel. A raster with several bands is an error; use
// Open, set Raster.Band, and call Raster.Population.
func ReadReader(r io.ReaderAt, size int64, name string, res int, logger *slog.Logger) (coverage.Population, Info, error) {
	ras, err := Open(r, size, name)
	if err != nil {
		return coverage.Population{}, Info{}, err
	}
	if ras.Bands != 1 {
		return coverage.Population{}, Info{}, fmt.Errorf("geotiff: %s: %w: %d bands; a population raster has one (or choose one with Raster.Band)", name, ErrUnsupported, ras.Bands)
	}
	return ras.Population(res, logger)
}

// isFill reports values that no population raster holds as a count.
func isFill(v float64) bool {
	return math.IsNaN(v) || math.Abs(v) >= 3e38 || v == -9999 || v == -99999
}

// Population reads the chosen band as population; see ReadReader.
func (r *Raster) Population(res int, logger *slog.Logger) (coverage.Population, Info, error) {
	var pop coverage.Population
	info := Info{
		Name: r.Name, Width: r.Width, Height: r.Height, DataType: r.DataType, Compression: r.Compression,
		CRS: r.CRS.Name(), EPSG: r.EPSG, NoData: r.NoData, HasNoData: r.HasNoData,
		PixelWidth:  math.Hypot(r.GeoTransform[1], r.GeoTransform[4]),
		PixelHeight: math.Hypot(r.GeoTransform[2], r.GeoTransform[5]),
	}
	if res < 0 || res > h3.MaxResolution {
		return pop, info, fmt.Errorf("geotiff: %s: H3 resolution %d outside 0..%d", r.Name, res, h3.MaxResolution)
	}
	info.CellAreaM2 = h3.HexagonAreaAvgM2(res)
	noData := r.NoData
	if r.DataType == "Float32" {
		noData = float64(float32(noData)) // GDAL compares in the band's type
	}
	fp := footprinter{r: r}
	if a, err := fp.area(r.Height/2, r.Width/2); err == nil {
		info.PixelAreaM2 = a
	}
	acc := map[h3.Cell]float64{}
	rowArea, areaRow := 0.0, -1
	var total float64
	err := r.Pixels(func(row, col int, v float64) error {
		switch {
		case r.HasNoData && (v == noData || math.IsNaN(v) && math.IsNaN(noData)):
			info.NoDataPixels++
			return nil
		case isFill(v):
			info.FillPixels++
			return nil
		case v == 0:
			return nil
		case v < 0:
			return fmt.Errorf("geotiff: %s: pixel (row %d, col %d) holds %v: a negative population that is not the nodata value", r.Name, row, col, v)
		}
		info.Populated++
		total += v
		if row != areaRow {
			// Pixel area changes with latitude in a geographic raster, and
			// hardly along a row: one measure per row.
			a, err := fp.area(row, r.Width/2)
			if err != nil {
				a = 0 // outside the projection there: use pixel centres
			}
			rowArea, areaRow = a, row
		}
		if rowArea > info.CellAreaM2 {
			ring, err := fp.ring(row, col)
			if err == nil {
				pop.Polygons = append(pop.Polygons, coverage.PopPolygon{Geom: orb.MultiPolygon{{ring}}, Population: v})
				info.SpreadPixels++
				return nil
			}
		}
		c, err := fp.centreCell(row, col, res)
		if err != nil {
			return err
		}
		acc[c] += v
		info.CentrePixels++
		return nil
	})
	if err != nil {
		return coverage.Population{}, info, err
	}
	pop.Cells = make([]coverage.PopCell, 0, len(acc))
	for c, v := range acc {
		pop.Cells = append(pop.Cells, coverage.PopCell{H3: c, Population: v})
	}
	slices.SortFunc(pop.Cells, func(a, b coverage.PopCell) int {
		switch {
		case a.H3 < b.H3:
			return -1
		case a.H3 > b.H3:
			return 1
		}
		return 0
	})
	info.Total = total
	if info.FillPixels > 0 && logger != nil {
		logger.Warn("geotiff: skipped pixels holding fill values (NaN, ±3.4e38, -9999 or -99999) not declared as nodata",
			"file", r.Name, "pixels", info.FillPixels, "nodata_tag", r.HasNoData)
	}
	return pop, info, nil
}

// footprinter maps pixels to WGS-84.
type footprinter struct {
	r   *Raster
	buf orb.Ring
}

func (f *footprinter) toWGS84(col, row float64) (orb.Point, error) {
	g := f.r.GeoTransform
	x := g[0] + col*g[1] + row*g[2]
	y := g[3] + col*g[4] + row*g[5]
	lon, lat, err := f.r.CRS.ToWGS84(x, y)
	if err != nil {
		return orb.Point{}, err
	}
	return orb.Point{lon, lat}, nil
}

func (f *footprinter) centreCell(row, col, res int) (h3.Cell, error) {
	p, err := f.toWGS84(float64(col)+0.5, float64(row)+0.5)
	if err != nil {
		return 0, fmt.Errorf("geotiff: %s: pixel (row %d, col %d): %w", f.r.Name, row, col, err)
	}
	c, err := coverage.CellOf(p, res)
	if err != nil {
		return 0, fmt.Errorf("geotiff: %s: pixel (row %d, col %d): %w", f.r.Name, row, col, err)
	}
	return c, nil
}

// densifyM is the longest straight edge left in a projected pixel's
// footprint: a projected straight line is curved in longitude/latitude, and
// at this length the difference is far below a metre.
const densifyM = 500.0

// ring returns the pixel's footprint as a closed counter-clockwise ring in
// WGS-84. The pixel's centre must be a valid position; the corners are
// unwrapped around the centre's longitude and clipped at ±180°: a
// footprint across the antimeridian cannot be one polygon in −180..180, so
// the part on the centre's side takes its people. (A corner past a pole
// fails in the CRS, and the pixel counts in the cell of its centre.)
func (f *footprinter) ring(row, col int) (orb.Ring, error) {
	centre, err := f.toWGS84(float64(col)+0.5, float64(row)+0.5)
	if err != nil {
		return nil, err
	}
	if !(centre[0] >= -180 && centre[0] <= 180 && centre[1] >= -90 && centre[1] <= 90) {
		return nil, fmt.Errorf("pixel centre %v is not a lon/lat position", centre)
	}
	n := 1
	if !f.r.CRS.Geographic() {
		edge := math.Max(math.Hypot(f.r.GeoTransform[1], f.r.GeoTransform[4]), math.Hypot(f.r.GeoTransform[2], f.r.GeoTransform[5]))
		n = int(math.Min(32, math.Max(1, math.Ceil(edge/densifyM))))
	}
	c, r := float64(col), float64(row)
	corners := [5][2]float64{{c, r}, {c, r + 1}, {c + 1, r + 1}, {c + 1, r}, {c, r}}
	ring := make(orb.Ring, 0, 4*n+1)
	for e := range 4 {
		a, b := corners[e], corners[e+1]
		for k := range n {
			t := float64(k) / float64(n)
			p, err := f.toWGS84(a[0]+t*(b[0]-a[0]), a[1]+t*(b[1]-a[1]))
			if err != nil {
				return nil, err
			}
			p[0] = min(max(centre[0]+math.Remainder(p[0]-centre[0], 360), -180), 180)
			ring = append(ring, p)
		}
	}
	ring = append(ring, ring[0])
	if signedArea(ring) < 0 {
		slices.Reverse(ring)
	}
	return ring, nil
}

// area is the pixel's ground area in square metres, from its corners in
// WGS-84 on a local plane (exact enough to compare with a cell's area).
func (f *footprinter) area(row, col int) (float64, error) {
	c, r := float64(col), float64(row)
	f.buf = f.buf[:0]
	for _, p := range [4][2]float64{{c, r}, {c + 1, r}, {c + 1, r + 1}, {c, r + 1}} {
		q, err := f.toWGS84(p[0], p[1])
		if err != nil {
			return 0, err
		}
		f.buf = append(f.buf, q)
	}
	// Longitudes relative to the first corner (unwrapped across the
	// antimeridian), on an equirectangular plane at the pixel's latitude.
	o := f.buf[0]
	k := float64(coverage.EarthRadius) * math.Pi / 180
	kx := k * math.Cos((f.buf[0][1]+f.buf[2][1])/2*math.Pi/180)
	var a float64
	for i := range f.buf {
		p, q := f.buf[i], f.buf[(i+1)%len(f.buf)]
		x1, y1 := math.Remainder(p[0]-o[0], 360)*kx, (p[1]-o[1])*k
		x2, y2 := math.Remainder(q[0]-o[0], 360)*kx, (q[1]-o[1])*k
		a += x1*y2 - x2*y1
	}
	return math.Abs(a) / 2, nil
}

func signedArea(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

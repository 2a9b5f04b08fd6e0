package geotiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
)

// placed returns a forge giving the small raster (4 × 3 pixels) the pixel
// size sx × sy and its top-left corner at (x, y).
func placed(sx, sy, x, y float64) func([]tiffTag) []tiffTag {
	return func(tags []tiffTag) []tiffTag {
		tags = setTag(tags, tiffTag{tag: tagModelPixelScale, typ: 12, doubles: []float64{sx, sy, 0}})
		return setTag(tags, tiffTag{tag: tagModelTiepoint, typ: 12, doubles: []float64{0, 0, 0, x, y, 0}})
	}
}

// TestLonLatExtentRefused: a geographic raster with pixel centres past
// ±180° longitude or ±90° latitude is refused by Open with a format error
// naming the file and its extent (computed here by hand from the tie point
// and the pixel size).
func TestLonLatExtentRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		forge  func([]tiffTag) []tiffTag
		extent string
	}{
		{"0..360 longitudes", placed(1, 1, 350, 31.3), "longitude 350 to 354 and latitude 28.3 to 31.3"},
		{"across the antimeridian", placed(1, 1, 178.5, 31.3), "longitude 178.5 to 182.5 and latitude 28.3 to 31.3"},
		{"metres in a geographic CRS", placed(0.01, 0.01, 1.35e7, 31.3), "longitude 13500000 to 13500000.04 and latitude 31.27 to 31.3"},
		{"past the pole", placed(1, 1, 121, 91.5), "longitude 121 to 125 and latitude 88.5 to 91.5"},
		{"west of -180", placed(1, 1, -181, 0), "longitude -181 to -177 and latitude -3 to 0"},
		{"south of -90", placed(1, 1, 0, -88), "longitude 0 to 4 and latitude -91 to -88"},
		// x = col·1e308 − row·1e308 overflows to +Inf and −Inf at two
		// corners and to NaN (+Inf − Inf) at the bottom right.
		{"infinite", func(tags []tiffTag) []tiffTag {
			return append(tags, tiffTag{tag: tagModelTransformation, typ: 12, doubles: []float64{1e308, -1e308, 0, 0, 0, -1, 0, 31.3, 0, 0, 0, 0, 0, 0, 0, 1}})
		}, "longitude -Inf to +Inf and latitude 28.3 to 31.3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := smallRaster(binary.LittleEndian, false, c.forge)
			_, err := openBytes(b, "e.tif")
			if err == nil || !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "geotiff: e.tif: ") || !strings.Contains(err.Error(), c.extent) {
				t.Fatalf("%v; want a format error naming e.tif and %q", err, c.extent)
			}
		})
	}
}

// ringBound is the bounding box of a footprint ring.
func ringBound(r orb.Ring) [4]float64 {
	b := r.Bound()
	return [4]float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]}
}

// near reports whether two boxes agree to 1e-9°.
func near(a, b [4]float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

// TestEdgePixelsClipped: pixel edges may overhang ±180° by up to half a
// pixel (the centres stay valid); the footprints are clipped there. Each
// footprint's box is compared with the pixel's box computed by hand and
// clipped at ±180°; the population then aggregates without error and keeps
// its total.
func TestEdgePixelsClipped(t *testing.T) {
	for _, c := range []struct {
		name         string
		res          int
		sx, sy, x, y float64
	}{
		// Columns at 176.5..180.5: the last pixel's centre is 180.
		{"east edge at 180.5", 4, 1, 1, 176.5, 31.3},
		// WorldPop's global grid starts 0.00125° west of -180.
		{"west edge at -180.00125", 9, 0.0083333333, 0.0083333333, -180.00125, -16.8},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, sum := smallRaster(binary.LittleEndian, false, placed(c.sx, c.sy, c.x, c.y))
			pop, info, err := ReadReader(bytes.NewReader(b), int64(len(b)), "edge.tif", c.res, nil)
			if err != nil {
				t.Fatal(err)
			}
			if info.SpreadPixels != 9 || len(pop.Polygons) != 9 || info.Total != sum {
				t.Fatalf("%d footprints, %d polygons, total %v; want 9 and %v", info.SpreadPixels, len(pop.Polygons), info.Total, sum)
			}
			k := 0
			for i := range 12 {
				if i%5 == 0 { // the pixels holding 0
					continue
				}
				row, col := float64(i/4), float64(i%4)
				want := [4]float64{
					max(c.x+col*c.sx, -180), min(c.x+(col+1)*c.sx, 180),
					c.y - (row+1)*c.sy, c.y - row*c.sy,
				}
				p := pop.Polygons[k]
				if got := ringBound(p.Geom[0][0]); !near(got, want) || p.Population != float64(float32(i%5)*1.25) {
					t.Errorf("pixel %d: footprint %v with %v people, want %v with %v", i, got, p.Population, want, float32(i%5)*1.25)
				}
				k++
			}
			cells, err := coverage.Aggregate(pop, c.res)
			if err != nil {
				t.Fatal(err)
			}
			var total float64
			for _, x := range cells {
				total += x.Population
			}
			if math.Abs(total-sum) > 1e-9*sum {
				t.Errorf("cells hold %v people, want %v", total, sum)
			}
		})
	}
}

// TestPoleOverhang: a raster of 10° × 1° pixels whose top edge is 0.4°
// past the north pole (its first row's centres at 89.9°) opens; the first
// row's footprints would cross the pole, so its people count in the cells
// of the pixel centres, while the rows below (wider than a resolution-4
// cell: 10° of longitude at 88.9°N spans 21 km) are spread as footprints.
func TestPoleOverhang(t *testing.T) {
	b, sum := smallRaster(binary.LittleEndian, false, placed(10, 1, 10, 90.4))
	pop, info, err := ReadReader(bytes.NewReader(b), int64(len(b)), "pole.tif", 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.CentrePixels != 3 || info.SpreadPixels != 6 || info.Total != sum {
		t.Fatalf("%d pixels at their centres, %d footprints, total %v; want 3, 6 and %v", info.CentrePixels, info.SpreadPixels, info.Total, sum)
	}
	// Pixels 1, 2 and 3 of row 0 (centres at 25°, 35°, 45° and 89.9°),
	// holding 1.25, 2.5 and 3.75.
	want := map[string]float64{}
	for col, v := range []float64{1.25, 2.5, 3.75} {
		c, err := coverage.CellOf(orb.Point{25 + 10*float64(col), 89.9}, 4)
		if err != nil {
			t.Fatal(err)
		}
		want[c.String()] += v
	}
	got := map[string]float64{}
	for _, c := range pop.Cells {
		got[c.H3.String()] += c.Population
	}
	if len(got) != len(want) {
		t.Errorf("centre cells %v, want %v", got, want)
	}
	for c, v := range want {
		if got[c] != v {
			t.Errorf("cell %s holds %v, want %v", c, got[c], v)
		}
	}
	for k, p := range pop.Polygons {
		if b := ringBound(p.Geom[0][0]); b[3] > 89.4+1e-9 {
			t.Errorf("footprint %d reaches latitude %v", k, b[3])
		}
	}
}

// TestProjectedAcrossAntimeridian: in UTM zone 60S, 1 km pixels around
// 180° at 16.5°S; the second column straddles the antimeridian, its centre
// 200 m east of it. Each footprint must stay on its centre's side (vertices
// within 0.02° of the centre's longitude and never across ±180°), and the
// aggregated cells must lie within 1.5 km of some populated pixel's centre
// (a footprint wrapped the other way round the Earth would spread people
// half a world away). Longitudes of the centres come from crs, checked
// against PROJ in that package.
func TestProjectedAcrossAntimeridian(t *testing.T) {
	utm, err := crs.ByEPSG(32760)
	if err != nil {
		t.Fatal(err)
	}
	x180, y, err := utm.FromWGS84(180, -16.5)
	if err != nil {
		t.Fatal(err)
	}
	b, sum := smallRaster(binary.LittleEndian, false, func(tags []tiffTag) []tiffTag {
		tags = placed(1000, 1000, x180-1300, y+1500)(tags)
		return setTag(tags, tiffTag{tag: tagGeoKeyDirectory, typ: 3, ints: []uint64{1, 1, 0, 3, keyModelType, 0, 1, 1, keyRasterType, 0, 1, rasterIsArea, keyProjectedCSType, 0, 1, 32760}})
	})
	pop, info, err := ReadReader(bytes.NewReader(b), int64(len(b)), "utm.tif", 9, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.SpreadPixels != 9 || len(pop.Polygons) != 9 {
		t.Fatalf("%d footprints, want 9", info.SpreadPixels)
	}
	var centres []orb.Point
	east := 0
	k := 0
	for i := range 12 {
		if i%5 == 0 {
			continue
		}
		row, col := float64(i/4), float64(i%4)
		lon, lat, err := utm.ToWGS84(x180-1300+(col+0.5)*1000, y+1500-(row+0.5)*1000)
		if err != nil {
			t.Fatal(err)
		}
		centres = append(centres, orb.Point{lon, lat})
		if lon < 0 {
			east++
		}
		for _, v := range pop.Polygons[k].Geom[0][0] {
			if math.Abs(v[0]-lon) > 0.02 || math.Abs(v[1]-lat) > 0.02 {
				t.Fatalf("pixel %d (centre %v, %v): vertex %v", i, lon, lat, v)
			}
		}
		k++
	}
	if east != 7 { // columns 1 to 3, less the pixels holding 0
		t.Fatalf("%d pixel centres east of 180°, want 7", east)
	}
	cells, err := coverage.Aggregate(pop, 9)
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, c := range cells {
		total += c.Population
		d := math.Inf(1)
		for _, p := range centres {
			d = math.Min(d, float64(coverage.Distance(c.Pos, p)))
		}
		if d > 1500 {
			t.Fatalf("cell %v at %v, %.0f m from every pixel", c.H3, c.Pos, d)
		}
	}
	if math.Abs(total-sum) > 1e-9*sum {
		t.Errorf("cells hold %v people, want %v", total, sum)
	}
}

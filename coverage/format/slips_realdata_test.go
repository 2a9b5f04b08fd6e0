package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// Porto Alegre's landmarks against its population grid
// (../shared/data/porto_alegre): the same stations swapped, in place, and
// just outside a part of the grid.

// poaLandmarks reads the landmarks file (id,lat,lon) by splitting lines.
func poaLandmarks(t *testing.T) (ids []string, pts []orb.Point) {
	_, rows := plainRows(t, sharedData(t, "porto_alegre", "poa_points_of_interest.csv"))
	for _, r := range rows {
		lat, err1 := strconv.ParseFloat(r[1], 64)
		lon, err2 := strconv.ParseFloat(r[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("row %v", r)
		}
		ids = append(ids, r[0])
		pts = append(pts, orb.Point{lon, lat})
	}
	return ids, pts
}

func TestRealPortoAlegreSwappedStations(t *testing.T) {
	popPath := sharedData(t, "porto_alegre", "poa_hexgrid.csv")
	ids, pts := poaLandmarks(t)
	pop, err := ReadPopulation(popPath, PopulationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	extent, ok := PopulationExtent(pop)
	if !ok {
		t.Fatal("no extent")
	}

	// The landmarks with the longitude column labelled lat and the other
	// way round: every value is within ±90, so the file reads.
	var b strings.Builder
	b.WriteString("id,lon,lat\n")
	for i, p := range pts {
		fmt.Fprintf(&b, "%s,%v,%v\n", ids[i], p[1], p[0])
	}
	stPath := writeInput(t, "landmarks.csv", b.String())
	st, err := ReadStations(stPath, PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nearest := math.Inf(1)
	for _, s := range st {
		nearest = math.Min(nearest, kmFromBox(s.Pos, extent))
	}
	warn, ws := collect()
	err = CheckPlacement(st, stPath, extent, popPath, warn)
	checkBad(t, stPath, ": ", err, []string{
		"every station lies far outside the population of " + popPath,
		fmt.Sprintf("(the nearest %.0f km away)", nearest),
		`the longitude and latitude columns look swapped (station "public_market" has longitude -30.027565, latitude -51.227811)`,
	}, "")
	if len(*ws) > 0 {
		t.Errorf("warnings beside the error: %v", *ws)
	}

	// As they are: no error, no warning.
	st, err = ReadStations(sharedData(t, "porto_alegre", "poa_points_of_interest.csv"), PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPlacement(st, "landmarks.csv", extent, popPath, warn); err != nil || len(*ws) > 0 {
		t.Errorf("landmarks in place: %v, warnings %v", err, *ws)
	}
}

// The southern part of the grid and the landmarks north of it: every
// station lies outside the population's extent, a few km away, and must
// be neither called swapped nor far.
func TestRealPortoAlegreStationsJustOutside(t *testing.T) {
	popPath := sharedData(t, "porto_alegre", "poa_hexgrid.csv")
	header, rows := plainRows(t, popPath)
	const cut = -30.045
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for _, r := range rows {
		if lat, _ := strconv.ParseFloat(r[2], 64); lat < cut {
			b.WriteString(strings.Join(r, ",") + "\n")
		}
	}
	southPath := writeInput(t, "south.csv", b.String())
	pop, err := ReadPopulation(southPath, PopulationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	extent, _ := PopulationExtent(pop)
	ids, pts := poaLandmarks(t)
	var st []coverage.Station
	for i, p := range pts {
		if !extent.Contains(p) {
			st = append(st, coverage.Station{ID: ids[i], Pos: p})
		}
	}
	if len(st) < 8 {
		t.Fatalf("only %d landmarks outside the southern grid", len(st))
	}
	for _, s := range st {
		if d := kmFromBox(s.Pos, extent); d == 0 || d > 9 {
			t.Fatalf("landmark %s is %.2f km from the southern grid: not just outside", s.ID, d)
		}
	}
	warn, ws := collect()
	if err := CheckPlacement(st, "landmarks.csv", extent, southPath, warn); err != nil || len(*ws) > 0 {
		t.Errorf("landmarks just outside: %v, warnings %v", err, *ws)
	}
}

// The r5r grid leaves jobs empty in 5 rows: read as 0, with one warning
// naming the first of them.
func TestRealPortoAlegreEmptyJobs(t *testing.T) {
	path := sharedData(t, "porto_alegre", "poa_hexgrid.csv")
	_, rows := plainRows(t, path)
	blank, first, total := 0, 0, 0.0
	for i, r := range rows {
		if r[5] == "" {
			if blank++; blank == 1 {
				first = i + 2
			}
			continue
		}
		v, _ := strconv.ParseFloat(r[5], 64)
		total += v
	}
	if blank != 5 || total != 337921 {
		t.Fatalf("a plain scan finds %d blank jobs and %v jobs (SOURCE.md: 5 and 337,921)", blank, total)
	}
	warn, ws := collect()
	pop, err := ReadPopulation(path, PopulationOptions{PopCol: "jobs", Warn: warn})
	if err != nil {
		t.Fatal(err)
	}
	if pop.Total() != total || len(pop.Cells) != len(rows) {
		t.Errorf("%d cells with %v jobs, want %d and %v", len(pop.Cells), pop.Total(), len(rows), total)
	}
	want := Warning{Path: path, Line: first, Msg: fmt.Sprintf(`5 rows have an empty population (column "jobs"), counted as 0 (the first on line %d)`, first)}
	if len(*ws) != 1 || (*ws)[0] != want {
		t.Errorf("warnings %+v, want %+v", *ws, want)
	}
}

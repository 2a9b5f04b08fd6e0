// Command demogen makes walkshed's demo study (data/demo) from the Delaware
// OpenStreetMap extract that ships with github.com/paulmach/osm v0.8.0.
//
// It cuts a box around Newark, Delaware, and writes:
//
//	streets.osm.gz   the box's ways with a highway tag, the named parks, and the nodes they use (OSM XML, gzipped)
//	stations.csv     the named public parks (leisure=park, at least 5,000 m²), each at its outline point nearest a street
//	population.csv   a modelled population on H3 res-9 cells: Newark's 2020 census total spread along
//	                 residential streets in proportion to their length
//	areas.geojson    the box split into four quadrants at the town centre
//	events.csv       modelled openings in the three most populous gaps and one closing (dates invented)
//	workers.csv      modelled workers (daytime jobs) at the box's workplaces: offices, shops, schools,
//	                 amenities, non-residential buildings and commercial/retail/industrial land, by floor
//	                 area, scaled to a published count of jobs
//
// The output is deterministic: the same input gives the same bytes.
//
// usage (from the repository root):
//
//	go run ./data/tools/demogen [-pbf FILE] [-out data/demo]
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"github.com/uber/h3-go/v4"

	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/walknet"
)

// The study box: Newark, Delaware, and its edges (about 7.7 km × 8.3 km).
var box = orb.Bound{Min: orb.Point{-75.800, 39.640}, Max: orb.Point{-75.710, 39.715}}

// centre splits the box into quadrants: Main Street at Academy Street.
var centre = orb.Point{-75.7497, 39.6835}

const (
	// census2020 is Newark city's population in the 2020 US census
	// (U.S. Census Bureau, 2020 Decennial Census, P1, Newark city, Delaware).
	census2020 = 30601
	minParkM2  = 5000 // smaller parks (gardens, pocket playgrounds) are left out
	res        = 9
	stepM      = 10.0 // population sampling step along residential streets
	// jobsTotal is the University of Delaware's Delaware workforce, 4,746
	// (full- and part-time; The News Journal, "Delaware's top employers",
	// delawareonline.com, 13 September 2022): the published count of jobs
	// the workers layer is scaled to. It counts the town's largest employer
	// alone, so it is a floor on the jobs in the box.
	jobsTotal = 4746
)

func main() {
	pbf := flag.String("pbf", "", "the Delaware extract (default: testdata/delaware-latest.osm.pbf in the github.com/paulmach/osm module)")
	out := flag.String("out", "data/demo", "output directory")
	flag.Parse()
	if err := run(*pbf, *out); err != nil {
		fmt.Fprintln(os.Stderr, "demogen:", err)
		os.Exit(1)
	}
}

func run(pbf, out string) error {
	if pbf == "" {
		dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/paulmach/osm").Output()
		if err != nil {
			return fmt.Errorf("finding the github.com/paulmach/osm module (pass -pbf): %w", err)
		}
		pbf = filepath.Join(strings.TrimSpace(string(dir)), "testdata", "delaware-latest.osm.pbf")
	}
	ex, err := cut(pbf)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	streets, err := ex.xmlGzip()
	if err != nil {
		return err
	}
	parks := ex.parkStations()
	pop, err := ex.population()
	if err != nil {
		return err
	}
	events, err := makeEvents(streets, parks, pop)
	if err != nil {
		return err
	}
	jobs := ex.workers()
	files := []struct {
		name string
		data []byte
	}{
		{"streets.osm.gz", streets},
		{"stations.csv", stationsCSV(parks)},
		{"population.csv", populationCSV(pop)},
		{"areas.geojson", areasGeoJSON()},
		{"events.csv", events},
		{"workers.csv", workersCSV(jobs)},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(out, f.name), f.data, 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%d bytes)\n", filepath.Join(out, f.name), len(f.data))
	}
	fmt.Printf("%d ways, %d nodes; %d parks; population %d on %d cells; %d workers at %d workplaces\n",
		len(ex.ways), len(ex.used), len(parks), census2020, len(pop), jobsTotal, len(jobs))
	return nil
}

// extract is what is kept of the box.
type extract struct {
	nodes map[osm.NodeID]orb.Point // every node of the file (ways come after nodes)
	ways  []*osm.Way               // highway ways touching the box, and the parks
	parks []*osm.Way
	used  []osm.NodeID // nodes of the kept ways, ascending
	// Workplaces, for workers.csv only (streets.osm.gz keeps streets and
	// parks): tagged nodes in the box and closed ways of the file.
	placeNodes []*osm.Node
	placeWays  []*osm.Way
}

func cut(path string) (*extract, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := osmpbf.New(context.Background(), f, 1)
	defer sc.Close()
	sc.SkipRelations = true
	ex := &extract{nodes: map[osm.NodeID]orb.Point{}}
	for sc.Scan() {
		switch o := sc.Object().(type) {
		case *osm.Node:
			ex.nodes[o.ID] = orb.Point{o.Lon, o.Lat}
			if len(o.Tags) > 0 && workplaceKind(o.Tags) != "" && box.Contains(orb.Point{o.Lon, o.Lat}) {
				ex.placeNodes = append(ex.placeNodes, o)
			}
		case *osm.Way:
			if workplaceKind(o.Tags) != "" || o.Tags.Find("building") == "yes" {
				ex.placeWays = append(ex.placeWays, o)
			}
			switch {
			case o.Tags.Find("highway") != "" && ex.touches(o):
				ex.ways = append(ex.ways, o)
			case o.Tags.Find("leisure") == "park" && o.Tags.Find("name") != "" && ex.isPark(o):
				ex.ways = append(ex.ways, o)
				ex.parks = append(ex.parks, o)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[osm.NodeID]bool{}
	for _, w := range ex.ways {
		for _, n := range w.Nodes {
			if !seen[n.ID] {
				seen[n.ID] = true
				ex.used = append(ex.used, n.ID)
			}
		}
	}
	slices.Sort(ex.used)
	slices.SortFunc(ex.ways, func(a, b *osm.Way) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(ex.parks, func(a, b *osm.Way) int { return cmp.Compare(a.ID, b.ID) })
	return ex, nil
}

// touches reports whether a way has a node in the box (and all its nodes in
// the file).
func (ex *extract) touches(w *osm.Way) bool {
	in := false
	for _, n := range w.Nodes {
		p, ok := ex.nodes[n.ID]
		if !ok {
			return false
		}
		in = in || box.Contains(p)
	}
	return in
}

func (ex *extract) ring(w *osm.Way) (orb.Ring, bool) {
	var r orb.Ring
	for _, n := range w.Nodes {
		p, ok := ex.nodes[n.ID]
		if !ok {
			return nil, false
		}
		r = append(r, p)
	}
	return r, len(r) >= 4 && r.Closed()
}

// isPark keeps closed park ways of at least minParkM2 whose centroid lies in
// the box.
func (ex *extract) isPark(w *osm.Way) bool {
	r, ok := ex.ring(w)
	if !ok || geo.Area(orb.Polygon{r}) < minParkM2 {
		return false
	}
	c, _ := planar.CentroidArea(orb.Polygon{r})
	return box.Contains(c)
}

// xmlGzip writes the kept ways and their nodes as gzipped OSM XML, without
// per-object metadata (user, version, timestamp).
func (ex *extract) xmlGzip() ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w := bufio.NewWriter(zw)
	w.WriteString(xml.Header)
	w.WriteString("<!-- OpenStreetMap data (c) OpenStreetMap contributors, available under the Open Database License 1.0 (ODbL):\n" +
		"     https://www.openstreetmap.org/copyright. Cut from delaware-latest.osm.pbf (github.com/paulmach/osm v0.8.0 testdata)\n" +
		"     by walkshed's data/tools/demogen: the ways with a highway tag that have a node in the bounds, the named parks, and their nodes. -->\n")
	fmt.Fprintf(w, "<osm version=\"0.6\" generator=\"walkshed data/tools/demogen\" copyright=%q attribution=%q license=%q>\n",
		osm.Copyright, osm.Attribution, osm.License)
	fmt.Fprintf(w, " <bounds minlat=\"%.7f\" minlon=\"%.7f\" maxlat=\"%.7f\" maxlon=\"%.7f\"/>\n", box.Min[1], box.Min[0], box.Max[1], box.Max[0])
	for _, id := range ex.used {
		p := ex.nodes[id]
		fmt.Fprintf(w, " <node id=\"%d\" lat=\"%.7f\" lon=\"%.7f\"/>\n", id, p[1], p[0])
	}
	for _, way := range ex.ways {
		fmt.Fprintf(w, " <way id=\"%d\">\n", way.ID)
		for _, n := range way.Nodes {
			fmt.Fprintf(w, "  <nd ref=\"%d\"/>\n", n.ID)
		}
		for _, t := range way.Tags {
			fmt.Fprintf(w, "  <tag k=\"%s\" v=\"%s\"/>\n", attr(t.Key), attr(t.Value))
		}
		w.WriteString(" </way>\n")
	}
	w.WriteString("</osm>\n")
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// attr escapes s for an XML attribute value.
func attr(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// park is a station: a named park at the point of its outline nearest a
// walkable street.
type park struct {
	id, name string
	pos      orb.Point
}

// parkStations places each park at its entrance: the vertex of its outline
// nearest to a node of a walkable street (walknet's rule), first in outline
// order among equals. Park centroids would sit inside large parks, far from
// any street.
func (ex *extract) parkStations() []park {
	var street []orb.Point
	seen := map[osm.NodeID]bool{}
	for _, w := range ex.ways {
		if w.Tags.Find("highway") == "" || !walknet.Walkable(w.Tags) {
			continue
		}
		for _, n := range w.Nodes {
			if !seen[n.ID] {
				seen[n.ID] = true
				street = append(street, ex.nodes[n.ID])
			}
		}
	}
	var out []park
	for _, w := range ex.parks {
		r, _ := ex.ring(w)
		best, at := math.Inf(1), r[0]
		for _, v := range r {
			for _, s := range street {
				if d := float64(coverage.Distance(v, s)); d < best {
					best, at = d, v
				}
			}
		}
		out = append(out, park{id: fmt.Sprintf("way/%d", w.ID), name: w.Tags.Find("name"), pos: at})
	}
	return out
}

func stationsCSV(ps []park) []byte {
	var b bytes.Buffer
	b.WriteString("id,name,lon,lat\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "%s,%s,%.7f,%.7f\n", p.id, csvQuote(p.name), p.pos[0], p.pos[1])
	}
	return b.Bytes()
}

func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// cellPop is one populated cell.
type cellPop struct {
	cell h3.Cell
	pop  int
}

// population spreads census2020 over the H3 cells along residential and
// living streets inside the box, in proportion to street length, rounded to
// integers by largest remainder so the total is exact.
func (ex *extract) population() ([]cellPop, error) {
	length := map[h3.Cell]float64{}
	for _, w := range ex.ways {
		if h := w.Tags.Find("highway"); h != "residential" && h != "living_street" {
			continue
		}
		for i := 1; i < len(w.Nodes); i++ {
			a, b := ex.nodes[w.Nodes[i-1].ID], ex.nodes[w.Nodes[i].ID]
			d := geo.Distance(a, b)
			n := max(1, int(math.Ceil(d/stepM)))
			for k := range n {
				t := (float64(k) + 0.5) / float64(n)
				p := orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
				if !box.Contains(p) {
					continue
				}
				c, err := coverage.CellOf(p, res)
				if err != nil {
					return nil, err
				}
				length[c] += d / float64(n)
			}
		}
	}
	var total float64
	cells := make([]h3.Cell, 0, len(length))
	for c, l := range length {
		cells = append(cells, c)
		total += l
	}
	slices.Sort(cells)
	type share struct {
		i    int
		frac float64
	}
	out := make([]cellPop, len(cells))
	fr := make([]share, len(cells))
	given := 0
	for i, c := range cells {
		exact := census2020 * length[c] / total
		out[i] = cellPop{cell: c, pop: int(math.Floor(exact))}
		fr[i] = share{i, exact - math.Floor(exact)}
		given += out[i].pop
	}
	slices.SortStableFunc(fr, func(a, b share) int { return cmp.Compare(b.frac, a.frac) })
	for k := 0; given < census2020; k++ {
		out[fr[k].i].pop++
		given++
	}
	return slices.DeleteFunc(out, func(c cellPop) bool { return c.pop == 0 }), nil
}

func populationCSV(cs []cellPop) []byte {
	var b bytes.Buffer
	b.WriteString("h3,population\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "%s,%d\n", c.cell, c.pop)
	}
	return b.Bytes()
}

// areasGeoJSON splits the box (with a margin) into four quadrants at the
// town centre.
func areasGeoJSON() []byte {
	type feature struct {
		Type       string            `json:"type"`
		Properties map[string]string `json:"properties"`
		Geometry   map[string]any    `json:"geometry"`
	}
	// A margin past the box keeps every edge cell's centre in some area.
	const m = 0.01
	x0, x1, x2 := box.Min[0]-m, centre[0], box.Max[0]+m
	y0, y1, y2 := box.Min[1]-m, centre[1], box.Max[1]+m
	quad := func(name string, w, s, e, n float64) feature {
		ring := [][2]float64{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}
		return feature{"Feature", map[string]string{"name": name, "parent": "Newark"},
			map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}}}
	}
	fc := map[string]any{"type": "FeatureCollection", "features": []feature{
		quad("North-west", x0, y1, x1, y2),
		quad("North-east", x1, y1, x2, y2),
		quad("South-west", x0, y0, x1, y1),
		quad("South-east", x1, y0, x2, y1),
	}}
	b, _ := json.MarshalIndent(fc, "", " ")
	return append(b, '\n')
}

// makeEvents analyses the study on the street network and places a new park
// in each of the three most populous gaps (at the gap cell from which it
// newly covers the most people), and closes the park whose loss uncovers the
// fewest people.
func makeEvents(streets []byte, parks []park, pop []cellPop) ([]byte, error) {
	ctx := context.Background()
	g, err := walknet.LoadReader(ctx, bytes.NewReader(streets), "streets.osm.gz", walknet.Options{})
	if err != nil {
		return nil, err
	}
	cells := make([]coverage.Cell, len(pop))
	for i, c := range pop {
		cells[i] = coverage.Cell{H3: c.cell, Pos: coverage.CellCenter(c.cell), Population: float64(c.pop)}
	}
	set := coverage.DefaultSettings
	reach, err := walknet.NewReach(ctx, g, cells, set.SpeedKmh, 4*set.Minutes, walknet.Options{})
	if err != nil {
		return nil, err
	}
	stations := make([]coverage.Station, len(parks))
	for i, p := range parks {
		stations[i] = coverage.Station{ID: p.id, Name: p.name, Pos: p.pos}
	}
	analyze := func(st []coverage.Station) (*coverage.Result, error) {
		return coverage.Analyze(ctx, coverage.Study{Settings: set, Stations: st, Cells: cells}, reach, nil)
	}
	base, err := analyze(stations)
	if err != nil {
		return nil, err
	}
	if len(base.Gaps) < 3 {
		return nil, fmt.Errorf("only %d gaps; the demo wants three openings", len(base.Gaps))
	}
	closeAt, least := -1, math.Inf(1)
	for i := range stations {
		r, err := analyze(slices.Delete(slices.Clone(stations), i, i+1))
		if err != nil {
			return nil, err
		}
		if lost := base.Totals().CoveredPopulation - r.Totals().CoveredPopulation; lost < least {
			closeAt, least = i, lost
		}
	}
	var b bytes.Buffer
	b.WriteString("date,action,id,lon,lat,name\n")
	dates := []string{"2025-04-01", "2025-06-15", "2025-09-01"}
	for k, gp := range base.Gaps[:3] {
		if k == 2 {
			c := stations[closeAt]
			fmt.Fprintf(&b, "2025-07-01,close,%s,%.7f,%.7f,%s\n", c.ID, c.Pos[0], c.Pos[1], csvQuote(c.Name))
		}
		// The gap cell from which a new park would newly cover the most people.
		at, most := gp.Cells[0], -1.0
		for _, c := range gp.Cells {
			gain := 0.0
			err := reach.Within(ctx, cells[c].Pos, set.Minutes, func(i int32, _ coverage.Minutes) {
				if !base.Covered(int(i)) {
					gain += cells[i].Population
				}
			})
			if err != nil {
				return nil, err
			}
			if gain > most {
				at, most = c, gain
			}
		}
		p := cells[at].Pos
		fmt.Fprintf(&b, "%s,open,new-park-%d,%.7f,%.7f,New park in gap %d\n", dates[k], k+1, p[0], p[1], gp.ID)
	}
	return b.Bytes(), nil
}

// Workplaces: what the workers layer counts, by OSM tags.
var (
	// jobAmenities are the amenity values staffed by people at work.
	jobAmenities = set("school", "university", "college", "kindergarten", "childcare", "hospital", "clinic", "doctors",
		"dentist", "pharmacy", "townhall", "courthouse", "library", "post_office", "bank", "restaurant", "cafe",
		"fast_food", "pub", "bar", "fuel", "car_wash", "police", "fire_station", "place_of_worship", "veterinary",
		"bus_station", "community_centre", "cinema", "theatre", "arts_centre", "marketplace")
	// jobBuildings are the building values of workplaces.
	jobBuildings = set("commercial", "retail", "industrial", "office", "warehouse", "school", "university", "college",
		"kindergarten", "hospital", "government", "public", "civic", "church", "train_station", "supermarket", "hotel")
	// jobLand are the landuse values of work sites.
	jobLand = set("commercial", "retail", "industrial")
	// siteAmenities are the amenities whose area is a campus: a building=yes
	// standing in one is a workplace.
	siteAmenities = set("school", "university", "college", "hospital")
)

func set(vs ...string) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// workplaceKind names what makes tags a workplace ("office", "shop",
// "craft", "amenity", "building", "landuse"), or "" when nothing does.
func workplaceKind(t osm.Tags) string {
	switch {
	case t.Find("office") != "":
		return "office"
	case t.Find("shop") != "" && t.Find("shop") != "vacant":
		return "shop"
	case t.Find("craft") != "":
		return "craft"
	case jobAmenities[t.Find("amenity")]:
		return "amenity"
	case jobBuildings[t.Find("building")]:
		return "building"
	case jobLand[t.Find("landuse")]:
		return "landuse"
	}
	return ""
}

// workplace is one feature of the workers layer and its weight.
type workplace struct {
	pos    orb.Point
	weight float64
	jobs   int
}

const (
	// pointM2 is the floor area a workplace mapped as a point stands for
	// (a shop, an office, a restaurant).
	pointM2 = 150.0
	// groundShare is the weight of a square metre of a work site's ground
	// (campus, commercial or industrial land, a shop's lot) against one of
	// a building's footprint.
	groundShare = 0.1
)

// workers models the jobs in the box: each workplace weighs its footprint
// area in m² (a building with a workplace tag or a workplace building
// value, or a building=yes inside a campus or commercial/industrial land),
// a tenth of its area for a site without a building tag (landuse, campus,
// shop lot), or pointM2 for a tagged node; jobsTotal is shared out by
// weight, rounded by largest remainder so the total is exact. Each
// workplace sits at its area centroid, or its node; only those in the box
// count. Multipolygon relations are left out (the extract is read without
// relations).
func (ex *extract) workers() []workplace {
	type area struct {
		ring  orb.Ring
		bound orb.Bound
	}
	var sites []area
	var out []workplace
	for _, w := range ex.placeWays {
		r, ok := ex.ring(w)
		if !ok || w.Tags.Find("building") != "" {
			continue
		}
		if jobLand[w.Tags.Find("landuse")] || siteAmenities[w.Tags.Find("amenity")] {
			sites = append(sites, area{r, r.Bound()})
		}
	}
	for _, w := range ex.placeWays {
		r, ok := ex.ring(w)
		if !ok {
			continue
		}
		poly := orb.Polygon{r}
		c, _ := planar.CentroidArea(poly)
		if !box.Contains(c) {
			continue
		}
		m2 := geo.Area(poly)
		var weight float64
		switch b := w.Tags.Find("building"); {
		case b == "yes" && workplaceKind(w.Tags) == "":
			for _, s := range sites {
				if s.bound.Contains(c) && planar.RingContains(s.ring, c) {
					weight = m2
					break
				}
			}
		case b != "" && b != "no":
			weight = m2
		default:
			weight = groundShare * m2
		}
		if weight > 0 {
			out = append(out, workplace{pos: c, weight: weight})
		}
	}
	for _, n := range ex.placeNodes {
		out = append(out, workplace{pos: orb.Point{n.Lon, n.Lat}, weight: pointM2})
	}
	var total float64
	for _, p := range out {
		total += p.weight
	}
	type share struct {
		i    int
		frac float64
	}
	fr := make([]share, len(out))
	given := 0
	for i := range out {
		exact := jobsTotal * out[i].weight / total
		out[i].jobs = int(math.Floor(exact))
		fr[i] = share{i, exact - math.Floor(exact)}
		given += out[i].jobs
	}
	slices.SortStableFunc(fr, func(a, b share) int { return cmp.Compare(b.frac, a.frac) })
	for k := 0; given < jobsTotal; k++ {
		out[fr[k].i].jobs++
		given++
	}
	return slices.DeleteFunc(out, func(p workplace) bool { return p.jobs == 0 })
}

func workersCSV(ps []workplace) []byte {
	var b bytes.Buffer
	b.WriteString("lon,lat,workers\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "%.7f,%.7f,%d\n", p.pos[0], p.pos[1], p.jobs)
	}
	return b.Bytes()
}

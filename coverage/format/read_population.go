package format

import (
	"fmt"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/uber/h3-go/v4"
	"github.com/walkshed/walkshed/coverage"
	"github.com/walkshed/walkshed/coverage/crs"
)

// PopulationOptions name the columns (CSV) or property (GeoJSON) a
// population file keeps its values in, and how to read it; "" means
// detect. The population is found under population, pop, pop_total, total,
// count, value, 人口 or 常住人口; H3 indexes under h3 (or id, see
// ReadPopulation); positions as for PointOptions. Where filters rows or
// features, and Encoding, CRS, Near and Warn work, as in PointOptions.
type PopulationOptions struct {
	PopCol, H3Col, LonCol, LatCol string
	// Layer is the name of the population layer read (workers, …): with
	// no PopCol, a column or property of that name is taken first.
	Layer    string
	Where    string
	Encoding string
	CRS      crs.Transform
	Near     orb.Bound
	Warn     func(Warning)
}

// ReadPopulation reads people from a CSV or GeoJSON file (sniffed, unpacked
// and decoded as in ReadStations).
//
// CSV comes in two shapes. An H3 table has an H3Col, an "h3" column, or an
// "id" column whose values are all valid H3 cell indexes (an id column is
// also taken as H3 when there are no lon/lat columns); its rows become
// PopCells, and lon/lat columns, if present, are ignored (naming LonCol or
// LatCol makes the file a table of points instead). All indexes of a file
// must share one resolution; rows that repeat a cell are added to its first
// row, with one warning. Otherwise the rows are points with lon/lat columns
// and become PopPoints.
//
// GeoJSON Points become PopPoints, Polygons and MultiPolygons PopPolygons;
// every feature needs a population property.
//
// Populations must be finite and not negative; rows with 0 are kept, and
// empty values (or null in GeoJSON) count as 0, with one warning. A cell
// or polygon holding more people than any place on Earth does on its area
// (see maxPeoplePerKm2) is an error; so are points at (0, 0).
func ReadPopulation(path string, opt PopulationOptions) (coverage.Population, error) {
	in, err := loadInput(path, opt.Encoding, opt.Warn)
	if err != nil {
		return coverage.Population{}, err
	}
	var pop coverage.Population
	if in.isJSON {
		pop, err = populationGeoJSON(in, opt)
	} else {
		pop, err = populationCSV(in, opt)
	}
	if err != nil {
		return coverage.Population{}, err // nothing half-read
	}
	return pop, nil
}

func populationCSV(in *input, opt PopulationOptions) (coverage.Population, error) {
	var pop coverage.Population
	path := in.path
	t, err := readCSVTable(in)
	if err != nil {
		return pop, err
	}
	popCol, err := t.column("population", opt.PopCol, opt.popNames(), true)
	if err != nil {
		return pop, err
	}
	h3Col, err := t.h3Column(opt)
	if err != nil {
		return pop, err
	}
	lonCol, latCol := -1, -1
	if h3Col < 0 {
		if lonCol, err = t.column("longitude", opt.LonCol, lonNames, false); err != nil {
			return pop, err
		}
		if latCol, err = t.column("latitude", opt.LatCol, latNames, false); err != nil {
			return pop, err
		}
		if lonCol < 0 || latCol < 0 {
			return pop, lineErr(path, t.headerLine, "no position columns: need longitude and latitude (accepted: %s and %s) or H3 indexes (h3, or id holding H3 indexes); columns found: %s",
				strings.Join(lonNames, ", "), strings.Join(latNames, ", "), quoteList(t.header))
		}
		if lonCol == latCol {
			return pop, lineErr(path, t.headerLine, "column %q cannot be both longitude and latitude", t.header[lonCol])
		}
	}
	filter, err := t.filter(opt.Where)
	if err != nil {
		return pop, err
	}
	var pl *placer
	if h3Col < 0 {
		pl = t.placer(lonCol, latCol, opt.CRS, opt.Near)
	}
	// Rows are converted on every core into slots of their own (kept marks
	// the rows that pass the filter, blank those with an empty population);
	// the first bad row in file order is reported, as a sequential reading
	// would.
	popWhat := fmt.Sprintf("population (column %q)", t.header[popCol])
	kept := make([]bool, len(t.rows))
	blank := make([]bool, len(t.rows))
	var points []coverage.PopPoint
	var cells []coverage.PopCell
	if h3Col < 0 {
		points = make([]coverage.PopPoint, len(t.rows))
	} else {
		cells = make([]coverage.PopCell, len(t.rows))
	}
	err = inParallel(len(t.rows), func(from, to int) error {
		for i := from; i < to; i++ {
			ok, err := t.keep(filter, i)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			row, line := t.rows[i], t.lines[i]
			var n float64
			if strings.TrimSpace(row[popCol]) == "" {
				blank[i] = true
			} else if n, err = t.number(row[popCol], popWhat); err != nil {
				return lineErr(path, line, "%w", err)
			}
			if n < 0 {
				return lineErr(path, line, "negative population %v", n)
			}
			n += 0 // -0 reads as 0
			kept[i] = true
			if h3Col < 0 {
				pos, err := t.lonLat(i, lonCol, latCol, pl)
				if err != nil {
					return err
				}
				points[i] = coverage.PopPoint{Pos: pos, Population: n}
				continue
			}
			s := strings.TrimSpace(row[h3Col])
			c, err := coverage.ParseCell(s)
			if err != nil {
				return lineErr(path, line, "invalid H3 index %q in column %q", s, t.header[h3Col])
			}
			if err := checkDensity(n, func() float64 { return h3.CellAreaKm2(c) }, "H3 cell "+s); err != nil {
				return lineErr(path, line, "%w", err)
			}
			cells[i] = coverage.PopCell{H3: c, Population: n}
		}
		return nil
	})
	if err != nil {
		return pop, err
	}
	res, resLine := -1, 0
	var at map[h3.Cell]int // cell → index in pop.Cells and cellLine
	var cellLine []int     // the line of each cell's first row
	if h3Col >= 0 {
		at, cellLine = make(map[h3.Cell]int, len(t.rows)), make([]int, 0, len(t.rows))
	}
	repeats, firstRepeat, firstRepeatOf := 0, 0, 0
	blanks, firstBlank := 0, 0
	for i, k := range kept {
		if !k {
			continue
		}
		if blank[i] {
			if blanks++; blanks == 1 {
				firstBlank = t.lines[i]
			}
		}
		if h3Col < 0 {
			pop.Points = append(pop.Points, points[i])
			continue
		}
		c := cells[i].H3
		if r := c.Resolution(); res < 0 {
			res, resLine = r, t.lines[i]
		} else if r != res {
			return pop, lineErr(path, t.lines[i], "H3 index %s has resolution %d, but the file's cells have resolution %d (line %d): mixed resolutions", strings.TrimSpace(t.rows[i][h3Col]), r, res, resLine)
		}
		if j, dup := at[c]; dup {
			if repeats++; repeats == 1 {
				firstRepeat, firstRepeatOf = i, j
			}
			pop.Cells[j].Population += cells[i].Population
			if err := checkDensity(pop.Cells[j].Population, func() float64 { return h3.CellAreaKm2(c) }, fmt.Sprintf("H3 cell %s summed over its rows from line %d", c, cellLine[j])); err != nil {
				return pop, lineErr(path, t.lines[i], "%w", err)
			}
			continue
		}
		at[c] = len(pop.Cells)
		cellLine = append(cellLine, t.lines[i])
		pop.Cells = append(pop.Cells, cells[i])
	}
	if len(pop.Points) == 0 && len(pop.Cells) == 0 {
		return pop, fileErr(path, "no row passes where %q: no population", opt.Where)
	}
	if repeats > 0 {
		warnf(opt.Warn, Warning{Path: path, Line: t.lines[firstRepeat]}, "%d %s the H3 cell of an earlier row (the first, cell %s, also on line %d); their populations are added together",
			repeats, plural(repeats, "row repeats", "rows repeat"), cells[firstRepeat].H3, cellLine[firstRepeatOf])
	}
	if blanks > 0 {
		warnf(opt.Warn, Warning{Path: path, Line: firstBlank}, "%d %s an empty population (column %q), counted as 0 (the first on line %d)",
			blanks, plural(blanks, "row has", "rows have"), t.header[popCol], firstBlank)
	}
	return pop, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// h3Column decides whether the table is an H3 table and returns its index
// column, or -1 for a table of points.
func (t *csvTable) h3Column(opt PopulationOptions) (int, error) {
	if opt.H3Col != "" {
		return t.column("H3", opt.H3Col, nil, true)
	}
	if opt.LonCol == "" && opt.LatCol == "" {
		if i, err := t.column("H3", "", h3Names, false); i >= 0 || err != nil {
			return i, err
		}
	}
	id, err := t.column("id", "", idNames, false)
	if id < 0 || err != nil {
		return -1, err
	}
	if opt.LonCol != "" || opt.LatCol != "" {
		return -1, nil // positions named explicitly: a table of points
	}
	if pickName(t.header, "", lonNames) < 0 || pickName(t.header, "", latNames) < 0 {
		return id, nil // no positions: the ids must be H3 indexes
	}
	for _, row := range t.rows {
		if _, err := coverage.ParseCell(strings.TrimSpace(row[id])); err != nil {
			return -1, nil
		}
	}
	return id, nil
}

func populationGeoJSON(in *input, opt PopulationOptions) (coverage.Population, error) {
	var pop coverage.Population
	path := in.path
	fs, tr, err := readGeoJSON(path, in.data, opt.CRS)
	if err != nil {
		return pop, err
	}
	popKey, err := gjProps(path, fs, "population", opt.PopCol, opt.popNames(), "")
	if err != nil {
		return pop, err
	}
	if popKey == "" {
		return pop, missingProp(path, fs, "population", opt.popNames())
	}
	filter, err := gjWhere(path, fs, opt.Where)
	if err != nil {
		return pop, err
	}
	g := placerOf(fs, tr, opt.Near)
	blanks, firstBlank := 0, 0
	for i := range fs {
		f := &fs[i]
		ok, err := filter.keep(path, f)
		if err != nil {
			return pop, err
		}
		if !ok {
			continue
		}
		v, present := f.props[popKey]
		if !present {
			return pop, featureErr(path, f.num, "no population property %q", popKey)
		}
		var n float64
		if s, isText := v.(string); v == nil || isText && strings.TrimSpace(s) == "" {
			if blanks++; blanks == 1 {
				firstBlank = f.num
			}
		} else if n, err = propNumber(v, fmt.Sprintf("population (property %q)", popKey)); err != nil {
			return pop, featureErr(path, f.num, "%w", err)
		}
		if n < 0 {
			return pop, featureErr(path, f.num, "negative population %v", n)
		}
		n += 0 // -0 reads as 0
		switch f.geomType {
		case "Point":
			p, err := f.decodePoint(g)
			if err != nil {
				return pop, featureErr(path, f.num, "%w", err)
			}
			pop.Points = append(pop.Points, coverage.PopPoint{Pos: p, Population: n})
		case "Polygon", "MultiPolygon":
			mp, err := f.decodeAreal(g)
			if err != nil {
				return pop, featureErr(path, f.num, "%w", err)
			}
			if err := checkDensity(n, func() float64 { return geo.Area(mp) / 1e6 }, "the "+f.geomType); err != nil {
				return pop, featureErr(path, f.num, "%w", err)
			}
			pop.Polygons = append(pop.Polygons, coverage.PopPolygon{Geom: mp, Population: n})
		case "":
			return pop, featureErr(path, f.num, "geometry is null, want a Point, Polygon or MultiPolygon")
		default:
			return pop, featureErr(path, f.num, "geometry is %s, want a Point, Polygon or MultiPolygon", f.geomType)
		}
	}
	if len(pop.Points) == 0 && len(pop.Polygons) == 0 {
		return pop, fileErr(path, "no feature passes where %q: no population", opt.Where)
	}
	if blanks > 0 {
		warnf(opt.Warn, Warning{Path: path, Feature: firstBlank}, "%d %s an empty population (property %q), counted as 0 (the first is feature %d)",
			blanks, plural(blanks, "feature has", "features have"), popKey, firstBlank)
	}
	return pop, nil
}

// popNames are the population column names detected: the layer's name
// first, when there is one.
func (opt PopulationOptions) popNames() []string {
	if opt.Layer == "" {
		return popNames
	}
	return append([]string{opt.Layer}, popNames...)
}

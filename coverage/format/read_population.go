package format

import (
	"fmt"
	"strings"

	"github.com/paulmach/orb"
	"github.com/walkshed/walkshed/coverage"
)

// PopulationOptions name the columns (CSV) or property (GeoJSON) a
// population file keeps its values in; "" means detect. The population is
// found under population, pop, pop_total, total, count or value; H3 indexes
// under h3 (or id, see ReadPopulation); positions as for PointOptions.
// Where filters rows or features as in PointOptions.
type PopulationOptions struct {
	PopCol, H3Col, LonCol, LatCol string
	Where                         string
}

// ReadPopulation reads people from a CSV or GeoJSON file (sniffed as in
// ReadStations).
//
// CSV comes in two shapes. An H3 table has an H3Col, an "h3" column, or an
// "id" column whose values are all valid H3 cell indexes (an id column is
// also taken as H3 when there are no lon/lat columns); its rows become
// PopCells, and lon/lat columns, if present, are ignored (naming LonCol or
// LatCol makes the file a table of points instead). All indexes of a file
// must share one resolution. Otherwise the rows are points with
// lon/lat columns and become PopPoints.
//
// GeoJSON Points become PopPoints, Polygons and MultiPolygons PopPolygons;
// every feature needs a population property.
//
// Populations must be finite and not negative; rows with 0 are kept.
func ReadPopulation(path string, opt PopulationOptions) (coverage.Population, error) {
	data, isJSON, err := loadInput(path)
	if err != nil {
		return coverage.Population{}, err
	}
	var pop coverage.Population
	if isJSON {
		pop, err = populationGeoJSON(path, data, opt)
	} else {
		pop, err = populationCSV(path, data, opt)
	}
	if err != nil {
		return coverage.Population{}, err // nothing half-read
	}
	return pop, nil
}

func populationCSV(path string, data []byte, opt PopulationOptions) (coverage.Population, error) {
	var pop coverage.Population
	t, err := readCSVTable(path, data)
	if err != nil {
		return pop, err
	}
	popCol, err := t.column("population", opt.PopCol, popNames, true)
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
	var sw swapSignal
	if h3Col < 0 {
		sw = t.swapSignal(lonCol, latCol)
	}
	// Rows are converted on every core into slots of their own (kept marks
	// the rows that pass the filter); the first bad row in file order is
	// reported, as a sequential reading would.
	popWhat := fmt.Sprintf("population (column %q)", t.header[popCol])
	kept := make([]bool, len(t.rows))
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
			n, err := parseNumber(row[popCol], popWhat)
			if err != nil {
				return lineErr(path, line, "%w", err)
			}
			if n < 0 {
				return lineErr(path, line, "negative population %v", n)
			}
			n += 0 // -0 reads as 0
			kept[i] = true
			if h3Col < 0 {
				lon, lat, err := t.lonLat(i, lonCol, latCol, sw)
				if err != nil {
					return err
				}
				points[i] = coverage.PopPoint{Pos: orb.Point{lon, lat}, Population: n}
				continue
			}
			s := strings.TrimSpace(row[h3Col])
			c, err := coverage.ParseCell(s)
			if err != nil {
				return lineErr(path, line, "invalid H3 index %q in column %q", s, t.header[h3Col])
			}
			cells[i] = coverage.PopCell{H3: c, Population: n}
		}
		return nil
	})
	if err != nil {
		return pop, err
	}
	res, resLine := -1, 0
	for i, k := range kept {
		if !k {
			continue
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
		pop.Cells = append(pop.Cells, cells[i])
	}
	if len(pop.Points) == 0 && len(pop.Cells) == 0 {
		return pop, fileErr(path, "no row passes where %q: no population", opt.Where)
	}
	return pop, nil
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

func populationGeoJSON(path string, data []byte, opt PopulationOptions) (coverage.Population, error) {
	var pop coverage.Population
	fs, err := readGeoJSON(path, data)
	if err != nil {
		return pop, err
	}
	popKey, err := gjProps(path, fs, "population", opt.PopCol, popNames, "")
	if err != nil {
		return pop, err
	}
	if popKey == "" {
		return pop, missingProp(path, fs, "population", popNames)
	}
	filter, err := gjWhere(path, fs, opt.Where)
	if err != nil {
		return pop, err
	}
	g := geomChecker{sw: swapSignalOf(fs)}
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
		n, err := propNumber(v, fmt.Sprintf("population (property %q)", popKey))
		if err != nil {
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
	return pop, nil
}

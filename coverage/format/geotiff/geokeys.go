package geotiff

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/walkshed/walkshed/coverage/crs"
)

// GeoKeys this reader uses (GeoTIFF 1.1, OGC 19-008r4).
const (
	keyModelType       = 1024
	keyRasterType      = 1025
	keyCitation        = 1026
	keyGeographicType  = 2048
	keyGeogCitation    = 2049
	keyGeodeticDatum   = 2050
	keyGeogEllipsoid   = 2056
	keySemiMajorAxis   = 2057
	keyInvFlattening   = 2059
	keyProjectedCSType = 3072
	keyPCSCitation     = 3073
	keyProjCoordTrans  = 3075
	keyProjLinearUnits = 3076
	keyProjNatOrigLong = 3080
	keyProjNatOrigLat  = 3081
	keyProjFalseEast   = 3082
	keyProjFalseNorth  = 3083
	keyProjCenterLong  = 3088
	keyProjScaleAtNat  = 3092
	keyProjLinearUnitM = 3077 // ProjLinearUnitSizeGeoKey

	userDefined  = 32767
	rasterIsArea = 1
	rasterPoint  = 2
)

// ErrNoGeoreference is wrapped when a raster lacks the tags that place it on
// the Earth.
var ErrNoGeoreference = errors.New("no georeferencing")

// geoKeys holds the decoded GeoKeyDirectory.
type geoKeys struct {
	short  map[uint16]uint16
	double map[uint16][]float64
	ascii  map[uint16]string
}

func readGeoKeys(t *ifd) (*geoKeys, error) {
	dir, ok, err := t.uints(tagGeoKeyDirectory)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	if len(dir) < 4 {
		return nil, fmt.Errorf("%w: GeoKeyDirectory has %d values", ErrFormat, len(dir))
	}
	doubles, _, err := t.floats(tagGeoDoubleParams)
	if err != nil {
		return nil, err
	}
	asc, _, err := t.ascii(tagGeoASCIIParams)
	if err != nil {
		return nil, err
	}
	k := &geoKeys{short: map[uint16]uint16{}, double: map[uint16][]float64{}, ascii: map[uint16]string{}}
	if dir[3] > uint64(len(dir)-4)/4 {
		return nil, fmt.Errorf("%w: GeoKeyDirectory claims %d keys in %d values", ErrFormat, dir[3], len(dir))
	}
	for i := range int(dir[3]) {
		e := dir[4+4*i : 8+4*i]
		// The directory's values are SHORTs: a wider one (stored as LONG
		// or LONG8) would change meaning if cut to 16 bits.
		for _, v := range e {
			if v > math.MaxUint16 {
				return nil, fmt.Errorf("%w: GeoKeyDirectory entry %d holds %d, more than a SHORT", ErrFormat, i+1, v)
			}
		}
		id, loc, cnt, val := uint16(e[0]), e[1], e[2], e[3]
		switch loc {
		case 0:
			k.short[id] = uint16(val)
		case tagGeoDoubleParams:
			// val+cnt is not formed: it could wrap past the bound.
			if val > uint64(len(doubles)) || cnt > uint64(len(doubles))-val {
				return nil, fmt.Errorf("%w: GeoKey %d points past GeoDoubleParams", ErrFormat, id)
			}
			k.double[id] = doubles[val : val+cnt]
		case tagGeoASCIIParams:
			if val > uint64(len(asc)) || cnt > uint64(len(asc))-val {
				return nil, fmt.Errorf("%w: GeoKey %d points past GeoAsciiParams", ErrFormat, id)
			}
			k.ascii[id] = strings.TrimRight(asc[val:val+cnt], "|\x00")
		case tagGeoKeyDirectory:
			if val < uint64(len(dir)) {
				k.short[id] = uint16(dir[val])
			}
		}
	}
	return k, nil
}

func (k *geoKeys) d(id uint16, def float64) float64 {
	if v, ok := k.double[id]; ok && len(v) > 0 {
		return v[0]
	}
	return def
}

// geoTransform returns GDAL's affine geotransform: x = g[0] + col·g[1] +
// row·g[2], y = g[3] + col·g[4] + row·g[5], for pixel corner coordinates.
func geoTransform(t *ifd, keys *geoKeys) ([6]float64, error) {
	var g [6]float64
	scale, hasScale, err := t.floats(tagModelPixelScale)
	if err != nil {
		return g, err
	}
	tie, hasTie, err := t.floats(tagModelTiepoint)
	if err != nil {
		return g, err
	}
	mt, hasMT, err := t.floats(tagModelTransformation)
	if err != nil {
		return g, err
	}
	switch {
	case hasMT && len(mt) >= 16:
		g = [6]float64{mt[3], mt[0], mt[1], mt[7], mt[4], mt[5]}
	case hasScale && hasTie && len(scale) >= 2 && len(tie) >= 6:
		g = [6]float64{tie[3] - tie[0]*scale[0], scale[0], 0, tie[4] + tie[1]*scale[1], 0, -scale[1]}
	default:
		return g, fmt.Errorf("%w: neither ModelPixelScale with ModelTiepoint nor ModelTransformation", ErrNoGeoreference)
	}
	// PixelIsPoint rasters tie pixel centres; move the origin to the corner
	// as GDAL does.
	if keys != nil && keys.short[keyRasterType] == rasterPoint {
		g[0] -= 0.5*g[1] + 0.5*g[2]
		g[3] -= 0.5*g[4] + 0.5*g[5]
	}
	for _, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return g, fmt.Errorf("%w: geotransform %v is not finite", ErrFormat, g)
		}
	}
	if g[1]*g[5]-g[2]*g[4] == 0 {
		return g, fmt.Errorf("%w: geotransform %v has zero pixel area", ErrFormat, g)
	}
	return g, nil
}

// transform finds the raster's CRS from its GeoKeys: an EPSG code through
// crs.ByEPSG, or a user-defined Transverse Mercator or Mollweide (as GDAL
// writes GHS-POP's ESRI:54009) rebuilt as WKT for crs.FromWKT.
func transform(keys *geoKeys) (crs.Transform, int, error) {
	if keys == nil {
		return nil, 0, fmt.Errorf("%w: no GeoKeyDirectory (CRS unknown)", ErrNoGeoreference)
	}
	model := keys.short[keyModelType]
	pcs, hasPCS := keys.short[keyProjectedCSType]
	gcs, hasGCS := keys.short[keyGeographicType]
	if model == 0 {
		switch {
		case hasPCS:
			model = 1
		case hasGCS:
			model = 2
		}
	}
	citation := strings.Join([]string{keys.ascii[keyCitation], keys.ascii[keyPCSCitation], keys.ascii[keyGeogCitation]}, " | ")
	// GDAL stores a CRS that GeoTIFF keys cannot express (GHS-POP's
	// Mollweide among them) as user-defined, with its ESRI WKT in a citation.
	const pe = "ESRI PE String = "
	for _, id := range []uint16{keyPCSCitation, keyCitation, keyGeogCitation} {
		if c := keys.ascii[id]; strings.HasPrefix(c, pe) {
			if (model == 1 || model == userDefined) && hasPCS && pcs != userDefined {
				break // an EPSG code is better than the WKT
			}
			t, err := crs.FromWKT(strings.TrimPrefix(c, pe))
			return t, 0, err
		}
	}
	switch model {
	case 2:
		if hasGCS && gcs != userDefined {
			t, err := crs.ByEPSG(int(gcs))
			return t, int(gcs), err
		}
		if err := wgs84Like(keys, citation); err != nil {
			return nil, 0, err
		}
		t, err := crs.ByEPSG(4326)
		return t, 0, err
	case 1, userDefined:
		if hasPCS && pcs != userDefined {
			t, err := crs.ByEPSG(int(pcs))
			return t, int(pcs), err
		}
		return userProjected(keys, citation)
	}
	return nil, 0, fmt.Errorf("crs: model type %d (citation %q): %w", model, citation, crs.ErrUnsupported)
}

// wgs84Like accepts a user-defined geographic CRS on WGS-84 or CGCS2000.
func wgs84Like(keys *geoKeys, citation string) error {
	if d, ok := keys.short[keyGeodeticDatum]; ok && d != userDefined {
		switch d {
		case 6326, 1043, 6674: // WGS 84, China 2000, SIRGAS 2000
			return nil
		}
		return fmt.Errorf("crs: geodetic datum EPSG:%d (citation %q): %w", d, citation, crs.ErrUnsupported)
	}
	if gcs, ok := keys.short[keyGeographicType]; ok && gcs != userDefined {
		if _, err := crs.ByEPSG(int(gcs)); err != nil {
			return err
		}
		return nil
	}
	c := strings.ToUpper(citation)
	if strings.Contains(c, "WGS") && strings.Contains(c, "84") || strings.Contains(c, "CGCS2000") || strings.Contains(c, "CHINA 2000") {
		return nil
	}
	if a := keys.d(keySemiMajorAxis, 0); a == 6378137 {
		return nil
	}
	return fmt.Errorf("crs: user-defined geographic CRS (citation %q) not known to be WGS-84: %w", citation, crs.ErrUnsupported)
}

// userProjected rebuilds a user-defined projected CRS as WKT.
func userProjected(keys *geoKeys, citation string) (crs.Transform, int, error) {
	gcs := ""
	if err := wgs84Like(keys, citation); err != nil {
		return nil, 0, err
	}
	a, invf := keys.d(keySemiMajorAxis, 6378137), keys.d(keyInvFlattening, 298.257223563)
	gcs = fmt.Sprintf(`GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["ellipsoid",%.17g,%.17g]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`, a, invf)
	unit := 1.0
	switch u := keys.short[keyProjLinearUnits]; u {
	case 0, 9001:
	case 9002:
		unit = 0.3048
	case 9003:
		unit = 1200.0 / 3937
	case userDefined:
		unit = keys.d(keyProjLinearUnitM, math.NaN())
	default:
		return nil, 0, fmt.Errorf("crs: linear unit EPSG:%d (citation %q): %w", u, citation, crs.ErrUnsupported)
	}
	name := strings.ReplaceAll(citation, `"`, "'")
	method := ""
	ct := keys.short[keyProjCoordTrans]
	switch {
	case ct == 1:
		method = "Transverse_Mercator"
	case strings.Contains(strings.ToUpper(citation), "MOLLWEIDE"):
		method = "Mollweide"
	default:
		return nil, 0, fmt.Errorf("crs: user-defined projection (coordinate transformation code %d, citation %q): %w", ct, citation, crs.ErrUnsupported)
	}
	lon0 := keys.d(keyProjNatOrigLong, keys.d(keyProjCenterLong, 0))
	wkt := fmt.Sprintf(`PROJCS["%s",%s,PROJECTION["%s"],PARAMETER["latitude_of_origin",%.17g],PARAMETER["central_meridian",%.17g],PARAMETER["scale_factor",%.17g],PARAMETER["false_easting",%.17g],PARAMETER["false_northing",%.17g],UNIT["unit",%.17g]]`,
		name, gcs, method, keys.d(keyProjNatOrigLat, 0), lon0, keys.d(keyProjScaleAtNat, 1), keys.d(keyProjFalseEast, 0), keys.d(keyProjFalseNorth, 0), unit)
	t, err := crs.FromWKT(wkt)
	return t, 0, err
}

package crs

import (
	"fmt"
	"strings"
)

// ByEPSG returns the transform of an EPSG code. Supported:
//
//	4326                 WGS 84 geographic
//	4490                 CGCS2000 geographic (taken as WGS-84)
//	3857, 900913, 3785   Web Mercator
//	32601–32660          WGS 84 / UTM zones 1N–60N
//	32701–32760          WGS 84 / UTM zones 1S–60S
//	31965–31976, 31986–31991, 6210, 6211   SIRGAS 2000 / UTM north zones
//	31977–31985, 31992–31996, 5396         SIRGAS 2000 / UTM south zones
//	4491–4501            CGCS2000 / Gauss-Kruger zones 13–23 (6°, zone in false easting)
//	4502–4512            CGCS2000 / Gauss-Kruger CM 75E–135E (6°)
//	4513–4533            CGCS2000 / 3-degree Gauss-Kruger zones 25–45 (zone in false easting)
//	4534–4554            CGCS2000 / 3-degree Gauss-Kruger CM 75E–135E
//	54009 (ESRI)         World Mollweide (GHS-POP)
//
// SIRGAS 2000 and CGCS2000 are within a few centimetres of WGS-84 and no
// datum shift is applied.
func ByEPSG(code int) (Transform, error) {
	name := fmt.Sprintf("EPSG:%d", code)
	switch {
	case code == 4326:
		return geographic{name: name + " WGS 84"}, nil
	case code == 4490:
		return geographic{name: name + " China Geodetic Coordinate System 2000"}, nil
	case code == 3857 || code == 900913 || code == 3785 || code == 102100 || code == 102113:
		return webMercator{name: name + " WGS 84 / Pseudo-Mercator"}, nil
	case code >= 32601 && code <= 32660:
		return utm(name+" WGS 84", WGS84Ellipsoid, code-32600, false), nil
	case code >= 32701 && code <= 32760:
		return utm(name+" WGS 84", WGS84Ellipsoid, code-32700, true), nil
	case code >= 31965 && code <= 31976:
		return utm(name+" SIRGAS 2000", GRS80Ellipsoid, code-31965+11, false), nil
	case code >= 31977 && code <= 31985:
		return utm(name+" SIRGAS 2000", GRS80Ellipsoid, code-31977+17, true), nil
	case code >= 31986 && code <= 31991:
		return utm(name+" SIRGAS 2000", GRS80Ellipsoid, code-31986+17, false), nil
	case code >= 31992 && code <= 31996:
		return utm(name+" SIRGAS 2000", GRS80Ellipsoid, code-31992+17, true), nil
	case code == 6210 || code == 6211:
		return utm(name+" SIRGAS 2000", GRS80Ellipsoid, code-6210+23, false), nil
	case code == 5396:
		return utm(name+" SIRGAS 2000", GRS80Ellipsoid, 26, true), nil
	case code >= 4491 && code <= 4501:
		zone := code - 4491 + 13
		cm := float64(6*zone - 3)
		return newTmerc(fmt.Sprintf("%s CGCS2000 / Gauss-Kruger zone %d", name, zone), GRS80Ellipsoid, cm, 1, float64(zone)*1e6+500000, 0), nil
	case code >= 4502 && code <= 4512:
		cm := float64(75 + 6*(code-4502))
		return newTmerc(fmt.Sprintf("%s CGCS2000 / Gauss-Kruger CM %gE", name, cm), GRS80Ellipsoid, cm, 1, 500000, 0), nil
	case code >= 4513 && code <= 4533:
		zone := code - 4513 + 25
		cm := float64(3 * zone)
		return newTmerc(fmt.Sprintf("%s CGCS2000 / 3-degree Gauss-Kruger zone %d", name, zone), GRS80Ellipsoid, cm, 1, float64(zone)*1e6+500000, 0), nil
	case code >= 4534 && code <= 4554:
		cm := float64(75 + 3*(code-4534))
		return newTmerc(fmt.Sprintf("%s CGCS2000 / 3-degree Gauss-Kruger CM %gE", name, cm), GRS80Ellipsoid, cm, 1, 500000, 0), nil
	case code == 54009:
		return mollweide{name: "ESRI:54009 World Mollweide", r: WGS84Ellipsoid.A, toMetr: 1}, nil
	}
	return nil, fmt.Errorf("crs: EPSG:%d: %w", code, ErrUnsupported)
}

func utm(datum string, ell Ellipsoid, zone int, south bool) Transform {
	hemi, y0 := "N", 0.0
	if south {
		hemi, y0 = "S", 10000000
	}
	return newTmerc(fmt.Sprintf("%s / UTM zone %d%s", datum, zone, hemi), ell, float64(6*zone-183), 0.9996, 500000, y0)
}

// Lookup returns the transform for a CRS given as GeoPackage's
// gpkg_spatial_ref_sys row gives it: organization (e.g. "EPSG", "ESRI",
// "NONE"), organization_coordsys_id, and the WKT definition (WKT1 or WKT2;
// may be empty or "undefined"). The code is tried first; when the
// organization or code is unknown, a WKT that names a supported projection
// clearly (Transverse Mercator, Mollweide, Web Mercator, or a geographic CRS
// on a WGS-84-like datum, with its parameters) is parsed. The error names the
// code and the WKT's name when neither works.
func Lookup(org string, code int, wkt string) (Transform, error) {
	o := strings.ToUpper(strings.TrimSpace(org))
	var codeErr error
	switch o {
	case "EPSG", "ESRI":
		t, err := ByEPSG(code)
		if err == nil {
			return t, nil
		}
		codeErr = fmt.Errorf("crs: %s:%d: %w", o, code, ErrUnsupported)
	default:
		codeErr = fmt.Errorf("crs: %s:%d: %w", org, code, ErrUnsupported)
	}
	w := strings.TrimSpace(wkt)
	if w == "" || strings.EqualFold(w, "undefined") {
		return nil, codeErr
	}
	t, err := FromWKT(w)
	if err != nil {
		return nil, fmt.Errorf("%w; %w", codeErr, err)
	}
	return t, nil
}

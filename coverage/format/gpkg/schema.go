package gpkg

import (
	"fmt"
	"strings"
)

// The GeoPackage core tables, as the 1.3 specification (Annex C) and GDAL
// create them.
var coreSchema = []string{
	`CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)`,
	`CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))`,
	`CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))`,
	`CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))`,
	// The table QGIS and GDAL use for styles stored in the file.
	`CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30000), update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`,
}

// wkt4326 is EPSG:4326 in OGC WKT 1, as GDAL writes it.
const wkt4326 = `GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]`

// srsRows are the three rows every GeoPackage must hold (requirement 11).
var srsRows = [][6]any{
	{"Undefined Cartesian SRS", -1, "NONE", -1, "undefined", "undefined Cartesian coordinate reference system"},
	{"Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"},
	{"WGS 84 geodetic", 4326, "EPSG", 4326, wkt4326, "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"},
}

const rtreeExtensionDef = "http://www.geopackage.org/spec/#extension_rtree"

// quoteID quotes an SQL identifier.
func quoteID(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// rtreeTriggers are the spec's triggers (Annex F.3) keeping rtree_<t>_<c> in
// step with edits made later by GDAL or QGIS. They call ST_* functions that
// those clients provide, so the writer fills the index itself and creates the
// triggers last.
func rtreeTriggers(table, geom, fid string) []string {
	rt := "rtree_" + table + "_" + geom
	t, c, i, r := quoteID(table), quoteID(geom), quoteID(fid), quoteID(rt)
	ins := fmt.Sprintf(`INSERT OR REPLACE INTO %s VALUES (NEW.%s, ST_MinX(NEW.%s), ST_MaxX(NEW.%s), ST_MinY(NEW.%s), ST_MaxY(NEW.%s));`, r, i, c, c, c, c)
	return []string{
		fmt.Sprintf(`CREATE TRIGGER %s AFTER INSERT ON %s WHEN (new.%s NOT NULL AND NOT ST_IsEmpty(NEW.%s)) BEGIN %s END`, quoteID(rt+"_insert"), t, c, c, ins),
		fmt.Sprintf(`CREATE TRIGGER %s AFTER UPDATE OF %s ON %s WHEN OLD.%s = NEW.%s AND (NEW.%s NOTNULL AND NOT ST_IsEmpty(NEW.%s)) BEGIN %s END`, quoteID(rt+"_update1"), c, t, i, i, c, c, ins),
		fmt.Sprintf(`CREATE TRIGGER %s AFTER UPDATE OF %s ON %s WHEN OLD.%s = NEW.%s AND (NEW.%s ISNULL OR ST_IsEmpty(NEW.%s)) BEGIN DELETE FROM %s WHERE id = OLD.%s; END`, quoteID(rt+"_update2"), c, t, i, i, c, c, r, i),
		fmt.Sprintf(`CREATE TRIGGER %s AFTER UPDATE ON %s WHEN OLD.%s != NEW.%s AND (NEW.%s NOTNULL AND NOT ST_IsEmpty(NEW.%s)) BEGIN DELETE FROM %s WHERE id = OLD.%s; %s END`, quoteID(rt+"_update3"), t, i, i, c, c, r, i, ins),
		fmt.Sprintf(`CREATE TRIGGER %s AFTER UPDATE ON %s WHEN OLD.%s != NEW.%s AND (NEW.%s ISNULL OR ST_IsEmpty(NEW.%s)) BEGIN DELETE FROM %s WHERE id IN (OLD.%s, NEW.%s); END`, quoteID(rt+"_update4"), t, i, i, c, c, r, i, i),
		fmt.Sprintf(`CREATE TRIGGER %s AFTER DELETE ON %s WHEN old.%s NOT NULL BEGIN DELETE FROM %s WHERE id = OLD.%s; END`, quoteID(rt+"_delete"), t, c, r, i),
	}
}

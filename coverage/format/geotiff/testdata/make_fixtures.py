#!/usr/bin/python3
"""Makes the GeoTIFF fixtures of walkshed's geotiff reader with GDAL, and the
expected answers GDAL gives for them.

Run from this folder:  /usr/bin/python3 make_fixtures.py
Needs gdal-bin and python3-gdal (apt install gdal-bin python3-gdal).

Each fixture is first written uncompressed by the GDAL Python API from a
deterministic pattern (no randomness), then converted with gdal_translate and
the creation options in its row of FIXTURES below, so each file is made by a
gdal_translate command that is printed as it runs. The expected answers come
from GDAL alone:
  NAME.asc           gdal_translate -of AAIGrid NAME.tif NAME.asc (pixel values)
  expected.txt       per fixture: size, data type, nodata, geotransform, the sum
                     of valid pixels (nodata excluded) by numpy on GDAL's
                     ReadAsArray, and gdalinfo -stats' STATISTICS_MEAN and
                     valid count; plus WGS-84 centres of a few pixels from
                     gdaltransform (PROJ).
"""
import math
import os
import subprocess

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()


def pattern(h, w, kind):
    r, c = np.mgrid[0:h, 0:w]
    v = ((r * 7 + c * 13) % 17).astype(np.float64) * 1.5 + (r % 3) * 0.25
    v[(r * 5 + c * 3) % 11 == 0] = 0.0  # unpopulated pixels
    if kind == "int":
        v = np.floor(v * 4)
    return v


def fixture(name, w, h, dtype, srs, gt, opts, kind="float", nodata=None, nodata_cells=(), extra=None, bands=1):
    src = "/tmp/walkshed_src_%s.tif" % name
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(src, w, h, bands, dtype)
    if gt is not None:
        ds.SetGeoTransform(gt)
    if srs is not None:
        s = osr.SpatialReference()
        s.SetFromUserInput(srs)
        ds.SetProjection(s.ExportToWkt())
    v = pattern(h, w, kind)
    for (rr, cc) in nodata_cells:
        v[rr, cc] = nodata
    if extra is not None:
        extra(v)
    for b in range(bands):
        band = ds.GetRasterBand(b + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(v * (b + 1))
    ds = None
    cmd = ["gdal_translate", "-q"] + sum((["-co", o] for o in opts), []) + [src, name + ".tif"]
    print(" ".join(cmd))
    subprocess.run(cmd, check=True)
    os.remove(src)


D = gdal
FIXTURES = [
    # name, width, height, type, CRS, geotransform, creation options, kwargs
    ("f32_4326_lzw_pred3_tiled", 40, 30, D.GDT_Float32, "EPSG:4326", (121.30, 0.01, 0, 31.40, 0, -0.01),
     ["COMPRESS=LZW", "PREDICTOR=3", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"], dict(nodata=-1.0, nodata_cells=[(0, 0), (5, 7)])),
    ("f64_4326_deflate_pred3", 37, 23, D.GDT_Float64, "EPSG:4326", (121.45, 0.0005, 0, 31.25, 0, -0.0005),
     ["COMPRESS=DEFLATE", "PREDICTOR=3", "BLOCKYSIZE=5"], dict()),
    ("f32_4326_deflate_pred2", 25, 20, D.GDT_Float32, "EPSG:4326", (-46.70, 0.001, 0, -23.50, 0, -0.001),
     ["COMPRESS=DEFLATE", "PREDICTOR=2"], dict()),
    ("i16_32651_lzw_pred2", 33, 21, D.GDT_Int16, "EPSG:32651", (350000, 100, 0, 3460000, 0, -100),
     ["COMPRESS=LZW", "PREDICTOR=2", "BLOCKYSIZE=4"], dict(kind="int", nodata=-32768, nodata_cells=[(2, 3)])),
    ("u16_3857_deflate_pred2_tiled_be", 35, 33, D.GDT_UInt16, "EPSG:3857", (13520000, 250, 0, 3665000, 0, -250),
     ["COMPRESS=DEFLATE", "PREDICTOR=2", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "ENDIANNESS=BIG"], dict(kind="int", nodata=65535, nodata_cells=[(1, 1)])),
    ("f32_54009_lzw_ghspop", 30, 24, D.GDT_Float32, "ESRI:54009", (11700000, 1000, 0, 3790000, 0, -1000),
     ["COMPRESS=LZW", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"], dict(nodata=-200, nodata_cells=[(0, 1), (23, 29)])),
    ("f64_54009_none_be", 12, 9, D.GDT_Float64, "ESRI:54009", (11720000, 100, 0, 3770000, 0, -100),
     ["ENDIANNESS=BIG", "BLOCKYSIZE=2"], dict()),
    ("i32_4549_deflate", 22, 18, D.GDT_Int32, "EPSG:4549", (545000, 200, 0, 3458000, 0, -200),
     ["COMPRESS=DEFLATE"], dict(kind="int")),
    ("u32_32723_none_tiled", 20, 17, D.GDT_UInt32, "EPSG:32723", (330000, 50, 0, 7395000, 0, -50),
     ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"], dict(kind="int")),
    ("u8_4528_packbits", 26, 19, D.GDT_Byte, "EPSG:4528", (40345000, 500, 0, 3460000, 0, -500),
     ["COMPRESS=PACKBITS"], dict(kind="int", nodata=255, nodata_cells=[(3, 3)])),
    ("f32_32651_rotated", 16, 12, D.GDT_Float32, "EPSG:32651", (350000, 86.6, -50, 3460000, 50, 86.6),
     ["COMPRESS=LZW"], dict()),
    ("f32_4326_bigtiff", 18, 14, D.GDT_Float32, "EPSG:4326", (121.40, 0.002, 0, 31.30, 0, -0.002),
     ["BIGTIFF=YES", "COMPRESS=DEFLATE", "PREDICTOR=3"], dict()),
    ("f32_4326_fill_no_nodata", 20, 15, D.GDT_Float32, "EPSG:4326", (121.40, 0.001, 0, 31.30, 0, -0.001),
     ["COMPRESS=LZW"], dict(extra=lambda v: (v.__setitem__((slice(0, 2), slice(None)), -3.4028234663852886e38), v.__setitem__((4, 4), -99999), v.__setitem__((5, 5), np.nan)))),
    # Bad input.
    ("bad_no_georef", 8, 6, D.GDT_Float32, None, None, [], dict()),
    ("bad_negative", 8, 6, D.GDT_Int16, "EPSG:4326", (121.4, 0.001, 0, 31.3, 0, -0.001), [], dict(kind="int", extra=lambda v: v.__setitem__((2, 5), -7))),
    ("bad_two_bands", 8, 6, D.GDT_Float32, "EPSG:4326", (121.4, 0.001, 0, 31.3, 0, -0.001), [], dict(bands=2)),
    ("bad_jpeg", 16, 16, D.GDT_Byte, "EPSG:4326", (121.4, 0.001, 0, 31.3, 0, -0.001), ["COMPRESS=JPEG"], dict(kind="int")),
    ("bad_crs_lambert93", 8, 6, D.GDT_Float32, "EPSG:2154", (650000, 100, 0, 6860000, 0, -100), [], dict()),
]

for name, w, h, dt, srs, gt, opts, kw in FIXTURES:
    fixture(name, w, h, dt, srs, gt, opts, **kw)

with open("expected.txt", "w") as out:
    out.write("# name width height type nodata sum valid_count gdal_stats_mean gdal_stats_valid_percent gt0 gt1 gt2 gt3 gt4 gt5\n")
    out.write("# centre NAME row col lon lat   (pixel centre in WGS-84 by gdaltransform)\n")
    for name, w, h, dt, srs, gt, opts, kw in FIXTURES:
        if name.startswith("bad_"):
            continue
        print("gdal_translate -q -of AAIGrid %s.tif %s.asc" % (name, name))
        subprocess.run(["gdal_translate", "-q", "-of", "AAIGrid", name + ".tif", name + ".asc"], check=True)
        for aux in (name + ".asc.aux.xml", name + ".prj"):
            if os.path.exists(aux):
                os.remove(aux)
        ds = gdal.Open(name + ".tif")
        b = ds.GetRasterBand(1)
        a = b.ReadAsArray().astype(np.float64)
        nd = b.GetNoDataValue()
        valid = ~np.isnan(a)
        if nd is not None:
            valid &= a != nd
        valid &= a > -1e30
        valid &= a != -99999
        s = a[valid].sum()
        info = gdal.Info(name + ".tif", stats=True, format="json")
        md = info["bands"][0].get("metadata", {}).get("", {})
        mean = float(md.get("STATISTICS_MEAN", "nan"))
        cnt = md.get("STATISTICS_VALID_PERCENT", "nan")
        if os.path.exists(name + ".tif.aux.xml"):
            os.remove(name + ".tif.aux.xml")
        g = ds.GetGeoTransform()
        out.write("%s %d %d %s %s %.17g %d %.17g %s %s\n" % (
            name, w, h, gdal.GetDataTypeName(b.DataType), "none" if nd is None else repr(nd), s, valid.sum(), mean, cnt,
            " ".join(repr(x) for x in g)))
        pix = [(0, 0), (h // 2, w // 2), (h - 1, w - 1), (1, w - 2)]
        inp = "".join("%r %r\n" % (c + 0.5, r + 0.5) for r, c in pix)
        res = subprocess.run(["gdaltransform", "-t_srs", "EPSG:4326", name + ".tif"], input=inp,
                             capture_output=True, text=True, check=True).stdout.split("\n")
        for (r, c), line in zip(pix, res):
            f = line.split()
            out.write("centre %s %d %d %s %s\n" % (name, r, c, f[0], f[1]))

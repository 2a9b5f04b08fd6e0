#!/usr/bin/python3
"""Writes proj_expected.txt: PROJ's (through GDAL's gdaltransform) projection
of lon/lat points into every CRS walkshed's crs.ByEPSG supports.

Run from this folder:  /usr/bin/python3 make_expected.py
Needs gdal-bin (gdaltransform). The source CRS is the target's own
geographic CRS (EPSG:4326 WGS 84, EPSG:4674 SIRGAS 2000, EPSG:4490
CGCS2000), so no datum shift is involved. gdaltransform uses lon/lat and
easting/northing order. Points are a fixed grid plus seeded random points.
"""
import random
import subprocess

rng = random.Random(20240607)


def utm_points(zone, south):
    cm = 6 * zone - 183
    lats = [-0.5, -23.0, -47.0, -71.0, -79.9] if south else [0.5, 23.0, 47.0, 71.0, 83.9]
    pts = [(cm + d, lat) for d in (-3.5, -2.0, 0.0, 1.3, 3.0) for lat in lats]
    for _ in range(5):
        lat = rng.uniform(-80, 0) if south else rng.uniform(0, 84)
        pts.append((cm + rng.uniform(-3, 3), lat))
    return pts


def gk_points(cm, half):
    pts = [(cm + d, lat) for d in (-half - 0.5, -half, 0.0, half / 2, half) for lat in (18.0, 25.0, 31.2, 40.0, 53.0)]
    for _ in range(5):
        pts.append((cm + rng.uniform(-half, half), rng.uniform(17, 54)))
    return pts


jobs = []  # (code, target, source, points)
for z in range(1, 61):
    jobs.append((32600 + z, "EPSG:%d" % (32600 + z), "EPSG:4326", utm_points(z, False)))
    jobs.append((32700 + z, "EPSG:%d" % (32700 + z), "EPSG:4326", utm_points(z, True)))
sirgas = {}
for c in range(31965, 31977):
    sirgas[c] = (c - 31965 + 11, False)
for c in range(31977, 31986):
    sirgas[c] = (c - 31977 + 17, True)
for c in range(31986, 31992):
    sirgas[c] = (c - 31986 + 17, False)
for c in range(31992, 31997):
    sirgas[c] = (c - 31992 + 17, True)
sirgas[6210] = (23, False)
sirgas[6211] = (24, False)
sirgas[5396] = (26, True)
for c, (z, s) in sorted(sirgas.items()):
    jobs.append((c, "EPSG:%d" % c, "EPSG:4674", utm_points(z, s)))
for c in range(4491, 4502):
    jobs.append((c, "EPSG:%d" % c, "EPSG:4490", gk_points(6 * (c - 4491 + 13) - 3, 3.0)))
for c in range(4502, 4513):
    jobs.append((c, "EPSG:%d" % c, "EPSG:4490", gk_points(75 + 6 * (c - 4502), 3.0)))
for c in range(4513, 4534):
    jobs.append((c, "EPSG:%d" % c, "EPSG:4490", gk_points(3 * (c - 4513 + 25), 1.5)))
for c in range(4534, 4555):
    jobs.append((c, "EPSG:%d" % c, "EPSG:4490", gk_points(75 + 3 * (c - 4534), 1.5)))
world = [(lon, lat) for lon in (-179.9, -120.0, -45.5, 0.0, 13.4, 121.47, 179.9) for lat in (-84.0, -60.0, -33.9, 0.0, 31.23, 51.5, 84.0)]
world += [(rng.uniform(-180, 180), rng.uniform(-85, 85)) for _ in range(20)]
jobs.append((3857, "EPSG:3857", "EPSG:4326", world))
jobs.append((54009, "ESRI:54009", "EPSG:4326", world + [(10.0, 89.9), (-170.0, -89.9)]))
jobs.append((4326, "EPSG:4326", "EPSG:4326", world))
jobs.append((4490, "EPSG:4490", "EPSG:4490", world[:10]))

with open("proj_expected.txt", "w") as out:
    out.write("# code lon lat x y  (made by make_expected.py with gdaltransform -s_srs SRC -t_srs CODE)\n")
    for code, target, source, pts in jobs:
        inp = "".join("%.10f %.10f\n" % p for p in pts)
        res = subprocess.run(["gdaltransform", "-s_srs", source, "-t_srs", target],
                             input=inp, capture_output=True, text=True, check=True).stdout.split("\n")
        for (lon, lat), line in zip(pts, res):
            f = line.split()
            out.write("%d %.10f %.10f %s %s\n" % (code, lon, lat, f[0], f[1]))

# WKT definitions as GDAL writes them (WKT1, WKT2:2019, ESRI), for the WKT
# parser's tests: wkt_CODE_FORMAT.txt.
for auth, code in [("EPSG", 32651), ("EPSG", 32723), ("EPSG", 31983), ("EPSG", 4528), ("EPSG", 4549),
                   ("EPSG", 4499), ("EPSG", 4510), ("ESRI", 54009), ("EPSG", 3857), ("EPSG", 4326), ("EPSG", 4490)]:
    for fmt in ("wkt1", "wkt2", "wkt_esri"):
        wkt = subprocess.run(["gdalsrsinfo", "--single-line", "-o", fmt, "%s:%d" % (auth, code)],
                             capture_output=True, text=True, check=True).stdout.strip()
        with open("wkt_%d_%s.txt" % (code, fmt), "w") as out:
            out.write(wkt + "\n")

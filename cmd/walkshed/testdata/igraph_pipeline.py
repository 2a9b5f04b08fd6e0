#!/usr/bin/python3
"""The walking-time pipeline of `walkshed analyze --network`, written by hand
with pyosmium, numpy, scipy and igraph, as the reference BenchmarkDelawareVsIgraph
times walkshed against.

    igraph_pipeline.py PBF STATIONS.csv POPULATION.csv CENTRES.csv OUT.csv

It reads the walkable ways of PBF (the same rule as walknet.Walkable) with
their node coordinates, builds an undirected igraph Graph with haversine edge
lengths, keeps the connected components of at least 50 nodes, snaps stations
and cell centres to the nearest graph node (at most 300 m away, through
scipy's KD-tree, or a grid of 100 m cells without scipy), runs one
multi-source Dijkstra from a virtual source joined to every station's node
by an edge as long as the station's leg (both legs count, as in walkshed),
and writes h3,minutes for every populated cell (minutes empty beyond 60
minutes at 4 km/h, i.e. 4,000 m, or when the cell does not snap).
CENTRES.csv gives h3,lon,lat, the centre of each H3 cell (Debian has no H3
for Python). igraph 0.10's distances() has no cutoff: the search covers the
whole graph, and the bound is applied after.

Python itself touches each way (pyosmium calls back once per way and hands
out node ids one at a time; the coordinates come as one WKB linestring per
way) and each row of the CSV inputs; everything else per node or per edge
runs in numpy, scipy or igraph. With --timings it prints the seconds of
each stage to stderr.
"""

import csv
import itertools
import struct
import sys
import time

import igraph
import numpy as np
import osmium

EARTH_RADIUS = 6371008.8  # metres, as walkshed's haversine
SPEED_M_PER_MIN = 4000.0 / 60.0  # 4 km/h
BOUND_MINUTES = 60.0  # 4 x 15 minutes
MAX_SNAP = 300.0  # metres
MIN_COMPONENT = 50  # nodes
EXCLUDED_HIGHWAY = ("abandoned", "bus_guideway", "construction", "cycleway", "motor",
                    "planned", "platform", "proposed", "raceway")


def walkable(tags):
    """The OSMnx "walk" filter of walknet.Walkable: substring matches."""
    hw = tags.get("highway")
    if hw is None:
        return False
    if "yes" in tags.get("area", "") or "private" in tags.get("access", "") or \
            "no" in tags.get("foot", "") or "private" in tags.get("service", ""):
        return False
    for s in EXCLUDED_HIGHWAY:
        if s in hw:
            return False
    return True


WKB_LINESTRING = osmium.geom.WKBFactory()
ALL_NODES = osmium.geom.use_nodes.ALL


class Ways(osmium.SimpleHandler):
    """Collects the node ids of every walkable way, and their coordinates
    as one WKB linestring per way (libosmium writes it in one call, cheaper
    than reading each node's location from Python)."""

    def __init__(self):
        super().__init__()
        self.refs = []
        self.wkb = []

    def way(self, w):
        tags = w.tags
        if "highway" not in tags or not walkable(tags):
            return
        nodes = w.nodes
        lst, data = nodes._list, nodes._pyosmium_data
        n = lst.size(data)
        if n < 2:
            return
        get = lst.get
        refs = [get(data, i).ref for i in range(n)]
        try:
            wkb = WKB_LINESTRING.create_linestring(w, ALL_NODES)
        except osmium.InvalidLocationError:
            # A node missing from the file: its coordinates are NaN.
            xy = []
            for i in range(n):
                loc = get(data, i).location
                xy += (loc.lon, loc.lat) if loc.valid() else (np.nan, np.nan)
            wkb = (struct.pack("<BII", 1, 2, n) + np.array(xy).tobytes()).hex()
        self.refs.append(refs)
        self.wkb.append(wkb)


def haversine(lon1, lat1, lon2, lat2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def read_graph(pbf):
    h = Ways()
    h.apply_file(pbf, locations=True)
    lens = np.fromiter((len(r) for r in h.refs), dtype=np.int64, count=len(h.refs))
    refs = np.fromiter(itertools.chain.from_iterable(h.refs), dtype=np.int64, count=int(lens.sum()))
    # Strip the 9-byte header (byte order, type, point count) of each WKB
    # linestring: what remains is lon, lat of every way node in order.
    raw = np.frombuffer(bytes.fromhex("".join(h.wkb)), dtype=np.uint8)
    starts = np.concatenate(([0], np.cumsum(9 + 16 * lens)[:-1]))
    body = np.ones(len(raw), dtype=bool)
    body[(starts[:, None] + np.arange(9)).ravel()] = False
    xy = raw[body].view("<f8").reshape(-1, 2)
    # Consecutive way nodes form a segment unless a way ends between them.
    same_way = np.ones(len(refs) - 1, dtype=bool)
    same_way[np.cumsum(lens)[:-1] - 1] = False
    ids, inv = np.unique(refs, return_inverse=True)
    lon = np.empty(len(ids))
    lat = np.empty(len(ids))
    lon[inv], lat[inv] = xy[:, 0], xy[:, 1]
    u, v = inv[:-1][same_way], inv[1:][same_way]
    keep = (u != v) & ~np.isnan(lon[u]) & ~np.isnan(lon[v])  # a missing node breaks its way
    u, v = u[keep], v[keep]
    g = igraph.Graph(n=len(ids), edges=list(zip(u.tolist(), v.tolist())), directed=False)
    g.es["length"] = haversine(lon[u], lat[u], lon[v], lat[v]).tolist()
    # Components over the nodes that have a segment; small ones dropped.
    memb = np.asarray(g.connected_components().membership)
    big = np.bincount(memb)[memb] >= MIN_COMPONENT
    g = g.induced_subgraph(np.flatnonzero(big).tolist(), implementation="copy_and_delete")
    return g, lon[big], lat[big]


def snapper(lon, lat):
    """Nearest graph node through a KD-tree in local equirectangular metres
    (exact haversine legs for the nodes found)."""
    c = np.cos(np.radians(np.mean(lat)))
    k = np.pi / 180 * EARTH_RADIUS

    def xy(lo, la):
        return np.column_stack((lo * c * k, la * k))

    try:
        from scipy.spatial import cKDTree
        tree = cKDTree(xy(lon, lat))

        def query(plon, plat):
            _, idx = tree.query(xy(plon, plat), k=1)
            return idx
    except ImportError:  # no scipy: a uniform grid of 100 m cells, searched 7 x 7
        pts = xy(lon, lat)
        cell = 100.0
        key = np.floor(pts / cell).astype(np.int64)
        flat = key[:, 0] * (1 << 32) + key[:, 1]
        order = np.argsort(flat, kind="stable")
        sflat = flat[order]

        def query(plon, plat):
            q = xy(plon, plat)
            qk = np.floor(q / cell).astype(np.int64)
            best = np.full(len(q), np.inf)
            idx = np.zeros(len(q), dtype=np.int64)
            for dx in range(-3, 4):
                for dy in range(-3, 4):
                    fk = (qk[:, 0] + dx) * (1 << 32) + qk[:, 1] + dy
                    lo = np.searchsorted(sflat, fk, "left")
                    counts = np.searchsorted(sflat, fk, "right") - lo
                    total = int(counts.sum())
                    if total == 0:
                        continue
                    # Every (query, node in the query's cell) pair at once.
                    qi = np.repeat(np.arange(len(q)), counts)
                    first = np.repeat(np.cumsum(counts) - counts, counts)
                    cand = order[np.repeat(lo, counts) + np.arange(total) - first]
                    d = np.hypot(pts[cand, 0] - q[qi, 0], pts[cand, 1] - q[qi, 1])
                    byq = np.lexsort((d, qi))
                    head = byq[np.r_[True, qi[byq][1:] != qi[byq][:-1]]]
                    better = d[head] < best[qi[head]]
                    best[qi[head][better]] = d[head][better]
                    idx[qi[head][better]] = cand[head][better]
            return idx

    def snap(plon, plat):
        idx = query(plon, plat)
        leg = haversine(plon, plat, lon[idx], lat[idx])
        return idx, leg

    return snap


def read_points(path, lon_col="lon", lat_col="lat", key_col=None):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    plon = np.array([float(r[lon_col]) for r in rows])
    plat = np.array([float(r[lat_col]) for r in rows])
    keys = [r[key_col] for r in rows] if key_col else None
    return plon, plat, keys


def main(argv):
    timings = "--timings" in argv
    args = [a for a in argv if a != "--timings"]
    if len(args) != 5:
        sys.stderr.write(__doc__)
        return 2
    pbf, stations_csv, population_csv, centres_csv, out_csv = args
    t0 = time.perf_counter()
    stages = []

    def mark(name):
        stages.append((name, time.perf_counter()))

    g, lon, lat = read_graph(pbf)
    length = np.asarray(g.es["length"])
    mark("read+graph")

    slon, slat, _ = read_points(stations_csv)
    with open(population_csv, newline="", encoding="utf-8") as f:
        populated = {r["h3"] for r in csv.DictReader(f) if float(r["population"]) > 0}
    clon, clat, cells = read_points(centres_csv, key_col="h3")
    sel = np.array([c in populated for c in cells], dtype=bool)
    clon, clat = clon[sel], clat[sel]
    cells = [c for c, s in zip(cells, sel) if s]
    mark("inputs")

    snap = snapper(lon, lat)
    snode, sleg = snap(slon, slat)
    cnode, cleg = snap(clon, clat)
    mark("snap")

    # One multi-source search: a virtual source joined to each snapped
    # station's node by an edge as long as the station's leg.
    n = g.vcount()
    ok = sleg <= MAX_SNAP
    g.add_vertices(1)
    g.add_edges(np.column_stack((np.full(np.count_nonzero(ok), n), snode[ok])))
    weights = np.concatenate((length, sleg[ok]))
    targets, tinv = np.unique(cnode, return_inverse=True)
    dist = np.asarray(g.distances(source=[n], target=targets, weights=weights)[0])[tinv]
    meters = cleg + dist
    minutes = meters / SPEED_M_PER_MIN
    reached = (cleg <= MAX_SNAP) & np.isfinite(meters) & (minutes <= BOUND_MINUTES)
    mark("search")

    text = np.where(reached, np.char.mod("%.4f", minutes), "")
    with open(out_csv, "w", encoding="utf-8") as f:
        f.write("h3,minutes\n")
        f.write("\n".join(np.char.add(np.char.add(np.array(cells), ","), text)))
        f.write("\n")
    mark("write")

    if timings:
        prev = t0
        for name, t in stages:
            sys.stderr.write(f"{name:12s} {t - prev:.3f} s\n")
            prev = t
        sys.stderr.write(f"{'total':12s} {prev - t0:.3f} s, {g.vcount() - 1} nodes, "
                         f"{len(length)} edges, {np.count_nonzero(ok)} stations snapped, "
                         f"{np.count_nonzero(reached)} of {len(cells)} cells reached\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

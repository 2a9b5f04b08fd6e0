// Package walknet is the street-network walking model of walkshed: it reads
// OpenStreetMap (PBF or XML), keeps the walkable ways, builds an undirected
// graph in flat arrays and answers walking times through [coverage.Reach].
//
// Data flows in three steps:
//
//  1. [Load] / [LoadReader] read the file (PBF with the package's own
//     decoder, blobs inflated and parsed on every core and put together in
//     file order: walkable ways first, keeping the id and coordinate columns
//     of the dense nodes within a memory budget, then the coordinates of
//     only the nodes those ways use, from those columns or else from the
//     node blobs read again; XML in one pass), apply the OSMnx "walk" filter
//     ([Walkable]), cut ways into segments between consecutive way nodes,
//     drop connected components with fewer than [Options.MinComponent]
//     nodes and pack the rest into a [Graph]: every OSM node of a kept way
//     is a graph node, every segment an edge whose length is its haversine
//     length.
//  2. [NewReach] snaps every demand cell centre to the nearest point on the
//     nearest segment (a packed R-tree over segments, built in one sort along
//     a Hilbert curve; cells snapped in that curve's order for locality;
//     nearest point computed on the sphere); a cell farther than
//     [Options.MaxSnap] is unreachable.
//  3. [Reach.Nearest] snaps the stations the same way and runs one bounded
//     multi-source Dijkstra from all of them, labelling each node with its
//     nearest station (equal times go to the station listed first); each
//     cell's time is its own leg plus the better of its two segment ends, or
//     the direct walk along the segment when a station sits on the same one.
//     [Reach.Within] does the same from a single point for site proposals.
//
// The package never prints; callers pass a progress callback in [Options].
package walknet

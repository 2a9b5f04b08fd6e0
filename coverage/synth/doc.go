// Package synth generates deterministic synthetic studies at megacity scale,
// for benchmarks and load tests: a disc of H3 cells with a population
// density falling off from a main centre and a few subcentres, and stations
// drawn in proportion to population; and, on the same cells, a workers
// (daytime jobs) layer crowded more tightly into the same centres. The same
// Config always gives the same study, cell for cell.
package synth

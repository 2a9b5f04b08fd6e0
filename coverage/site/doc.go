// Package site proposes new station sites: the maximal covering location
// problem (choose K sites to cover the most people not yet covered) and its
// target form (fewest sites that bring the covered share to a target), each
// answer certified by an upper bound on what any plan of that size could do.
//
// Data flows in one direction:
//
//	candidates ─┐
//	cells, mask ┼─ Build (coverage.Reach.Within, parallel) ─┐
//	                                                        ├─ Problem (CSR coverage sets)
//	cost table ─── ReadCostTable ──────────────────────────┘        │
//	                                 SolveK / SolveTarget: lazy greedy → swap search
//	                                                        → Lagrangian bound (subgradient,
//	                                                          then volume steps)
//	                                 with Options.Exact: → tabu rounds on reweighted
//	                                                        demand → branch-and-bound
//	                                                        over the Lagrangian bound → Plan
//	                                 Plan → WriteSitesCSV, WriteProposalJSON,
//	                                        WriteCurveCSV, WriteSitesGeoJSON
//
// With Options.Exact the answer is proven optimal (within Options.Gap)
// unless Options.TimeLimit stops the search first; the bound reported is
// then the largest bound among the nodes still open, so it is certified at
// every stop.
//
// A Problem keeps, for each useful candidate, the sorted indices of the
// demand it reaches that no existing station covers; demand already covered
// never counts as newly covered and is left out of the sets. The package
// never prints: long steps report through a progress callback, and writers
// take an io.Writer (the CLI wraps them with format.WriteAtomic).
package site

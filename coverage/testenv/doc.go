// Package testenv serves walkshed's tests only: it finds what they read
// from outside the module, the real public data in ../shared/data and the
// checkers in ../shared/tools beside the module root, and Debian tools
// (GDAL, PROJ, QGIS, Jupyter). A test whose input is absent skips with a message saying
// where it lives or how to install it; under CI (any truthy CI variable) a
// missing tool or checker fails the test instead, because CI installs every
// one of them. Only ../shared/data may be absent under CI, since the
// repository's mutation check runs the unit tests without it.
package testenv

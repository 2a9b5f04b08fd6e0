// Package testenv serves walkshed's tests only: it finds what they read
// from outside the module, the real public data in ../shared/data and the
// checkers in ../shared/tools beside the module root, and Debian tools
// (GDAL, PROJ, QGIS, Jupyter). A test whose input is absent skips with a message saying
// where it lives or how to install it; under CI=true a missing tool fails
// the test instead, because CI installs every one of them.
package testenv

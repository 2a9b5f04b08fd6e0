// Package webui holds the page walkshed serve sends: index.html, app.js
// and style.css (plain modules, no framework), and MapLibre GL JS vendored
// from npm under vendor/ by vendor.sh, which records the version and
// checksums in vendor/VERSIONS. Everything is embedded in the binary;
// nothing is fetched from elsewhere at run time.
package webui

import "embed"

// Files are the page's files, served under /static/ (index.html at /).
//
//go:embed index.html app.js style.css vendor/maplibre-gl.js vendor/maplibre-gl.css vendor/VERSIONS vendor/maplibre-gl.LICENSE.txt
var Files embed.FS

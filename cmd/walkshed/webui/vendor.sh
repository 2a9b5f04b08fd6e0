#!/bin/sh
# Refreshes the vendored MapLibre GL JS files under vendor/ from npm, at the
# pinned version below, and records their version and SHA-256 checksums in
# vendor/VERSIONS. Run from anywhere; needs npm. Nothing is fetched at run
# time: the page loads these files from the binary (go:embed).
set -eu
MAPLIBRE=5.24.1

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "maplibre-gl@$MAPLIBRE" >/dev/null
dist=node_modules/maplibre-gl/dist
got=$(node -p "require('./node_modules/maplibre-gl/package.json').version")
[ "$got" = "$MAPLIBRE" ] || { echo "vendor.sh: npm installed maplibre-gl $got, not $MAPLIBRE" >&2; exit 1; }
mkdir -p "$here/vendor"
cp "$dist/maplibre-gl.js" "$dist/maplibre-gl.css" "$here/vendor/"
cp node_modules/maplibre-gl/LICENSE.txt "$here/vendor/maplibre-gl.LICENSE.txt"
cd "$here/vendor"
{
	echo "maplibre-gl $MAPLIBRE (npm)"
	sha256sum maplibre-gl.js maplibre-gl.css maplibre-gl.LICENSE.txt
} > VERSIONS
echo "vendored maplibre-gl $MAPLIBRE into $here/vendor"

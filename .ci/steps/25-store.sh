#!/usr/bin/env bash
# The store file is a GeoPackage that GIS tools open as it is (issue 13):
# GDAL's ogrinfo (Debian gdal-bin), an independent reader, lists every layer
# of a store written by marketgeo with the index's feature counts.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v ogrinfo >/dev/null 2>&1; then
  echo "installing gdal-bin"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq gdal-bin >/dev/null
fi
ogrinfo --version
MARKETGEO_REQUIRE_OGRINFO=1 go test -count=1 -run 'TestOgrinfoReadsTheStore' -v ./store/ | grep -v '^=== RUN'

#!/usr/bin/env bash
# Regenerates the README's preview images from the project's own synthetic
# scenes (the shared real data cannot be committed): one scene per data
# type / sensor style, predicted with the built-in default model.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/previews
mkdir -p "$out" docs
go build -o bin/omnimask ./cmd/omnimask
gen() { go run ./tools/synthscene "$@"; }
gen -size 384 -seed 3 -resolution 10 -bands blue,green,red,nir -o "$out/s2like_10m_uint16.tif"
gen -size 384 -seed 8 -resolution 30 -bands blue,green,red,nir -o "$out/landsat_like_30m.tif"
gen -size 384 -seed 5 -resolution 5 -bands red,green,blue,nir -nodata-corners=false -o "$out/naip_like_5m.tif"
for f in "$out"/*.tif; do
  case $f in *_omnimask*) continue;; esac
  name=$(basename "$f" .tif)
  ./bin/omnimask predict "$f" --output-dir "$out" --preview "docs/preview_$name.png" --quiet
done
# The cloud-aware water product on the Sentinel-2-like scene (no SWIR band:
# NDWI): its lakes are water, its cloud shadows over land shadow.
./bin/omnimask predict "$out/s2like_10m_uint16.tif" --product water -o "$out/s2like_10m_uint16_water.tif" \
  --preview docs/preview_water_s2like_10m.png --quiet
ls -la docs/preview_*.png

#!/usr/bin/env bash
# Throughput and memory of omnimask-batch against omnimask predict, on N
# synthetic scenes of SIZE² (default 16 of 1024², the built-in model):
#   batch       omnimask-batch over all scenes (Prism, in-process)
#   loop        a shell loop of omnimask predict, one scene per process
#   predict-all one omnimask predict over all scenes (one engine, no Beam)
# Beam's overhead per scene is (batch - predict-all) / N. Each is run REPS
# times (default 3); the medians are printed with the peak RSS.
# Usage: scripts/bench-batch.sh [N] [SIZE] [REPS]   (after make build)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-16} SIZE=${2:-1024} REPS=${3:-3}
dir=${TMPDIR:-/tmp}/omnimask-bench-batch
mkdir -p "$dir/scenes"
for i in $(seq 1 "$N"); do
  f=$dir/scenes/s$(printf %02d "$i").tif
  [[ -f $f ]] || go run ./tools/synthscene -size "$SIZE" -seed "$i" -o "$f" >/dev/null
done
scenes=("$dir"/scenes/s*.tif)

# measure NAME CMD...: wall seconds and peak RSS (KiB) of one run.
measure() {
  local name=$1; shift
  rm -rf "$dir/out" && mkdir -p "$dir/out"
  local t0=$(date +%s.%N)
  "$@" 2>"$dir/time.txt" >/dev/null || { cat "$dir/time.txt" >&2; exit 1; }
  local t1=$(date +%s.%N)
  local rss=$(awk '/Maximum resident set size/{print $NF}' "$dir/time.txt" | sort -n | tail -1)
  echo "$name $(echo "$t1 - $t0" | bc) $rss"
}
loop() {
  for f in "${scenes[@]}"; do
    /usr/bin/time -v bin/omnimask predict "$f" --output-dir "$dir/out" --quiet 2>>"$dir/loop.txt" || return 1
  done
  cat "$dir/loop.txt" >&2; rm -f "$dir/loop.txt"
}
results=$dir/results.txt
: >"$results"
for r in $(seq 1 "$REPS"); do
  measure batch /usr/bin/time -v bin/omnimask-batch "${scenes[@]}" --output-dir "$dir/out" --quiet | tee -a "$results"
  measure loop loop | tee -a "$results"
  measure predict-all /usr/bin/time -v bin/omnimask predict "${scenes[@]}" --output-dir "$dir/out" --quiet | tee -a "$results"
done
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "medians of $REPS, $N scenes of ${SIZE}²:"
for k in batch loop predict-all; do
  w=$(awk -v k=$k '$1==k{print $2}' "$results" | median)
  m=$(awk -v k=$k '$1==k{print $3}' "$results" | median)
  printf '  %-12s %8.2f s  peak RSS %5d MiB\n' "$k" "$w" $((m / 1024))
done
b=$(awk '$1=="batch"{print $2}' "$results" | median)
l=$(awk '$1=="loop"{print $2}' "$results" | median)
p=$(awk '$1=="predict-all"{print $2}' "$results" | median)
echo "  batch vs loop: $(echo "scale=3; $l / $b" | bc)x; Beam overhead per scene: $(echo "scale=1; ($b - $p) * 1000 / $N" | bc) ms"

#!/usr/bin/env bash
# Throughput and memory of omnimask-batch against omnimask predict, on N
# synthetic scenes of SIZE² (default 16 of 1024², the built-in model):
#   batch       omnimask-batch over all scenes (Prism, in-process)
#   loop        a shell loop of omnimask predict, one scene per process
#   predict-all one omnimask predict over all scenes (one engine, no Beam)
# Each is run REPS times (default 3), interleaved; printed: medians of wall
# time, of CPU time (user + sys, all processes: steadier than wall time on
# a shared machine) and of peak RSS. Beam's overhead per scene is
# (batch - predict-all) / N.
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
scenes=()
for i in $(seq 1 "$N"); do scenes+=("$dir/scenes/s$(printf %02d "$i").tif"); done

T=(/usr/bin/time -a -o "$dir/time.txt" -f 'TIME %e %U %S %M')
# measure NAME CMD...: wall and CPU seconds, peak RSS (KiB) over the run's
# processes.
measure() {
  local name=$1; shift
  rm -rf "$dir/out" "$dir/time.txt" && mkdir -p "$dir/out"
  local t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$dir/err.txt" || { cat "$dir/err.txt" >&2; exit 1; }
  local t1=$(date +%s.%N)
  awk -v n="$name" -v w="$(echo "$t1 - $t0" | bc)" '/^TIME/{c+=$3+$4; if($5>m)m=$5} END{printf "%s %.2f %.2f %d\n", n, w, c, m}' "$dir/time.txt"
}
loop() { for f in "${scenes[@]}"; do "${T[@]}" bin/omnimask predict "$f" --output-dir "$dir/out" --quiet || return 1; done; }
results=$dir/results.txt
: >"$results"
for r in $(seq 1 "$REPS"); do
  measure batch "${T[@]}" bin/omnimask-batch "${scenes[@]}" --output-dir "$dir/out" --quiet | tee -a "$results"
  measure loop loop | tee -a "$results"
  measure predict-all "${T[@]}" bin/omnimask predict "${scenes[@]}" --output-dir "$dir/out" --quiet | tee -a "$results"
done
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v k="$1" -v c="$2" '$1==k{print $c}' "$results" | median; }
echo "medians of $REPS, $N scenes of ${SIZE}², $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg):"
for k in batch loop predict-all; do
  printf '  %-12s wall %7.2f s  CPU %7.2f s  peak RSS %5d MiB\n' "$k" "$(col $k 2)" "$(col $k 3)" $(($(col $k 4) / 1024))
done
echo "  loop / batch: wall $(echo "scale=2; $(col loop 2) / $(col batch 2)" | bc)x, CPU $(echo "scale=2; $(col loop 3) / $(col batch 3)" | bc)x"
echo "  Beam overhead per scene (batch - predict-all): wall $(echo "scale=0; ($(col batch 2) - $(col predict-all 2)) * 1000 / $N" | bc) ms, CPU $(echo "scale=0; ($(col batch 3) - $(col predict-all 3)) * 1000 / $N" | bc) ms"

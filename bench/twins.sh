#!/bin/sh
# bench/twins.sh — lungo against the Go twins in bench/go/ (see README.md).
#
#   sh bench/twins.sh [RUNS=3] [SHAPE_REGEX]      (make bench runs it when Go is there)
#
# For each shape with a twin, runs the twin and the Lua program alternately
# RUNS times at 1 worker (GOMAXPROCS=1 / LUNGO_WORKERS=1) and at 2, with the
# same arguments, and prints the median of each and the ratio lungo / Go
# (lower is better). Medians hide nothing here: each run is also printed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
LUNGO=${LUNGO:-build/lungo}
RUNS=${1:-3}
ONLY=${2:-.}
command -v go >/dev/null 2>&1 || { echo "twins.sh: no Go toolchain (apt-get install golang-go)"; exit 0; }
mkdir -p build/go
(cd bench/go && GOFLAGS=-mod=mod go build -o ../../build/go/ ./...) || exit 2

# shape|args|figure
SHAPES='tree|16|total_ms
timers|100000|mean_late_ms
pool|100000 8|ns_per_job
records|200000|ns_per_record
split|1000000 16 10|round_ms
mutex|200000 4|ns_per_pair'

field() { printf ' %s\n' "$2" | sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" | tail -n 1; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

printf '%-8s %2s  %-14s %12s %12s %8s   %s\n' shape w figure Go lungo ratio "runs (Go / lungo)"
printf '%s\n' "$SHAPES" | while IFS='|' read -r shape args fig; do
  printf '%s\n' "$shape" | grep -Eq -- "$ONLY" || continue
  for w in 1 2; do
    gos="" lus=""
    i=0
    while [ $i -lt "$RUNS" ]; do
      # shellcheck disable=SC2086
      g=$(GOMAXPROCS=$w build/go/$shape $args | tail -n 1)
      # shellcheck disable=SC2086
      l=$(LUNGO_WORKERS=$w "$LUNGO" bench/$shape.lua $args | tail -n 1)
      gos="$gos $(field "$fig" "$g")"
      lus="$lus $(field "$fig" "$l")"
      i=$((i + 1))
    done
    gm=$(printf '%s\n' $gos | median)
    lm=$(printf '%s\n' $lus | median)
    ratio=$(awk -v a="$lm" -v b="$gm" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    printf '%-8s %2s  %-14s %12s %12s %8s  %s /%s\n' "$shape" "$w" "$fig" "$gm" "$lm" "$ratio" "$gos" "$lus"
  done
done

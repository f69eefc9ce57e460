#!/bin/sh
# bench/run.sh — the lungo benchmark suite (see bench/README.md).
#
#   sh bench/run.sh [NAME_REGEX]        (or: make bench)
#
# Runs every bench/*.lua once with the default worker count and once with
# one worker, prints one table (benchmark, workers, figure, value, unit)
# and writes it as CSV to build/bench.csv. Environment: LUNGO (binary,
# default build/lungo), BENCH_TIMEOUT (seconds per run, default 300).
# Exit status 1 if any run failed, hung or printed check=WRONG.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
LUNGO=${LUNGO:-build/lungo}
LIMIT=${BENCH_TIMEOUT:-300}
ONLY=${1:-.}
CSV=build/bench.csv
[ -x "$LUNGO" ] || { echo "run.sh: $LUNGO not built (make)" >&2; exit 2; }
mkdir -p build
NW=$("$LUNGO" -e 'print(go.workers())' 2>/dev/null) || NW=default
TMP=$(mktemp -d /tmp/lungo-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM
ROWS=$TMP/rows
: > "$ROWS"

# Default sizes: the whole suite takes one to three minutes on 2 cores.
# label|script|args|figures (key:unit ...)
variants() {
  case $1 in
    spawn30k)  echo "spawn30k|spawn30k|30000|spawn_ms:ms rss_kb_per_g:KB sys_kb_per_g:KB"
               echo "spawn1M|spawn30k|1000000|spawn_ms:ms rss_kb_per_g:KB"
               echo "spawn closure|spawn30k|30000 closure|spawn_ms:ms rss_kb_per_g:KB sys_kb_per_g:KB"
               echo "spawn1M closure|spawn30k|1000000 closure|rss_kb_per_g:KB" ;;
    pingpong)  echo "pingpong|pingpong|2000000|ns_per_roundtrip:ns" ;;
    ring)      echo "ring|ring|10000000|ns_per_hop:ns" ;;
    sieve)     echo "sieve|sieve|3000|total_ms:ms" ;;
    spawnjoin) echo "spawnjoin|spawnjoin|1000000|ns_per_goroutine:ns" ;;
    parallel)  echo "parallel|parallel|16 32|total_ms:ms" ;;
    pipeline)  echo "pipeline|pipeline|2000000|ns_per_item:ns"
               echo "pipeline fan|pipeline|2000000 fan|ns_per_item:ns" ;;
    tree)      echo "tree|tree|16|total_ms:ms peak_rss_kb:KB" ;;
    timers)    echo "timers|timers|100000|mean_late_ms:ms max_late_ms:ms" ;;
    pool)      echo "pool|pool|100000 8|ns_per_job:ns spread:workers" ;;
    copy)      echo "copy|copy|50000 2000 20|table_us:us table_mb_s:MB/s string_us:us string_mb_s:MB/s array_ns_per_elem:ns" ;;
    records)   echo "records|records|200000|ns_per_record:ns records_per_s:1/s" ;;
    split)     echo "split|split|1000000 16 10|round_ms:ms ns_per_element:ns serial_ms:ms" ;;
    mutex)     echo "mutex|mutex|200000 4|ns_per_pair:ns" ;;
    dict)      echo "dict|dict|1000000 200000|fill_ns_per_op:ns mixed_ns_per_op:ns bytes_per_entry:B atomic_ns_per_op:ns" ;;
    echo_server|http_server) ;;   # servers for ../shared/bench-ref/netcompare.sh, not run here
    *)         echo "$1|$1||" ;;   # a new script: every *_ms/_us/_ns/ns_* field
  esac
}

row() { # benchmark workers figure value unit
  printf '%s,%s,%s,%s,%s\n' "$1" "$2" "$3" "$4" "$5" >> "$ROWS"
  printf '%-14s %7s  %-18s %12s  %s\n' "$1" "$2" "$3" "$4" "$5"
}

field() { # field KEY LINE
  printf ' %s\n' "$2" | sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" | tail -n 1
}

WLIST="$NW 1"; [ "$NW" = 1 ] && WLIST=1
printf '%-14s %7s  %-18s %12s  %s\n' benchmark workers figure value unit
for f in bench/*.lua; do
  name=$(basename "$f" .lua)
  variants "$name" | while IFS='|' read -r label script args figs; do
    printf '%s\n' "$label" | grep -Eq -- "$ONLY" || continue
    for w in $WLIST; do
      if [ "$w" = "$NW" ]; then env=""; else env="LUNGO_WORKERS=1"; fi
      # shellcheck disable=SC2086
      out=$(env $env timeout "$LIMIT" "$LUNGO" "bench/$script.lua" $args 2>"$TMP/err")
      rc=$?
      line=$(printf '%s\n' "$out" | tail -n 1)
      if [ $rc -ne 0 ] || [ -z "$line" ] || [ "$(field check "$line")" = WRONG ]; then
        why="exit $rc"; [ $rc -eq 124 ] && why="timeout ${LIMIT}s"
        [ $rc -eq 0 ] && why="check=$(field check "$line")"
        row "$label" "$w" FAILED "$why" "-"
        sed 's/^/    /' "$TMP/err" | head -n 5
        echo 1 > "$TMP/failed"
        continue
      fi
      [ -n "$figs" ] || figs=$(printf '%s\n' "$line" | tr ' ' '\n' | sed -n \
        -e 's/^\(ns_[a-z_]*\)=.*/\1:ns/p' -e 's/^\([a-z_]*_ms\)=.*/\1:ms/p' \
        -e 's/^\([a-z_]*_us\)=.*/\1:us/p' -e 's/^\([a-z_]*_kb[a-z_]*\)=.*/\1:KB/p' | tr '\n' ' ')
      for fu in $figs; do
        key=${fu%%:*} unit=${fu#*:}
        row "$label" "$w" "$key" "$(field "$key" "$line")" "$unit"
      done
      [ "$label" = parallel ] && field total_ms "$line" > "$TMP/parallel.$w"
    done
  done
done
if [ -s "$TMP/parallel.1" ] && [ -s "$TMP/parallel.$NW" ] && [ "$NW" != 1 ]; then
  sp=$(awk -v a="$(cat "$TMP/parallel.1")" -v b="$(cat "$TMP/parallel.$NW")" 'BEGIN { printf "%.2f", a / b }')
  row "parallel" "1->$NW" "speedup" "$sp" "x"
fi
{ echo "benchmark,workers,figure,value,unit"; cat "$ROWS"; } > "$CSV"
echo "(written to $CSV)"
[ -f "$TMP/failed" ] && exit 1
exit 0

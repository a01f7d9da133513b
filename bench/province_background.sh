#!/bin/sh
# A province loaded with --judge background, as a user waits for it (bench/results_province.md, 2026-12-05 19:37).
# Time it whole: farm-bench -n 1 --warmup 0 --timeout 1800 --vs ".venv/bin/blockline --help" -- bench/province_background.sh HOME
# HOME: a fresh BLOCKLINE_HOME (removed first). Writes HOME.times (stamps t0 start, t1 the load returned,
# t2 the first `idle` answered, the background judge's peak VmHWM in kB) beside HOME.
set -u
HOME_DIR=${1:?usage: province_background.sh BLOCKLINE_HOME [PARCELS]}
PARCELS=${2:-1000000}
B=${BLOCKLINE:-$(dirname "$0")/../.venv/bin/blockline}
L=$HOME_DIR.times
rm -rf "$HOME_DIR" "$L"
export BLOCKLINE_HOME=$HOME_DIR
t0=$(date +%s.%N)
$B demo --region zhejiang --parcels "$PARCELS" --judge background > "$HOME_DIR.demo.out" 2>&1 || echo "demo failed $?" >> "$L"
t1=$(date +%s.%N)
( pid=$(pgrep -f "blockline.services.judged" | head -1); hwm=0
  while [ -n "$pid" ] && [ -d "/proc/$pid" ]; do
    h=$(awk '/VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null); [ -n "$h" ] && hwm=$h; sleep 0.5
  done
  echo "judge pid $pid hwm_kb $hwm end $(date +%s.%N)" >> "$L" ) &
/usr/bin/time -v $B idle --format json > "$HOME_DIR.idle.json" 2> "$HOME_DIR.idle.err"
t2=$(date +%s.%N)
echo "t0 $t0 t1 $t1 t2 $t2 load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$L"
wait

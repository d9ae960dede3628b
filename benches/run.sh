#!/usr/bin/env bash
# Whole-run benchmark: the default map at growing sizes, all tables to
# Parquet. Prints wall time, events/s, subscriber-days/s and peak RSS, and,
# when tpchgen-cli is installed, its TPC-H lineitem rows/s on this machine.
#
#   benches/run.sh            # 10k, 100k, 1M x 1 day and 100k x 7 days
#
# Peak RSS should not grow with the number of days: 100k x 7 days within 10%
# of (or below) 100k x 1 day.
#   SIZES="10000:1" benches/run.sh
#   RUN_ARGS="--no-truth" benches/run.sh   # the observable tables only
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/mobsynth
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sizes=${SIZES:-"10000:1 100000:1 1000000:1 100000:7"}
last_rate=0

printf '%-12s %5s %9s %12s %14s %16s %10s\n' subscribers days wall_s events events_per_s sub_days_per_s peak_MiB
for size in $sizes; do
    n=${size%%:*}; d=${size##*:}
    # shellcheck disable=SC2086 # RUN_ARGS holds several words on purpose
    /usr/bin/time -v "$bin" run --subscribers "$n" --days "$d" -o "$out/run" --overwrite --quiet ${RUN_ARGS:-} 2> "$out/time.txt"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$out/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print int($2/1024)}' "$out/time.txt")
    events=$(python3 -c "import json,sys; print(json.load(open('$out/run/manifest.json'))['tables'].get('events',0))")
    python3 - "$n" "$d" "$wall" "$events" "$rss" <<'PY'
import sys
n, d, wall, events, rss = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print(f"{n:<12} {d:>5} {wall:>9.2f} {events:>12} {events / wall:>14.0f} {n * d / wall:>16.0f} {rss:>10}")
PY
    last_rate=$(python3 -c "print($events / $wall)")
done

if command -v tpchgen-cli >/dev/null 2>&1; then
    start=$(date +%s.%N)
    tpchgen-cli parquet -s 1 --tables lineitem --output-dir "$out/tpch" >/dev/null
    end=$(date +%s.%N)
    python3 -c "w=$end-$start; print(f'tpchgen-cli lineitem SF1: 6001215 rows in {w:.2f} s = {6001215/w:.0f} rows/s; mobsynth events/s of the last run / that = {$last_rate/(6001215/w):.2f}')"
else
    echo "tpchgen-cli not installed (pip install tpchgen-cli) — no reference figure"
fi

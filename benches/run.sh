#!/usr/bin/env bash
# Whole-run benchmark: the default map at growing sizes, all tables to
# Parquet. Prints wall time, CPU time (user + system: on a shared machine the
# wall time also counts waiting for a core), events/s, subscriber-days/s and
# peak RSS, and,
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
last_cpu_rate=0

printf '%-12s %5s %9s %8s %12s %14s %16s %10s\n' subscribers days wall_s cpu_s events events_per_s sub_days_per_s peak_MiB
for size in $sizes; do
    n=${size%%:*}; d=${size##*:}
    # shellcheck disable=SC2086 # RUN_ARGS holds several words on purpose
    /usr/bin/time -v "$bin" run --subscribers "$n" --days "$d" -o "$out/run" --overwrite --quiet ${RUN_ARGS:-} 2> "$out/time.txt"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$out/time.txt")
    cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {s+=$2} END {print s}' "$out/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print int($2/1024)}' "$out/time.txt")
    events=$(python3 -c "import json,sys; print(json.load(open('$out/run/manifest.json'))['tables'].get('events',0))")
    python3 - "$n" "$d" "$wall" "$cpu" "$events" "$rss" <<'PY'
import sys
n, d, wall, cpu, events, rss = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
print(f"{n:<12} {d:>5} {wall:>9.2f} {cpu:>8.1f} {events:>12} {events / wall:>14.0f} {n * d / wall:>16.0f} {rss:>10}")
PY
    last_rate=$(python3 -c "print($events / $wall)")
    last_cpu_rate=$(python3 -c "print($events / $cpu)")
done

if command -v tpchgen-cli >/dev/null 2>&1; then
    /usr/bin/time -v tpchgen-cli parquet -s 1 --tables lineitem --output-dir "$out/tpch" >/dev/null 2> "$out/time.txt"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$out/time.txt")
    cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {s+=$2} END {print s}' "$out/time.txt")
    python3 - "$wall" "$cpu" "$last_rate" "$last_cpu_rate" <<'PY'
import sys
wall, cpu, rate, cpu_rate = (float(a) for a in sys.argv[1:])
rows = 6001215
print(f"tpchgen-cli lineitem SF1: {rows} rows in {wall:.2f} s ({cpu:.1f} s CPU) = {rows / wall:.0f} rows/s")
print(f"mobsynth events/s of the last run / that = {rate / (rows / wall):.2f}; per CPU second = {cpu_rate / (rows / cpu):.2f}")
PY
else
    echo "tpchgen-cli not installed (pip install tpchgen-cli) — no reference figure"
fi

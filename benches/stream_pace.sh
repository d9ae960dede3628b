#!/usr/bin/env bash
# Measures how well `--stdout --rate R` holds its pace: counts the lines that
# arrive in each second of a 10-second window, after the stream has started.
#   benches/stream_pace.sh [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-20000}
cargo build --release --quiet
target/release/mobsynth run --subscribers 8000 --days 1 --quiet --stdout --rate "$rate" | python3 -c "
import sys, time
rate = $rate
first = None
counts = {}
for line in sys.stdin:
    now = time.monotonic()
    if first is None:
        first = now
    s = int(now - first)
    if s >= 11:
        break
    counts[s] = counts.get(s, 0) + 1
# The first second holds the start-up; the next ten are the window.
window = sum(counts.get(s, 0) for s in range(1, 11))
print(f'requested {rate} events/s; per second: {[counts.get(s, 0) for s in range(1, 11)]}')
print(f'10-second window: {window / 10:.0f} events/s, {100 * (window / 10 - rate) / rate:+.2f}% from the requested rate')
"

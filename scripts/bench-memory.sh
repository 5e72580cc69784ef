#!/usr/bin/env bash
# Peak resident memory of the same workload through raw tungstenite and through the gateway
# (tests/examples/memory_probe.rs), in one run, as a ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p tests --example memory_probe
bin=target/release/examples/memory_probe
for mode in raw gateway; do
  kb=$( { /usr/bin/time -f '%M' "$bin" "$mode" >/dev/null; } 2>&1 | tail -n 1 )
  secs=$( { /usr/bin/time -f '%e' "$bin" "$mode" >/dev/null; } 2>&1 | tail -n 1 )
  echo "$mode peak_rss_kb=$kb wall_s=$secs"
  eval "${mode}_kb=$kb"
done
awk -v r="$raw_kb" -v g="$gateway_kb" 'BEGIN { printf "ratio gateway/raw peak RSS = %.2f\n", g / r }'

# The whole Lambda binary answering one reply of the largest default size in the worst shape.
cargo build -q --release -p lambda
"$bin" serve-worst > target/worst-url.txt &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s target/worst-url.txt ] && break; sleep 0.1; done
url=$(head -n 1 target/worst-url.txt)
kb=$( { /usr/bin/time -f '%M' target/release/lambda invoke \
  "{\"operation\":\"request\",\"url\":\"$url\",\"text\":\"go\",\"timeout\":20}" >/dev/null; } 2>&1 | tail -n 1 )
echo "lambda invoke, one [0,0,...] reply of the largest default size: peak_rss_kb=$kb"

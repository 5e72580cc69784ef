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

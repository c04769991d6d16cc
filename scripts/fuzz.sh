#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (nightly): `scripts/fuzz.sh SECONDS [TARGET…]`
# (all targets by default), each seeded with real inputs, for SECONDS each. Prints
# each run's execution count; exits non-zero on the first finding (a crash, leak,
# out-of-memory or timeout, saved under fuzz/artifacts/TARGET/). Slow units
# (libFuzzer's `slow-unit-*`: an input over 10 s, e.g. a large component compiled
# under the sanitizer) are reported, not failures.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET…]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(guest_args task_call settings_toml bulk_jsonl api_bodies upload)
guests=target/wasm-guests/wasm32-wasip2/release
[ -f "$guests/arith.wasm" ] || cargo test --workspace --no-run

seed() {
  local dir="fuzz/corpus/$1"
  mkdir -p "$dir"
  shift
  local n=0
  for value in "$@"; do
    n=$((n + 1))
    printf '%s' "$value" > "$dir/seed-$n"
  done
}
seed guest_args '[1]' $'[1, "t"]\x01{}' $'[]\x01{"a": 2, "values": [1.5, 2]}' $'[1]\x01{"a": 3}'
seed task_call $'\x00[2, 3]' $'\x01[15]' $'\x02[[1.5, 2.5]]' $'\x00[]\x01{"a": 1, "b": 2}'
seed settings_toml "$(sed -n 's|^//! \{0,1\}||p' host/src/config/mod.rs | sed -n '/^\[/,$p')" \
  $'[worker]\nconcurrency = 4\nlease = "30s"\n' $'[limits]\nfuel = 10_000\ntimeout = "1s"\n'
seed bulk_jsonl '{"task_path": "arith.add", "args": [1, 2]}' \
  $'{"task_path": "arith.add", "kwargs": {"a": 1, "b": 2}, "priority": 5}\n{"task_path": "arith.fib", "args": [10], "queue_name": "default"}'
seed api_bodies $'\x00{"task_path": "arith.add", "args": [1, 2]}' \
  $'\x01{"jobs": [{"task_path": "arith.add", "args": [1, 2]}]}' $'\x03{"ids": ["x"]}' \
  $'\x04{"value": "v"}' $'\x05{"origins": ["https://example.com"]}' \
  $'\x06{"name": "n", "cron": "* * * * *", "task_path": "arith.add", "args": [1, 2]}' \
  $'\x07{"role": "reader", "tenant": "default"}'
mkdir -p fuzz/corpus/upload
cp "$guests"/*.wasm fuzz/corpus/upload/

for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s"
  (cd fuzz && cargo +nightly fuzz run -O "$target" -- -max_total_time="$seconds" \
    -rss_limit_mb=4096 -print_final_stats=1 2>&1 | tail -n 25 | grep -E 'stat::number_of_executed_units|Done|ERROR|SUMMARY' || true)
  if compgen -G "fuzz/artifacts/$target/slow-unit-*" > /dev/null; then
    echo "fuzz: $target: slow inputs saved under fuzz/artifacts/$target/ (not failures)"
  fi
  for kind in crash leak oom timeout; do
    if compgen -G "fuzz/artifacts/$target/$kind-*" > /dev/null; then
      echo "fuzz: $target found a $kind: fuzz/artifacts/$target/" >&2
      exit 1
    fi
  done
done

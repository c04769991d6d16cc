#!/usr/bin/env bash
# Enqueue throughput over HTTP, as clients see it: a release `wasmtasks serve`
# (no workers: enqueue only) on a fresh SQLite file and a fresh PostgreSQL
# database, driven by wrk from this machine.
#   single: one job per request, 64 concurrent keep-alive connections (group commit)
#   bulk:   1,000 jobs per request, 8 connections (POST /api/v1/jobs/bulk)
# Three runs of each; prints every run and the medians (jobs/s). Every response
# must be 2xx, and the jobs must all be stored.
#
#   cargo build --release -p wasmtasks-cli && ./scripts/quickstart.sh >/dev/null
#   ./scripts/bench-http.sh [postgres://postgres@127.0.0.1:5432/test]
# Needs wrk (`apt install wrk`). DURATION (default 10s), RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
wasmtasks="$root/target/release/wasmtasks"
arith="$root/target/wasm-guests/wasm32-wasip2/release/arith.wasm"
postgres=${1:-}
duration=${DURATION:-10s}
runs=${RUNS:-3}
command -v wrk >/dev/null || { echo "bench-http: needs wrk (apt install wrk)" >&2; exit 2; }
[ -x "$wasmtasks" ] || { echo "bench-http: build it first: cargo build --release -p wasmtasks-cli" >&2; exit 2; }
[ -f "$arith" ] || { echo "bench-http: build the examples first: ./scripts/quickstart.sh" >&2; exit 2; }
scratch=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$scratch"; }
trap cleanup EXIT
. scripts/lib/serve.sh

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# One run on a fresh database: prints "single bulk" in jobs/s.
run_once() {
  local n=$1 database
  if [ -n "$postgres" ]; then
    local name="wasmtasks_bench_http_$$_$n"
    psql "$postgres" -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
    database="${postgres%/*}/$name"
  else
    database="sqlite://$scratch/bench-$n.sqlite3"
  fi
  export WASMTASKS_DATABASE_URL=$database WASMTASKS_CACHE_DIR=$scratch/cache
  "$wasmtasks" tenant create bench >/dev/null
  TOKEN=$("$wasmtasks" token create bench --role member 2>/dev/null)
  export TOKEN
  "$wasmtasks" --tenant bench upload "$arith" >/dev/null
  serve_start
  # Warm up (connections, the component's resolution, the page cache).
  wrk -t2 -c64 -d2s -s scripts/bench/single.lua "$url/api/v1/jobs" >"$scratch/warm.txt"
  local single bulk
  single=$(wrk -t2 -c64 -d"$duration" -s scripts/bench/single.lua "$url/api/v1/jobs" | tee "$scratch/single.txt" | awk '/Requests\/sec/ {print $2}')
  BULK=1000 bulk=$(BULK=1000 wrk -t2 -c8 -d"$duration" -s scripts/bench/bulk.lua "$url/api/v1/jobs/bulk" | tee "$scratch/bulk.txt" | awk '/Requests\/sec/ {printf "%.0f", $2 * 1000}')
  if grep -q "Non-2xx" "$scratch/single.txt" "$scratch/bulk.txt"; then
    cat "$scratch/single.txt" "$scratch/bulk.txt" >&2
    echo "bench-http: some requests were refused" >&2
    exit 1
  fi
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
  local sent stored
  sent=$(( $(awk '/requests in/ {print $1}' "$scratch/warm.txt") + $(awk '/requests in/ {print $1}' "$scratch/single.txt") + 1000 * $(awk '/requests in/ {print $1}' "$scratch/bulk.txt") ))
  stored=$("$wasmtasks" --tenant bench queues --json | python3 -c 'import json,sys; print(sum(q["counts"]["READY"] for q in json.load(sys.stdin)))')
  # wrk counts the requests it completed; one cut off at the end may have been stored.
  if [ "$stored" -lt "$sent" ]; then
    echo "bench-http: $sent jobs were acknowledged but only $stored are stored" >&2
    exit 1
  fi
  if [ -n "$postgres" ]; then
    psql "$postgres" -q -c "DROP DATABASE IF EXISTS wasmtasks_bench_http_$$_$n WITH (FORCE)" >/dev/null
  fi
  printf '%.0f %s\n' "$single" "$bulk"
}

echo "database: ${postgres:-sqlite (a fresh file per run)}; $runs runs of $duration each"
results=()
for n in $(seq "$runs"); do
  line=$(run_once "$n")
  echo "run $n: single ${line% *} jobs/s, bulk ${line#* } jobs/s"
  results+=("$line")
done
single=$(printf '%s\n' "${results[@]}" | awk '{print $1}' | median)
bulk=$(printf '%s\n' "${results[@]}" | awk '{print $2}' | median)
echo "median: single enqueue $single jobs/s (64 connections), bulk enqueue $bulk jobs/s"

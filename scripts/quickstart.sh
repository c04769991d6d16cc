#!/usr/bin/env bash
# The quickstart, on a fresh clone: build the example task components and wasmtasks,
# then run the queue on the embedded default (one SQLite file): upload components,
# enqueue tasks, run a worker until the queue is drained, and show the results.
# rust-toolchain.toml brings the toolchain; `wasmtasks build` adds the wasm32-wasip2
# target to it when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building wasmtasks"
cargo build -p wasmtasks-cli
wasmtasks="$PWD/target/debug/wasmtasks"
echo "==> building the example tasks (wasm32-wasip2 components)"
"$wasmtasks" build tasks-examples --target-dir target/wasm-guests >/dev/null
guests="$PWD/target/wasm-guests/wasm32-wasip2/release"

# A scratch directory holds the queue (wasmtasks.sqlite3) and its configuration.
demo="$PWD/target/quickstart"
rm -rf "$demo" && mkdir -p "$demo" && cd "$demo"
cat > wasmtasks.toml <<'TOML'
database_url = "sqlite://wasmtasks.sqlite3"

[queues.default]
[queues.emails]
max_attempts = 3
TOML

run() { echo; echo "\$ wasmtasks $*"; "$wasmtasks" "$@"; }
id_of() { sed -n 's/^  "id": "\(.*\)",$/\1/p'; }

run upload "$guests/arith.wasm"
run upload "$guests/welcome.wasm"
run upload "$guests/flaky.wasm"
run components

echo; echo "\$ wasmtasks enqueue …  (four jobs)"
add=$("$wasmtasks" enqueue arith.add 2 3 | id_of)
mail=$("$wasmtasks" enqueue welcome.welcome alice@example.com Alice | id_of)
flaky=$("$wasmtasks" enqueue flaky.until_attempt 2 --backoff-factor 0.5 | id_of)
bad=$("$wasmtasks" enqueue welcome.welcome not-an-address Bob --max-attempts 1 | id_of)
run queues

run worker --max-tasks 5 --interval 100ms
run queues
run result "$add"
echo; echo "==> return values"
summary='import json, sys
r = json.load(sys.stdin)
outcome = json.dumps(r["return_value"]) if r["status"] == "SUCCESSFUL" else r["errors"][-1]["exception_class_path"]
print("%-22s %-10s attempts=%d  %s" % (r["task_path"], r["status"], r["attempts"], outcome))'
# `result` exits 1 for a FAILED job, and the last one fails on purpose.
for id in "$add" "$mail" "$flaky" "$bad"; do
  { "$wasmtasks" result "$id" || [ $? -eq 1 ]; } | python3 -c "$summary"
done
echo; echo "The queue is in $demo/wasmtasks.sqlite3; try: cd $demo && $wasmtasks queues"

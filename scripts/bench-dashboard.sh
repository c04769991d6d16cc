#!/usr/bin/env bash
# How long each dashboard page (and /metrics, and the queue list of the API) takes
# with JOBS jobs stored (default 1,000,000): a fresh SQLite file, or a fresh
# PostgreSQL database when a server URL is given, seeded in SQL with one tenant's
# jobs enqueued evenly over the last two days (90% SUCCESSFUL, 5% FAILED, 1%
# CANCELLED, 3.9% READY, 0.1% RUNNING: 1,000 running, as 16 workers of 64 slots
# would hold, and the overview lists each under its worker; 80% in queue
# `default`, 10% each in `emails` and `reports`) and an attempt for each finished one, then a release `wasmtasks
# serve --workers 0` asked for each page RUNS times (default 21) with curl.
# Prints the median and the slowest time per page, in milliseconds.
#
#   cargo build --release -p wasmtasks-cli && ./scripts/quickstart.sh >/dev/null
#   ./scripts/bench-dashboard.sh [postgres://postgres@127.0.0.1:5432/postgres]
# Needs sqlite3 (or psql) and curl. WASMTASKS_BIN picks another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
wasmtasks=${WASMTASKS_BIN:-$root/target/release/wasmtasks}
arith="$root/target/wasm-guests/wasm32-wasip2/release/arith.wasm"
postgres=${1:-}
jobs=${JOBS:-1000000}
runs=${RUNS:-21}
[ -x "$wasmtasks" ] || { echo "bench-dashboard: build it first: cargo build --release -p wasmtasks-cli" >&2; exit 2; }
[ -f "$arith" ] || { echo "bench-dashboard: build the examples first: ./scripts/quickstart.sh" >&2; exit 2; }
scratch=$(mktemp -d)
server_pid=
database_name=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "$database_name" ] && psql "$postgres" -q -c "DROP DATABASE IF EXISTS $database_name" >/dev/null 2>&1
  rm -rf "$scratch"
}
trap cleanup EXIT
. scripts/lib/serve.sh

if [ -n "$postgres" ]; then
  database_name="wasmtasks_bench_dashboard_$$"
  psql "$postgres" -q -c "CREATE DATABASE $database_name" >/dev/null
  export WASMTASKS_DATABASE_URL="${postgres%/*}/$database_name"
  sql() { psql "$WASMTASKS_DATABASE_URL" -q -v ON_ERROR_STOP=1; }
else
  export WASMTASKS_DATABASE_URL="sqlite://$scratch/wasmtasks.sqlite3"
  sql() { sqlite3 -bail "$scratch/wasmtasks.sqlite3"; }
fi
export WASMTASKS_CACHE_DIR=$scratch/cache
cd "$scratch"
"$wasmtasks" tenant create alice >/dev/null
"$wasmtasks" --tenant alice upload "$arith" >/dev/null
alice=$("$wasmtasks" token create alice --role admin --name bench 2>/dev/null)
operator=$("$wasmtasks" token create --operator --name bench 2>/dev/null)

# Job i: enqueued at `ms` (epoch milliseconds), with a UUIDv7-shaped id of that
# time (ids sort as enqueue times do), its status and queue from i.
now_ms=$(($(date +%s) * 1000))
span_ms=$((2 * 86400 * 1000))
echo "seeding $jobs jobs ($([ -n "$postgres" ] && echo PostgreSQL || echo SQLite))..." >&2
seed_started=$SECONDS
status="CASE WHEN i % 100 < 90 THEN 'SUCCESSFUL' WHEN i % 100 < 95 THEN 'FAILED'
  WHEN i % 100 < 96 THEN 'CANCELLED' WHEN i % 1000 < 999 THEN 'READY' ELSE 'RUNNING' END"
queue="CASE i % 10 WHEN 0 THEN 'emails' WHEN 1 THEN 'reports' ELSE 'default' END"
# An attempt for each finished job (the same SQL in both dialects).
attempts="INSERT INTO task_attempts (task_id, attempt, tenant, worker_id, started_at, finished_at, status,
  exception_class_path, traceback, fuel_consumed, peak_memory_bytes, duration_us, stdout, stderr)
SELECT id, 1, tenant, 'bench-worker', started_at, finished_at, status,
  CASE WHEN status = 'FAILED' THEN 'arith.Overflow' END,
  CASE WHEN status = 'FAILED' THEN 'arith.Overflow: 1 + 2 overflowed' END,
  12345, 1114112, 20000, '', ''
FROM tasks WHERE status IN ('SUCCESSFUL', 'FAILED');"
if [ -n "$postgres" ]; then
  sql <<SQL
INSERT INTO tasks (id, tenant, task_path, component, task_name, component_digest, status,
  args, kwargs, priority, queue_name, backend, takes_context, available_at, enqueued_at,
  started_at, finished_at, attempt, max_attempts, backoff_factor, limits, lease_owner,
  lease_expires_at, return_value)
SELECT lpad(to_hex(ms >> 16), 8, '0') || '-' || lpad(to_hex(ms & 65535), 4, '0')
    || '-7000-8000-' || lpad(to_hex(i), 12, '0'),
  'alice', 'arith.add', 'arith', 'add', digest, status, '[1, 2]', '{}', 0, queue, 'default',
  false, at, at, CASE WHEN status = 'READY' THEN NULL ELSE at END,
  CASE WHEN status IN ('SUCCESSFUL', 'FAILED', 'CANCELLED') THEN at + interval '20 ms' END,
  CASE WHEN status IN ('READY', 'CANCELLED') THEN 0 ELSE 1 END, 3, 2.0, '{}',
  CASE WHEN status = 'RUNNING' THEN 'bench-worker' END,
  CASE WHEN status = 'RUNNING' THEN now() + interval '1 day' END,
  CASE WHEN status = 'SUCCESSFUL' THEN '3'::jsonb END
FROM (SELECT i, $now_ms - $span_ms + i * $span_ms / $jobs AS ms,
        to_timestamp(($now_ms - $span_ms + i * $span_ms / $jobs) / 1000.0) AS at,
        $status AS status, $queue AS queue
      FROM generate_series(0::bigint, $jobs - 1) i) s,
     (SELECT digest FROM component_versions LIMIT 1) c;
$attempts
INSERT INTO finished_minutes (tenant, minute, status, n)
SELECT tenant, floor(extract(epoch FROM finished_at) / 60)::bigint, status, count(*)
FROM tasks WHERE finished_at IS NOT NULL GROUP BY 1, 2, 3
ON CONFLICT (tenant, minute, status) DO UPDATE SET n = excluded.n;
VACUUM ANALYZE;
SQL
else
  sql <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $jobs - 1)
INSERT INTO tasks (id, tenant, task_path, component, task_name, component_digest, status,
  args, kwargs, priority, queue_name, backend, takes_context, available_at, enqueued_at,
  started_at, finished_at, attempt, max_attempts, backoff_factor, limits, lease_owner,
  lease_expires_at, return_value)
SELECT printf('%08x-%04x-7000-8000-%012x', ms >> 16, ms & 65535, i),
  'alice', 'arith.add', 'arith', 'add', digest, status, '[1, 2]', '{}', 0, queue, 'default',
  0, ms * 1000, ms * 1000, CASE WHEN status = 'READY' THEN NULL ELSE ms * 1000 END,
  CASE WHEN status IN ('SUCCESSFUL', 'FAILED', 'CANCELLED') THEN ms * 1000 + 20000 END,
  CASE WHEN status IN ('READY', 'CANCELLED') THEN 0 ELSE 1 END, 3, 2.0, '{}',
  CASE WHEN status = 'RUNNING' THEN 'bench-worker' END,
  CASE WHEN status = 'RUNNING' THEN ($now_ms + 86400000) * 1000 END,
  CASE WHEN status = 'SUCCESSFUL' THEN '3' END
FROM (SELECT i, $now_ms - $span_ms + i * $span_ms / $jobs AS ms, $status AS status,
        $queue AS queue FROM n),
     (SELECT digest FROM component_versions LIMIT 1);
$attempts
INSERT INTO finished_minutes (tenant, minute, status, n)
SELECT tenant, finished_at / 60000000, status, count(*)
FROM tasks WHERE finished_at IS NOT NULL GROUP BY 1, 2, 3
ON CONFLICT (tenant, minute, status) DO UPDATE SET n = excluded.n;
ANALYZE;
SQL
fi
echo "seeded in $((SECONDS - seed_started))s" >&2

serve_start --workers 0
cd "$root"
cookie_of() {
  curl -s -o /dev/null -D - -d "token=$1" "$url/login" \
    | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p'
}
alice_cookie=$(cookie_of "$alice")
operator_cookie=$(cookie_of "$operator")
failed_id=$(curl -s -H "authorization: Bearer $alice" "$url/api/v1/jobs?status=FAILED&limit=1" \
  | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
middle_ms=$((now_ms - span_ms + (jobs / 2) * span_ms / jobs))
middle_id=$(printf '%08x-%04x-7000-8000-%012x' $((middle_ms >> 16)) $((middle_ms & 65535)) $((jobs / 2)))

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# time_page NAME AUTH URL: RUNS requests (after one to warm up); every one must be 200.
time_page() {
  local name=$1 auth=$2 page=$3 times=()
  for n in $(seq 0 "$runs"); do
    local result
    result=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "$auth" "$url$page")
    [ "${result% *}" = 200 ] || { echo "bench-dashboard: $page answered ${result% *}" >&2; exit 1; }
    [ "$n" -gt 0 ] && times+=("$(awk -v t="${result#* }" 'BEGIN {printf "%.1f", t * 1000}')")
  done
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  printf '%-34s %8s %8s\n' "$name" "$(median <<<"$sorted")" "$(tail -n1 <<<"$sorted")"
}
echo
printf '%-34s %8s %8s\n' "page ($jobs jobs)" "median" "max"
time_page "overview /" "cookie: $alice_cookie" "/"
time_page "jobs /jobs" "cookie: $alice_cookie" "/jobs"
time_page "jobs ?status=FAILED" "cookie: $alice_cookie" "/jobs?status=FAILED"
time_page "jobs ?queue=emails" "cookie: $alice_cookie" "/jobs?queue=emails"
time_page "jobs ?queue=nope (no match)" "cookie: $alice_cookie" "/jobs?queue=nope"
time_page "jobs ?task=arith.sub (no match)" "cookie: $alice_cookie" "/jobs?task=arith.sub"
time_page "jobs, a page from the middle" "cookie: $alice_cookie" "/jobs?cursor=$middle_id"
time_page "a failed job /jobs/{id}" "cookie: $alice_cookie" "/jobs/$failed_id"
time_page "components /components" "cookie: $alice_cookie" "/components"
time_page "tenants /tenants (operator)" "cookie: $operator_cookie" "/tenants"
time_page "/metrics (operator)" "authorization: Bearer $operator" "/metrics"
time_page "GET /api/v1/queues" "authorization: Bearer $alice" "/api/v1/queues"

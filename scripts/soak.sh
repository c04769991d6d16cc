#!/usr/bin/env bash
# Soak test (not part of CI): N jobs of a mix of example tasks through K worker
# processes while one of them, picked at random, is killed with SIGKILL every few
# seconds and started again. At the end every job's final state is checked against
# what its task must produce, and a summary table is printed. Exit 0 only if every
# check holds.
#
#   scripts/soak.sh [--jobs N] [--workers K] [--kill-every SECONDS] [--database URL]
#
# Defaults: 100000 jobs, 4 workers, a kill every 5 s, a fresh SQLite file in a
# scratch directory (a postgres:// URL is used as given: give it an empty database).
# Needs the examples built (./scripts/quickstart.sh), a wasmtasks binary
# (WASMTASKS_BIN, default target/release/wasmtasks), and sqlite3 or psql.
#
# The mix, by job number i (mod 10), and what each must end as:
#   0-5  arith.add(i, 1)              SUCCESSFUL, returns i+1, one successful attempt
#   6    flaky.until_attempt(2)       SUCCESSFUL on attempt 2 or later (retried)
#   7    welcome.welcome("no-at-sign") FAILED welcome.WelcomeError (2 attempts)
#   8    hostile.spin, fuel 1e6       FAILED wasmtasks.OutOfFuel
#   9    hostile.sleep_ms(20)         SUCCESSFUL, returns 20
# Jobs that must succeed get 5 attempts, so that an attempt lost with its worker
# (wasmtasks.WorkerLost) is retried; no job may end with more attempts than it was
# given, and every attempt started must be recorded.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=100000 workers=4 kill_every=5 database=""
while [ $# -gt 0 ]; do
    case $1 in
        --jobs) jobs=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --kill-every) kill_every=$2; shift 2 ;;
        --database) database=$2; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
wasmtasks=${WASMTASKS_BIN:-$root/target/release/wasmtasks}
guests=$root/target/wasm-guests/wasm32-wasip2/release
scratch=$(mktemp -d)
database=${database:-sqlite://$scratch/soak.sqlite3}
export WASMTASKS_DATABASE_URL=$database WASMTASKS_CACHE_DIR=$scratch/cache WASMTASKS_LOG=warn
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; rm -rf "$scratch"; }
trap cleanup EXIT

for component in arith flaky welcome hostile; do
    "$wasmtasks" upload "$guests/$component.wasm" >/dev/null
done
python3 - "$jobs" >"$scratch/jobs.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    kind = i % 10
    retry = {"max_attempts": 5, "backoff_factor": 0.01}
    if kind <= 5:
        job = {"task_path": "arith.add", "args": [i, 1], **retry}
    elif kind == 6:
        job = {"task_path": "flaky.until_attempt", "args": [2], **retry}
    elif kind == 7:
        job = {"task_path": "welcome.welcome", "args": ["no-at-sign", "Bob"],
               "queue_name": "default", "max_attempts": 2, "backoff_factor": 0.01}
    elif kind == 8:
        job = {"task_path": "hostile.spin", "args": [], "fuel": 1000000}
    else:
        job = {"task_path": "hostile.sleep_ms", "args": [20], **retry}
    print(json.dumps(job))
PY
"$wasmtasks" enqueue --file "$scratch/jobs.jsonl" >/dev/null
echo "soak: $jobs jobs, $workers workers, a SIGKILL every ${kill_every}s, on $database"

start_worker() { "$wasmtasks" worker --concurrency 8 --lease 5s >>"$scratch/worker-$1.log" 2>&1 & pids[$1]=$!; }
for n in $(seq 0 $((workers - 1))); do start_worker "$n"; done
kills=0 started=$(date +%s)
left() { "$wasmtasks" queues --json | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]["counts"]; print(c["READY"]+c["RUNNING"])'; }
while [ "$(left)" -gt 0 ]; do
    sleep "$kill_every"
    victim=$((RANDOM % workers))
    kill -9 "${pids[$victim]}" 2>/dev/null || true
    wait "${pids[$victim]}" 2>/dev/null || true
    kills=$((kills + 1))
    start_worker "$victim"
done
elapsed=$(( $(date +%s) - started ))
echo "drained in ${elapsed}s with $kills kills"

# The checks, in the database's own SQL: each query counts the jobs that break a rule.
case $database in
    postgres*) query() { psql -qAtX "$database" -c "$1"; }
               args0="(args->>0)::bigint" returned="(return_value#>>'{}')" ;;
    *) query() { sqlite3 "${database#sqlite://}" "$1"; }
       args0="json_extract(args, '\$[0]')" returned="return_value" ;;
esac
failures=0
check() {
    local broken
    broken=$(query "$2")
    printf '%-62s %s\n' "$1" "$([ "$broken" = 0 ] && echo ok || echo "BROKEN: $broken")"
    [ "$broken" = 0 ] || failures=$((failures + 1))
}
check "no job left READY or RUNNING" \
    "SELECT count(*) FROM tasks WHERE status IN ('READY', 'RUNNING')"
check "every job that can succeed did, with one successful attempt" \
    "SELECT count(*) FROM tasks t WHERE task_path IN ('arith.add', 'flaky.until_attempt', 'hostile.sleep_ms')
       AND (status <> 'SUCCESSFUL' OR (SELECT count(*) FROM task_attempts a
            WHERE a.task_id = t.id AND a.status = 'SUCCESSFUL') <> 1)"
check "arith.add returned i+1" \
    "SELECT count(*) FROM tasks WHERE task_path = 'arith.add' AND CAST($returned AS BIGINT) <> $args0 + 1"
check "hostile.sleep_ms returned 20" \
    "SELECT count(*) FROM tasks WHERE task_path = 'hostile.sleep_ms' AND CAST($returned AS BIGINT) <> 20"
check "flaky.until_attempt succeeded on attempt 2 or later" \
    "SELECT count(*) FROM tasks WHERE task_path = 'flaky.until_attempt' AND attempt < 2"
check "welcome.welcome failed with its own class (or a lost worker)" \
    "SELECT count(*) FROM tasks t WHERE task_path = 'welcome.welcome' AND (status <> 'FAILED'
       OR (SELECT exception_class_path FROM task_attempts a WHERE a.task_id = t.id
           ORDER BY attempt DESC LIMIT 1) NOT IN ('welcome.WelcomeError', 'wasmtasks.WorkerLost'))"
check "hostile.spin ran out of fuel" \
    "SELECT count(*) FROM tasks t WHERE task_path = 'hostile.spin' AND (status <> 'FAILED'
       OR (SELECT exception_class_path FROM task_attempts a WHERE a.task_id = t.id
           ORDER BY attempt DESC LIMIT 1) NOT IN ('wasmtasks.OutOfFuel', 'wasmtasks.WorkerLost'))"
check "no job ran more attempts than it was given" \
    "SELECT count(*) FROM tasks WHERE attempt > retry_base + max_attempts"
check "every attempt started was recorded" \
    "SELECT count(*) FROM tasks t WHERE attempt <> (SELECT count(*) FROM task_attempts a WHERE a.task_id = t.id)"

echo
echo "task_path|status|jobs|attempts (min/avg/max)|workers lost"
query "SELECT task_path, status, count(*), min(attempt) || '/' || round(avg(attempt), 2) || '/' || max(attempt),
         (SELECT count(*) FROM task_attempts a JOIN tasks u ON u.id = a.task_id
          WHERE u.task_path = t.task_path AND u.status = t.status
            AND a.exception_class_path = 'wasmtasks.WorkerLost')
       FROM tasks t GROUP BY task_path, status ORDER BY task_path, status"
[ "$failures" = 0 ] && echo "soak: every check holds" || { echo "soak: $failures checks broken"; exit 1; }

#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium (Debian's `chromium`,
# installed with apt-get when /usr/bin/chromium is missing) driven by
# playwright-core (tests/browser, pinned by its package-lock.json, `npm ci`)
# against a real `wasmtasks serve --workers 1` on a fresh SQLite database and a
# free port, with tenants alice and bob, an operator, and the example components
# arith and hostile uploaded for alice.
#
# Uses the debug binary ${WASMTASKS_BIN:-target/debug/wasmtasks} (built with
# `cargo build -p wasmtasks-cli` if missing) and the examples in
# target/wasm-guests/wasm32-wasip2/release (`cargo test --workspace` builds them).
# Screenshots of each page go to target/browser-screenshots/; with
# UPDATE_SCREENSHOTS=1 the ones the README shows are copied to docs/screenshots/.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ci-dashboard.XXXXXX")
server_pid=
finish() {
  local status=$?
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "$status" -ne 0 ] && [ -f "$scratch/serve.log" ]; then tail -n 40 "$scratch/serve.log" >&2; fi
  rm -rf "$scratch"
  echo "ci-dashboard: $([ "$status" -eq 0 ] && echo passed || echo "FAILED ($status)") in $((SECONDS - started))s"
}
trap finish EXIT
step() { echo "==> $* ($((SECONDS - started))s)"; }

if [ ! -x /usr/bin/chromium ]; then
  step "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

binary=${WASMTASKS_BIN:-target/debug/wasmtasks}
[[ $binary == /* ]] || binary=$root/$binary
if [ ! -x "$binary" ]; then
  step "building wasmtasks"
  cargo build -p wasmtasks-cli
fi
components=$root/target/wasm-guests/wasm32-wasip2/release
for component in arith hostile; do
  if [ ! -f "$components/$component.wasm" ]; then
    echo "ci-dashboard: no $components/$component.wasm (cargo test --workspace builds the examples)" >&2
    exit 1
  fi
done
# A copy, so a rebuild of the binary during the run changes nothing.
cp "$binary" "$scratch/wasmtasks"
wasmtasks=$scratch/wasmtasks

step "npm ci (playwright-core)"
(cd tests/browser && npm ci --no-audit --no-fund --silent)

step "a server with tenants alice and bob, and an operator"
. "$root/scripts/lib/serve.sh"
export WASMTASKS_CACHE_DIR=$scratch/cache WASMTASKS_DATABASE_URL=sqlite://$scratch/wasmtasks.sqlite3
cd "$scratch"
"$wasmtasks" tenant create alice >/dev/null
"$wasmtasks" tenant create bob >/dev/null
ALICE_TOKEN=$("$wasmtasks" token create alice --role admin --name browser 2>/dev/null)
BOB_TOKEN=$("$wasmtasks" token create bob --role admin --name browser 2>/dev/null)
OPERATOR_TOKEN=$("$wasmtasks" token create --operator --name browser 2>/dev/null)
"$wasmtasks" --tenant alice upload "$components/arith.wasm" >/dev/null
"$wasmtasks" --tenant alice upload "$components/hostile.wasm" >/dev/null
serve_start --workers 1
cd "$root"

step "browser tests against $url"
shots=$root/target/browser-screenshots
rm -rf "$shots"
WASMTASKS_URL=$url ALICE_TOKEN=$ALICE_TOKEN BOB_TOKEN=$BOB_TOKEN OPERATOR_TOKEN=$OPERATOR_TOKEN \
  SCREENSHOT_DIR=$shots node --test --test-concurrency=1 tests/browser/
if [ "${UPDATE_SCREENSHOTS:-}" = 1 ]; then
  mkdir -p docs/screenshots
  for name in overview jobs job-failed jobs-phone; do cp "$shots/$name.png" docs/screenshots/; done
  step "copied the README's screenshots to docs/screenshots/"
fi

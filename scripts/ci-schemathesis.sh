#!/usr/bin/env bash
# The HTTP API against its own OpenAPI document (host/server/openapi.json) with
# schemathesis, from a fresh virtualenv: no answer may be a 5xx, and every answer
# must match the document (status codes, content types, bodies, headers). Two
# passes, as a tenant's admin and as the operator. Run by .ci/run after the test
# suite, with the debug binary it built.
#
# Excluded: revoking tokens (a pass would revoke its own token and test nothing
# after), and the `positive_data_acceptance` check: a request can fit the schema
# and still break a rule the schema cannot say (a task that does not exist,
# arguments that do not fit its signature), and is then rightly refused with 422.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
wasmtasks="$root/target/debug/wasmtasks"
arith="$root/target/wasm-guests/wasm32-wasip2/release/arith.wasm"
SCHEMATHESIS_VERSION=4.32.5

python=""
if command -v pyenv >/dev/null; then
  for version in 3.12.1 3.13.0; do
    candidate="$(pyenv root)/versions/$version/bin/python"
    [ -x "$candidate" ] && { python=$candidate; break; }
  done
fi
python=${python:-$(command -v python3)}
venv="$root/target/ci-venv-schemathesis"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"

scratch=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$scratch"; }
trap cleanup EXIT
. "$root/scripts/lib/serve.sh"
cd "$scratch"
export WASMTASKS_CACHE_DIR="$scratch/cache"
"$wasmtasks" tenant create fuzz >/dev/null
admin=$("$wasmtasks" token create fuzz --role admin --name schemathesis 2>/dev/null)
operator=$("$wasmtasks" token create --operator --name schemathesis 2>/dev/null)
"$wasmtasks" --tenant fuzz upload "$arith" >/dev/null
serve_start --workers 1

for token in "$admin" "$operator"; do
  "$venv/bin/schemathesis" run "$root/host/server/openapi.json" \
    --url "$url" \
    --header "Authorization: Bearer $token" \
    --checks all --exclude-checks positive_data_acceptance \
    --exclude-path-regex '^/api/v1/tokens/' \
    --max-examples 30 \
    --suppress-health-check all \
    --warnings off
done
echo "schemathesis: no server errors, every answer as documented"

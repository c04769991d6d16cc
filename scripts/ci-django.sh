#!/usr/bin/env bash
# CI of the Django TASKS backend (clients/django, django-wasmtasks): a fresh
# virtualenv from pyenv's Python 3.12 (else python3.12 on PATH) with the pinned
# requirements-dev.txt and the package installed from its wheel; then ruff (lint and
# format), mypy --strict, and the tests twice, at the same time, each against a real
# `wasmtasks serve` that the fixtures start on a free port with a fresh database:
# SQLite, and PostgreSQL (127.0.0.1:5432, or WASMTASKS_TEST_POSTGRES_URL; a database
# is created for the run and dropped after it). With CI=true an unreachable
# PostgreSQL fails.
#
# Uses the built binary ${WASMTASKS_BIN:-target/debug/wasmtasks} and the Rust example
# components arith, flaky and welcome in
# ${WASMTASKS_COMPONENTS:-target/wasm-guests/wasm32-wasip2/release} (cargo build, or
# scripts/quickstart.sh, builds both). The notify component the tests and the example
# project use is the Python one (tasks-examples/python/notify): built here once per
# run, with the Python guest SDK (guest-sdk/python[build], installed in the
# virtualenv) and passed as WASMTASKS_PYTHON_NOTIFY; the host compiles it once into
# a cache both test runs share (WASMTASKS_CACHE_DIR), in the background while the
# other packages install and ruff and mypy run.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
started=$SECONDS
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ci-django.XXXXXX")
finish() {
  local status=$?
  wait  # for a background step still running (the notify build, mypy) when a step failed
  rm -rf "$scratch"
  echo "ci-django: $([ "$status" -eq 0 ] && echo passed || echo "FAILED ($status)") in $((SECONDS - started))s"
}
trap finish EXIT

binary=${WASMTASKS_BIN:-target/debug/wasmtasks}
[[ $binary == /* ]] || binary=$repo/$binary
components=${WASMTASKS_COMPONENTS:-$repo/target/wasm-guests/wasm32-wasip2/release}
if [ ! -x "$binary" ]; then
  echo "ci-django: no wasmtasks binary at $binary (cargo build -p wasmtasks-cli)" >&2
  exit 1
fi
for component in arith flaky welcome; do
  if [ ! -f "$components/$component.wasm" ]; then
    echo "ci-django: no $components/$component.wasm (cargo build --workspace --tests builds the examples)" >&2
    exit 1
  fi
done
# A copy, so a rebuild of target/debug/wasmtasks during the run changes nothing.
cp "$binary" "$scratch/wasmtasks"
export WASMTASKS_BIN=$scratch/wasmtasks WASMTASKS_COMPONENTS=$components

python=
if command -v pyenv >/dev/null 2>&1; then
  version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -V | tail -1 || true)
  if [ -n "$version" ]; then python="$(pyenv root)/versions/$version/bin/python"; fi
fi
if [ -z "$python" ] && command -v python3.12 >/dev/null 2>&1; then python=$(command -v python3.12); fi
if [ -z "$python" ]; then
  echo "ci-django: no Python 3.12 (pyenv install 3.12, or python3.12 on PATH)" >&2
  exit 1
fi

step() { echo "==> $* ($((SECONDS - started))s)"; }

step "virtualenv: $("$python" --version) from $python"
"$python" -m venv "$scratch/venv"
venv=$scratch/venv/bin
pip_quiet=(--quiet --disable-pip-version-check --no-input)
requirements=clients/django/requirements-dev.txt
# First the Python guest SDK with its builder (componentize-py) and the build backend,
# at the versions requirements-dev.txt pins, so the Python notify builds while the
# rest installs.
"$venv/pip" install "${pip_quiet[@]}" -c "$requirements" componentize-py hatchling editables
"$venv/pip" install "${pip_quiet[@]}" --no-build-isolation "$repo/guest-sdk/python[build]"

# The Python notify: built, then compiled by the host into the shared cache, in the
# background while the rest installs and ruff and mypy run; the tests wait for it.
export WASMTASKS_PYTHON_NOTIFY=$scratch/python/notify.wasm WASMTASKS_CACHE_DIR=$scratch/cache
(
  "$venv/python" -m wasmtasks_guest.build tasks-examples/python/notify -o "$WASMTASKS_PYTHON_NOTIFY" >/dev/null
  compiling=$SECONDS
  "$WASMTASKS_BIN" inspect "$WASMTASKS_PYTHON_NOTIFY" --cache-dir "$WASMTASKS_CACHE_DIR" >/dev/null
  echo "compiled by the host in $((SECONDS - compiling))s"
) >"$scratch/notify.log" 2>&1 &
notify_pid=$!

step "the pinned requirements-dev.txt, django-wasmtasks (its wheel); notify builds meanwhile"
"$venv/pip" install "${pip_quiet[@]}" -r "$requirements"
# Built as a wheel and installed like any user's install (the tests import it from
# site-packages, not from src/).
"$venv/pip" wheel "${pip_quiet[@]}" --no-build-isolation --no-deps -w "$scratch/dist" clients/django
"$venv/pip" install "${pip_quiet[@]}" --no-deps "$scratch"/dist/django_wasmtasks-*.whl

cd clients/django
step "ruff check, ruff format --check"
"$venv/ruff" check --no-cache .
"$venv/ruff" format --no-cache --check .

# mypy in the background, while notify finishes; then both test runs at once: a
# run mostly waits on its server (about 6 s of CPU in 16 s), so two cores hold them
# and mypy. Each run's output is shown when both have ended.
step "mypy --strict (package, tests, example); the Python notify built and compiled"
"$venv/mypy" --strict --cache-dir "$scratch/mypy-cache" >"$scratch/mypy.log" 2>&1 &
mypy_pid=$!
notify_status=0
wait "$notify_pid" || notify_status=$?
sed 's/^/  /' "$scratch/notify.log"
if [ "$notify_status" -ne 0 ]; then
  echo "ci-django: building the Python notify failed ($notify_status)" >&2
  exit 1
fi

step "pytest on SQLite and on PostgreSQL, at once"
WASMTASKS_TEST_DB=sqlite "$venv/pytest" -p no:cacheprovider -q >"$scratch/sqlite.log" 2>&1 &
sqlite_pid=$!
WASMTASKS_TEST_DB=postgres "$venv/pytest" -p no:cacheprovider -q >"$scratch/postgres.log" 2>&1 &
postgres_pid=$!
sqlite_status=0
wait "$sqlite_pid" || sqlite_status=$?
postgres_status=0
wait "$postgres_pid" || postgres_status=$?
mypy_status=0
wait "$mypy_pid" || mypy_status=$?
echo "--- mypy --strict"
cat "$scratch/mypy.log"
echo "--- pytest on SQLite"
cat "$scratch/sqlite.log"
echo "--- pytest on PostgreSQL"
cat "$scratch/postgres.log"

echo "ci-django: mypy $mypy_status, pytest sqlite $sqlite_status, pytest postgres $postgres_status"
[ "$mypy_status" -eq 0 ] && [ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]

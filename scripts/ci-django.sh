#!/usr/bin/env bash
# CI of the Django TASKS backend (clients/django, django-wasmtasks): a fresh
# virtualenv from pyenv's Python 3.12 (else python3.12 on PATH) with the pinned
# requirements-dev.txt and the package installed from its wheel; then ruff (lint and
# format), mypy --strict, and the tests twice, each against a real `wasmtasks serve`
# that the fixtures start on a free port with a fresh database: SQLite, then
# PostgreSQL (127.0.0.1:5432, or WASMTASKS_TEST_POSTGRES_URL; a database is created
# for the run and dropped after it). With CI=true an unreachable PostgreSQL fails.
#
# Uses the built binary ${WASMTASKS_BIN:-target/debug/wasmtasks} and the example
# components in ${WASMTASKS_COMPONENTS:-target/wasm-guests/wasm32-wasip2/release}
# (cargo build, or scripts/quickstart.sh, builds both). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
started=$SECONDS
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ci-django.XXXXXX")
finish() {
  local status=$?
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
for component in arith flaky notify welcome; do
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
"$venv/pip" install "${pip_quiet[@]}" -r clients/django/requirements-dev.txt
# Built as a wheel and installed like any user's install (the tests import it from
# site-packages, not from src/).
"$venv/pip" wheel "${pip_quiet[@]}" --no-build-isolation --no-deps -w "$scratch/dist" clients/django
"$venv/pip" install "${pip_quiet[@]}" --no-deps "$scratch"/dist/django_wasmtasks-*.whl

cd clients/django
step "ruff check, ruff format --check"
"$venv/ruff" check --no-cache .
"$venv/ruff" format --no-cache --check .

# mypy, and the SQLite run, at once (two cores); mypy's output waits for the tests.
step "mypy --strict (package, tests, example) and pytest on SQLite"
"$venv/mypy" --strict --cache-dir "$scratch/mypy-cache" >"$scratch/mypy.log" 2>&1 &
mypy_pid=$!
sqlite_status=0
WASMTASKS_TEST_DB=sqlite "$venv/pytest" -p no:cacheprovider -q || sqlite_status=$?
mypy_status=0
wait "$mypy_pid" || mypy_status=$?
cat "$scratch/mypy.log"

step "pytest on PostgreSQL"
postgres_status=0
WASMTASKS_TEST_DB=postgres "$venv/pytest" -p no:cacheprovider -q || postgres_status=$?

echo "ci-django: mypy $mypy_status, pytest sqlite $sqlite_status, pytest postgres $postgres_status"
[ "$mypy_status" -eq 0 ] && [ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]

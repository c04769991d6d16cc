#!/usr/bin/env bash
# The Python guest SDK (guest-sdk/python) and its examples (tasks-examples/python),
# from a fresh virtualenv in a temporary directory: ruff, mypy --strict, the native
# tests, then the component tests, which build every example with componentize-py
# (pinned in requirements-dev.txt) once and run it with the wasmtasks binary
# (WASMTASKS_BIN, default target/debug/wasmtasks, which must exist: this script does
# not build it). Exits non-zero when any step fails; prints each step's time and the
# total.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sdk="$root/guest-sdk/python"
wasmtasks=${WASMTASKS_BIN:-target/debug/wasmtasks}
case "$wasmtasks" in /*) ;; *) wasmtasks="$root/$wasmtasks" ;; esac
export WASMTASKS_BIN="$wasmtasks"

started=$SECONDS
step_started=$SECONDS
step_name=""
step() {
  [ -n "$step_name" ] && echo "ci-python-sdk: $step_name took $((SECONDS - step_started))s"
  step_name=$1
  step_started=$SECONDS
  echo "ci-python-sdk: $step_name"
}

scratch=$(mktemp -d)
finish() {
  status=$?
  if [ $status -eq 0 ]; then
    echo "ci-python-sdk: $step_name took $((SECONDS - step_started))s"
    echo "ci-python-sdk: passed in $((SECONDS - started))s"
  else
    echo "ci-python-sdk: FAILED (exit $status) during '$step_name' after $((SECONDS - started))s" >&2
  fi
  rm -rf "$scratch"
  exit $status
}
trap finish EXIT

# Python 3.12: the newest 3.12.x pyenv has, else python3.12 on PATH.
python=""
if command -v pyenv >/dev/null; then
  python=$(ls -d "$(pyenv root)"/versions/3.12.*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
fi
python=${python:-$(command -v python3.12 || true)}
if [ -z "$python" ]; then
  echo "ci-python-sdk: no Python 3.12 (neither pyenv's nor python3.12 on PATH)" >&2
  exit 1
fi
if [ ! -x "$wasmtasks" ]; then
  echo "ci-python-sdk: no wasmtasks binary at $wasmtasks (build it first, or set WASMTASKS_BIN)" >&2
  exit 1
fi

step "virtualenv ($("$python" --version), $python) with the pinned requirements"
venv="$scratch/venv"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --quiet --disable-pip-version-check)
"${pip[@]}" install --requirement "$sdk/requirements-dev.txt"
"${pip[@]}" install --no-deps --no-build-isolation --editable "$sdk"
"$venv/bin/componentize-py" --version

cd "$sdk"
step "ruff check and ruff format --check"
"$venv/bin/ruff" check . ../../tasks-examples/python
"$venv/bin/ruff" format --check . ../../tasks-examples/python

step "mypy --strict"
"$venv/bin/mypy"

step "native tests (pytest -m 'not components')"
"$venv/bin/pytest" -m "not components" --basetemp "$scratch/native" -q

step "component tests (pytest -m components, with $wasmtasks)"
"$venv/bin/pytest" -m components --basetemp "$scratch/components" -q --durations=5

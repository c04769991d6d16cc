#!/usr/bin/env bash
# Sets up the notification demo (README.md), once; running it again is harmless.
#
# * Django: a virtualenv in .venv (Python 3.12, pinned requirements.txt,
#   django-wasmtasks from .., and the Python guest SDK with its builder,
#   guest-sdk/python[build]), then its database (db.sqlite3).
# * notify: the Python task of tasks-examples/python/notify, built into
#   .wasmtasks/notify.wasm with componentize-py (again only when its sources
#   changed).
# * wasmtasks: .wasmtasks/wasmtasks.toml (queues default and emails, a database
#   in .wasmtasks/), a member token of the default tenant in .wasmtasks/token
#   (the settings read it), the Python notify and the Rust welcome components,
#   and notify's grant and ntfy_url pointing at this site's own ntfy-style topic
#   (http://127.0.0.1:8001/ntfy/demo; DEMO_URL changes the address).
#
# Needs the wasmtasks binary and the Rust example components built (README.md);
# WASMTASKS_BIN and WASMTASKS_COMPONENTS point elsewhere.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
repo=$(cd ../../.. && pwd)
wasmtasks=${WASMTASKS_BIN:-$repo/target/debug/wasmtasks}
components=${WASMTASKS_COMPONENTS:-$repo/target/wasm-guests/wasm32-wasip2/release}
site=${DEMO_URL:-http://127.0.0.1:8001}

if [ ! -x "$wasmtasks" ]; then
  echo "no wasmtasks binary at $wasmtasks: build it with 'cargo build -p wasmtasks-cli'" >&2
  exit 1
fi
if [ ! -f "$components/welcome.wasm" ]; then
  echo "no $components/welcome.wasm: build the examples with" >&2
  echo "  $wasmtasks build $repo/tasks-examples --target-dir $repo/target/wasm-guests" >&2
  exit 1
fi

# Python 3.12 or newer: pyenv's 3.12, else python3.12, else python3 if new enough.
python=
if command -v pyenv >/dev/null 2>&1; then
  version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -V | tail -1 || true)
  [ -n "$version" ] && python="$(pyenv root)/versions/$version/bin/python"
fi
if [ -z "$python" ]; then
  for candidate in python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
      python=$(command -v "$candidate")
      break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "needs Python 3.12 or newer (pyenv install 3.12, or python3.12 on PATH)" >&2
  exit 1
fi

echo "==> Django: .venv ($("$python" --version)), requirements.txt, django-wasmtasks, wasmtasks-guest"
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/pip install --quiet --disable-pip-version-check)
"${pip[@]}" -r requirements.txt
"${pip[@]}" --no-build-isolation --no-deps -e ..
# The Python guest SDK and its builder (componentize-py, pinned in requirements.txt).
"${pip[@]}" --no-build-isolation -e "$repo/guest-sdk/python[build]"
.venv/bin/python manage.py migrate --verbosity 0 --skip-checks  # the server may not be up yet

mkdir -p .wasmtasks
notify_project=$repo/tasks-examples/python/notify
notify=.wasmtasks/notify.wasm
# Built again only when a source (the project's or the SDK's) is newer than it.
if [ -f "$notify" ] && [ -z "$(find "$notify_project" "$repo/guest-sdk/python/src" \
  \( -name '.*' -o -name __pycache__ -o -name build \) -prune -o \
  -type f -newer "$notify" -print -quit)" ]; then
  echo "==> notify: $notify is up to date with tasks-examples/python/notify"
else
  echo "==> notify: building tasks-examples/python/notify (Python) into $notify"
  .venv/bin/python -m wasmtasks_guest.build "$notify_project" -o "$notify.new" >/dev/null
  mv "$notify.new" "$notify"
fi

echo "==> wasmtasks: .wasmtasks/ (configuration, database, token, components)"
cat > .wasmtasks/wasmtasks.toml <<TOML
# Written by wasmtasks-up.sh.
database_url = "sqlite://$here/.wasmtasks/wasmtasks.sqlite3"

[queues.default]

[queues.emails]
max_attempts = 3
backoff_factor = 0.5
TOML
export WASMTASKS_CONFIG="$here/.wasmtasks/wasmtasks.toml"
# The variables that point the CLI at a server would take it away from this database.
unset WASMTASKS_SERVER WASMTASKS_TOKEN WASMTASKS_TENANT WASMTASKS_DATABASE_URL

token_ok=
if [ -s .wasmtasks/token ]; then
  prefix=$(cut -d_ -f2 .wasmtasks/token)
  "$wasmtasks" tenant show default 2>/dev/null | grep -q "$prefix" && token_ok=1
fi
if [ -z "$token_ok" ]; then
  "$wasmtasks" token create default --role member --name django-demo 2>/dev/null > .wasmtasks/token.new
  mv .wasmtasks/token.new .wasmtasks/token
fi
chmod 600 .wasmtasks/token
# The first upload of notify also compiles it (18 MiB of CPython and the task):
# some seconds; the server then finds it compiled in its cache.
for component in "$notify" "$components/welcome.wasm"; do
  report=$("$wasmtasks" upload "$component")
  echo "${report%%$'\n'*}"  # its first line: uploaded, or already there
done
"$wasmtasks" grant notify --http "$site" >/dev/null
"$wasmtasks" config set notify ntfy_url "$site/ntfy/demo" >/dev/null
echo "notify posts to $site/ntfy/demo"

cat <<EOF

Ready. In this directory, start the server with one worker (keep it running):
  $wasmtasks --config .wasmtasks/wasmtasks.toml serve --workers 1
then the site, and open $site/:
  .venv/bin/python manage.py runserver ${site#http://}
EOF

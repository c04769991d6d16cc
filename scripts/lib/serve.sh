# Sourced by the scripts that drive a real server. `serve_start [ARGS...]` starts
# `$wasmtasks serve --listen 127.0.0.1:0 ARGS...` with its log in
# `$scratch/serve.log`, and sets `server_pid` and `url` once it is listening
# (exits, showing the log, when it does not start within 10 s).
serve_start() {
  # The log exists before the server starts, so that reading it cannot race the
  # background redirect's creating it (under `set -e` a failed read ends the script).
  : >"$scratch/serve.log"
  "$wasmtasks" serve --listen 127.0.0.1:0 "$@" 2>"$scratch/serve.log" &
  server_pid=$!
  url=
  for _ in $(seq 100); do
    url=$(sed -n 's/^wasmtasks serving \(http[^ ]*\).*/\1/p' "$scratch/serve.log")
    [ -n "$url" ] && return 0
    sleep 0.1
  done
  cat "$scratch/serve.log" >&2
  exit 1
}

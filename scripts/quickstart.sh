#!/usr/bin/env bash
# The quickstart: build the example task components and the wasmtasks binary, then
# run a real task in the sandbox. Works on a fresh clone; rust-toolchain.toml brings
# the wasm32-wasip2 target.
set -euo pipefail
cd "$(dirname "$0")/.."

guests=target/wasm-guests/wasm32-wasip2/release
echo "==> building the example tasks (wasm32-wasip2 components)"
(cd tasks-examples && cargo build --release --target-dir ../target/wasm-guests)
echo "==> building wasmtasks"
cargo build -p wasmtasks
wasmtasks=target/debug/wasmtasks

echo "==> wasmtasks inspect $guests/welcome.wasm"
"$wasmtasks" inspect "$guests/welcome.wasm"
echo "==> wasmtasks run $guests/arith.wasm add 2 3"
"$wasmtasks" run "$guests/arith.wasm" add 2 3
echo "==> wasmtasks run $guests/welcome.wasm welcome alice@example.com Alice"
"$wasmtasks" run "$guests/welcome.wasm" welcome alice@example.com Alice

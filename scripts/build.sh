#!/usr/bin/env bash
# Builds the npm package's WebAssembly into pkg/: cargo (release profile: opt-level z,
# LTO, one codegen unit, panic=abort), then wasm-bindgen, then wasm-opt -Oz from npm's
# binaryen; and the local emulator (target/release/singing-cloning-emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

build() { # build FEATURES OUT_NAME
  local features=$1 name=$2
  cargo build --lib --release --target wasm32-unknown-unknown --no-default-features --features "$features"
  wasm-bindgen --target web --out-dir pkg --out-name "$name" target/wasm32-unknown-unknown/release/singing_cloning.wasm
  # The features rustc emits for wasm32-unknown-unknown; wasm-opt must accept them all.
  node_modules/.bin/wasm-opt -Oz \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "pkg/${name}_bg.wasm" -o "pkg/${name}_bg.wasm"
  # The glue's comments are documentation, which the .d.ts keeps; pages download less without them.
  node_modules/.bin/esbuild "pkg/${name}.js" --minify --format=esm --log-level=warning --allow-overwrite --outfile="pkg/${name}.js"
}

# The page build holds the client only; the edge build adds the proxy.
build client singing_cloning
build proxy singing_cloning_edge
for name in singing_cloning singing_cloning_edge; do
  printf '[build] %s: wasm %s bytes (%s gzip), js %s bytes (%s gzip)\n' "$name" \
    "$(wc -c < "pkg/${name}_bg.wasm")" "$(gzip -9c "pkg/${name}_bg.wasm" | wc -c)" \
    "$(wc -c < "pkg/${name}.js")" "$(gzip -9c "pkg/${name}.js" | wc -c)"
done

cargo build --release -p singing-cloning-emulator

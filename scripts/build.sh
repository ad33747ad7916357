#!/usr/bin/env bash
# Builds the npm package's WebAssembly into pkg/: cargo (release profile: opt-level z for the
# page, 3 for the edge; LTO, one codegen unit, panic=abort), then wasm-bindgen, then wasm-opt
# at the same level from npm's binaryen; and the local emulator (target/release/singing-cloning-emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

build() { # build FEATURES OUT_NAME OPT
  local features=$1 name=$2 opt=$3
  # panic=abort for the WebAssembly only (smaller; nothing to unwind into): the emulator, a server,
  # unwinds so that one job's panic cannot take it down, and Cargo sets `panic` per profile only.
  CARGO_PROFILE_RELEASE_PANIC=abort CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
    cargo build --lib --release --target wasm32-unknown-unknown --no-default-features --features "$features"
  wasm-bindgen --target web --out-dir pkg --out-name "$name" target/wasm32-unknown-unknown/release/singing_cloning.wasm
  # The entries (js/) always hand the glue its WebAssembly. Its own default, a URL next to the glue,
  # would make bundlers emit the file twice and esbuild warn of import.meta: it goes.
  sed -i "s|module_or_path = new URL('${name}_bg.wasm', import.meta.url);|throw new Error('no WebAssembly given');|" "pkg/${name}.js"
  if grep -q 'import\.meta' "pkg/${name}.js"; then echo "[build] pkg/${name}.js still uses import.meta" >&2; exit 1; fi
  # The features rustc emits for wasm32-unknown-unknown; wasm-opt must accept them all.
  node_modules/.bin/wasm-opt "-O$opt" --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "pkg/${name}_bg.wasm" -o "pkg/${name}_bg.wasm"
  # The glue's comments are documentation, which the .d.ts keeps; pages download less without them.
  # Lines of at most about 120 characters (+0.2 KB gzip): Node prints the source line of an uncaught
  # error, and the glue as one 20 KB line buried the error's message.
  node_modules/.bin/esbuild "pkg/${name}.js" --minify --line-limit=120 --format=esm --log-level=warning --allow-overwrite \
    --outfile="pkg/${name}.js"
}

# The page build holds the client only, optimised for size; the edge build adds the proxy, a server's code,
# optimised for speed: at opt-level 3 the Node proxy spends some 70 µs less CPU time on a request (of about
# 500) for a WebAssembly 0.2 MB larger, far inside what Workers and Node load.
build client singing_cloning z
build proxy singing_cloning_edge 3
# The main entry's generated files: the inlined-wasm fallback, the CommonJS build, the declarations.
node scripts/package-entries.mjs
for name in singing_cloning singing_cloning_edge; do
  printf '[build] %s: wasm %s bytes (%s gzip), js %s bytes (%s gzip)\n' "$name" \
    "$(wc -c < "pkg/${name}_bg.wasm")" "$(gzip -9c "pkg/${name}_bg.wasm" | wc -c)" \
    "$(wc -c < "pkg/${name}.js")" "$(gzip -9c "pkg/${name}.js" | wc -c)"
done

cargo build --release -p singing-cloning-emulator

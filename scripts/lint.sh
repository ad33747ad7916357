#!/usr/bin/env bash
# Format and lint, as `npm test` enforces them: rustfmt (rustfmt.toml), clippy with warnings as
# errors over every target and feature (native, and the wasm32 builds the package ships), and
# Biome over the JavaScript (biome.json), and no source line over 120 characters.
# `bash scripts/lint.sh --fix` writes the formatters' fixes instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [ "${1:-}" = --fix ]; then
  cargo fmt --all
  node_modules/.bin/biome check --write .
  exit 0
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings
# The handler and the transport exist on wasm32 only.
cargo clippy --lib --tests --target wasm32-unknown-unknown --features proxy --quiet -- -D warnings
node_modules/.bin/biome check .
# Lines stay under 120 characters, string literals too (which neither formatter breaks).
long=$(git ls-files '*.rs' '*.js' '*.mjs' '*.ts' '*.cts' \
  | xargs awk 'length > 120 { print FILENAME ":" FNR ": " length " characters" }')
if [ -n "$long" ]; then
  printf '[lint] lines over 120 characters:\n%s\n' "$long" >&2
  exit 1
fi
echo "[lint] rustfmt, clippy, Biome and line lengths: clean"

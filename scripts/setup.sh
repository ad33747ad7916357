#!/usr/bin/env bash
# Installs what building and testing need, and only what is missing, from the package
# registries alone: the wasm target, wasm-bindgen-cli at exactly the version in
# Cargo.lock, wasm-pack, s3s-fs, Debian's Chromium and ChromeDriver, and the npm packages (the
# project's and the consumer apps').
# Safe to run again and again; `npm start` and `npm test` both begin with it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root for: $*"; return 1
  fi
}

export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-pack and the tests run the wasm-bindgen on PATH only when it matches the lock exactly;
# otherwise they try to download one, which cannot work here.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version"
  # Without --locked: with it, resolution fails on this registry mirror.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack"
  cargo install wasm-pack
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  say "installing Debian's chromium and chromium-driver"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
fi

# A real Redis for the test of several proxies sharing their state (tests/proxy/redis.test.mjs).
if ! command -v redis-server >/dev/null; then
  say "installing Debian's redis-server"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
fi

# Firefox ESR with geckodriver, and WebKitGTK's WebDriver with Xvfb: the other two engines.
bash scripts/setup-browsers.sh

# The voice checks' Python environment (.venv-voice/: numpy, scipy, pyworld from PyPI).
bash scripts/setup-voice.sh
# An S3 server this project did not write, which checks presigned URLs itself: the storage
# tests hold the proxy's signer against it (moto's server checks only header-signed requests).
if ! command -v s3s-fs >/dev/null; then
  say "installing s3s-fs 0.14.1 (the last to build with this Rust)"
  cargo install s3s-fs --version 0.14.1 --features binary
fi

# npm ci only when node_modules is missing or older than the lock file: the project's own, and the
# consumer apps' (tests/consumers: Vite, webpack, Next.js, Bun, pinned), kept between runs.
for dir in . tests/consumers; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
done

#!/usr/bin/env bash
# `npm start`: installs what is missing, builds, and runs the demo: the local emulator (or
# the real service when SINGING_CLONING_ENDPOINT and its credentials are set), the proxy in
# front of it, and the page of www/ on the proxy's server. Prints one URL; Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
bash scripts/build.sh
exec node scripts/demo.mjs

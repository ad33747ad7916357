#!/usr/bin/env bash
# `npm start`: installs what is missing, builds, and runs the package on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
node scripts/show.mjs

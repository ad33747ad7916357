#!/usr/bin/env bash
# `npm test`: installs what is missing, builds, checks format and lint, and runs every suite:
# the native Rust tests and fuzz targets (core, proxy, emulator), the browser suite in Chromium,
# Firefox and WebKit, the Node tests, the consumer apps, the demo end to end, and the voice checks.
# Fails when any suite fails or when a suite ran no test at all.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh
bash scripts/build.sh
export SINGING_CLONING_EMULATOR_BIN="$PWD/target/release/singing-cloning-emulator"

mkdir -p test-results
summary=test-results/summary.txt
: > "$summary"

count() { # count SUITE PASSED FAILED
  printf '%s %s %s\n' "$1" "$2" "$3" >> "$summary"
  if [ "$2" -eq 0 ]; then
    echo "[test] the $1 suite ran no test" >&2
    exit 1
  fi
}

echo "[test] format and lint: rustfmt, clippy -D warnings, Biome"
bash scripts/lint.sh

echo "[test] native Rust tests"
cargo test --workspace 2>&1 | tee test-results/native.log
# The proxy's decisions are pure Rust behind the `proxy` feature.
cargo test --features proxy --lib proxy:: 2>&1 | tee -a test-results/native.log
# A short pass of every fuzz target (`npm run fuzz` runs them longer).
bash scripts/fuzz.sh 3 2>&1 | tee -a test-results/native.log
count native \
  "$(grep -Eo '^test result: ok\. [0-9]+ passed' test-results/native.log | awk '{s += $4} END {print s + 0}')" 0

echo "[test] browser tests in headless Chromium, Firefox and WebKit, against an emulator"
bash scripts/test-browsers.sh 2>&1 | tee test-results/browser.log
count browser \
  "$(grep -Eo '^test result: ok\. [0-9]+ passed' test-results/browser.log | awk '{s += $4} END {print s + 0}')" 0

echo "[test] Node tests: the package, the client, the proxy (also in real workerd and Deno)"
node --test --test-reporter=spec --test-reporter-destination=stdout tests/node/ tests/proxy/ tests/workerd/ tests/deno/ 2>&1 | tee test-results/node.log
count node "$(grep -Eo '^ℹ pass [0-9]+' test-results/node.log | awk '{print $3}')" 0

echo "[test] consumers: the packed package in Vite, webpack, Next.js, esbuild, workerd, Node, Deno and Bun"
node --test --test-reporter=spec --test-reporter-destination=stdout tests/consumers/ 2>&1 | tee test-results/consumers.log
count consumers "$(grep -Eo '^ℹ pass [0-9]+' test-results/consumers.log | awk '{print $3}')" 0

echo "[test] the demo end to end: npm start's servers and the page in Chromium, Firefox and WebKit"
# A step of its own, so that it does not compete for the cores with the suites above.
node --test --test-reporter=spec --test-reporter-destination=stdout tests/e2e/ 2>&1 | tee test-results/e2e.log
count e2e "$(grep -Eo '^ℹ pass [0-9]+' test-results/e2e.log | awk '{print $3}')" 0

echo "[test] voice conversion, measured independently with pyworld"
bash scripts/test-voice.sh 2>&1 | tee test-results/voice.log
count voice "$(grep -Eo '^[0-9]+ passed' test-results/voice.log | awk '{print $1}')" 0

total=$(awk '{s += $2} END {print s}' "$summary")
echo
cat "$summary"
echo "total: $total passed, 0 failed"

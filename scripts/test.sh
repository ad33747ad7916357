#!/usr/bin/env bash
# `npm test`: installs what is missing, builds, and runs every suite: the native Rust
# tests (core and emulator), the browser suite in headless Chromium, and the Node tests.
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

echo "[test] native Rust tests"
cargo test --workspace 2>&1 | tee test-results/native.log
# The proxy's decisions are pure Rust behind the `proxy` feature.
cargo test --features proxy --lib proxy:: 2>&1 | tee -a test-results/native.log
count native \
  "$(grep -Eo '^test result: ok\. [0-9]+ passed' test-results/native.log | awk '{s += $4} END {print s + 0}')" 0

echo "[test] browser tests in headless Chromium, against an emulator"
# run_in_browser is set in every browser test file; a file without it would be skipped silently.
browser_tests=$(for f in tests/browser*.rs; do printf -- '--test %s ' "$(basename "$f" .rs)"; done)
# shellcheck disable=SC2086
WASM_BINDGEN_TEST_TIMEOUT=300 node scripts/with-emulator.mjs --job-ms 300 -- \
  wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" \
  -- --features client $browser_tests 2>&1 | tee test-results/browser.log
count browser \
  "$(grep -Eo '^test result: ok\. [0-9]+ passed' test-results/browser.log | awk '{s += $4} END {print s + 0}')" 0

echo "[test] Node tests: the package, the client, the proxy (also in real workerd and Deno)"
node --test --test-reporter=spec --test-reporter-destination=stdout tests/node/ tests/proxy/ tests/workerd/ tests/deno/ 2>&1 | tee test-results/node.log
count node "$(grep -Eo '^ℹ pass [0-9]+' test-results/node.log | awk '{print $3}')" 0

echo "[test] the demo end to end: npm start's servers and the page in headless Chromium"
# A step of its own, so that it does not compete for the cores with the suites above.
node --test --test-reporter=spec --test-reporter-destination=stdout tests/e2e/ 2>&1 | tee test-results/e2e.log
count e2e "$(grep -Eo '^ℹ pass [0-9]+' test-results/e2e.log | awk '{print $3}')" 0

total=$(awk '{s += $2} END {print s}' "$summary")
echo
cat "$summary"
echo "total: $total passed, 0 failed"

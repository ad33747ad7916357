#!/usr/bin/env bash
# `npm test`: installs what is missing, builds, and runs every suite: the native Rust
# tests (core and emulator), the browser suite in headless Chromium, and the Node tests.
# Fails when any suite fails or when a suite ran no test at all.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh
bash scripts/build.sh

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
count native \
  "$(grep -Eo '^test result: ok\. [0-9]+ passed' test-results/native.log | awk '{s += $4} END {print s + 0}')" 0

echo "[test] browser tests in headless Chromium"
# run_in_browser is set in every browser test file; a file without it would be skipped silently.
WASM_BINDGEN_TEST_TIMEOUT=180 wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" \
  -- --features js --test browser 2>&1 | tee test-results/browser.log
count browser \
  "$(grep -Eo '^test result: ok\. [0-9]+ passed' test-results/browser.log | awk '{s += $4} END {print s + 0}')" 0

echo "[test] Node tests"
node --test --test-reporter=spec --test-reporter-destination=stdout tests/node/ 2>&1 | tee test-results/node.log
count node "$(grep -Eo '^ℹ pass [0-9]+' test-results/node.log | awk '{print $3}')" 0

total=$(awk '{s += $2} END {print s}' "$summary")
echo
cat "$summary"
echo "all suites: $total passed, 0 failed"

#!/usr/bin/env bash
# The wasm-bindgen browser suites (tests/browser*.rs) in the three engines, one after the
# other, against one emulator: headless Chromium (chromedriver), headless Firefox ESR
# (geckodriver) and WebKitGTK (WebKitWebDriver driving MiniBrowser on an Xvfb display).
# The wasm is built once; each engine runs the same test binaries. Prints each engine's
# output, keeps it in test-results/browser-ENGINE.log, and fails when any engine failed or
# ran no test. SINGING_CLONING_ENGINES=firefox,webkit picks engines.
# Needs scripts/setup.sh, scripts/setup-browsers.sh and the emulator's release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [ -z "${SINGING_CLONING_TEST_ENDPOINT:-}" ]; then
  # One emulator for every engine: the tests name their jobs and models uniquely, and the
  # endpoint is compiled into the tests, so one address means one build.
  exec node scripts/with-emulator.mjs --job-ms 300 -- bash "$PWD/scripts/test-browsers.sh" "$@"
fi

mkdir -p test-results
# run_in_browser is set in every browser test file; a file without it would be skipped silently.
browser_tests=()
for f in tests/browser*.rs; do browser_tests+=(--test "$(basename "$f" .rs)"); done
export WASM_BINDGEN_TEST_TIMEOUT=300

# The test runner takes the first driver named in its environment (GECKODRIVER, SAFARIDRIVER,
# CHROMEDRIVER, in that order), so each engine's run names its own and no other.
no_drivers=(-u GECKODRIVER -u SAFARIDRIVER -u CHROMEDRIVER -u MSEDGEDRIVER
  -u GECKODRIVER_REMOTE -u SAFARIDRIVER_REMOTE -u CHROMEDRIVER_REMOTE -u MSEDGEDRIVER_REMOTE)

run_engine() {
  case "$1" in
    chromium)
      env "${no_drivers[@]}" wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" \
        -- --features client "${browser_tests[@]}" ;;
    firefox)
      env "${no_drivers[@]}" wasm-pack test --headless --firefox --geckodriver "$(command -v geckodriver)" \
        -- --features client "${browser_tests[@]}" ;;
    webkit)
      # wasm-pack's --safari wants macOS's safaridriver; WebKitWebDriver speaks the same W3C
      # protocol, so the runner drives it through its SAFARIDRIVER path (empty capabilities:
      # WebKitWebDriver then starts MiniBrowser in automation mode). MiniBrowser has no
      # headless mode: xvfb-run gives it a virtual display.
      env "${no_drivers[@]}" SAFARIDRIVER="$(command -v WebKitWebDriver)" \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
        xvfb-run --auto-servernum --server-args='-screen 0 1280x1024x24 -nolisten tcp' \
        cargo test --target wasm32-unknown-unknown --features client "${browser_tests[@]}" ;;
    *) echo "[test] unknown engine: $1" >&2; return 2 ;;
  esac
}

IFS=, read -r -a engines <<< "${SINGING_CLONING_ENGINES:-chromium,firefox,webkit}"
failed=()
for engine in "${engines[@]}"; do
  echo "[test] browser tests in $engine"
  log="test-results/browser-$engine.log"
  started=$SECONDS
  status=0
  run_engine "$engine" 2>&1 | tee "$log" || status=$?
  passed=$({ grep -Eo '^test result: ok\. [0-9]+ passed' "$log" || true; } | awk '{s += $4} END {print s + 0}')
  echo "[test] $engine: $passed browser tests passed in $((SECONDS - started)) s (exit $status)"
  if [ "$status" -ne 0 ]; then
    failed+=("$engine (failed)")
  elif [ "$passed" -eq 0 ]; then
    failed+=("$engine (ran no test)")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "[test] the browser suite failed in: ${failed[*]}" >&2
  exit 1
fi

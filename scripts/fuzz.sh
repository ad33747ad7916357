#!/usr/bin/env bash
# Runs every fuzz target of the workspace (a `#[test] fn fuzz_<name>()` in a test file
# named `fuzz*.rs`, in either crate) in release mode for SECONDS seconds each (default 2;
# FUZZ_SECONDS works too), and prints each target's `fuzz <name>: <N> inputs, <M>
# findings`. FUZZ_SEED picks another seeded run. Fails when any target has a finding.
#
#   bash scripts/fuzz.sh        # 2 s per target
#   bash scripts/fuzz.sh 600    # ten minutes per target
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export FUZZ_SECONDS="${1:-${FUZZ_SECONDS:-2}}"

targets() { # targets DIR: the fuzz*.rs test files' names, one a line
  find "$1" -maxdepth 1 -name 'fuzz*.rs' -printf '%f\n' | sed 's/\.rs$//' | sort
}

status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() { # run CARGO_ARGS...: one crate's fuzz files, one target at a time (each gets its seconds alone)
  # --test-threads=1: each target has the machine for its seconds, and the counts compare between runs.
  if ! cargo test --release --quiet "$@" -- fuzz_ --nocapture --test-threads=1 >"$log" 2>&1; then
    status=1
    cat "$log"
  fi
  grep -aoE 'fuzz [a-z_]+: [0-9]+ inputs, [0-9]+ findings' "$log" || true
}

root=()
for t in $(targets tests); do root+=(--test "$t"); done
emulator=()
for t in $(targets emulator/tests); do emulator+=(--test "$t"); done
[ ${#root[@]} -gt 0 ] && run --features proxy "${root[@]}"
[ ${#emulator[@]} -gt 0 ] && run -p singing-cloning-emulator "${emulator[@]}"
if [ "$status" -ne 0 ]; then
  echo "[fuzz] findings or failures above" >&2
fi
exit "$status"

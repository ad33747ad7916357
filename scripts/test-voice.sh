#!/usr/bin/env bash
# The voice checks: trains and generates over the emulator's API on fresh synthetic singers and
# measures the results with pyworld, independently of the engine (tests/voice/check_voice.py).
# Uses $SINGING_CLONING_EMULATOR_BIN, else target/release/singing-cloning-emulator (built when
# missing). Extra arguments go to the script (e.g. --seed N). Ends with `N passed, N failed`;
# exits non-zero when a check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup-voice.sh
binary=${SINGING_CLONING_EMULATOR_BIN:-target/release/singing-cloning-emulator}
if [ ! -x "$binary" ]; then
  cargo build --release -p singing-cloning-emulator --bin singing-cloning-emulator
fi
exec .venv-voice/bin/python tests/voice/check_voice.py --emulator "$binary" "$@"

#!/usr/bin/env bash
# Creates the test-only Python environment of the voice checks (.venv-voice/): numpy, scipy and
# pyworld (the WORLD vocoder's analysis, independent of the emulator's own build of it), from PyPI.
# Idempotent: a venv that already imports all three is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-voice
python=${PYTHON:-python3}
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import numpy, scipy, pyworld' 2>/dev/null; then
  exit 0
fi
echo "[setup-voice] creating $venv (numpy, scipy, pyworld)" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
# pyworld builds its C++ from source when no wheel fits; numpy must be there first.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'numpy==2.4.6' 'scipy==1.17.1'
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'pyworld==0.3.5'
"$venv/bin/python" -c 'import numpy, scipy, pyworld; print("[setup-voice] ok: numpy", numpy.__version__, "scipy", scipy.__version__, "pyworld", pyworld.__version__ if hasattr(pyworld, "__version__") else "")' >&2

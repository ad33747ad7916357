#!/usr/bin/env bash
# Creates the test-only Python environment with moto's S3 server (.venv-s3/), from PyPI: an
# S3 implementation this project did not write, against which the proxy's presigned URLs are
# tested, so that our signer and our store cannot share one mistake.
# Idempotent: a venv that already has moto_server is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-s3
python=${PYTHON:-python3}
if [ -x "$venv/bin/moto_server" ] && "$venv/bin/python" -c 'import moto.server' 2>/dev/null; then
  exit 0
fi
echo "[setup-s3] creating $venv (moto's S3 server)" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
"$venv/bin/python" -c 'import moto; print("[setup-s3] ok: moto", moto.__version__)' >&2

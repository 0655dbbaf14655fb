#!/usr/bin/env bash
# Run the example experiment on a fresh machine: makes .venv (core only, no extras),
# installs sacredlike into it and records one run to ./runs (no server needed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
.venv/bin/python examples/hello.py -F runs "$@"
echo "Recorded: $(ls -d runs/[0-9]* | sort -V | tail -n 1)"

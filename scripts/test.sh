#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: makes .venv-test, installs sacredlike with its
# test extras, checks style, runs pytest (the suite starts the servers it needs, e.g. MongoDB
# via SecantusDB; PostgreSQL and MariaDB are expected at 127.0.0.1 — see docs/testing.md) and
# the benchmarks' smoke versions. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${SACREDLIKE_TEST_VENV:-.venv-test}
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/python" -m pytest "$@"
for bench in benchmarks/bench_*.py; do
    [ -e "$bench" ] || continue
    echo "smoke: $bench"
    "$VENV/bin/python" "$bench" --smoke
done

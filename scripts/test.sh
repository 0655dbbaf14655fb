#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: checks style, then runs pytest once per
# supported Python (PYTHON_VERSIONS, default "3.11 3.10 3.12 3.13"), each in its own venv
# with sacredlike and its test extras: .venv-test for the first, .venv-test-3.X for the
# others. A version that is not installed is skipped locally and is an error under CI=true.
# The suite starts the servers it needs (MongoDB via SecantusDB; PostgreSQL and MariaDB are
# expected at 127.0.0.1 — see docs/testing.md); the benchmarks' smoke versions run once, on
# the first Python. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSIONS=(${PYTHON_VERSIONS:-3.11 3.10 3.12 3.13})

# The interpreter for version $1 (e.g. 3.12): pythonX.Y on PATH, else a pyenv install.
find_python() {
    local candidate
    for candidate in "python$1" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/python"$1"; do
        if "$candidate" -c 'import sys; sys.exit(f"{sys.version_info[0]}.{sys.version_info[1]}" != sys.argv[1])' "$1" 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# Make (once) and update the venv $2 for the interpreter $1.
prepare_venv() {
    if [ ! -x "$2/bin/python" ]; then
        "$1" -m venv "$2"
    fi
    "$2/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$2/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
}

first=""
for version in "${VERSIONS[@]}"; do
    if ! python=$(find_python "$version"); then
        if [ "${CI:-}" = "true" ]; then
            echo "error: Python $version is not installed (CI tests every supported version)" >&2
            exit 1
        fi
        echo "skip: Python $version is not installed"
        continue
    fi
    if [ -z "$first" ]; then
        first=$version
        venv=${SACREDLIKE_TEST_VENV:-.venv-test}
        prepare_venv "$python" "$venv"
        "$venv/bin/ruff" check .
        "$venv/bin/ruff" format --check .
        smoke_venv=$venv
    else
        venv=.venv-test-$version
        prepare_venv "$python" "$venv"
    fi
    echo "pytest on Python $version ($venv)"
    "$venv/bin/python" -m pytest "$@"
done
if [ -z "$first" ]; then
    echo "error: none of the Python versions ${VERSIONS[*]} is installed" >&2
    exit 1
fi
for bench in benchmarks/bench_*.py; do
    [ -e "$bench" ] || continue
    echo "smoke: $bench"
    "$smoke_venv/bin/python" "$bench" --smoke
done

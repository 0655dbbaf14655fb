"""A virtual environment holding IDSIA's Sacred 0.8.7, for benchmarks that compare against it.

Benchmark scripts run their Sacred side in this environment's interpreter, as a subprocess,
so Sacred never shares a process (or a ``sys.path``) with sacredlike::

    from sacred_env import sacred_python

    python = sacred_python(extra=("pymongo",))  # creates bench-venvs/sacred087 if missing
    subprocess.run([str(python), "my_workload.py"], check=True)

From the shell, ``python benchmarks/sacred_env.py [--extra PACKAGE ...]`` creates the
environment if needed and prints its interpreter's path.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

SACRED_REQUIREMENT = "sacred==0.8.7"
DEFAULT_VENV = Path(__file__).resolve().parent.parent / "bench-venvs" / "sacred087"
"""Where the environment lives: ``bench-venvs/`` at the repository root (git-ignored)."""

_BASE_PACKAGES = (SACRED_REQUIREMENT, "numpy")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
_CHECK = """
import json, sys
from importlib.metadata import PackageNotFoundError, version
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = version(name)
    except PackageNotFoundError:
        found[name] = None
print(json.dumps(found))
"""


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment at ``venv``."""
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def requirement_name(requirement: str) -> str:
    """The distribution name of a pip requirement (``"sqlalchemy<2"`` → ``"sqlalchemy"``).

    Raises:
        ValueError: the requirement does not start with a distribution name.
    """
    match = _NAME.match(requirement.strip())
    if match is None:
        raise ValueError(f"not a pip requirement: {requirement!r}")
    return match.group(0)


def missing_requirements(python: Path, requirements: Sequence[str]) -> list[str]:
    """The requirements not installed in the environment of ``python``.

    Sacred counts as missing unless exactly version 0.8.7 is installed; other packages only
    need to be present (their version specifiers are left to pip when installing).
    """
    if not python.exists():
        return list(requirements)
    names = [requirement_name(requirement) for requirement in requirements]
    completed = subprocess.run(
        [str(python), "-c", _CHECK, *names], capture_output=True, text=True, check=True
    )
    found = json.loads(completed.stdout)
    wanted_sacred = SACRED_REQUIREMENT.split("==")[1]
    return [
        requirement
        for requirement, name in zip(requirements, names, strict=True)
        if found[name] is None or (name == "sacred" and found[name] != wanted_sacred)
    ]


def sacred_python(
    venv: Path = DEFAULT_VENV, *, extra: Sequence[str] = (), create: bool = True
) -> Path | None:
    """The interpreter of an environment with Sacred 0.8.7, numpy and ``extra`` installed.

    Args:
        venv: the environment's folder.
        extra: more pip requirements the caller's workloads need (e.g. ``"pymongo"``).
        create: create the environment and install what is missing; when False, return
            None instead unless everything is already installed.

    Returns:
        The path of the environment's ``python``, or None (only when ``create`` is False).

    Raises:
        subprocess.CalledProcessError: creating the environment or installing failed.
        RuntimeError: the packages are still missing after installing them.
    """
    requirements = [*_BASE_PACKAGES, *extra]
    python = venv_python(venv)
    missing = missing_requirements(python, requirements)
    if not missing:
        return python
    if not create:
        return None
    if not python.exists():
        print(f"creating {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"installing {' '.join(missing)} into {venv} ...", file=sys.stderr)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *missing],
        check=True,
    )
    still_missing = missing_requirements(python, requirements)
    if still_missing:
        raise RuntimeError(f"{venv}: still missing after pip install: {', '.join(still_missing)}")
    return python


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: create the environment if needed and print its interpreter's path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="environment folder")
    parser.add_argument(
        "--extra", action="append", default=[], metavar="REQUIREMENT", help="also install this"
    )
    args = parser.parse_args(argv)
    print(sacred_python(args.venv, extra=args.extra))


if __name__ == "__main__":
    main()

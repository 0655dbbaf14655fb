"""Fixtures for the config and command-line tests: experiments and scripts run as processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from sacredlike import Experiment

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ex() -> Experiment:
    """A fresh experiment (run it with ``options=FAST``: no capture, one final beat)."""
    return Experiment("cfgtest")


FAST = {"--capture": "no", "--beat-interval": 0}


@dataclass
class Finished:
    """A finished script process."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def script(tmp_path: Path):
    """``script(source) -> run(*args, stdin=None)``: write a script and run it as a process."""

    def write(source: str, name: str = "exp.py"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(source), encoding="utf-8")

        def run(*args: str, stdin: str | None = None) -> Finished:
            done = subprocess.run(
                [sys.executable, str(path), *args],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                input=stdin,
                timeout=60,
                check=False,
            )
            return Finished(done.returncode, done.stdout, done.stderr)

        return run

    return write


BASIC_SCRIPT = """
from sacredlike import Experiment

ex = Experiment("basic")

@ex.config
def cfg():
    lr = 0.1  # learning rate
    steps = 3
    name = "world"
    optimizer = {"name": "sgd", "momentum": 0.9}

@ex.named_config
def fast():
    \"\"\"Few steps.\"\"\"
    steps = 1

@ex.command
def fail(steps):
    raise ValueError(f"broken after {steps} steps")

@ex.command(unobserved=True)
def peek(lr):
    print("peek", lr)

@ex.automain
def main(lr, steps, name, _run):
    _run.log_scalar("loss", lr * steps)
    print(f"hello {name}")
    return steps
"""

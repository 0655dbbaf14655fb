"""Run every ``$ python examples/...`` command shown in the docs and compare its output."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

DOCS = ("docs/configuration.md", "docs/command-line.md")
_BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)
_STATUS = re.compile(r"\(exit status (\d+)\)")


def examples_of(doc: str) -> list[tuple[str, list[str], int]]:
    """``(command, expected output lines, exit status)`` of each console block command."""
    found: list[tuple[str, list[str], int]] = []
    for block in _BLOCK.findall((REPO / doc).read_text(encoding="utf-8")):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], [], 0))
            elif _STATUS.fullmatch(line):
                found[-1] = (found[-1][0], found[-1][1], int(_STATUS.fullmatch(line)[1]))
            elif line.strip():
                found[-1][1].append(line)
    return found


def test_docs_have_examples():
    for doc in DOCS:
        assert len(examples_of(doc)) >= 3, doc


@pytest.mark.parametrize("doc", DOCS)
def test_doc_examples_run_as_shown(doc, tmp_path):
    """Commands of one page run in order in one folder (later ones may use earlier files)."""
    for command, expected, status in examples_of(doc):
        argv = shlex.split(command)
        assert argv[0] == "python" and argv[1].startswith("examples/"), command
        argv = [sys.executable, str(REPO / argv[1]), *argv[2:]]
        done = subprocess.run(
            argv, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )
        output = done.stdout + done.stderr
        assert done.returncode == status, f"{command}\n{output}"
        actual = [line.rstrip() for line in output.splitlines()]
        for line in expected:
            if "seed" not in line:
                assert line.rstrip() in actual, f"{command}: missing {line!r} in\n{output}"


def test_examples_are_referenced_by_the_docs():
    text = "".join(Path(REPO, doc).read_text() for doc in DOCS)
    for example in sorted((REPO / "examples").glob("c*_*.py")):
        assert f"examples/{example.name}" in text, example.name

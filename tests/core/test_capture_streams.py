"""Capture on a real terminal setup: stdout and stderr stay apart, the record keeps their order.

Each case runs an experiment in a child process whose stdout and stderr are separate files,
as ``python train.py >out.log 2>err.log`` would, and reads the run back from FileStorage.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import subprocess, sys, time
    from sacredlike import Experiment
    from sacredlike.observers import RunObserver


    class Failing(RunObserver):
        def heartbeat_event(self, **kwargs):
            raise RuntimeError("the store is down")


    ex = Experiment("streams")
    if "--failing" in sys.argv:
        sys.argv.remove("--failing")
        ex.observers.append(Failing())


    @ex.automain
    def main():
        print("out A")
        sys.stderr.write("err B\\n")
        subprocess.run(["sh", "-c", "echo child C; echo child D >&2"], check=True)
        print("out E")
        sys.stderr.write("err F\\n")
        print("stdout is a tty:", sys.stdout.isatty())
        time.sleep(0.2)  # a few beats
    """
)


def _run_child(tmp_path: Path, mode: str, *extra: str):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out_path, err_path = tmp_path / "out.log", tmp_path / "err.log"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        completed = subprocess.run(
            [sys.executable, str(script), "-F", str(tmp_path / "runs"), "--capture", mode, *extra],
            stdout=out,
            stderr=err,
            cwd=tmp_path,
            timeout=60,
        )
    assert completed.returncode == 0, err_path.read_text()
    recorded = (tmp_path / "runs" / "1" / "cout.txt").read_text()
    return out_path.read_text(), err_path.read_text(), recorded


def _lines(text: str, wanted: tuple[str, ...]) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(wanted)]


USER_LINES = ("out", "err", "child")


def test_fd_capture_keeps_the_streams_apart_and_records_them_in_order(tmp_path):
    out, err, recorded = _run_child(tmp_path, "fd")
    assert _lines(out, USER_LINES) == ["out A", "child C", "out E"]
    assert _lines(err, USER_LINES) == ["err B", "child D", "err F"]
    assert _lines(recorded, USER_LINES) == [
        "out A",
        "err B",
        "child C",
        "child D",
        "out E",
        "err F",
    ]
    assert "stdout is a tty: False" in recorded


def test_sys_capture_keeps_the_streams_apart_and_records_python_writes_in_order(tmp_path):
    out, err, recorded = _run_child(tmp_path, "sys")
    assert _lines(out, ("out",)) == ["out A", "out E"]
    assert _lines(err, ("err",)) == ["err B", "err F"]
    assert _lines(recorded, USER_LINES) == ["out A", "err B", "out E", "err F"]


@pytest.mark.parametrize("mode", ["fd", "sys"])
def test_observer_failure_is_shown_once_but_not_recorded(tmp_path, mode):
    _, err, recorded = _run_child(tmp_path, mode, "--failing", "-b", "0.05")
    assert err.count("observer Failing failed in heartbeat_event") == 1
    assert "the store is down" in err
    assert "Failing" not in recorded and "store is down" not in recorded
    run = json.loads((tmp_path / "runs" / "1" / "run.json").read_text())
    info = json.loads((tmp_path / "runs" / "1" / "info.json").read_text())
    assert run["status"] == "COMPLETED"
    assert info["observer_failures"][0]["observer"] == "Failing"


def test_fd_capture_tells_the_run_whether_stdout_is_a_terminal(tmp_path):
    leader, follower = pty.openpty()
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    try:
        completed = subprocess.run(
            [sys.executable, str(script), "-F", str(tmp_path / "runs"), "--capture", "fd"],
            stdout=follower,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
            timeout=60,
        )
    finally:
        os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 65536):
            shown += chunk
    except OSError:  # the terminal closed once everything was read
        pass
    os.close(leader)
    assert completed.returncode == 0
    assert b"stdout is a tty: True" in shown
    recorded = (tmp_path / "runs" / "1" / "cout.txt").read_text()
    assert "stdout is a tty: True" in recorded

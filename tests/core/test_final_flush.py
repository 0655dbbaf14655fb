"""The final flush: a signal stops storing metric points (the run ends INTERRUPTED with what
was stored, and the log says exactly how many points were not); a slow one shows a progress
line on a terminal."""

from __future__ import annotations

import json
import logging
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import sacredlike.run as run_module
from sacredlike import Experiment
from sacredlike.dispatch import count_points
from sacredlike.errors import ObserverError
from sacredlike.observers import FileStorageObserver, RunObserver

from .flush_child import SignalSeen

ROOT = Path(__file__).resolve().parents[2]
HINT = "(Ctrl-C stops and keeps what is stored)"


def _child(runs: Path, *args: str, stderr: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.flush_child", str(runs), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )


def _stored(runs: Path) -> tuple[dict, list]:
    """run.json of run 1 and the steps of its metric ``x`` in metrics.json."""
    run_json = json.loads((runs / "1" / "run.json").read_text())
    metrics = json.loads((runs / "1" / "metrics.json").read_text())
    return run_json, metrics.get("x", {}).get("steps", [])


def _read_terminal(master: int) -> str:
    """Everything written to the pseudo-terminal until its last writer closed it."""
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child has exited
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return b"".join(chunks).decode()


@pytest.fixture
def signal_seen():
    """An event set when sacredlike logs that the process received a signal."""
    handler = SignalSeen()
    logger = logging.getLogger("sacredlike")
    logger.addHandler(handler)
    yield handler.event
    logger.removeHandler(handler)


def test_sigint_during_the_final_beat_keeps_what_was_stored_and_exits_130(tmp_path):
    runs = tmp_path / "runs"
    child = _child(runs, "--signal-at", "3", stderr=subprocess.PIPE)
    assert child.stdout is not None
    lines = iter(child.stdout.readline, "")
    assert next(line for line in lines if line.startswith("batch")) == "batch 3 (500)\n"
    os.kill(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130, err
    run_json, steps = _stored(runs)
    assert run_json["status"] == "INTERRUPTED" and run_json["result"] == 7
    assert steps == list(range(1500))  # the batch being written was finished, no later one
    assert "interrupted while storing run 1: 3,500 of 5,000 metric points were not stored" in err
    assert err.count("were not stored") == 1
    assert "further signals wait until the run's end is stored" in err
    assert "main is done" in (runs / "1" / "cout.txt").read_text()  # the final heartbeat


def test_signal_while_the_heartbeat_thread_is_mid_beat_stops_that_beat(
    tmp_path, monkeypatch, caplog, signal_seen
):
    monkeypatch.setattr(run_module, "METRICS_BATCH_SIZE", 500)
    main_may_return = threading.Event()
    calls: list[tuple[str, int]] = []
    problems: list[str] = []

    class SignalsInItsFirstBatch(RunObserver):
        priority = 30  # before the file storage, which still gets the batch being written

        def log_metrics(self, metrics_by_name, info):
            calls.append((threading.current_thread().name, count_points(metrics_by_name)))
            if len(calls) > 1:
                return
            while_main_runs = signal.getsignal(signal.SIGINT)
            main_may_return.set()
            deadline = time.monotonic() + 10
            while signal.getsignal(signal.SIGINT) == while_main_runs:  # until main has ended
                if time.monotonic() > deadline:
                    problems.append("main did not end")
                    return
                time.sleep(0.005)
            os.kill(os.getpid(), signal.SIGINT)
            if not signal_seen.wait(10):
                problems.append("the signal was not handled")

    ex = Experiment("mid_beat", save_git_info=False)
    ex.observers.extend([SignalsInItsFirstBatch(), FileStorageObserver(tmp_path / "runs")])

    @ex.main
    def main(_run):
        for step in range(5000):
            _run.log_scalar("x", float(step))
        print("main is done")
        main_may_return.wait(10)
        return 7

    with caplog.at_level(logging.INFO), pytest.raises(KeyboardInterrupt):
        ex.run(options={"--capture": "sys", "--beat-interval": 0.05})
    assert problems == []
    assert calls == [("sacredlike-heartbeat", 500)]  # the beat's other batches were not sent
    run_json, steps = _stored(tmp_path / "runs")
    assert run_json["status"] == "INTERRUPTED" and run_json["result"] == 7
    assert steps == list(range(500))
    unsent = [r for r in caplog.records if "were not stored" in r.getMessage()]
    assert len(unsent) == 1 and unsent[0].levelno == logging.WARNING
    assert "run 1: 4,500 of 5,000 metric points" in unsent[0].getMessage()
    assert "main is done" in (tmp_path / "runs" / "1" / "cout.txt").read_text()


def test_points_a_strict_observer_failure_kept_from_the_store_are_counted(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(run_module, "METRICS_BATCH_SIZE", 500)

    class FailsAtTheThirdBatch(RunObserver):
        priority = 30  # before the file storage, which never gets that batch
        batches = 0

        def log_metrics(self, metrics_by_name, info):
            self.batches += 1
            if self.batches == 3:
                raise OSError("store gone")

    ex = Experiment("strict", save_git_info=False, strict_observers=True)
    ex.observers.extend([FailsAtTheThirdBatch(), FileStorageObserver(tmp_path / "runs")])

    @ex.main
    def main(_run):
        for step in range(5000):
            _run.log_scalar("x", float(step))

    with pytest.raises(ObserverError):
        ex.run(options={"--capture": "sys", "--beat-interval": 0})
    run_json, steps = _stored(tmp_path / "runs")
    assert run_json["status"] == "FAILED" and steps == list(range(1000))
    unsent = [r for r in caplog.records if "were not stored" in r.getMessage()]
    assert len(unsent) == 1 and unsent[0].levelno == logging.ERROR
    message = unsent[0].getMessage()
    assert (
        "an observer failed while storing run 1: 4,000 of 5,000 metric points were not " in message
    )


def test_a_slow_final_flush_shows_a_progress_line_on_a_terminal(tmp_path):
    runs = tmp_path / "runs"
    master, terminal = pty.openpty()
    child = _child(runs, "--slow", "0.05", "--progress-delay", "0", stderr=terminal)
    os.close(terminal)
    shown = _read_terminal(master)
    assert child.wait(30) == 0, shown
    assert f"\rstoring run 1: 500 / 5,000 metric points {HINT}\x1b[K" in shown
    assert "\rstored run 1: 5,000 metric points\x1b[K\r\n" in shown
    assert "storing run" not in (runs / "1" / "cout.txt").read_text()


def test_a_slow_final_flush_without_a_terminal_logs_one_line_instead(tmp_path):
    child = _child(tmp_path / "runs", "--slow", "0.05", "--progress-delay", "0", stderr=-1)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert "\r" not in err
    assert err.count("storing run 1: ") == 1
    assert f"storing run 1: 500 / 5,000 metric points {HINT}" in err
    assert err.count("stored run 1: 5,000 metric points") == 1
    assert _stored(tmp_path / "runs")[1] == list(range(5000))


def test_a_quick_final_flush_without_a_terminal_logs_nothing(tmp_path):
    child = _child(tmp_path / "runs", "--progress-delay", "60", stderr=-1)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert "storing run" not in err and "stored run" not in err

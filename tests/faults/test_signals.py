"""SIGTERM, SIGINT and SIGHUP end a run as INTERRUPTED in every observer; a second signal
while the run is being stored waits until it is stored (real processes)."""

from __future__ import annotations

import json
import os
import signal

import pytest

from .scenarios import Child, stored

SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]


@pytest.fixture
def stores(tmp_path):
    """Three local stores written by one process: files, SQLite and TinyDB."""
    pytest.importorskip("tinydb")
    pytest.importorskip("sqlalchemy")
    return [
        str(tmp_path / "files"),
        f"sqlite:///{tmp_path / 'runs.db'}",
        f"tinydb://{tmp_path / 'tiny'}",
    ]


def _check_interrupted(stores, run_id, fault_table, fault, logged):
    for url in stores:
        status, values, run = stored(url, run_id)
        sink = url.split(":")[0] if ":" in url else "files"
        fault_table.add(fault, sink, "bare", f"≥ {logged}", len(values), status, "run INTERRUPTED")
        assert status == "INTERRUPTED" and run.stop_time is not None, url
        assert values == [float(step) for step in range(len(values))] and len(values) >= 100


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: s.name)
def test_signal_records_interrupted_everywhere(stores, signum, fault_table):
    child = Child(stores, "--points", "100000")
    run_id = child.run_id
    child.wait_for("logged 100")
    os.kill(child.process.pid, signum)
    assert child.finish() != 0
    _check_interrupted(stores, run_id, fault_table, signum.name, child.logged())


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: s.name)
def test_second_signal_while_storing_waits(stores, signum, tmp_path, fault_table):
    child = Child(stores, "--points", "100000", "--slow-end", "1")
    run_id = child.run_id
    child.wait_for("logged 100")
    os.kill(child.process.pid, signum)
    child.wait_for("ending")
    os.kill(child.process.pid, signum)  # while the end is being delivered
    assert child.finish() != 0
    assert f"{signum.name} received; finishing the run record first" in child.log()
    _check_interrupted(stores, run_id, fault_table, f"{signum.name} twice", child.logged())
    run_json = json.loads((tmp_path / "files" / str(run_id) / "run.json").read_text())
    assert run_json["status"] == "INTERRUPTED"

"""``kill -9`` of the experiment: what the last beat stored stays, the run is reported DEAD
once its lease is over, and ``sacredlike reap`` records DEAD in the store, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from sacredlike import open_store
from tests.service_helpers import wait_until

from .scenarios import ROOT, Child, stored

pytestmark = pytest.mark.service


def _beat_with_points(url, run_id):
    with open_store(url) as store:
        run = store.get_run(run_id)
        return run.lease_until is not None and len(store.get_metrics(run_id).get("x", ())) >= 50


def test_kill_9_then_dead_after_the_lease_then_reaped(sink, fault_table):
    child = Child([sink.child_url], "--points", "100000", env=sink.env)
    run_id = child.run_id
    assert wait_until(lambda: _beat_with_points(sink.url, run_id), timeout=60), child.log()
    os.kill(child.process.pid, signal.SIGKILL)
    child.finish()
    logged = child.logged()
    _, before, _ = stored(sink.url, run_id)
    assert wait_until(lambda: stored(sink.url, run_id)[0] == "DEAD", timeout=30)
    reap = [sys.executable, "-m", "sacredlike.console", "reap", sink.url]
    env = {**os.environ, **sink.env}
    first = subprocess.run(reap, cwd=ROOT, capture_output=True, text=True, env=env)
    again = subprocess.run(reap, cwd=ROOT, capture_output=True, text=True, env=env)
    status, values, run = stored(sink.url, run_id)
    fault_table.add(
        "`kill -9` of the experiment",
        sink.name,
        "bare",
        f"≥ {logged}",
        len(values),
        status,
        f"RUNNING until the lease ends, then DEAD; reap: {first.stdout.strip()}",
    )
    assert first.returncode == 0, first.stderr
    assert f"run {run_id}: DEAD" in first.stdout and "no lost run" in again.stdout
    assert status == "DEAD" and run.stop_time == run.heartbeat
    assert values == before == [float(step) for step in range(len(values))]
    assert len(values) >= 50

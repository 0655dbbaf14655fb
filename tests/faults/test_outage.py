"""The store goes away while a run logs a point every 10 ms, then comes back.

``SACREDLIKE_OUTAGE_SECONDS`` sets the outage (3 s here; ``benchmarks/bench_faults.py`` runs
the 30 s version).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from .scenarios import ROOT, Child, stored, user_sees

pytestmark = pytest.mark.service

OUTAGE = float(os.environ.get("SACREDLIKE_OUTAGE_SECONDS", "3"))
POINTS = int((OUTAGE + 3) * 100)  # a point every 10 ms: the run outlasts the outage


@pytest.mark.parametrize("observer", ["bare", "queue"])
def test_store_away_mid_run_then_back(server_sink, observer, journal_dir, fault_table):
    queue = ["--queue"] if observer == "queue" else []
    child = Child([server_sink.child_url], "--points", str(POINTS), *queue, env=server_sink.env)
    run_id = child.run_id
    child.wait_for("logged 100")
    server_sink.cut()
    time.sleep(OUTAGE)  # the outage itself, not a measurement
    server_sink.restore()
    assert child.finish() == 0, child.log()
    status, values, _ = stored(server_sink.url, run_id)
    fault_table.add(
        f"store away {OUTAGE:g} s mid-run",
        server_sink.name,
        observer,
        child.logged(),
        len(values),
        status,
        user_sees(child.log()),
    )
    assert status == "COMPLETED"
    assert values == [float(step) for step in range(POINTS)]


def test_store_back_only_after_exit_journal_synced_once(server_sink, journal_dir, fault_table):
    child = Child(
        [server_sink.child_url],
        "--points", "300", "--queue", "--final-timeout", "1",
        env=server_sink.env,
    )  # fmt: skip
    run_id = child.run_id
    child.wait_for("logged 100")
    server_sink.cut()
    try:
        assert child.finish() == 0, child.log()
        journals = list(journal_dir.glob("*/events.jsonl"))
        assert len(journals) == 1, child.log()
    finally:
        server_sink.restore()
    assert "sacredlike sync" in child.log()
    sync = [sys.executable, "-m", "sacredlike.console", "sync", str(journal_dir)]
    first = subprocess.run(
        sync, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **server_sink.env}
    )
    again = subprocess.run(
        sync, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **server_sink.env}
    )
    status, values, _ = stored(server_sink.url, run_id)
    fault_table.add(
        "store away until after exit, then `sacredlike sync`",
        server_sink.name,
        "queue",
        child.logged(),
        len(values),
        status,
        f"journal kept, sync: {first.stdout.strip()}; again: {again.stdout.strip()}",
    )
    assert first.returncode == 0, first.stderr
    assert f"run {run_id}: journal" in first.stdout
    assert "no journal to sync" in again.stdout
    assert status == "COMPLETED" and values == [float(step) for step in range(300)]

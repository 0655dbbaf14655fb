"""20 processes start runs at once on one store: 20 distinct ids, 20 complete records."""

from __future__ import annotations

import pytest

from sacredlike import open_store

from .scenarios import Child

pytestmark = pytest.mark.service

PROCESSES = 20


def test_twenty_processes_start_at_once(sink, fault_table):
    children = [
        Child([sink.child_url], "--points", "20", "--every", "0.001", env=sink.env)
        for _ in range(PROCESSES)
    ]
    codes = [child.finish() for child in children]
    ids = [child.run_id for child in children]
    with open_store(sink.url) as store:
        runs = store.find_runs()
        points = {run.id: len(store.get_metrics(run.id).get("x", ())) for run in runs}
    statuses = sorted({run.status for run in runs})
    fault_table.add(
        f"{PROCESSES} processes start at once",
        sink.name,
        "bare",
        20 * PROCESSES,
        sum(points.values()),
        f"{len(runs)} runs, {len(set(ids))} ids: {', '.join(statuses)}",
        "no warning" if not any(c.log().strip() for c in children) else children[0].log()[-100:],
    )
    assert codes == [0] * PROCESSES, [c.log() for c in children if c.process.returncode]
    assert len(set(ids)) == PROCESSES and sorted(points) == sorted(ids)
    assert statuses == ["COMPLETED"] and set(points.values()) == {20}

"""20 real processes start runs at once on an empty database: 20 ids, nothing lost."""

from __future__ import annotations

import multiprocessing
import queue as queue_module

import pytest

from .helpers import at, points, start

PROCESSES = 20


def _one_run(url: str, barrier, results) -> None:
    """Child process: wait for the others, then create the observer and record a run."""
    try:
        from sacredlike.observers.sql import SqlObserver

        barrier.wait(timeout=120)
        observer = SqlObserver(url)
        run_id = start(observer)
        observer.log_metrics(points("loss", range(100)), {})
        observer.completed_event(stop_time=at(1), result=run_id)
        observer.engine.dispose()
        results.put(run_id)
    except Exception as error:  # reported to the parent, which fails the test
        results.put(f"{type(error).__name__}: {error}")


@pytest.mark.slow
def test_twenty_processes_on_an_empty_database(db, reader):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    children = [
        context.Process(target=_one_run, args=(db.url, barrier, results)) for _ in range(PROCESSES)
    ]
    for child in children:
        child.start()
    try:
        ids = [results.get(timeout=180) for _ in children]
    except queue_module.Empty:
        pytest.fail("a child process did not report within 180 s")
    finally:
        for child in children:
            child.join(timeout=30)
    errors = [item for item in ids if not isinstance(item, int)]
    assert errors == []
    assert sorted(ids) == list(range(1, PROCESSES + 1))
    assert db.scalar("SELECT COUNT(*) FROM run WHERE status = 'COMPLETED'") == PROCESSES
    assert db.scalar("SELECT COUNT(*) FROM metrics") == 100 * PROCESSES
    assert db.scalar("SELECT COUNT(*) FROM experiment") == 1
    assert db.scalar("SELECT COUNT(*) FROM host") == 1
    assert db.scalar("SELECT COUNT(*) FROM dependency") == 2
    assert db.scalar("SELECT COUNT(*) FROM sacredlike_schema") == 1
    assert sorted(run.result for run in reader.find_runs()) == sorted(ids)

"""Dropped connections and unreachable servers mid-run: reconnect, retry, lose nothing."""

from __future__ import annotations

import logging

import pytest

from sacredlike.dispatch import merge_metrics
from sacredlike.errors import SinkUnavailable
from sacredlike.observers.rows import store as _rows_store
from sacredlike.observers.sql import SqlObserver

from .helpers import at, points, start


def _check_everything_stored(db, run_id, total, output):
    (row,) = db.select("run", run_id=str(run_id))
    assert row["status"] == "COMPLETED" and row["captured_out"] == output
    steps = db.rows("SELECT step FROM metrics WHERE run_id = :r ORDER BY id", r=str(run_id))
    assert [r["step"] for r in steps] == list(range(total))


def test_sessions_killed_between_events(server_db):
    observer = SqlObserver(server_db.url)
    run_id = start(observer)
    observer.heartbeat_event(info={}, captured_out="a\n", beat_time=at(1), result=None)
    observer.log_metrics(points("loss", range(100)), {})
    assert server_db.kill_connections() >= 1
    observer.log_metrics(points("loss", range(100, 200)), {})
    observer.heartbeat_event(info={}, captured_out="a\nb\n", beat_time=at(2), result=None)
    server_db.kill_connections()
    observer.completed_event(stop_time=at(3), result=None)
    _check_everything_stored(server_db, run_id, 200, "a\nb\n")
    observer.engine.dispose()


@pytest.mark.parametrize("event", ["metrics", "heartbeat"])
def test_session_killed_inside_the_transaction_is_retried(server_db, caplog, event):
    sa = pytest.importorskip("sqlalchemy")
    observer = SqlObserver(server_db.url)
    run_id = start(observer)
    kills = []

    def kill_once(conn):
        if not kills:
            kills.append(server_db.kill_connections())

    sa.event.listen(observer.engine, "begin", kill_once)
    with caplog.at_level(logging.WARNING, logger=_rows_store.__name__):
        if event == "metrics":
            observer.log_metrics(points("loss", range(50)), {})
        else:
            observer.heartbeat_event(info={}, captured_out="x\n", beat_time=at(1), result=None)
    assert kills and kills[0] >= 1
    assert "retrying" in caplog.text
    observer.log_metrics(points("loss", range(50 if event == "metrics" else 0, 50)), {})
    observer.heartbeat_event(info={}, captured_out="x\n", beat_time=at(1), result=None)
    observer.completed_event(stop_time=at(2), result=None)
    _check_everything_stored(server_db, run_id, 50, "x\n")
    observer.engine.dispose()


def test_unreachable_server_then_back(server_db, proxy, monkeypatch):
    monkeypatch.setattr(_rows_store, "RETRY_DELAYS", (0.01, 0.01))
    observer = SqlObserver(server_db.url.replace(server_db.address, f"127.0.0.1:{proxy.port}"))
    run_id = start(observer)
    observer.heartbeat_event(info={"epoch": 1}, captured_out="a\n", beat_time=at(1), result=None)
    observer.log_metrics(points("loss", range(100)), {})

    proxy.stop()
    with pytest.raises(SinkUnavailable, match=r"127\.0\.0\.1"):
        observer.log_metrics(points("loss", range(100, 200)), {})
    with pytest.raises(SinkUnavailable):
        observer.heartbeat_event(
            info={"epoch": 2}, captured_out="a\nb\n", beat_time=at(2), result=None
        )
    proxy.start()
    # the dispatcher offers the points that failed again, merged with the new ones
    observer.log_metrics(points("loss", range(100, 300)), {})
    observer.completed_event(stop_time=at(3), result=None)

    _check_everything_stored(server_db, run_id, 300, "a\nb\n")
    (row,) = server_db.select("run", run_id=str(run_id))
    assert row["info"] == {"epoch": 2} and row["heartbeat"] == at(2)
    observer.engine.dispose()


def test_reader_reports_an_unreachable_server(server_db, proxy):
    from sacredlike.observers.sql import SqlReader

    reader = SqlReader.from_url(server_db.url.replace(server_db.address, f"127.0.0.1:{proxy.port}"))
    assert reader.find_runs() == []
    proxy.stop()
    with pytest.raises(SinkUnavailable, match="could not list runs"):
        reader.find_runs()
    with pytest.raises(SinkUnavailable, match="could not read run 1"):
        reader.get_run(1)
    reader.close()


@pytest.mark.parametrize("lost", [1, 4], ids=["retried-inside", "offered-again"])
def test_a_commit_whose_acknowledgement_is_lost_is_not_stored_twice(db, monkeypatch, lost):
    """The database commits the points, then the connection drops before it says so."""
    sa = pytest.importorskip("sqlalchemy")
    monkeypatch.setattr(_rows_store, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    observer = SqlObserver(db.url)
    run_id = start(observer)
    commits = []

    def commit_then_drop(conn):
        if len(commits) < lost:
            commits.append(conn.connection.dbapi_connection.commit())
            raise sa.exc.OperationalError("COMMIT", None, ConnectionError("connection lost"))

    sa.event.listen(observer.engine, "commit", commit_then_drop)
    batches = [points("loss", range(0, 30)), points("loss", range(30, 50))]
    try:
        observer.log_metrics(batches[0], {})
    except SinkUnavailable:  # every retry lost its acknowledgement: offered again, first
        assert lost > len(_rows_store.RETRY_DELAYS)
        batches[1] = merge_metrics(batches[0], batches[1])
    observer.log_metrics(batches[1], {})
    observer.completed_event(stop_time=at(3), result=None)
    steps = db.rows("SELECT step FROM metrics WHERE run_id = :r ORDER BY id", r=str(run_id))
    assert [r["step"] for r in steps] == list(range(50))
    observer.engine.dispose()

"""A run's life on each database, checked row by row in the tables."""

from __future__ import annotations

import traceback

import pytest

from sacredlike.errors import SinkRejected

from .helpers import HOST_INFO, T0, at, ex_info, start


def _run_row(db, run_id):
    (row,) = db.select("run", run_id=str(run_id))
    return row


def test_completed_run_fills_every_column(db, observer):
    run_id = start(observer)
    observer.heartbeat_event(
        info={"epoch": 1}, captured_out="line 1\n", beat_time=at(1), result=None
    )
    observer.heartbeat_event(
        info={"epoch": 2}, captured_out="line 1\nline 2\n", beat_time=at(2), result=0.5
    )
    observer.completed_event(stop_time=at(3), result={"acc": 0.97, "curve": [1, 2]})

    assert run_id == 1 and type(run_id) is int
    row = _run_row(db, run_id)
    assert row["id"] == 1
    assert row["command"] == "main"
    assert row["status"] == "COMPLETED"
    assert (row["start_time"], row["heartbeat"], row["stop_time"]) == (T0, at(2), at(3))
    assert row["queue_time"] is None
    assert row["captured_out"] == "line 1\nline 2\n"
    assert row["config"] == {"lr": 0.1, "seed": 7, "net": {"depth": 3}}
    assert row["info"] == {"epoch": 2}
    assert row["result"] == {"acc": 0.97, "curve": [1, 2]}
    assert row["comment"] == "first try" and row["priority"] == 2.0
    assert row["fail_trace"] is None

    (host,) = db.select("host", host_id=row["host_id"])
    assert host["hostname"] == HOST_INFO["hostname"]  # 85 characters: Sacred's 64 overflowed
    assert (host["os"], host["os_info"]) == tuple(HOST_INFO["os"])
    assert host["cpu"] == HOST_INFO["cpu"] and host["python_version"] == "3.11.2"
    assert host["host_info"]["gpus"] == HOST_INFO["gpus"]

    (experiment,) = db.select("experiment", experiment_id=row["experiment_id"])
    assert experiment["name"] == "mnist" and experiment["base_dir"] == "/nonexistent"
    assert experiment["ex_info"] == ex_info()
    dependencies = db.rows(
        "SELECT d.name, d.version FROM dependency d JOIN experiments_dependencies l "
        "ON l.dependency_id = d.dependency_id WHERE l.experiment_id = :e ORDER BY d.name",
        e=row["experiment_id"],
    )
    assert [(d["name"], d["version"]) for d in dependencies] == [
        ("numpy", "1.26.4"),
        ("sacredlike", "0.1.0"),
    ]
    (repo,) = db.rows(
        "SELECT r.url, r.dirty FROM repository r JOIN experiments_repositories l "
        "ON l.repository_id = r.repository_id WHERE l.experiment_id = :e",
        e=row["experiment_id"],
    )
    assert repo["url"] == "git@example.com:lab/exp.git" and not repo["dirty"]


def test_failed_run_keeps_trace_and_output(db, observer, reader):
    run_id = start(observer)
    observer.heartbeat_event(info={}, captured_out="before\n", beat_time=at(1), result=None)
    try:
        raise ValueError("boom")
    except ValueError as error:
        trace = traceback.format_exception(type(error), error, error.__traceback__)
    observer.failed_event(fail_time=at(2), fail_trace=trace)

    row = _run_row(db, run_id)
    assert row["status"] == "FAILED" and row["stop_time"] == at(2)
    assert row["fail_trace"] == "".join(trace)
    assert "ValueError: boom" in row["fail_trace"]
    stored = reader.get_run(run_id)
    assert "".join(stored.fail_trace) == "".join(trace)
    assert stored.captured_out == "before\n"


@pytest.mark.parametrize("status", ["INTERRUPTED", "TIMEOUT", "PREEMPTED_BY_SCHEDULER"])
def test_interrupted_run_keeps_any_status(db, observer, status):
    run_id = start(observer)
    observer.interrupted_event(interrupt_time=at(5), status=status)
    row = _run_row(db, run_id)
    assert row["status"] == status and row["stop_time"] == at(5)


def test_queued_run(db, observer, reader):
    run_id = start(observer, queued=True)
    row = _run_row(db, run_id)
    assert row["status"] == "QUEUED"
    assert row["queue_time"] == T0 and row["start_time"] is None
    assert reader.get_run(run_id).status == "QUEUED"


def test_ids_are_consecutive_ints(db, observer):
    ids = [start(observer) for _ in range(3)]
    assert ids == [1, 2, 3]
    assert all(type(i) is int for i in ids)


def test_preset_ids(db, observer, reader):
    assert start(observer, _id=42) == 42
    assert start(observer, _id="nightly-7") == "nightly-7"
    assert start(observer) == 44  # past 42, and 43 is the row id of "nightly-7"
    assert {run.id for run in reader.find_runs()} == {42, "nightly-7", 44}
    with pytest.raises(SinkRejected, match="insert the run"):
        start(observer, _id=42)


def test_output_is_appended_not_rewritten(db, observer):
    start(observer)
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa = pytest.importorskip("sqlalchemy")
    sa.event.listen(observer.engine, "before_cursor_execute", remember)
    big = "x" * 100_000 + "\n"
    observer.heartbeat_event(info={}, captured_out=big, beat_time=at(1), result=None)
    statements.clear()
    observer.heartbeat_event(info={}, captured_out=big + "tail\n", beat_time=at(2), result=None)
    updates = [(s, p) for s, p in statements if s.lstrip().upper().startswith("UPDATE")]
    ((statement, parameters),) = updates
    assert "captured_out" in statement
    assert "config" not in statement and "info" not in statement  # unchanged columns
    assert "x" * 1000 not in repr(parameters)  # only the new tail travels
    assert db.scalar("SELECT captured_out FROM run") == big + "tail\n"


def test_rewritten_output_replaces_the_stored_text(db, observer):
    start(observer)
    observer.heartbeat_event(info={}, captured_out="10%\r", beat_time=at(1), result=None)
    observer.heartbeat_event(info={}, captured_out="100%\n", beat_time=at(2), result=None)
    assert db.scalar("SELECT captured_out FROM run") == "100%\n"


def test_nan_in_config_and_result_is_stored(db, observer, reader):
    run_id = start(observer, config={"lr": float("nan"), "bound": float("inf")})
    observer.completed_event(stop_time=at(1), result=float("-inf"))
    stored = reader.get_run(run_id)
    assert stored.config == {"lr": "nan", "bound": "inf"}
    assert stored.result == "-inf"


def test_a_second_run_on_the_same_observer_starts_clean(db, observer):
    first = start(observer)
    observer.heartbeat_event(info={}, captured_out="one\n", beat_time=at(1), result=None)
    observer.completed_event(stop_time=at(2), result=1)
    second = start(observer)
    observer.heartbeat_event(info={}, captured_out="two\n", beat_time=at(3), result=None)
    observer.completed_event(stop_time=at(4), result=2)
    assert _run_row(db, first)["captured_out"] == "one\n"
    assert _run_row(db, second)["captured_out"] == "two\n"
    assert db.scalar("SELECT COUNT(*) FROM experiment") == 1
    assert db.scalar("SELECT COUNT(*) FROM host") == 1


def test_sources_are_stored_with_their_text(db, observer, tmp_path, caplog):
    (tmp_path / "train.py").write_text("print('train')\n")
    info = ex_info(base_dir=str(tmp_path))
    info["sources"] = [["train.py", "md5-of-train"], ["gone.py", "md5-of-gone"]]
    observer.started_event(
        ex_info=info,
        command="main",
        host_info=HOST_INFO,
        start_time=T0,
        config={},
        meta_info={},
        _id=None,
    )
    rows = db.rows(
        "SELECT s.filename, s.md5sum, s.content FROM source s JOIN experiments_sources l "
        "ON l.source_id = s.source_id ORDER BY s.filename"
    )
    assert [(r["filename"], r["md5sum"], r["content"]) for r in rows] == [
        ("gone.py", "md5-of-gone", None),
        ("train.py", "md5-of-train", "print('train')\n"),
    ]
    assert "gone.py is missing; recorded without content" in caplog.text

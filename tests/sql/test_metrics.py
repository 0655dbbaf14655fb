"""Metric points: every one stored and read back, in bulk, on each database."""

from __future__ import annotations

import datetime as _dt
import math

import pytest

from sacredlike.errors import RunNotFound
from sacredlike.observers.sql import SqlObserver

from .helpers import at, points, start


def test_100k_points_round_trip(db, observer, reader):
    run_id = start(observer)
    total = 100_000
    for first in range(0, total, 25_000):
        beat = {
            **points("loss", range(first, first + 25_000)),
            **points("acc", range(first, first + 25_000), start_value=1.0),
        }
        observer.log_metrics(beat, {})
    observer.completed_event(stop_time=at(9), result=None)

    metrics = reader.get_metrics(run_id)
    assert sorted(metrics) == ["acc", "loss"]
    loss = metrics["loss"]
    assert len(loss) == total
    assert loss.steps == list(range(total))
    assert loss.values == [step / 2 for step in range(total)]
    assert loss.timestamps[:3] == [at(0), at(0.001), at(0.002)]
    assert metrics["acc"].values[-1] == 1.0 + (total - 1) / 2
    assert db.scalar("SELECT COUNT(*) FROM metrics") == 2 * total


def test_nonfinite_and_numpy_values(db, observer, reader):
    np = pytest.importorskip("numpy")
    run_id = start(observer)
    values = [np.float32(0.5), float("nan"), float("inf"), float("-inf"), np.int64(3), True]
    observer.log_metrics(
        {"m": {"name": "m", "steps": list(range(6)), "values": values, "timestamps": [at(0)] * 6}},
        {},
    )
    got = reader.get_metrics(run_id)["m"].values
    assert got[0] == 0.5 and math.isnan(got[1])
    assert got[2:] == [math.inf, -math.inf, 3, 1]


def test_only_requested_names(db, observer, reader):
    run_id = start(observer)
    observer.log_metrics({**points("a", range(3)), **points("b", range(2))}, {})
    assert list(reader.get_metrics(run_id, names=["b"])) == ["b"]


def test_metrics_frame(db, observer, reader):
    pytest.importorskip("pandas")
    run_id = start(observer)
    observer.log_metrics(points("loss", range(5)), {})
    frame = reader.metrics_frame(run_id)
    assert list(frame.columns) == ["name", "step", "value", "timestamp"]
    assert frame["value"].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert frame["step"].tolist() == list(range(5))


def test_metrics_of_unknown_run(db, observer, reader):
    start(observer)
    with pytest.raises(RunNotFound):
        reader.get_metrics(999)


def test_awkward_names_aware_times_and_split_statements(db, observer, reader, monkeypatch):
    from sacredlike.observers.rows import metrics as _rows_metrics

    monkeypatch.setattr(_rows_metrics, "STATEMENT_BYTES", 300)  # many INSERTs on MariaDB
    run_id = start(observer)
    names = ["it's", "back\\slash", "100%", "ünï €", "x'); DROP TABLE run; --"]
    moment = at(0).replace(tzinfo=_dt.timezone(_dt.timedelta(hours=2)))
    batch = {
        name: {
            "name": name,
            "steps": list(range(20)),
            "values": [1.5] * 20,
            "timestamps": [moment] * 20,
        }
        for name in names
    }
    observer.log_metrics(batch, {})
    got = reader.get_metrics(run_id)
    assert sorted(got) == sorted(names)
    assert all(len(series) == 20 for series in got.values())
    assert got["it's"].timestamps[0] == at(0) - _dt.timedelta(hours=2)
    assert db.scalar("SELECT COUNT(*) FROM run") == 1


def test_points_breaking_the_rule_are_left_out_with_one_warning(server_db, caplog):
    observer = SqlObserver(server_db.url)
    run_id = start(observer)
    batch = {**points("x" * 300, range(3)), **points("loss", range(3))}
    observer.log_metrics(batch, {})  # the name column holds 255 characters
    steps = server_db.rows("SELECT name, step FROM metrics WHERE run_id = :r", r=str(run_id))
    assert [(row["name"], row["step"]) for row in steps] == [("loss", 0), ("loss", 1), ("loss", 2)]
    warnings = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(warnings) == 1 and "3 metric point(s)" in warnings[0] and "255" in warnings[0]
    observer.engine.dispose()


_REFUSE_STEP_13 = {
    "sqlite": "CREATE TRIGGER no13 BEFORE INSERT ON metrics WHEN NEW.step = 13 "
    "BEGIN SELECT RAISE(ABORT, 'step 13 refused'); END",
    "postgresql": "ALTER TABLE metrics ADD CONSTRAINT no13 CHECK (step <> 13)",
    "mariadb": "ALTER TABLE metrics ADD CONSTRAINT no13 CHECK (step <> 13)",
}


def test_rows_the_database_refuses_are_isolated_and_the_rest_stored(db, observer, caplog):
    run_id = start(observer)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(_REFUSE_STEP_13[db.kind])
    observer.log_metrics({**points("loss", range(100)), **points("acc", range(10, 20))}, {})
    observer.log_metrics(points("loss", range(100, 110)), {})
    stored = db.rows("SELECT name, step FROM metrics WHERE run_id = :r", r=str(run_id))
    expected = [("loss", s) for s in range(110) if s != 13] + [
        ("acc", s) for s in range(10, 20) if s != 13
    ]
    assert sorted((row["name"], row["step"]) for row in stored) == sorted(expected)
    warnings = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(warnings) == 1 and "2 metric point(s)" in warnings[0]

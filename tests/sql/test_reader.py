"""SqlReader filters and the three example queries of docs/sql.md, on each database."""

from __future__ import annotations

import datetime as _dt
import os

import pytest

from sacredlike.errors import RunNotFound
from sacredlike.observers.base import RunQuery

from .helpers import at, points, start

sa = pytest.importorskip("sqlalchemy")


@pytest.fixture
def runs(db, observer):
    """Five runs: two experiments, several statuses, configs and metrics."""
    made = {}
    plan = [
        ("mnist", "COMPLETED", 0, {"lr": 0.1, "net": {"depth": 3}, "opt": "adam"}, 0.90),
        ("mnist", "COMPLETED", 1, {"lr": 0.01, "net": {"depth": 5}, "opt": "sgd"}, 0.95),
        ("mnist", "FAILED", 2, {"lr": 0.1, "net": {"depth": 5}, "opt": "adam"}, 0.50),
        ("cifar10", "COMPLETED", 3, {"lr": 0.1, "net": {"depth": 3}, "opt": "adam"}, 0.80),
        ("cifar10", "INTERRUPTED", 4, {"lr": 1, "net": {"depth": 3}, "opt": "adam"}, 0.10),
    ]
    for name, status, day, config, best in plan:
        run_id = start(observer, name=name, config=config, start_time=at(day * 86400))
        series = points("accuracy", range(3))
        series["accuracy"]["values"] = [best / 2, best, best / 3]
        observer.log_metrics(series, {})
        stop = at(day * 86400 + 60)
        if status == "COMPLETED":
            observer.completed_event(stop_time=stop, result=best)
        elif status == "FAILED":
            observer.failed_event(fail_time=stop, fail_trace=["Traceback\n", "boom\n"])
        else:
            observer.interrupted_event(interrupt_time=stop, status=status)
        made[run_id] = (name, status, day, config, best)
    return made


def _ids(found):
    return [run.id for run in found]


def test_all_runs_newest_first(runs, reader):
    found = reader.find_runs()
    assert _ids(found) == [5, 4, 3, 2, 1]
    assert found[0].experiment_name == "cifar10" and found[0].status == "INTERRUPTED"
    assert found[0].captured_out is None
    assert found[2].fail_trace == ["Traceback\n", "boom\n"]


def test_filter_by_experiment_regex(runs, reader):
    assert _ids(reader.find_runs(RunQuery(experiment="^mn"))) == [3, 2, 1]
    assert _ids(reader.find_runs(RunQuery(experiment="ifar"))) == [5, 4]
    assert reader.find_runs(RunQuery(experiment="^nothing$")) == []


def test_filter_by_status(runs, reader):
    assert _ids(reader.find_runs(RunQuery(status="COMPLETED"))) == [4, 2, 1]
    assert _ids(reader.find_runs(RunQuery(status=["FAILED", "INTERRUPTED"]))) == [5, 3]


def test_filter_by_dates_and_limit(runs, reader):
    query = RunQuery(started_after=at(86400), started_before=at(4 * 86400))
    assert _ids(reader.find_runs(query)) == [4, 3, 2]
    assert _ids(reader.find_runs(RunQuery(limit=2))) == [5, 4]


def test_filter_by_config_values(runs, reader):
    assert _ids(reader.find_runs(RunQuery(config={"lr": 0.1}))) == [4, 3, 1]
    assert _ids(reader.find_runs(RunQuery(config={"lr": 1.0}))) == [5]
    assert _ids(reader.find_runs(RunQuery(config={"net.depth": 5}))) == [3, 2]
    both = RunQuery(config={"net.depth": 3, "opt": "adam"}, status="COMPLETED", limit=1)
    assert _ids(reader.find_runs(both)) == [4]
    assert reader.find_runs(RunQuery(config={"net.missing": 1})) == []
    assert _ids(reader.find_runs(RunQuery(config={"net": {"depth": 5}}))) == [3, 2]


def test_get_run_and_unknown_run(runs, reader):
    run = reader.get_run(2)
    assert (run.experiment_name, run.status, run.result) == ("mnist", "COMPLETED", 0.95)
    assert run.config_value("net.depth") == 5
    assert run.start_time == at(86400) and run.stop_time == at(86460)
    assert run.meta["comment"] == "first try" and run.host["python_version"] == "3.11.2"
    with pytest.raises(RunNotFound):
        reader.get_run(99)


def test_empty_database(db):
    """A database without sacredlike's tables holds no runs; a missing SQLite file is an error."""
    from sacredlike.observers.sql import SqlReader

    if db.kind == "sqlite":
        with pytest.raises(FileNotFoundError, match="no SQLite database"):
            SqlReader.from_url(db.url)
        assert not os.path.exists(db.url.removeprefix("sqlite:///"))
        return
    with SqlReader.from_url(db.url) as reader:
        assert reader.find_runs() == []
        with pytest.raises(RunNotFound):
            reader.get_run(1)


# -- the example queries of docs/sql.md ---------------------------------------------------
BEST_RUNS = """
SELECT r.run_id, MAX(m.value) AS best
FROM run r JOIN metrics m ON m.run_id = r.run_id
WHERE m.name = 'accuracy' AND r.status = 'COMPLETED'
GROUP BY r.run_id
ORDER BY best DESC
LIMIT 10
"""

CONFIG_VALUE = {
    "postgresql": "SELECT run_id FROM run WHERE config->>'opt' = 'sgd'",
    "mariadb": "SELECT run_id FROM run WHERE JSON_VALUE(config, '$.opt') = 'sgd'",
    "sqlite": "SELECT run_id FROM run WHERE json_extract(config, '$.opt') = 'sgd'",
}

FAILED_LAST_WEEK = """
SELECT r.run_id, e.name, r.stop_time
FROM run r JOIN experiment e ON e.experiment_id = r.experiment_id
WHERE r.status = 'FAILED' AND r.start_time >= :since
ORDER BY r.start_time DESC
"""


def test_doc_query_best_runs_by_metric(db, runs):
    rows = db.rows(BEST_RUNS)
    assert [(row["run_id"], row["best"]) for row in rows] == [("2", 0.95), ("1", 0.9), ("4", 0.8)]


def test_doc_query_runs_with_a_config_value(db, runs):
    assert [row["run_id"] for row in db.rows(CONFIG_VALUE[db.kind])] == ["2"]


def test_doc_query_failed_runs_last_week(db, runs):
    since = at(4 * 86400) - _dt.timedelta(days=7)
    # typed, so that SQLAlchemy converts it (sqlite3's own datetime adapter is deprecated)
    query = sa.text(FAILED_LAST_WEEK).bindparams(sa.bindparam("since", type_=sa.DateTime))
    with db.engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query, {"since": since})]
    assert [(row["run_id"], row["name"]) for row in rows] == [("3", "mnist")]

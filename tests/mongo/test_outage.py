"""The server goes away mid-run and comes back (real server, really stopped)."""

from __future__ import annotations

import logging
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sacredlike.errors import SinkUnavailable
from sacredlike.observers.document.store import MetricPart
from sacredlike.observers.mongo import QueuedMongoObserver
from sacredlike.observers.retry import RetryPolicy
from tests.service_helpers import wait_until

from .helpers import Beats, now, points, start

pytestmark = [pytest.mark.service, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
FAST = {"serverSelectionTimeoutMS": 300, "connectTimeoutMS": 300}


@pytest.fixture
def restartable(mongo_server):
    """The session server; guaranteed running again after the test."""
    if mongo_server.command is None:
        pytest.skip("needs the SecantusDB started by the tests, not MONGO_URI")
    yield mongo_server
    if not mongo_server.ping():
        mongo_server.start()


def _fast(observer):
    observer.beat_retry = RetryPolicy(attempts=2, first_delay=0.05)
    observer.final_retry = RetryPolicy(attempts=2, first_delay=0.05)
    return observer


def test_heartbeats_resume_and_no_point_is_lost(restartable, make_observer, db, tmp_path):
    observer = _fast(make_observer(**FAST))
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    beats.beat(points("loss", 0, 3), out="1\n")
    restartable.stop()
    beats.beat(points("loss", 3, 3), out="1\n2\n")
    assert beats.errors and all(isinstance(e, SinkUnavailable) for e in beats.errors)
    beats.errors.clear()
    restartable.start()
    before = now()
    beats.beat(points("loss", 6, 3), out="1\n2\n3\n")
    assert beats.errors == []
    doc = db.runs.find_one({"_id": run_id})
    assert doc["heartbeat"] >= before.replace(microsecond=0)
    assert doc["captured_out"] == "1\n2\n3\n"
    observer.completed_event(stop_time=now(), result=None)
    assert db.metrics.find_one({"run_id": run_id})["steps"] == list(range(9))


def test_queued_observer_loses_nothing(restartable, make_observer, db, tmp_path, caplog):
    observer = make_observer(QueuedMongoObserver, **FAST)
    observer.retry = RetryPolicy(first_delay=0.05, max_delay=0.5)
    observer.interval = 0.05
    caplog.set_level(logging.WARNING, logger="sacredlike")
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    beats.beat(points("loss", 0, 100), out="a\n")
    restartable.stop()
    began = time.monotonic()
    for beat in range(1, 5):
        beats.beat(points("loss", beat * 100, 100), out="a\n" * (beat + 1))
    assert time.monotonic() - began < 1.0, "events must not wait for the server"
    assert wait_until(lambda: "failed" in caplog.text, timeout=10)
    restartable.start()
    beats.beat(points("loss", 500, 100), out="done\n")
    observer.completed_event(stop_time=now(), result=7)
    observer.join()
    assert beats.errors == []
    messages = [r.getMessage() for r in caplog.records]
    assert sum("failed" in m for m in messages) == 1
    assert any("works again" in m for m in messages)
    doc = db.runs.find_one({"_id": run_id})
    assert doc["status"] == "COMPLETED" and doc["result"] == 7
    assert doc["captured_out"] == "done\n"
    assert db.metrics.find_one({"run_id": run_id})["steps"] == list(range(600))


def test_final_write_falls_back_to_failure_dir_then_uploads(
    restartable, make_observer, db, db_name, tmp_path, caplog
):
    observer = _fast(make_observer(**FAST))
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    beats.beat(points("loss", 0, 2))
    artifact = tmp_path / "a.txt"
    artifact.write_text("artifact body")
    restartable.stop()
    beats.beat(points("loss", 2, 2), out="late output\n")
    with pytest.raises(SinkUnavailable):
        observer.artifact_event(name="a.txt", filename=str(artifact))
    with caplog.at_level(logging.WARNING, logger="sacredlike"):
        observer.completed_event(stop_time=now(), result={"r": 1})
    folder = observer.saved_to
    assert folder is not None and (folder / "run.json").is_file()
    assert folder.parent == tmp_path / "unsent"
    [message] = [r.getMessage() for r in caplog.records if "Upload it later" in r.getMessage()]
    command = re.search(r"Upload it later with: (.*)$", message).group(1)
    assert command == (
        f"python -m sacredlike.observers.mongo upload {folder} {restartable.uri}/{db_name}"
    )

    restartable.start()
    argv = shlex.split(command)
    argv[0] = sys.executable
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"uploaded run(s) {run_id}" in done.stdout
    assert not folder.exists()
    doc = db.runs.find_one({"_id": run_id})
    assert doc["status"] == "COMPLETED" and doc["result"] == {"r": 1}
    assert doc["captured_out"] == "late output\n"
    assert db.metrics.find_one({"run_id": run_id})["steps"] == [0, 1, 2, 3]
    [entry] = doc["artifacts"]
    stored = db["fs.files"].find_one({"_id": entry["file_id"]})
    assert stored["filename"] == f"artifact://runs/{run_id}/a.txt"


def test_queued_final_timeout_saves_the_run(restartable, make_observer, tmp_path):
    observer = make_observer(QueuedMongoObserver, **FAST)
    observer.final_timeout = 0.5
    observer.retry = RetryPolicy(first_delay=0.05, max_delay=0.1)
    start(observer, tmp_path)
    restartable.stop()
    Beats(observer).beat(points("loss", 0, 5))
    observer.completed_event(stop_time=now(), result=None)
    observer.join()
    assert observer.kept_journal is not None
    assert (observer.kept_journal / "events.jsonl").is_file()


def test_default_failure_dir(mongo_server, db_name, monkeypatch, tmp_path):
    from sacredlike.observers.mongo import MongoObserver

    monkeypatch.setenv("HOME", str(tmp_path))
    observer = MongoObserver(mongo_server.uri, db_name=db_name)
    assert observer.failure_dir == tmp_path / ".sacredlike" / "unsent_runs"
    observer.store.close()


def test_append_is_exactly_once(make_observer, db):
    store = make_observer().store
    part = MetricPart({"run_id": 1, "name": "m"})
    batch = {"steps": [0, 1], "values": [0.0, 1.0], "timestamps": [now(), now()]}
    store.append_points([(part, batch)])
    replay = MetricPart(part.seed, id=part.id, count=0)  # the acknowledgement was lost
    store.append_points([(replay, batch)])
    assert replay.count == 2
    store.append_points([(replay, {k: v[:1] for k, v in batch.items()})])
    doc = db.metrics.find_one({"_id": part.id})
    assert doc["steps"] == [0, 1, 0] and doc["n"] == 3

    other = MetricPart({"run_id": 1, "name": "other"})
    lagging = MetricPart(part.seed, id=part.id, count=2)  # its last append landed unseen
    store.append_points([(lagging, {k: v[:1] for k, v in batch.items()}), (other, batch)])
    assert (lagging.count, other.count) == (3, 2)
    assert db.metrics.find_one({"_id": part.id})["n"] == 3
    assert db.metrics.find_one({"_id": other.id})["steps"] == [0, 1]


def test_an_append_that_landed_unseen_then_grew_stores_only_the_rest(make_observer, db):
    store = make_observer().store
    part = MetricPart({"run_id": 1, "name": "m"})
    batch = {"steps": [0, 1, 2], "values": [0.0, 1.0, 2.0], "timestamps": [now()] * 3}
    store.append_points([(part, {k: v[:2] for k, v in batch.items()})])
    unseen = MetricPart(part.seed, id=part.id, count=0)  # more points came before the retry
    store.append_points([(unseen, batch)])
    assert unseen.count == 3
    doc = db.metrics.find_one({"_id": part.id})
    assert doc["steps"] == [0, 1, 2] and doc["values"] == [0.0, 1.0, 2.0] and doc["n"] == 3


def _fail_run_updates(observer, failures: int) -> None:
    """Make the next ``failures`` run updates of ``observer`` fail (after its points landed)."""
    real_update = observer.store.update_run
    calls = {"n": 0}

    def flaky_update(run_id, fields):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise SinkUnavailable("injected")
        real_update(run_id, fields)

    observer.beat_retry = RetryPolicy(attempts=1)
    observer.store.update_run = flaky_update


@pytest.mark.parametrize("failures", [1, 3])
def test_points_stored_before_a_failure_are_not_stored_twice(make_observer, db, tmp_path, failures):
    """The points land, the run update after them fails ``failures`` times in a row."""
    observer = make_observer()
    run_id = start(observer, tmp_path)
    _fail_run_updates(observer, failures)
    beats = Beats(observer)
    for beat in range(4):
        beats.beat(points("loss", beat * 3, 3))
    assert len(beats.errors) == failures
    observer.completed_event(stop_time=now(), result=None)
    assert db.metrics.find_one({"run_id": run_id})["steps"] == list(range(12))


def test_a_queued_batch_retried_after_its_points_landed_is_stored_once(make_observer, db, tmp_path):
    """The queue delivers the same batch again and again while the run update fails."""
    observer = make_observer(QueuedMongoObserver, interval=0.01, retry_interval=0.01)
    run_id = start(observer, tmp_path)
    _fail_run_updates(observer.covered, 3)
    Beats(observer).beat(points("loss", 0, 100))
    observer.completed_event(stop_time=now(), result=None)
    observer.join()
    assert db.metrics.find_one({"run_id": run_id})["steps"] == list(range(100))


def test_upload_command_reports_errors(mongo_server, tmp_path, capsys):
    from sacredlike.observers.mongo import main

    assert main(["upload", str(tmp_path), f"{mongo_server.uri}/x"]) == 1
    assert "no saved run (run.json) found" in capsys.readouterr().err


def test_queued_writer_keeps_the_journal_on_an_unexpected_error(make_observer, tmp_path, caplog):
    observer = make_observer(QueuedMongoObserver, final_timeout=1.0)
    start(observer, tmp_path)

    def broken(run_id, fields):
        raise RuntimeError("bug in a store")

    observer.store.update_run = broken
    with caplog.at_level(logging.WARNING, logger="sacredlike"):
        Beats(observer).beat(points("loss", 0, 3))
        observer.completed_event(stop_time=now(), result=None)
        observer.join()
    assert "delivering run events failed (bug in a store)" in caplog.text
    assert observer.kept_journal is not None and "sacredlike sync" in caplog.text

"""A run's documents field by field, for every way a run ends (real server)."""

from __future__ import annotations

import math

import pytest
from bson import ObjectId

from sacredlike.errors import SinkRejected
from sacredlike.observers.mongo import MongoObserver, QueuedMongoObserver

from .helpers import Beats, now, points, start

pytestmark = pytest.mark.service


@pytest.fixture(params=[MongoObserver, QueuedMongoObserver], ids=["direct", "queued"])
def observer_class(request):
    return request.param


def test_completed_run_document(make_observer, observer_class, db, tmp_path):
    observer = make_observer(observer_class)
    started = now()
    run_id = start(observer, tmp_path, start_time=started, config={"lr": 0.1, "seed": 7})
    assert run_id == 1
    doc = db.runs.find_one({"_id": 1})
    assert doc["status"] == "RUNNING"
    assert doc["format"] == "MongoObserver-0.7.0"
    assert doc["captured_out"] == "" and doc["info"] == {} and doc["heartbeat"] is None

    resource = tmp_path / "data.csv"
    resource.write_text("a,b\n")
    artifact = tmp_path / "model.json"
    artifact.write_text("{}")
    beats = Beats(observer)
    beats.beat(points("loss", 0, 3), out="epoch 1\n", info={"note": "x"}, result=None)
    observer.resource_event(filename=str(resource))
    observer.artifact_event(
        name="model.json",
        filename=str(artifact),
        metadata={"epoch": 3},
        content_type="application/json",  # the run guesses it from the name when not given
    )
    beats.beat(points("loss", 3, 2), out="epoch 1\nepoch 2\n", info={"note": "y"})
    stopped = now()
    observer.completed_event(stop_time=stopped, result={"acc": 0.9})
    observer.join()
    assert beats.errors == []

    doc = db.runs.find_one({"_id": run_id})
    assert doc["status"] == "COMPLETED"
    assert doc["command"] == "main"
    assert doc["host"] == {"hostname": "box", "cpu": "x"}
    assert doc["config"] == {"lr": 0.1, "seed": 7}
    assert doc["meta"] == {"comment": "c"}
    assert abs((doc["start_time"] - started).total_seconds()) < 0.01
    assert abs((doc["stop_time"] - stopped).total_seconds()) < 0.01
    assert doc["heartbeat"] >= doc["start_time"]
    assert doc["result"] == {"acc": 0.9}
    assert doc["captured_out"] == "epoch 1\nepoch 2\n"
    assert doc["experiment"]["name"] == "demo"
    [[source_name, source_id]] = doc["experiment"]["sources"]
    assert source_name == "exp.py" and isinstance(source_id, ObjectId)
    assert db["fs.files"].find_one({"_id": source_id})["filename"] == str(tmp_path / "exp.py")
    assert doc["resources"][0][0] == str(resource) and len(doc["resources"][0][1]) == 32
    [entry] = doc["artifacts"]
    assert entry["name"] == "model.json" and isinstance(entry["file_id"], ObjectId)
    stored = db["fs.files"].find_one({"_id": entry["file_id"]})
    assert stored["filename"] == f"artifact://runs/{run_id}/model.json"
    assert stored["contentType"] == "application/json"
    assert stored["metadata"] == {"epoch": 3}
    assert doc["info"]["note"] == "y"
    [ref] = doc["info"]["metrics"]
    metric = db.metrics.find_one({"_id": ObjectId(ref["id"])})
    assert ref["name"] == "loss" == metric["name"]
    assert metric["run_id"] == run_id
    assert metric["steps"] == [0, 1, 2, 3, 4]
    assert metric["values"] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert len(metric["timestamps"]) == 5
    assert "fail_trace" not in doc


def test_failed_run(make_observer, observer_class, db, tmp_path):
    observer = make_observer(observer_class)
    run_id = start(observer, tmp_path)
    Beats(observer).beat(points("acc", 0, 2), out="working\n")
    trace = ["Traceback (most recent call last):\n", "ValueError: boom\n"]
    observer.failed_event(fail_time=now(), fail_trace=trace)
    observer.join()
    doc = db.runs.find_one({"_id": run_id})
    assert doc["status"] == "FAILED"
    assert doc["fail_trace"] == trace
    assert doc["stop_time"] is not None
    assert doc["captured_out"] == "working\n"
    assert db.metrics.count_documents({"run_id": run_id}) == 1


@pytest.mark.parametrize("status", ["INTERRUPTED", "TIMEOUT"])
def test_interrupted_run(make_observer, observer_class, db, tmp_path, status):
    observer = make_observer(observer_class)
    run_id = start(observer, tmp_path)
    observer.interrupted_event(interrupt_time=now(), status=status)
    observer.join()
    doc = db.runs.find_one({"_id": run_id})
    assert doc["status"] == status and doc["stop_time"] is not None


def test_queued_run_then_overwritten_by_its_start(make_observer, db, tmp_path):
    queued = make_observer()
    run_id = queued.queued_event(
        ex_info={"name": "q", "base_dir": str(tmp_path), "sources": []},
        command="main",
        host_info={},
        queue_time=now(),
        config={"a": 1},
        meta_info={},
        _id=None,
    )
    doc = db.runs.find_one({"_id": run_id})
    assert doc["status"] == "QUEUED" and doc["queue_time"] is not None
    assert "start_time" not in doc

    db.runs.update_one({"_id": run_id}, {"$set": {"omniboard.tags": ["keep"]}})
    runner = make_observer(overwrite=run_id)
    assert start(runner, tmp_path, config={"a": 2}) == run_id
    runner.completed_event(stop_time=now(), result=1)
    doc = db.runs.find_one({"_id": run_id})
    assert doc["status"] == "COMPLETED" and doc["config"] == {"a": 2}
    assert doc["omniboard"] == {"tags": ["keep"]}
    assert db.runs.count_documents({}) == 1


def test_dashboard_fields_survive_and_only_changes_are_set(mongo_server, db_name, db, tmp_path):
    from pymongo import monitoring

    class Updates(monitoring.CommandListener):
        def __init__(self):
            self.sets = []

        def started(self, event):
            if event.command_name == "update" and event.command.get("update") == "runs":
                self.sets.extend(u["u"].get("$set") for u in event.command["updates"])

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    listener = Updates()
    observer = MongoObserver(mongo_server.uri, db_name=db_name, event_listeners=[listener])
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    beats.beat(out="a\n", info={"k": 1})
    db.runs.update_one({"_id": run_id}, {"$set": {"omniboard.notes": "mine"}})
    listener.sets.clear()
    beats.beat(out="a\n", info={"k": 1})
    assert [set(s) for s in listener.sets] == [{"heartbeat"}]
    listener.sets.clear()
    beats.beat(out="a\nb\n", info={"k": 1})
    assert [set(s) for s in listener.sets] == [{"heartbeat", "captured_out"}]
    observer.completed_event(stop_time=now(), result=None)
    doc = db.runs.find_one({"_id": run_id})
    assert doc["omniboard"] == {"notes": "mine"}
    assert doc["status"] == "COMPLETED"
    observer.store.close()


def test_preset_id_and_taken_id(make_observer, db, tmp_path):
    from sacredlike.errors import SinkRejected

    assert start(make_observer(), tmp_path, _id=41) == 41
    with pytest.raises(SinkRejected, match="41 already exists"):
        start(make_observer(), tmp_path, _id=41)
    assert start(make_observer(), tmp_path) == 42


def test_values_round_trip(make_observer, db, tmp_path):
    observer = make_observer()
    run_id = start(observer, tmp_path, config={"big": 2**63 - 1, "nan": math.nan})
    observer.log_metrics(
        metrics_by_name={
            "x": {
                "name": "x",
                "steps": [0, 1, 2],
                "values": [math.nan, math.inf, -math.inf],
                "timestamps": [now()] * 3,
            }
        },
        info={},
    )
    observer.completed_event(stop_time=now(), result=2**62)
    doc = db.runs.find_one({"_id": run_id})
    assert doc["config"]["big"] == 2**63 - 1 and math.isnan(doc["config"]["nan"])
    assert doc["result"] == 2**62
    values = db.metrics.find_one({"run_id": run_id})["values"]
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]


def test_create_from_and_ready_client(client, db, tmp_path):
    import gridfs

    observer = MongoObserver.create_from(
        db["my_runs"], gridfs.GridFS(db), metrics_collection=db["my_metrics"], priority=5
    )
    assert observer.priority == 5
    assert observer.upload_hint.endswith(f"/{db.name}")
    assert "SERVER" not in observer.upload_hint
    run_id = start(observer, tmp_path)
    observer.log_metrics(metrics_by_name=points("m", 0, 2), info={})
    observer.completed_event(stop_time=now(), result=None)
    assert db["my_runs"].find_one({"_id": run_id})["status"] == "COMPLETED"
    assert db["my_metrics"].find_one({"run_id": run_id})["steps"] == [0, 1]

    with_client = MongoObserver(client=client, db_name=db.name, collection_prefix="c")
    other = start(with_client, tmp_path)
    with_client.completed_event(stop_time=now(), result=None)
    assert db["c_runs"].find_one({"_id": other})["status"] == "COMPLETED"


def test_sacred_keyword_arguments(mongo_server, db, tmp_path):
    with pytest.warns(DeprecationWarning, match="collection_prefix"):
        old_style = MongoObserver(mongo_server.uri, db_name=db.name, collection="my_runs")
    run_id = start(old_style, tmp_path)
    old_style.log_metrics(metrics_by_name=points("m", 0, 1), info={})
    assert db["my_runs"].find_one({"_id": run_id}) is not None
    assert db["metrics"].count_documents({"run_id": run_id}) == 1
    with pytest.raises(ValueError, match="not both"), pytest.warns(DeprecationWarning):
        MongoObserver(mongo_server.uri, collection="x", collection_prefix="y")

    with pytest.warns(DeprecationWarning, match=r"QueuedMongoObserver.create\(...\) is deprecated"):
        queued = QueuedMongoObserver.create(
            mongo_server.uri, db_name=db.name, interval=3.0, retry_interval=0.1
        )
    assert isinstance(queued, QueuedMongoObserver)
    assert queued.interval == 3.0 and queued.retry.max_delay == 0.1
    assert queued.priority == 30
    for observer in (old_style, queued):
        observer.store.close()


def test_overwrite_of_a_run_the_store_lacks_is_refused_at_once(make_observer):
    with pytest.raises(SinkRejected, match="holds no run 999 to overwrite"):
        make_observer(overwrite=999)


def test_overwrite_happens_once_and_never_for_a_queued_run(make_observer, db, tmp_path):
    first = start(make_observer(), tmp_path)
    runner = make_observer(overwrite=first)
    assert start(runner, tmp_path, config={"a": 2}) == first
    runner.completed_event(stop_time=now(), result=1)
    with pytest.raises(SinkRejected, match="already overwrote run"):
        start(runner, tmp_path, config={"a": 3})
    with pytest.raises(SinkRejected, match="queued run cannot overwrite"):
        runner.queued_event(
            ex_info={"name": "q", "base_dir": str(tmp_path), "sources": []},
            command="main",
            host_info={},
            queue_time=now(),
            config={},
            meta_info={},
            _id=None,
        )
    assert db.runs.count_documents({}) == 1
    assert db.runs.find_one({"_id": first})["config"] == {"a": 2}

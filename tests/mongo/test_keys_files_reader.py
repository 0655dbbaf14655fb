"""Key rule, GridFS dedup and reading runs back (real server)."""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np
import pytest

from sacredlike.errors import RunNotFound
from sacredlike.observers.base import RunQuery
from sacredlike.observers.mongo import MongoReader, escape_key, unescape_key
from sacredlike.registry import open_store

from .helpers import Beats, ex_info, now, points, start

pytestmark = pytest.mark.service


class Opaque:
    def __init__(self):
        self.payload = [1, 2]


@pytest.mark.parametrize(
    ("key", "escaped"),
    [
        ("a.b", "a%2Eb"),
        ("$where", "%24where"),
        ("mid$dle", "mid$dle"),
        ("50%", "50%25"),
        ("a%2Eb", "a%252Eb"),
        ("nul\x00", "nul%00"),
        ("plain", "plain"),
    ],
)
def test_key_rule_is_reversible(key, escaped):
    assert escape_key(key) == escaped
    assert unescape_key(escaped) == key


def test_awkward_config_and_info_are_stored_and_read_back(make_observer, db, reader, tmp_path):
    observer = make_observer()
    config = {
        "a.b": 1,
        "$set": {"x.y": 2},
        "arr": np.arange(3),
        "tags": {"b", "a"},
        "obj": Opaque(),
        "i64": np.int64(2**63 - 1),
        "f": np.float32(0.5),
        "huge": 2**70,
        "nan": float("nan"),
        "inf": float("inf"),
    }
    run_id = start(observer, tmp_path, config=config)
    Beats(observer).beat(info={"dotted.key": {"$op": np.ones(2)}})
    observer.completed_event(stop_time=now(), result=np.float64(1.5))

    raw = db.runs.find_one({"_id": run_id})
    assert raw["config"]["a%2Eb"] == 1 and raw["config"]["%24set"] == {"x%2Ey": 2}
    run = reader.get_run(run_id)
    assert run.config["a.b"] == 1 and run.config["$set"] == {"x.y": 2}
    assert run.config["arr"] == [0, 1, 2]
    assert run.config["tags"] == ["a", "b"]
    assert run.config["obj"]["py/object"].endswith("Opaque")
    assert run.config["i64"] == 2**63 - 1
    assert run.config["f"] == 0.5
    assert run.config["huge"] == str(2**70)
    assert math.isnan(run.config["nan"]) and run.config["inf"] == math.inf
    assert run.info["dotted.key"] == {"$op": [1.0, 1.0]}
    assert run.result == 1.5


def test_sources_and_resources_stored_once_per_content(make_observer, db, tmp_path):
    first = make_observer()
    start(first, tmp_path, info=ex_info(tmp_path, source_text="v1\n"))
    second = make_observer()
    start(second, tmp_path, info=ex_info(tmp_path, source_text="v1\n"))
    assert db["fs.files"].count_documents({}) == 1
    third = make_observer()
    start(third, tmp_path, info=ex_info(tmp_path, source_text="v2\n"))
    files = list(db["fs.files"].find({}, sort=[("uploadDate", 1)]))
    assert len(files) == 2
    assert {f["metadata"]["md5"] for f in files} == {
        ex_info(tmp_path, source_text=t)["sources"][0][1] for t in ("v1\n", "v2\n")
    }
    ids = [db.runs.find_one({"_id": i})["experiment"]["sources"][0][1] for i in (1, 2, 3)]
    assert ids[0] == ids[1] != ids[2]

    resource = tmp_path / "data.bin"
    resource.write_bytes(b"\x00" * 10)
    for observer in (first, second):
        observer.resource_event(filename=str(resource))
    assert db["fs.files"].count_documents({"filename": str(resource)}) == 1
    assert db.runs.find_one({"_id": 2})["resources"] == [
        [str(resource), "a63c90cc3684ad8b0a2176a6a8fe9005"]
    ]


def test_missing_source_file_is_recorded_without_content(make_observer, db, tmp_path):
    info = {"name": "x", "base_dir": str(tmp_path), "sources": [["gone.py", "0" * 32]]}
    run_id = start(make_observer(), tmp_path, info=info)
    assert db.runs.find_one({"_id": run_id})["experiment"]["sources"] == [["gone.py", None]]


def test_artifacts_read_back_and_a_vanished_file_is_skipped(make_observer, reader, tmp_path):
    observer = make_observer()
    run_id = start(observer, tmp_path)
    data = tmp_path / "weights.bin"
    data.write_bytes(bytes(range(256)) * 4000)
    observer.artifact_event(name="weights.bin", filename=str(data))
    observer.artifact_event(name="gone.txt", filename=str(tmp_path / "missing.txt"))
    observer.completed_event(stop_time=now(), result=None)
    assert reader.get_artifact(run_id, "weights.bin") == data.read_bytes()
    assert reader.get_run(run_id).artifacts == ["weights.bin"]
    with pytest.raises(FileNotFoundError, match=r"gone\.txt"):
        reader.get_artifact(run_id, "gone.txt")
    with pytest.raises(RunNotFound):
        reader.get_artifact(run_id + 1, "weights.bin")


def test_artifact_whose_stored_file_was_deleted_is_not_found(make_observer, reader, db, tmp_path):
    observer = make_observer()
    run_id = start(observer, tmp_path)
    data = tmp_path / "model.bin"
    data.write_bytes(b"weights")
    observer.artifact_event(name="model.bin", filename=str(data))
    observer.completed_event(stop_time=now(), result=None)
    file_id = db.runs.find_one({"_id": run_id})["artifacts"][0]["file_id"]
    db["fs.files"].delete_one({"_id": file_id})
    with pytest.raises(FileNotFoundError, match="the stored file is missing"):
        reader.get_artifact(run_id, "model.bin")


def _make_runs(make_observer, tmp_path):
    base = _dt.datetime(2024, 1, 1)
    specs = [
        ("train", "COMPLETED", 0, {"lr": 0.1, "net": {"depth": 2}}),
        ("train", "FAILED", 1, {"lr": 0.2, "net": {"depth": 4}}),
        ("eval", "COMPLETED", 2, {"lr": 0.1, "net": {"depth": 4}}),
    ]
    for name, status, day, config in specs:
        observer = make_observer()
        start(observer, tmp_path, name=name, config=config,
              start_time=base + _dt.timedelta(days=day))  # fmt: skip
        observer.log_metrics(metrics_by_name=points("loss", 0, 3), info={})
        if status == "FAILED":
            observer.failed_event(fail_time=now(), fail_trace=["boom\n"])
        else:
            observer.completed_event(stop_time=now(), result=day)
    return base


def test_reader_filters(make_observer, reader, tmp_path):
    base = _make_runs(make_observer, tmp_path)
    assert [r.id for r in reader.find_runs()] == [3, 2, 1]
    assert [r.id for r in reader.find_runs(RunQuery(experiment="^tr"))] == [2, 1]
    assert [r.id for r in reader.find_runs(RunQuery(status="FAILED"))] == [2]
    assert [r.id for r in reader.find_runs(RunQuery(status=["COMPLETED"]))] == [3, 1]
    after = RunQuery(started_after=base + _dt.timedelta(days=1))
    assert [r.id for r in reader.find_runs(after)] == [3, 2]
    before = RunQuery(started_before=base + _dt.timedelta(days=1))
    assert [r.id for r in reader.find_runs(before)] == [1]
    assert [r.id for r in reader.find_runs(RunQuery(config={"net.depth": 4, "lr": 0.1}))] == [3]
    assert [r.id for r in reader.find_runs(RunQuery(limit=1))] == [3]
    listed = reader.find_runs()[0]
    assert listed.captured_out is None and listed.experiment_name == "eval"
    assert reader.get_run("2").fail_trace == ["boom\n"]
    with pytest.raises(RunNotFound):
        reader.get_run(99)


def test_reader_metrics_and_frame(make_observer, reader, tmp_path):
    observer = make_observer()
    run_id = start(observer, tmp_path)
    observer.log_metrics(metrics_by_name={**points("a", 0, 2), **points("b", 0, 3)}, info={})
    observer.completed_event(stop_time=now(), result=None)
    metrics = reader.get_metrics(run_id)
    assert set(metrics) == {"a", "b"} and len(metrics["b"]) == 3
    assert set(reader.get_metrics(run_id, names=["a"])) == {"a"}
    pytest.importorskip("pandas")
    frame = reader.metrics_frame(run_id)
    assert list(frame.columns) == ["name", "step", "value", "timestamp"] and len(frame) == 5


def test_open_store_and_prefix(mongo_server, db_name, make_observer, tmp_path, client):
    observer = make_observer(collection_prefix="proj")
    run_id = start(observer, tmp_path)
    observer.log_metrics(metrics_by_name=points("a", 0, 2), info={})
    observer.completed_event(stop_time=now(), result=None)
    assert set(client[db_name].list_collection_names()) >= {"proj_runs", "proj_metrics"}
    with open_store(f"{mongo_server.uri}/{db_name}.proj") as reader:
        assert isinstance(reader, MongoReader)
        assert [r.id for r in reader.find_runs()] == [run_id]
        assert len(reader.get_metrics(run_id)["a"]) == 2

"""Run ids under concurrency (real processes) and the 16 MB document limit (real server)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import bson
import pytest
from bson import ObjectId

from sacredlike.observers.mongo import MongoObserver

from .helpers import Beats, now, points, start

pytestmark = pytest.mark.service

ROOT = Path(__file__).resolve().parents[2]

_STARTER = textwrap.dedent(
    """
    import sys, time, datetime
    from sacredlike.observers.mongo import MongoObserver
    uri, db, go = sys.argv[1], sys.argv[2], float(sys.argv[3])
    observer = MongoObserver(uri, db_name=db)
    time.sleep(max(0.0, go - time.time()))
    run_id = observer.started_event(
        ex_info={"name": "race", "base_dir": ".", "sources": []}, command="main",
        host_info={}, start_time=datetime.datetime.utcnow(), config={}, meta_info={}, _id=None)
    print(run_id)
    """
)


def test_twenty_processes_get_twenty_distinct_ids(mongo_server, db_name, db):
    go = time.time() + 3.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _STARTER, mongo_server.uri, db_name, str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    ids = sorted(int(out.strip()) for out, _ in outputs)
    assert ids == list(range(1, 21))
    assert db.runs.count_documents({}) == 20


@pytest.mark.slow
def test_a_million_points_and_fifty_megabytes_of_output(make_observer, db, reader, tmp_path):
    observer = make_observer()
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    line = "x" * 99 + "\n"
    out = ""
    for beat in range(5):
        out += line * 100_000  # 10 MB per beat
        beats.beat(points("loss", beat * 200_000, 200_000), out=out)
    observer.completed_event(stop_time=now(), result=None)
    assert beats.errors == []

    parts = list(db.metrics.find({}, {"steps": 0, "values": 0, "timestamps": 0}))
    full = MongoObserver.points_per_part
    assert sorted(p["n"] for p in parts) == [1_000_000 - 3 * full, full, full, full]
    [first] = [p for p in parts if "run_id" in p]
    [ref] = db.runs.find_one({"_id": run_id})["info"]["metrics"]
    assert ref == {"name": "loss", "id": str(first["_id"])}
    assert sorted(p["part"] for p in parts if "part_of" in p) == [1, 2, 3]
    assert all(p["part_of"] == ObjectId(ref["id"]) for p in parts if "part_of" in p)
    limit = 16 * 1024 * 1024
    assert all(len(bson.encode(doc)) < 0.95 * limit for doc in db.metrics.find())
    assert len(bson.encode(db.runs.find_one({"_id": run_id}))) < limit / 2
    series = reader.get_metrics(run_id)["loss"]
    assert series.steps == list(range(1_000_000))

    doc = db.runs.find_one({"_id": run_id})
    assert len(doc["captured_out"]) < MongoObserver.output_limit + 200
    assert doc["captured_out"].startswith("[49000000 earlier characters are in the file")
    assert doc["captured_out"].endswith(line)
    assert db["fs.files"].count_documents({"filename": f"captured_out://runs/{run_id}"}) == 1
    assert reader.get_run(run_id).captured_out == out


def test_a_full_metric_document_stays_under_the_limit_with_the_widest_values():
    """Worst case for the part size: int64 steps, a long name, dates, doubles."""
    full = MongoObserver.points_per_part
    assert full >= 300_000  # a 300k-point metric is one document: dashboards see all of it
    stamp = now()
    document = {
        "_id": ObjectId(),
        "run_id": 2**40,
        "name": "m" * 1000,
        "n": full,
        "steps": [2**62 + i for i in range(full)],
        "values": [1 / 3] * full,
        "timestamps": [stamp] * full,
    }
    size = len(bson.encode(document))
    assert 0.85 * 16 * 1024 * 1024 < size < 0.91 * 16 * 1024 * 1024


def test_a_300k_point_metric_is_one_document(make_observer, db, reader, tmp_path):
    observer = make_observer()
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    for beat in range(3):
        beats.beat(points("loss", beat * 100_000, 100_000))
    observer.completed_event(stop_time=now(), result=None)
    assert beats.errors == []
    [document] = db.metrics.find({"run_id": run_id})  # what Omniboard and Incense read
    assert document["steps"] == list(range(300_000))
    assert db.metrics.count_documents({}) == 1
    assert reader.get_metrics(run_id)["loss"].steps == list(range(300_000))


def test_small_parts_continue_in_further_documents(make_observer, db, reader, tmp_path):
    observer = make_observer()
    observer.points_per_part = 4
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    for beat in range(3):
        beats.beat({**points("acc", beat * 3, 3), **points("loss", 10 + beat * 3, 3)})
    observer.completed_event(stop_time=now(), result=None)
    first = db.metrics.find_one({"run_id": run_id, "name": "acc"})
    assert first["steps"] == [0, 1, 2, 3]
    rest = list(db.metrics.find({"part_of": first["_id"]}).sort("part", 1))
    assert [d["steps"] for d in rest] == [[4, 5, 6, 7], [8]]
    metrics = reader.get_metrics(run_id)
    assert metrics["acc"].steps == list(range(9))
    assert metrics["loss"].steps == list(range(10, 19))


def test_a_20_mb_info_goes_to_a_file_and_keeps_the_metric_references(
    make_observer, db, reader, tmp_path
):
    observer = make_observer()
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    big = {"matrix": [[row * 1000 + col for col in range(1000)] for row in range(2000)]}
    beats.beat(points("loss", 0, 10), info=big)
    beats.beat(points("loss", 10, 10), info={**big, "epoch": 2})
    observer.completed_event(stop_time=now(), result=None)
    assert beats.errors == []

    doc = db.runs.find_one({"_id": run_id})
    assert len(bson.encode(doc)) < 1024 * 1024
    note = doc["info"]
    assert note["stored_in_file"] == f"info://runs/{run_id}" and note["bytes"] > 16 * 2**20
    [first] = db.metrics.find({"run_id": run_id}, {"_id": 1})
    assert note["metrics"] == [{"name": "loss", "id": str(first["_id"])}]  # Omniboard's refs
    assert db["fs.files"].count_documents({"filename": f"info://runs/{run_id}"}) == 1
    stored = reader.get_run(run_id)
    assert stored.status == "COMPLETED"
    assert {k: v for k, v in stored.info.items() if k != "metrics"} == {**big, "epoch": 2}
    assert reader.get_metrics(run_id)["loss"].steps == list(range(20))

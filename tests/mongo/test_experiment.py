"""End to end: a real Experiment recording to a real MongoDB-protocol server."""

from __future__ import annotations

import pytest
from bson import ObjectId

from sacredlike import Experiment
from sacredlike.observers.mongo import MongoObserver, QueuedMongoObserver

pytestmark = pytest.mark.service

FAST = {"--capture": "sys", "--beat-interval": 0.02}


@pytest.fixture
def ex():
    experiment = Experiment("mongo_e2e", save_git_info=False)

    @experiment.config
    def config():
        lr = 0.01
        layers = {"n.hidden": 3}

    return experiment


@pytest.mark.parametrize("cls", [MongoObserver, QueuedMongoObserver])
def test_completed_experiment(ex, cls, make_observer, db, reader, tmp_path):
    artifact = tmp_path / "out.txt"
    artifact.write_text("result file")

    @ex.main
    def main(_run, lr):
        for step in range(250):
            _run.log_scalar("loss", lr * step)
        print("training done")
        _run.add_artifact(str(artifact), name="out.txt")
        return {"final": lr}

    ex.observers.append(make_observer(cls))
    run = ex.run(options=FAST)
    assert run._id == 1
    doc = db.runs.find_one({"_id": 1})
    assert doc["status"] == "COMPLETED"
    assert doc["result"] == {"final": 0.01}
    assert doc["config"]["layers"] == {"n%2Ehidden": 3}
    assert "training done" in doc["captured_out"]
    assert doc["experiment"]["name"] == "mongo_e2e"
    assert all(isinstance(fid, ObjectId) for _, fid in doc["experiment"]["sources"])
    assert [a["name"] for a in doc["artifacts"]] == ["out.txt"]
    stored = db["fs.files"].find_one({"_id": doc["artifacts"][0]["file_id"]})
    assert stored["contentType"] == "text/plain"
    assert reader.get_metrics(1)["loss"].steps == list(range(250))
    assert reader.get_artifact(1, "out.txt") == b"result file"
    assert reader.get_run(1).config["layers"] == {"n.hidden": 3}


def test_failed_experiment(ex, make_observer, db):
    @ex.main
    def main(_run):
        _run.log_scalar("x", 1)
        print("about to fail")
        raise RuntimeError("kaput")

    ex.observers.append(make_observer())
    with pytest.raises(RuntimeError):
        ex.run(options=FAST)
    doc = db.runs.find_one({"_id": 1})
    assert doc["status"] == "FAILED"
    assert "RuntimeError: kaput" in doc["fail_trace"][-1]
    assert "about to fail" in doc["captured_out"]
    assert db.metrics.find_one({"run_id": 1})["values"] == [1]


def test_mongo_flag_on_the_command_line(ex, mongo_server, db_name, client):
    @ex.main
    def main(_run):
        _run.log_scalar("acc", 0.5)

    host_port = mongo_server.uri.split("://", 1)[1]
    run = ex.run_commandline(["prog", "-m", f"{host_port}:{db_name}.proj!55", "-C", "sys"])
    assert run.status == "COMPLETED"
    doc = client[db_name]["proj"].find_one({"_id": run._id})  # Sacred: .NAME is the collection
    assert doc["status"] == "COMPLETED"
    assert [o.priority for o in run.observers if isinstance(o, MongoObserver)] == [55]
    assert client[db_name]["metrics"].count_documents({"run_id": run._id}) == 1


def test_queue_only_run(ex, make_observer, db):
    ex.main(lambda: None)
    ex.observers.append(make_observer())
    ex.run(options={"--queue": True})
    doc = db.runs.find_one({"_id": 1})
    assert doc["status"] == "QUEUED" and doc["queue_time"] is not None


@pytest.mark.slow
def test_many_points_end_to_end(ex, make_observer, db, reader):
    @ex.main
    def main(_run):
        for step in range(250_000):
            _run.log_scalar("loss", step * 0.5)

    ex.observers.append(make_observer(QueuedMongoObserver))
    run = ex.run(options={**FAST, "--beat-interval": 0.5})
    assert db.runs.find_one({"_id": run._id})["status"] == "COMPLETED"
    parts = list(db.metrics.find({}, {"n": 1, "run_id": 1, "part": 1}))
    assert [p["n"] for p in parts] == [250_000]  # one document: dashboards read all of it
    series = reader.get_metrics(run._id)["loss"]
    assert series.steps == list(range(250_000))
    assert series.values[-1] == 249_999 * 0.5

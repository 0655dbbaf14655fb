"""End to end: a real Experiment recording into each database through SqlObserver."""

from __future__ import annotations

import pytest

from sacredlike import Experiment
from sacredlike.errors import SacredInterrupt
from sacredlike.observers.sql import SqlObserver

POINTS = 2_000


def _experiment(artifact_path):
    ex = Experiment("e2e_sql")

    @ex.config
    def cfg():
        lr = 0.1
        fail = False

    @ex.main
    def main(_run, lr, fail):
        print("hello from main")
        for step in range(POINTS):
            _run.log_scalar("loss", 1.0 / (step + 1))
        _run.add_artifact(str(artifact_path), name="weights.bin")
        if fail:
            raise RuntimeError("diverged")
        return {"best": lr}

    return ex


def test_completed_experiment(db, reader, tmp_path):
    artifact = tmp_path / "weights.bin"
    artifact.write_bytes(b"\x00\x01" * 1000)
    ex = _experiment(artifact)
    observer = SqlObserver(db.url)
    ex.observers.append(observer)
    run = ex.run(options={"--beat-interval": 0.01, "--capture": "sys"})

    assert run._id == 1 and type(run._id) is int
    stored = reader.get_run(1)
    assert stored.status == "COMPLETED" and stored.experiment_name == "e2e_sql"
    assert stored.result == {"best": 0.1}
    assert stored.config["lr"] == 0.1 and stored.config["fail"] is False
    assert "hello from main" in stored.captured_out
    assert stored.artifacts == ["weights.bin"]
    assert reader.get_artifact(1, "weights.bin") == artifact.read_bytes()
    loss = reader.get_metrics(1)["loss"]
    assert loss.steps == list(range(POINTS))
    assert loss.values == [1.0 / (step + 1) for step in range(POINTS)]
    observer.engine.dispose()


def test_failed_experiment_through_the_sql_flag(db, reader, tmp_path):
    artifact = tmp_path / "weights.bin"
    artifact.write_bytes(b"w")
    ex = _experiment(artifact)
    with pytest.raises(RuntimeError, match="diverged"):
        ex.run(config_updates={"fail": True}, options={"--sql": db.url, "--capture": "sys"})

    (stored,) = reader.find_runs()
    assert stored.status == "FAILED" and stored.id == 1
    assert "RuntimeError: diverged" in "".join(stored.fail_trace)
    assert len(reader.get_metrics(1)["loss"]) == POINTS
    assert "hello from main" in reader.get_run(1).captured_out


def test_queued_experiment(db, reader, tmp_path):
    ex = _experiment(tmp_path / "unused.bin")
    run = ex.run(options={"--sql": db.url, "--queue": True, "--priority": 3})
    assert run._id == 1
    stored = reader.get_run(1)
    assert stored.status == "QUEUED" and stored.start_time is None
    assert stored.queue_time is not None and stored.meta["priority"] == 3
    assert db.select("run", run_id="1")[0]["priority"] == 3.0


def test_interrupted_experiment_keeps_its_status(db, reader):
    ex = Experiment("e2e_interrupt")

    class Preempted(SacredInterrupt):
        STATUS = "PREEMPTED"

    @ex.main
    def main(_run):
        _run.log_scalar("loss", 1.0)
        print("about to stop")
        raise Preempted()

    with pytest.raises(Preempted):
        ex.run(options={"--sql": db.url, "--capture": "sys"})
    stored = reader.get_run(1)
    assert stored.status == "PREEMPTED" and stored.stop_time is not None
    assert "about to stop" in stored.captured_out
    assert reader.get_metrics(1)["loss"].values == [1.0]

"""End to end: a real Experiment recording into each database through SqlObserver."""

from __future__ import annotations

import pytest

from sacredlike import Experiment
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

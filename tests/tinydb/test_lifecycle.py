"""A run's life through a real Experiment, checked in metadata.json and through the reader."""

from __future__ import annotations

import json

import pytest

from sacredlike.observers import TinyDbObserver, TinyDbReader
from sacredlike.observers.document.tinydb_codec import DATE_TAG, FILE_TAG

from .conftest import make_experiment

FAST = {"--beat-interval": "0.05"}


def _raw_runs(store):
    return json.loads((store / "metadata.json").read_text())["runs"]


def test_completed_run_in_sacreds_layout_with_metrics(store, tmp_path):
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights" * 1000)
    ex = make_experiment()
    ex.observers.append(TinyDbObserver(store))
    run = ex.run(config_updates={"artifact": str(artifact)}, options=FAST)

    assert run._id == 1 and type(run._id) is int
    (raw,) = _raw_runs(store).values()
    assert raw["_id"] == 1 and raw["status"] == "COMPLETED" and raw["result"] == 1.0
    assert raw["format"].startswith("TinyDbObserver-sacredlike")
    assert raw["start_time"].startswith(DATE_TAG) and raw["stop_time"].startswith(DATE_TAG)
    sources = {name: (file_id, ref) for name, file_id, ref in raw["experiment"]["sources"]}
    file_id, ref = sources["conftest.py"]
    assert ref == FILE_TAG + json.dumps(file_id)
    (entry,) = raw["artifacts"]
    assert entry[0] == "model.bin" and entry[3] == FILE_TAG + json.dumps(entry[2])
    stored = store / "hashfs" / entry[2][:2] / entry[2][2:4] / entry[2][4:6] / entry[2][6:]
    assert stored.read_bytes() == artifact.read_bytes()

    with TinyDbReader(store) as reader:
        stored_run = reader.get_run(1)
        assert stored_run.config["lr"] == 0.1 and "training 0.1" in stored_run.captured_out
        loss = reader.get_metrics(1)["loss"]
        assert loss.steps == [0, 1, 2, 3, 4] and loss.values[1] == 0.5
        assert loss.timestamps[0] <= stored_run.stop_time
        assert reader.get_artifact(1, "model.bin") == artifact.read_bytes()


def test_failed_run(store):
    ex = make_experiment(outcome="fail")
    ex.observers.append(TinyDbObserver(store))
    with pytest.raises(ValueError, match="diverged"):
        ex.run(options=FAST)
    with TinyDbReader(store) as reader:
        (run,) = reader.find_runs()
        assert run.status == "FAILED" and "ValueError: diverged" in "".join(run.fail_trace)
        assert len(reader.get_metrics(run.id)["loss"]) == 5
        assert "training" in reader.get_run(run.id).captured_out


def test_interrupted_run(store):
    ex = make_experiment(outcome="interrupt")
    ex.observers.append(TinyDbObserver(store))
    with pytest.raises(KeyboardInterrupt):
        ex.run(options=FAST)
    with TinyDbReader(store) as reader:
        (run,) = reader.find_runs()
        assert run.status == "INTERRUPTED" and run.stop_time is not None


def test_queued_run_is_stored(store):
    ex = make_experiment()
    ex.observers.append(TinyDbObserver(store))
    run = ex.run(options={**FAST, "--queue": True})
    assert run._id == 1
    with TinyDbReader(store) as reader:
        stored = reader.get_run(1)
        assert stored.status == "QUEUED" and stored.queue_time is not None
        assert stored.start_time is None


def test_reused_observer_keeps_runs_apart(store):
    ex = make_experiment()
    observer = TinyDbObserver(store)
    ex.observers.append(observer)
    ids = [ex.run(config_updates={"lr": lr}, options=FAST)._id for lr in (0.1, 0.2, 0.3)]
    assert ids == [1, 2, 3]
    with TinyDbReader(store) as reader:
        for run_id, lr in zip(ids, (0.1, 0.2, 0.3), strict=True):
            run = reader.get_run(run_id)
            assert run.config["lr"] == lr and run.result == pytest.approx(lr * 10)
            assert run.status == "COMPLETED"
            assert reader.get_metrics(run_id)["loss"].steps == [0, 1, 2, 3, 4]
            assert run.captured_out.count("training") == 1


def test_flag_adds_the_observer_and_store_is_opened_by_url(store):
    ex = make_experiment()
    run = ex.run_commandline(["prog", "-t", str(store), "-b", "0.05"])
    assert run.status == "COMPLETED"
    assert any(type(o).__name__ == "TinyDbObserver" for o in run.observers)
    from sacredlike import open_store

    with open_store(f"tinydb://{store}") as reader:
        assert [r.id for r in reader.find_runs()] == [run._id]


def test_metadata_is_written_at_most_every_write_interval(store, monkeypatch):
    observer = TinyDbObserver(store, write_interval=3600)
    writes = []
    real_write = observer.store.file.write
    monkeypatch.setattr(observer.store.file, "write", lambda t: writes.append(1) or real_write(t))
    ex = make_experiment()
    ex.observers.append(observer)
    ex.run(options={"--beat-interval": "0.01"})
    # the start, the first lease (a run killed later is then reported DEAD) and the end,
    # however many beats came between: the lease of beats 10 ms apart lasts over 10 s
    assert len(writes) == 3
    with TinyDbReader(store) as reader:
        assert len(reader.get_metrics(1)["loss"]) == 5


def test_a_replaced_file_that_cannot_be_reopened_counts_as_written(store, monkeypatch):
    import datetime as dt
    import os

    from sacredlike.observers.document import tinydb_file
    from sacredlike.observers.document.store import MetricPart
    from sacredlike.observers.document.tinydb_store import TinyDbDocumentStore

    writer = TinyDbDocumentStore(store, write_interval=3600)
    run_id = writer.insert_run({"status": "RUNNING"})
    part = MetricPart({"run_id": run_id, "name": "loss"})
    stamps = [dt.datetime(2024, 1, 1)] * 2
    writer.append_points([(part, {"steps": [0, 1], "values": [0.0, 1.0], "timestamps": stamps})])

    replaced = []
    real_hold = writer.file._hold

    def reopen_fails(tables, held):
        if not replaced:
            return real_hold(tables, held)
        held.close()
        raise OSError("too many open files (test)")

    monkeypatch.setattr(writer.file, "_hold", reopen_fails)
    monkeypatch.setattr(tinydb_file.os, "replace", lambda *a: replaced.append(os.rename(*a)))
    writer.sync()  # metadata.json was replaced: the points are stored, not pending
    monkeypatch.undo()
    writer.update_run(run_id, {"stop_time": stamps[0]})
    [metric] = json.loads((store / "metadata.json").read_text())["metrics"].values()
    assert metric["steps"] == [0, 1]

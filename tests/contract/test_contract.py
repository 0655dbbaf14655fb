"""The observer contract, the same on every sink: record through a real Experiment and the
dispatcher, read back through ``open_store``, compare with what the run did.
"""

from __future__ import annotations

import logging
import math
import shutil

import pytest

from sacredlike import Experiment, open_store
from sacredlike.errors import SacredInterrupt
from sacredlike.observers import RunObserver, RunQuery

pytestmark = pytest.mark.service

OPTIONS = {"--capture": "sys", "--beat-interval": 0.05}


class Paused(SacredInterrupt):
    """A user-defined interrupt with its own status."""

    STATUS = "PAUSED"


def experiment(observer, main, name="contract"):
    """An experiment recording to ``observer`` whose main is ``main`` (gets ``_run``)."""
    ex = Experiment(name)
    ex.add_config(lr=0.1, tag="a")
    ex.observers.append(observer)
    ex.main(main)
    return ex


def read(target, run_id):
    """The stored run and its metrics, read back through ``open_store``."""
    with open_store(target.url) as store:
        return store.get_run(run_id), store.get_metrics(run_id)


def test_completed_run(target):
    def main(_run, lr):
        print("hello")
        _run.log_scalar("loss", 0.5)
        _run.info["answer"] = 42
        return {"score": lr * 10}

    run = experiment(target.observer(), main).run(options=OPTIONS)
    stored, metrics = read(target, run._id)
    assert isinstance(run._id, int) and stored.id == run._id
    assert stored.status == "COMPLETED"
    assert stored.result == {"score": 1.0}
    assert stored.config["lr"] == 0.1 and stored.config["tag"] == "a"
    assert stored.info["answer"] == 42
    assert "hello" in stored.captured_out
    assert stored.start_time and stored.stop_time and stored.heartbeat
    assert metrics["loss"].values == [0.5]


@pytest.mark.parametrize(
    ("raised", "status"),
    [(RuntimeError("boom"), "FAILED"), (KeyboardInterrupt(), "INTERRUPTED"), (Paused(), "PAUSED")],
)
def test_failed_and_interrupted_runs_keep_their_output(target, raised, status):
    def main(_run):
        print("before the end")
        _run.log_scalar("loss", 1.0)
        raise raised

    with pytest.raises(type(raised)):
        experiment(target.observer(), main).run(options=OPTIONS)
    [listed] = open_store(target.url).find_runs()
    stored, metrics = read(target, listed.id)
    assert stored.status == status
    assert "before the end" in stored.captured_out
    assert metrics["loss"].values == [1.0]
    if status == "FAILED":
        assert isinstance(stored.fail_trace, list) and "boom" in "".join(stored.fail_trace)
    else:
        assert not stored.fail_trace


def test_queued_run(target):
    ex = experiment(target.observer(), lambda: None)
    run = ex.run(options={**OPTIONS, "--queue": True})
    stored, _ = read(target, run._id)
    assert stored.status == "QUEUED" and stored.queue_time is not None
    assert stored.config["lr"] == 0.1


def test_every_metric_point_is_stored(target):
    def main(_run):
        for step in range(100_000):
            _run.log_scalar("loss", step / 7)
        for value in (math.nan, math.inf, -math.inf, 0.0):
            _run.log_scalar("odd", value)
        _run.log_scalar("acc", 0.9, 3)

    run = experiment(target.observer(), main).run(options=OPTIONS)
    _, metrics = read(target, run._id)
    assert metrics["loss"].steps == list(range(100_000))
    assert metrics["loss"].values == [step / 7 for step in range(100_000)]
    odd = metrics["odd"].values
    assert math.isnan(odd[0]) and odd[1:] == [math.inf, -math.inf, 0.0]
    assert metrics["acc"].steps == [3] and metrics["acc"].values == [0.9]
    assert len(metrics["loss"].timestamps) == 100_000


def test_artifacts_resources_and_sources_keep_their_bytes(target, tmp_path):
    source = tmp_path / "helper_source.py"
    source.write_text("VALUE = 1\n")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(bytes(range(256)) * 1000)
    resource = tmp_path / "data.csv"
    resource.write_text("a,b\n1,2\n")

    def main(_run):
        _run.add_artifact(str(artifact))
        _run.add_artifact(str(artifact), name="copy/model.bin")
        _run.add_resource(str(resource))

    ex = experiment(target.observer(), main)
    ex.add_source_file(str(source))
    run = ex.run(options=OPTIONS)
    with open_store(target.url) as store:
        stored = store.get_run(run._id)
        assert sorted(stored.artifacts) == ["copy/model.bin", "model.bin"]
        assert store.get_artifact(run._id, "model.bin") == artifact.read_bytes()
        assert store.get_artifact(run._id, "copy/model.bin") == artifact.read_bytes()
        with pytest.raises(FileNotFoundError):
            store.get_artifact(run._id, "missing.bin")
    names = [name for name, _ in stored.experiment["sources"]]
    assert any(name.endswith("helper_source.py") for name in names)


def test_one_observer_reused_for_three_runs_with_a_failure_between(target):
    observer = target.observer()
    ids = []

    def main(_run, lr):
        ids.append(_run._id)
        for step in range(50):
            _run.log_scalar("loss", lr + step)
        print(f"run with lr={lr}")
        if lr == 2:
            raise ValueError("second run fails")
        return lr

    ex = experiment(observer, main)
    for lr in (1, 2, 3):
        try:
            ex.run(config_updates={"lr": lr}, options=OPTIONS)
        except ValueError:
            assert lr == 2
    assert len(set(ids)) == 3
    for lr, run_id in zip((1, 2, 3), ids, strict=True):
        stored, metrics = read(target, run_id)
        assert stored.config["lr"] == lr
        assert stored.status == ("FAILED" if lr == 2 else "COMPLETED")
        assert metrics["loss"].values == [float(lr + step) for step in range(50)]
        assert f"run with lr={lr}" in stored.captured_out
        assert "lr=" + str(lr % 3 + 1) not in stored.captured_out
        if lr == 3:
            assert not stored.fail_trace and stored.result == 3


@pytest.mark.parametrize("name", ["metrics.jsonl", "run.json", "cout.txt", "metrics.json"])
def test_reserved_artifact_names_are_refused_and_nothing_is_lost(target, tmp_path, name):
    artifact = tmp_path / "x.txt"
    artifact.write_text("x")

    def main(_run):
        _run.log_scalar("loss", 1.0)
        _run.add_artifact(str(artifact), name=name)

    with pytest.raises(ValueError, match="reserved"):
        experiment(target.observer(), main).run(options=OPTIONS)
    [listed] = open_store(target.url).find_runs()
    stored, metrics = read(target, listed.id)
    assert stored.status == "FAILED" and metrics["loss"].values == [1.0]


class _SourceRemover(RunObserver):
    """Called first: deletes a source file after the run gathered it, before it is stored."""

    priority = 1000

    def __init__(self, path):
        self.path = path

    def started_event(self, **kwargs):
        self.path.unlink()


def test_a_vanished_source_is_recorded_without_content(target, tmp_path, caplog):
    source = tmp_path / "gone_source.py"
    source.write_text("X = 1\n")
    ex = experiment(target.observer(), lambda: 5)
    ex.observers.append(_SourceRemover(source))
    ex.add_source_file(str(source))
    with caplog.at_level(logging.WARNING):
        run = ex.run(options=OPTIONS)
    stored, _ = read(target, run._id)
    assert stored.status == "COMPLETED" and stored.result == 5
    assert "gone_source.py is missing; recorded without content" in caplog.text


def test_run_ids_are_ints_from_every_reader(target):
    run = experiment(target.observer(), lambda: None).run(options=OPTIONS)
    with open_store(target.url) as store:
        assert store.get_run(str(run._id)).id == run._id
        assert [r.id for r in store.find_runs(RunQuery(status="COMPLETED"))] == [run._id]


def _outage(observer):
    """Make every write of ``observer`` after its start fail as if the store were down."""
    from sacredlike.errors import SinkUnavailable

    def down(*args, **kwargs):
        raise SinkUnavailable("store is down (test)")

    for event in ("heartbeat_event", "log_metrics", "artifact_event", "completed_event"):
        setattr(observer, event, down)


def test_queue_journal_synced_twice_stores_every_point_once(target, tmp_path):
    from sacredlike.observers.queue import QueueObserver, sync_journal

    covered = target.observer()
    queue = QueueObserver(covered, interval=0.01, retry_interval=0.05, final_timeout=0.5)
    artifact = tmp_path / "weights.bin"
    artifact.write_bytes(b"w" * 5000)

    def main(_run):
        for step in range(300):
            _run.log_scalar("loss", step / 3)
        print("first half")
        _outage(covered)  # the store goes away until after the run
        for step in range(300, 2000):
            _run.log_scalar("loss", step / 3)
        _run.add_artifact(str(artifact))
        print("second half")
        return "done"

    run = experiment(queue, main).run(options=OPTIONS)
    journal = queue.kept_journal
    assert journal is not None and run.status == "COMPLETED"
    stored, _ = read(target, run._id)
    assert stored.status == "RUNNING"  # the end never reached the store
    spare = tmp_path / "journal-copy"
    shutil.copytree(journal, spare)
    assert sync_journal(journal, target.url) == run._id
    assert not journal.exists()
    assert sync_journal(spare, target.url) == run._id  # the same events delivered again
    stored, metrics = read(target, run._id)
    assert stored.status == "COMPLETED" and stored.result == "done"
    assert metrics["loss"].values == [step / 3 for step in range(2000)]
    assert stored.captured_out.count("first half") == 1
    assert stored.captured_out.count("second half") == 1
    with open_store(target.url) as store:
        assert store.get_artifact(run._id, "weights.bin") == b"w" * 5000


def test_queue_observer_delivers_everything_when_the_store_is_up(target):
    from sacredlike.observers.queue import QueueObserver

    queue = QueueObserver(target.observer(), interval=0.05)

    def main(_run):
        for step in range(1000):
            _run.log_scalar("loss", float(step))
        return 1

    ex = experiment(queue, main)
    first = ex.run(options=OPTIONS)
    second = ex.run(options=OPTIONS)
    assert queue.kept_journal is None
    for run in (first, second):
        stored, metrics = read(target, run._id)
        assert stored.status == "COMPLETED"
        assert metrics["loss"].values == [float(step) for step in range(1000)]


def _abandoned_run(observer, lease_until):
    """A run that started, beat once with ``lease_until`` and then vanished (no end event)."""
    import datetime as dt

    start = dt.datetime(2024, 5, 1, 12, 0, 0)
    beat = start + dt.timedelta(seconds=3)
    run_id = observer.started_event(
        ex_info={"name": "lost", "base_dir": "", "sources": [], "dependencies": []},
        command="main",
        host_info={"hostname": "h"},
        start_time=start,
        config={"seed": 1},
        meta_info={},
        _id=None,
    )
    points = {
        "loss": {"name": "loss", "steps": [0, 1], "values": [1.0, 0.5], "timestamps": [beat] * 2}
    }
    observer.log_metrics(metrics_by_name=points, info={})
    observer.heartbeat_event(
        info={}, captured_out="working\n", beat_time=beat, result=None, lease_until=lease_until
    )
    return run_id, beat


def test_a_run_past_its_lease_is_reported_dead_and_reaped_once(target):
    import datetime as dt

    from sacredlike.reap import reap

    observer = target.observer()
    lost, beat = _abandoned_run(observer, lease_until=dt.datetime(2024, 5, 1, 12, 0, 30))
    alive, _ = _abandoned_run(target.observer(), lease_until=dt.datetime(2999, 1, 1))
    with open_store(target.url) as store:
        assert store.get_run(lost).status == "DEAD"
        assert store.get_run(alive).status == "RUNNING"
        assert [r.id for r in store.find_runs(RunQuery(status="DEAD"))] == [lost]
        assert [r.id for r in store.find_runs(RunQuery(status="RUNNING"))] == [alive]
    assert [run.id for run in reap(target.url)] == [lost]
    assert reap(target.url) == []  # idempotent: the reaped run is no longer RUNNING
    stored, metrics = read(target, lost)
    assert stored.status == "DEAD" and stored.stop_time == beat
    assert metrics["loss"].values == [1.0, 0.5] and "working" in stored.captured_out
    assert read(target, alive)[0].status == "RUNNING"


def test_every_beat_stores_a_lease(target):
    seen = []

    def main(_run):
        import time

        time.sleep(0.2)
        with open_store(target.url) as store:
            seen.append(store.get_run(_run._id))

    run = experiment(target.observer(), main).run(options=OPTIONS)
    assert seen[0].lease_until is not None and seen[0].status == "RUNNING"
    assert seen[0].lease_until > seen[0].heartbeat
    assert read(target, run._id)[0].status == "COMPLETED"

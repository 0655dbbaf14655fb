"""Tests every object-store sink passes, written once: ``tests/s3`` and ``tests/gcs`` import
them and give the ``cloud`` fixture (:class:`tests.object_clouds.Cloud`) of their store.

All of them talk to a real server (moto's, fake-gcs-server) over HTTP on loopback.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from sacredlike import Experiment
from sacredlike.errors import SinkRejected, SinkUnavailable
from sacredlike.observers.folder.appends import parts_prefix
from sacredlike.observers.retry import RetryPolicy

ROOT = Path(__file__).resolve().parent.parent
T0 = _dt.datetime(2024, 1, 1)
FAST_RETRY = RetryPolicy(attempts=2, first_delay=0.05)


def at(seconds: float) -> _dt.datetime:
    """A naive UTC time ``seconds`` after T0."""
    return T0 + _dt.timedelta(seconds=seconds)


def points(name: str, steps) -> dict:
    """One batch of ``log_metrics`` points."""
    steps = list(steps)
    return {
        name: {
            "name": name,
            "steps": steps,
            "values": [s / 2 for s in steps],
            "timestamps": [at(s) for s in steps],
        }
    }


def start(observer) -> int:
    """``started_event`` with a small experiment; returns the id."""
    return observer.started_event(
        ex_info={"name": "t", "base_dir": ".", "sources": [], "dependencies": []},
        command="main", host_info={"hostname": "h"}, start_time=at(0), config={"a": 1},
        meta_info={}, _id=None,
    )  # fmt: skip


def _experiment(tmp_path: Path) -> Experiment:
    ex = Experiment("objstore")
    artifact = tmp_path / "plot.png"
    artifact.write_bytes(b"\x89PNG fake image")

    @ex.config
    def config():
        lr = 0.1

    @ex.main
    def main(_run, lr):
        for step in range(250):
            _run.log_scalar("loss", lr * step)
        print("line one")
        print("line two")
        _run.info["best"] = 3
        _run.add_artifact(str(artifact), "plots/plot.png")
        return lr * 2

    return ex


def test_a_run_through_an_experiment_is_read_back(cloud, tmp_path):
    ex = _experiment(tmp_path)
    ex.observers.append(cloud.observer())
    run = ex.run(options={"--capture": "sys"})
    with cloud.reader() as reader:
        (stored,) = reader.find_runs()
        assert (stored.id, stored.status, stored.result) == (run._id, "COMPLETED", 0.2)
        full = reader.get_run(run._id)
        assert full.captured_out == run.captured_out and "line two" in full.captured_out
        assert full.info == {"best": 3}
        loss = reader.get_metrics(run._id)["loss"]
        assert loss.steps == list(range(250))
        assert reader.get_artifact(run._id, "plots/plot.png") == b"\x89PNG fake image"
    assert cloud.content_type(f"runs/{run._id}/plots/plot.png") == "image/png"
    assert cloud.content_type(f"runs/{run._id}/run.json") == "application/json"
    assert not [key for key in cloud.objects() if ".parts/" in key], "parts merged at the end"


def test_one_observer_records_three_runs_apart(cloud, tmp_path):
    ex = _experiment(tmp_path)
    observer = cloud.observer()
    ex.observers.append(observer)
    ids = [ex.run(config_updates={"lr": lr})._id for lr in (1, 2, 3)]
    assert ids == [1, 2, 3]
    with cloud.reader() as reader:
        for run_id, lr in zip(ids, (1, 2, 3), strict=True):
            assert reader.get_run(run_id).config["lr"] == lr
            loss = reader.get_metrics(run_id)["loss"]
            assert loss.steps == list(range(250)) and loss.values[1] == lr
            assert reader.get_run(run_id).captured_out.count("line one") == 1


def test_appends_go_up_as_parts_and_the_base_doubles(cloud):
    observer = cloud.observer()
    run_id = start(observer)
    uploads = []
    original = observer.store.upload_object
    observer.store.upload_object = lambda name, path, kind: (
        uploads.append(name),
        original(name, path, kind),
    )
    output = ""
    for beat in range(64):
        output += f"beat {beat}\n"
        observer.heartbeat_event(info={}, captured_out=output, beat_time=at(beat), result=None)
    cout = f"runs/{run_id}/cout.txt"
    rewrites = uploads.count(cout)
    assert 1 <= rewrites <= 8, "64 appends rewrite the base about log2(64) times"
    parts = [key for key in cloud.objects() if key.startswith(parts_prefix(f"{run_id}/cout.txt"))]
    assert parts, "the newest appends wait as parts"
    with cloud.reader() as reader:
        assert reader.get_run(run_id).captured_out == output  # base + parts, joined
    observer.completed_event(stop_time=at(100), result=None)
    objects = cloud.objects()
    assert objects[f"{run_id}/cout.txt"] == output.encode()
    assert not [key for key in objects if ".parts/" in key]


def test_a_50_mb_artifact_is_streamed(cloud, tmp_path):
    big = tmp_path / "weights.bin"
    chunk = os.urandom(1 << 20)
    with open(big, "wb") as handle:
        for _ in range(50):
            handle.write(chunk)
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    observer = cloud.observer()
    run_id = start(observer)
    tracemalloc.start()
    observer.artifact_event(name="weights.bin", filename=str(big), content_type="x-model/bin")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    observer.completed_event(stop_time=at(1), result=None)
    assert peak < 40 << 20, f"{peak / 2**20:.0f} MB held while uploading 50 MB"
    with cloud.reader() as reader:
        assert hashlib.sha256(reader.get_artifact(run_id, "weights.bin")).hexdigest() == digest
    assert cloud.content_type(f"runs/{run_id}/weights.bin") == "x-model/bin"


_CLAIMER = """
import sys, time
sys.path.insert(0, {root!r})
from tests.object_store_cases import start
from tests.object_clouds import Cloud
cloud = Cloud({scheme!r}, None, {{}}, {bucket!r})
observer = cloud.observer("race")
time.sleep(max(0.0, {go} - time.time()))
run_id = start(observer)
observer.completed_event(stop_time=observer.record.fields["start_time"], result=None)
print(run_id)
"""


def test_twenty_processes_get_twenty_ids(cloud):
    go = time.time() + 4  # all 20 start claiming at this moment
    script = _CLAIMER.format(root=str(ROOT), scheme=cloud.scheme, bucket=cloud.bucket, go=go)
    env = {**os.environ, **cloud.env}
    children = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True)
        for _ in range(20)
    ]
    ids = [int(child.communicate(timeout=120)[0].strip().splitlines()[-1]) for child in children]
    assert sorted(ids) == list(range(1, 21))
    with cloud.reader("race") as reader:
        assert sorted(run.id for run in reader.find_runs()) == list(range(1, 21))


def test_a_missing_bucket_fails_at_creation_before_main(cloud, capsys):
    observer_class = cloud.observer_class()
    with pytest.raises(SinkRejected, match="does not exist") as caught:
        observer_class("no-such-bucket-here", "runs")
    assert "\n" not in str(caught.value) and "no-such-bucket-here" in str(caught.value)
    ex = Experiment("missing")
    called = []
    ex.main(lambda: called.append(1))
    flag = "-S" if cloud.scheme == "s3" else "-G"
    with pytest.raises(SystemExit):
        ex.run_commandline(["x", flag, f"{cloud.scheme}://no-such-bucket-here/runs"])
    assert not called
    (message,) = capsys.readouterr().err.strip().splitlines()
    assert "'no-such-bucket-here' does not exist" in message


def test_a_preset_id_that_exists_is_refused(cloud):
    first = cloud.observer()
    first.started_event(
        ex_info={"name": "t", "sources": []}, command="main", host_info={}, start_time=at(0),
        config={}, meta_info={}, _id="alpha",
    )  # fmt: skip
    with pytest.raises(SinkRejected, match="already exists"):
        cloud.observer().started_event(
            ex_info={"name": "t", "sources": []}, command="main", host_info={}, start_time=at(0),
            config={}, meta_info={}, _id="alpha",
        )  # fmt: skip


def test_transient_errors_are_retried_and_nothing_is_lost(cloud, outage):
    observer = outage.observer()
    run_id = start(observer)
    observer.log_metrics(points("loss", range(100)), {})
    observer.heartbeat_event(info={}, captured_out="a\n", beat_time=at(1), result=None)
    outage.stop()
    outage.start_later(0.5)  # the default retries wait longer than that
    observer.log_metrics(points("loss", range(100, 200)), {})
    observer.heartbeat_event(info={}, captured_out="a\nb\n", beat_time=at(2), result=None)
    observer.completed_event(stop_time=at(3), result=None)
    _assert_all_stored(cloud, run_id, 200, "a\nb\n")


def test_a_long_outage_loses_nothing(cloud, outage):
    observer = outage.observer(retry=FAST_RETRY)
    run_id = start(observer)
    observer.log_metrics(points("loss", range(100)), {})
    observer.heartbeat_event(info={}, captured_out="a\n", beat_time=at(1), result=None)
    outage.stop()
    with pytest.raises(SinkUnavailable, match="cannot reach"):
        observer.log_metrics(points("loss", range(100, 200)), {})
    with pytest.raises(SinkUnavailable):
        observer.heartbeat_event(info={}, captured_out="a\nb\n", beat_time=at(2), result=None)
    outage.start()
    # what the dispatcher does: the failed points again, first, merged with the new ones
    observer.log_metrics(points("loss", range(100, 300)), {})
    observer.heartbeat_event(info={}, captured_out="a\nb\nc\n", beat_time=at(3), result=None)
    observer.completed_event(stop_time=at(4), result=None)
    _assert_all_stored(cloud, run_id, 300, "a\nb\nc\n")


def _assert_all_stored(cloud, run_id, total, output):
    with cloud.reader() as reader:
        run = reader.get_run(run_id)
        assert run.status == "COMPLETED" and run.captured_out == output
        assert reader.get_metrics(run_id)["loss"].steps == list(range(total))
    objects = cloud.objects()
    stored = json.loads(objects[f"{run_id}/metrics.json"])
    assert stored["loss"]["steps"] == list(range(total))
    assert not [key for key in objects if ".parts/" in key]

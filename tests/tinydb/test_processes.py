"""Real processes: concurrent writers lose nothing; a writer killed mid-run corrupts nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from sacredlike.observers import TinyDbObserver, TinyDbReader

from .conftest import make_experiment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORKER = """
import sys, time
from sacredlike import Experiment
from sacredlike.observers import TinyDbObserver
store, index, artifact, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ex = Experiment("worker")
ex.observers.append(TinyDbObserver(store, write_interval=0))
@ex.config
def config():
    index = 0
@ex.main
def main(_run, index):
    for step in range(steps):
        _run.log_scalar("value", index * 1000 + step)
        if step % 20 == 0:
            time.sleep(0.01)
    _run.add_artifact(artifact, "data.bin")
    return index
print(ex.run(config_updates={"index": index}, options={"--beat-interval": "0.01"})._id)
"""


def _start(tmp_path, *args: str) -> subprocess.Popen:
    script = tmp_path / "worker.py"
    if not script.exists():  # written once: rewriting it could hand a starting worker half a file
        script.write_text(WORKER)
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        env={**os.environ, "PYTHONPATH": ROOT},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_ten_concurrent_writers_lose_nothing(store, tmp_path):
    artifacts = []
    for index in range(10):
        artifact = tmp_path / f"artifact{index}.bin"
        artifact.write_bytes(os.urandom(1000 + index))
        artifacts.append(artifact)
    workers = [_start(tmp_path, str(store), str(i), str(a), "400") for i, a in enumerate(artifacts)]
    started = []
    for worker in workers:
        out, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0 and out.strip(), errors.decode() or "no run was started"
        started.append(int(out))

    with TinyDbReader(store) as reader:
        runs = reader.find_runs()
        assert sorted(run.id for run in runs) == sorted(started) == list(range(1, 11))
        for run in runs:
            index = run.config["index"]
            assert run.status == "COMPLETED" and run.result == index
            values = reader.get_metrics(run.id)["value"].values
            assert values == [index * 1000 + step for step in range(400)]
            assert reader.get_artifact(run.id, "data.bin") == artifacts[index].read_bytes()


def _running_run_appears(store, run_id: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            runs = json.loads((store / "metadata.json").read_text())["runs"]
        except (OSError, ValueError, KeyError):
            runs = {}
        if runs.get(str(run_id), {}).get("heartbeat"):
            return
        time.sleep(0.01)
    raise AssertionError(f"run {run_id} never started")


def test_a_writer_killed_mid_run_leaves_a_whole_store(store, tmp_path):
    ex = make_experiment()
    ex.observers.append(TinyDbObserver(store))
    ex.run(options={"--beat-interval": "0.05"})
    earlier = json.loads((store / "metadata.json").read_text())["runs"]["1"]
    artifact = tmp_path / "artifact.bin"
    artifact.write_bytes(b"x" * 100)

    for attempt, delay in enumerate((0.0, 0.05, 0.13)):
        worker = _start(tmp_path, str(store), "7", str(artifact), "100000000")
        _running_run_appears(store, 2 + attempt)
        time.sleep(delay)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        tables = json.loads((store / "metadata.json").read_text())  # whole, parseable
        assert tables["runs"]["1"] == earlier
        assert tables["runs"][str(2 + attempt)]["status"] == "RUNNING"

    with TinyDbReader(store) as reader:
        assert [r.status for r in reader.find_runs()] == ["RUNNING"] * 3 + ["COMPLETED"]
        assert len(reader.get_metrics(1)["loss"]) == 5
        assert len(reader.get_metrics(4)["value"]) > 0
    ex.run(options={"--beat-interval": "0.05"})  # the store takes new runs
    with TinyDbReader(store) as reader:
        assert reader.get_run(5).status == "COMPLETED"

"""FileStorageObserver: Sacred's layout, atomic writes, ids, artifacts, reader."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sacredlike import Experiment, open_store
from sacredlike.observers import FileStorageObserver
from sacredlike.observers.base import RunQuery

from .conftest import FAST


@pytest.fixture
def storage_ex(tmp_path):
    ex = Experiment("files_exp", save_git_info=False)
    ex.observers.append(FileStorageObserver(tmp_path / "runs"))
    return ex


def _json(path: Path):
    return json.loads(path.read_text())


def _run_script(script: Path, runs: Path) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh interpreter with ``RUNS`` pointing at ``runs``."""
    return subprocess.run(
        [sys.executable, str(script)],
        env={"RUNS": str(runs), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_completed_run_layout_field_by_field(storage_ex, tmp_path):
    @storage_ex.config
    def cfg():
        lr = 0.1
        layers = [32, 16]

    @storage_ex.main
    def main(_run, lr):
        print("training with", lr)
        _run.info["note"] = "hi"
        for i in range(3):
            _run.log_scalar("loss", 1.0 / (i + 1))
        return {"accuracy": 0.5}

    run = storage_ex.run(options=FAST)
    folder = tmp_path / "runs" / "1"
    assert run._id == 1
    entry = _json(folder / "run.json")
    assert set(entry) == {
        "artifacts",
        "command",
        "experiment",
        "heartbeat",
        "host",
        "lease_until",  # sacredlike's addition (docs/reliability.md); Sacred's tools ignore it
        "meta",
        "resources",
        "result",
        "start_time",
        "status",
        "stop_time",
    }
    assert entry["status"] == "COMPLETED"
    assert entry["command"] == "main"
    assert entry["result"] == {"accuracy": 0.5}
    assert entry["artifacts"] == [] and entry["resources"] == []
    for field in ("start_time", "stop_time", "heartbeat", "lease_until"):
        datetime.datetime.fromisoformat(entry[field])
    assert entry["start_time"] <= entry["heartbeat"] and entry["start_time"] <= entry["stop_time"]
    assert entry["experiment"]["name"] == "files_exp"
    assert set(entry["experiment"]) >= {
        "name",
        "base_dir",
        "sources",
        "dependencies",
        "repositories",
    }
    assert set(entry["host"]) >= {"hostname", "os", "python_version", "cpu", "ENV"}
    assert entry["meta"]["command"] == "main"
    config = _json(folder / "config.json")
    assert config["lr"] == 0.1 and config["layers"] == [32, 16] and isinstance(config["seed"], int)
    assert _json(folder / "info.json") == {"note": "hi"}
    assert "training with 0.1" in (folder / "cout.txt").read_text()
    metrics = _json(folder / "metrics.json")
    assert metrics["loss"]["steps"] == [0, 1, 2]
    assert metrics["loss"]["values"] == [1.0, 0.5, 1 / 3]
    assert len(metrics["loss"]["timestamps"]) == 3
    # JSON files use Sacred's style: sorted keys, indent 2
    text = (folder / "config.json").read_text()
    assert text == json.dumps(config, sort_keys=True, indent=2)


def test_sources_stored_once_and_experiment_info_not_mutated(tmp_path):
    ex = Experiment("src", save_git_info=False)
    ex.add_source_file(__file__)
    first, second = FileStorageObserver(tmp_path / "a"), FileStorageObserver(tmp_path / "b")
    ex.observers.extend([first, second])
    ex.main(lambda: None)
    ex.run(options=FAST)
    ex.run(options=FAST)
    sources = sorted(p.name for p in (tmp_path / "a" / "_sources").iterdir())
    digest = __import__("hashlib").md5(Path(__file__).read_bytes()).hexdigest()
    assert f"test_file_storage_{digest}.py" in sources
    assert len(sources) == len(set(sources))
    for base in ("a", "b"):
        entry = _json(tmp_path / base / "1" / "run.json")
        stored = dict(entry["experiment"]["sources"])
        name = next(n for n in stored if n.endswith("test_file_storage.py"))
        assert stored[name] == f"_sources/test_file_storage_{digest}.py"
    # the second observer saw the original experiment info, not paths rewritten by the first
    assert ex.get_experiment_info()["sources"][0][1] != stored[name]


def test_failed_run_and_interrupted_run(storage_ex, tmp_path):
    @storage_ex.main
    def main():
        print("partial output")
        raise RuntimeError("kaputt")

    with pytest.raises(RuntimeError):
        storage_ex.run(options={**FAST, "--beat-interval": 100})
    entry = _json(tmp_path / "runs" / "1" / "run.json")
    assert entry["status"] == "FAILED"
    assert entry["fail_trace"][-1].startswith("RuntimeError: kaputt")
    assert "partial output" in (tmp_path / "runs" / "1" / "cout.txt").read_text()


def test_sigterm_marks_run_interrupted(tmp_path):
    script = tmp_path / "sleeper.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, signal, time
            from sacredlike import Experiment
            from sacredlike.observers import FileStorageObserver
            ex = Experiment("sleeper", save_git_info=False)
            ex.observers.append(FileStorageObserver(os.environ["RUNS"]))

            @ex.main
            def main():
                print("going to sleep", flush=True)
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(30)

            try:
                ex.run(options={"--capture": "sys"})
            except BaseException as error:
                print("ended with", type(error).__name__)
            """
        )
    )
    done = _run_script(script, tmp_path / "runs")
    assert "ended with SigTermInterrupt" in done.stdout, done.stderr
    entry = _json(tmp_path / "runs" / "1" / "run.json")
    assert entry["status"] == "INTERRUPTED"
    assert "going to sleep" in (tmp_path / "runs" / "1" / "cout.txt").read_text()


def test_queued_run(storage_ex, tmp_path):
    storage_ex.main(lambda: None)
    storage_ex.run(options={**FAST, "--queue": True})
    entry = _json(tmp_path / "runs" / "1" / "run.json")
    assert entry["status"] == "QUEUED"
    assert "queue_time" in entry and "start_time" not in entry
    assert entry["meta"]["queue_time"] == entry["queue_time"]


def test_artifacts_nested_names_and_refused_names(storage_ex, tmp_path):
    source = tmp_path / "plot.png"
    source.write_bytes(b"\x89PNG fake")

    @storage_ex.main
    def main(_run):
        _run.add_artifact(source)
        _run.add_artifact(source, name="plots/a.png")
        for bad, message in [
            ("../escape.png", "leaves the run's folder"),
            ("/etc/passwd", "is absolute"),
            ("run.json", "reserved"),
            ("metrics.json", "reserved"),
            ("", "non-empty"),
        ]:
            with pytest.raises(ValueError, match=message):
                _run.add_artifact(source, name=bad)
        with pytest.raises(FileNotFoundError, match="no such file"):
            _run.add_artifact(tmp_path / "missing.txt")

    storage_ex.run(options=FAST)
    folder = tmp_path / "runs" / "1"
    assert (folder / "plot.png").read_bytes() == b"\x89PNG fake"
    assert (folder / "plots" / "a.png").read_bytes() == b"\x89PNG fake"
    assert _json(folder / "run.json")["artifacts"] == ["plot.png", "plots/a.png"]
    assert not (tmp_path / "runs" / "escape.png").exists()


def test_resources_deduplicated(storage_ex, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")

    @storage_ex.main
    def main(_run):
        with _run.open_resource(data) as handle:
            assert handle.read().startswith("a,b")
        _run.add_resource(data)

    storage_ex.run(options=FAST)
    storage_ex.run(options=FAST)
    stored = list((tmp_path / "runs" / "_resources").iterdir())
    assert len(stored) == 1 and stored[0].name.startswith("data_")
    entry = _json(tmp_path / "runs" / "2" / "run.json")
    assert entry["resources"] == [[str(data), str(stored[0])]]


# -- Sacred's documented FileStorageObserver behaviour -------------------------------------
def test_cout_txt_exists_empty_from_the_start(storage_ex, tmp_path):
    seen = []

    @storage_ex.main
    def main():
        seen.append((tmp_path / "runs" / "1" / "cout.txt").read_text())
        print("later")

    storage_ex.run(options=FAST)
    assert seen == [""]
    assert "later" in (tmp_path / "runs" / "1" / "cout.txt").read_text()


def test_resource_paths_name_the_base_directory_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data.csv"
    data.write_text("x\n")
    ex = Experiment("relative", save_git_info=False)
    ex.observers.append(FileStorageObserver("runs"))
    ex.main(lambda _run: _run.add_resource(str(data)))
    ex.run(options=FAST)
    [stored] = (tmp_path / "runs" / "_resources").iterdir()
    entry = _json(tmp_path / "runs" / "1" / "run.json")
    assert entry["resources"] == [[str(data), f"runs/_resources/{stored.name}"]]


def test_copy_artifacts_false_keeps_resources_inside_the_base_directory_in_place(tmp_path):
    runs = tmp_path / "runs"
    inside = runs / "inputs" / "inside.csv"
    inside.parent.mkdir(parents=True)
    inside.write_text("in\n")
    outside = tmp_path / "outside.csv"
    outside.write_text("out\n")
    ex = Experiment("no_copy", save_git_info=False)
    ex.observers.append(FileStorageObserver(runs, copy_artifacts=False))

    @ex.main
    def main(_run):
        _run.add_resource(str(inside))
        _run.add_resource(str(outside))
        _run.add_artifact(str(outside), name="table.csv")

    ex.run(options=FAST)
    [copied] = (runs / "_resources").iterdir()
    assert copied.name.startswith("outside_")
    entry = _json(runs / "1" / "run.json")
    assert entry["resources"] == [[str(inside), str(inside)], [str(outside), str(copied)]]
    assert (runs / "1" / "table.csv").read_text() == "out\n"  # artifacts are still copied
    assert entry["artifacts"] == ["table.csv"]


def test_unserializable_config_and_info_go_through_jsonpickle(storage_ex, tmp_path):
    class Opaque:
        def __init__(self):
            self.x = 1

    storage_ex.add_config(array=np.arange(3), when=datetime.date(2024, 5, 1), tags={"b", "a"})

    @storage_ex.main
    def main(_run):
        _run.info["object"] = Opaque()
        _run.info["matrix"] = np.eye(2)
        return np.float64(1.5)

    storage_ex.run(options=FAST)
    folder = tmp_path / "runs" / "1"
    config = _json(folder / "config.json")
    assert config["array"] == [0, 1, 2]
    assert config["when"] == "2024-05-01"
    assert config["tags"] == ["a", "b"]
    info = _json(folder / "info.json")
    assert info["matrix"] == [[1.0, 0.0], [0.0, 1.0]]
    assert info["object"]["py/object"].endswith("Opaque")
    assert _json(folder / "run.json")["result"] == 1.5


def test_preset_id_collision_is_refused(storage_ex, tmp_path):
    storage_ex.main(lambda: None)
    storage_ex.run(options={**FAST, "--id": "7"})
    with pytest.raises(Exception, match="already exists"):
        storage_ex.run(options={**FAST, "--id": "7"})
    assert _json(tmp_path / "runs" / "7" / "run.json")["status"] == "COMPLETED"


def test_twenty_processes_get_distinct_ids(tmp_path):
    script = tmp_path / "one_run.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from sacredlike import Experiment
            from sacredlike.observers import FileStorageObserver
            ex = Experiment("parallel", save_git_info=False)
            ex.observers.append(FileStorageObserver(sys.argv[1]))
            ex.main(lambda _run: _run.log_scalar("x", 1))
            print(ex.run(options={"--capture": "no"})._id)
            """
        )
    )
    runs = tmp_path / "runs"
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(runs)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(20)
    ]
    ids = [int(p.communicate(timeout=120)[0].strip()) for p in processes]
    assert sorted(ids) == list(range(1, 21))
    for run_id in ids:
        folder = runs / str(run_id)
        assert _json(folder / "run.json")["status"] == "COMPLETED"
        assert _json(folder / "metrics.json")["x"]["values"] == [1]


def test_json_files_are_always_complete_while_written(storage_ex, tmp_path):
    folder = tmp_path / "runs" / "1"
    stop = threading.Event()
    problems = []

    def read_continuously():
        while not stop.is_set():
            for name in ("run.json", "info.json", "metrics.json"):
                try:
                    json.loads((folder / name).read_text())
                except FileNotFoundError:
                    pass
                except ValueError as error:
                    problems.append((name, error))

    @storage_ex.main
    def main(_run):
        for i in range(20_000):
            _run.log_scalar("loss", i)
            _run.info["i"] = i
            if i % 2000 == 0:
                time.sleep(0.03)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        storage_ex.run(options={**FAST, "--beat-interval": 0.01})
    finally:
        stop.set()
        reader.join()
    assert problems == []
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left


def test_million_scale_metrics_complete_when_run_returns(storage_ex, tmp_path):
    @storage_ex.main
    def main(_run):
        for step in range(20_000):
            for name in ("a", "b", "c", "d", "e"):
                _run.log_scalar(name, step * 0.5)

    storage_ex.run(options={**FAST, "--beat-interval": 0.05})
    metrics = _json(tmp_path / "runs" / "1" / "metrics.json")
    assert sorted(metrics) == ["a", "b", "c", "d", "e"]
    for series in metrics.values():
        assert series["steps"] == list(range(20_000))
        assert len(series["values"]) == len(series["timestamps"]) == 20_000


def test_reader_round_trip_and_filters(storage_ex, tmp_path):
    @storage_ex.config
    def cfg():
        lr = 0.1

    @storage_ex.main
    def main(_run, lr):
        if lr > 1:
            raise ValueError("too big")
        _run.log_scalar("loss", lr)
        out = tmp_path / "out.txt"
        out.write_text("result file")
        _run.add_artifact(out)
        print("hello reader")
        return lr

    storage_ex.run(options=FAST)
    storage_ex.run(config_updates={"lr": 0.2}, options=FAST)
    with pytest.raises(ValueError):
        storage_ex.run(config_updates={"lr": 5}, options=FAST)

    with open_store(str(tmp_path / "runs")) as reader:
        runs = reader.find_runs()
        assert [r.id for r in runs] == [3, 2, 1]
        assert [r.status for r in reader.find_runs(RunQuery(status="FAILED"))] == ["FAILED"]
        assert [r.id for r in reader.find_runs(RunQuery(config={"lr": 0.2}))] == [2]
        assert reader.find_runs(RunQuery(experiment="^nope$")) == []
        assert len(reader.find_runs(RunQuery(limit=2))) == 2
        run = reader.get_run(1)
        assert run.result == 0.1 and run.experiment_name == "files_exp"
        assert "hello reader" in run.captured_out
        assert reader.get_metrics(1)["loss"].values == [0.1]
        assert reader.get_artifact(1, "out.txt") == b"result file"
        frame = reader.metrics_frame(2)
        assert list(frame["value"]) == [0.2]
        with pytest.raises(KeyError):
            reader.get_run(99)
        with pytest.raises(FileNotFoundError):
            reader.get_artifact(1, "nope.txt")


def test_observer_write_failure_does_not_lose_points(storage_ex, tmp_path, monkeypatch):
    observer = storage_ex.observers[0]
    original_append = type(observer.store).append
    failures = {"left": 3}

    def flaky_append(self, key, data):
        if key.endswith("metrics.jsonl") and failures["left"]:
            failures["left"] -= 1
            raise OSError("disk full")
        original_append(self, key, data)

    monkeypatch.setattr(type(observer.store), "append", flaky_append)

    @storage_ex.main
    def main(_run):
        for i in range(50):
            _run.log_scalar("x", i)
            time.sleep(0.005)

    storage_ex.run(options=FAST)
    assert failures["left"] == 0
    metrics = _json(tmp_path / "runs" / "1" / "metrics.json")
    assert metrics["x"]["values"] == list(range(50))
    with open_store(str(tmp_path / "runs")) as reader:
        assert reader.get_metrics(1)["x"].values == list(range(50))


def test_points_offered_again_after_two_failures_in_a_row_are_stored_once(
    storage_ex, tmp_path, monkeypatch
):
    """metrics.json's first refresh fails after its append, then the next append fails."""
    observer = storage_ex.observers[0]
    original_append = type(observer.store).append
    original_refresh = type(observer)._write_metrics_json
    failures = []

    def flaky_append(self, key, data):
        if key.endswith("metrics.jsonl") and failures == ["refresh"]:
            failures.append("append")
            raise OSError("disk full")
        original_append(self, key, data)

    def flaky_refresh(self):
        if not failures:
            failures.append("refresh")
            raise OSError("disk full")
        original_refresh(self)

    monkeypatch.setattr(type(observer.store), "append", flaky_append)
    monkeypatch.setattr(type(observer), "_write_metrics_json", flaky_refresh)

    @storage_ex.main
    def main(_run):
        step = 0
        while (step < 1100 or len(failures) < 2) and step < 20_000:
            _run.log_scalar("x", step)
            step += 1
            if step > 1000:
                time.sleep(0.005)  # every beat offers new points
        return step

    run = storage_ex.run(options=FAST)
    assert failures == ["refresh", "append"]
    with open_store(str(tmp_path / "runs")) as reader:
        assert reader.get_metrics(1)["x"].values == list(range(run.result))


def test_heartbeat_reaches_run_json_while_running(storage_ex, tmp_path):
    seen = []

    @storage_ex.main
    def main():
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            entry = _json(tmp_path / "runs" / "1" / "run.json")
            if entry.get("heartbeat"):
                seen.append(entry["heartbeat"])
                if len(set(seen)) >= 2:
                    return
            time.sleep(0.05)

    storage_ex.run(options={**FAST, "--beat-interval": 0.1})
    assert len(set(seen)) >= 2  # run.json shows a moving heartbeat during the run


def test_sigterm_while_the_run_is_being_stored_waits_until_it_is_stored(tmp_path):
    script = tmp_path / "slow_store.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, signal, time
            from sacredlike import Experiment
            from sacredlike.observers import FileStorageObserver, RunObserver

            class SlowToFinish(RunObserver):
                priority = 50  # called before the file storage stores the end

                def completed_event(self, stop_time, result):
                    os.kill(os.getpid(), signal.SIGTERM)  # arrives while the run is stored
                    time.sleep(0.2)

            ex = Experiment("stored_first", save_git_info=False)
            ex.observers.extend([SlowToFinish(), FileStorageObserver(os.environ["RUNS"])])
            ex.main(lambda: 42)
            ex.run(options={"--capture": "no"})
            print("not reached: the deferred SIGTERM ends the process")
            """
        )
    )
    done = _run_script(script, tmp_path / "runs")
    assert done.returncode == -15, done.stderr
    assert "not reached" not in done.stdout
    entry = _json(tmp_path / "runs" / "1" / "run.json")
    assert entry["status"] == "COMPLETED" and entry["result"] == 42


def test_passwords_in_meta_are_redacted_when_events_come_directly(tmp_path):
    observer = FileStorageObserver(tmp_path / "runs")
    now = datetime.datetime(2024, 1, 1)
    observer.started_event(
        ex_info={"name": "direct", "base_dir": str(tmp_path), "sources": []},
        command="main",
        host_info={},
        start_time=now,
        config={},
        meta_info={"options": {"--sql": "postgresql://bob:hunter2@db/exps"}},
        _id=None,
    )
    observer.completed_event(stop_time=now, result=None)
    text = (tmp_path / "runs" / "1" / "run.json").read_text()
    assert "hunter2" not in text and "postgresql://bob:***@db/exps" in text

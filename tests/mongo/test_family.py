"""The document family over a second, in-memory DocumentStore (no server needed).

Shows that a new sink only implements the four abstract methods of DocumentStore, and
checks family logic (metric parts, output copies, saving and uploading) in isolation.
"""

from __future__ import annotations

import copy
import itertools
from typing import IO, Any

import pytest

from sacredlike.errors import SinkUnavailable
from sacredlike.observers.document.store import DocumentStore, MetricPart
from sacredlike.observers.document.writer import DocumentObserver, upload_saved_runs
from sacredlike.observers.retry import RetryPolicy

from .helpers import Beats, now, points, start


class MemoryStore(DocumentStore):
    """Documents in dicts; ``down`` makes every call raise SinkUnavailable."""

    def __init__(self) -> None:
        self.runs: dict[Any, dict] = {}
        self.parts: dict[Any, dict] = {}
        self.files: list[dict] = []
        self.puts: list[tuple[str, int]] = []
        self.down = False
        self._ids = itertools.count(1)

    def _check(self) -> None:
        if self.down:
            raise SinkUnavailable("memory store is down")

    def insert_run(self, document, run_id=None):
        self._check()
        run_id = run_id if run_id is not None else max(self.runs, default=0) + 1
        self.runs[run_id] = copy.deepcopy(document)
        return run_id

    def update_run(self, run_id, fields):
        self._check()
        self.runs.setdefault(run_id, {}).update(copy.deepcopy(fields))

    def append_points(self, batch: list[tuple[MetricPart, dict[str, list]]]) -> None:
        self._check()
        for part, new in batch:
            if part.id is None:
                part.id = f"part{next(self._ids)}"
            doc = self.parts.setdefault(part.id, {**part.seed, "n": 0})
            if doc["n"] == part.count:
                for key, values in new.items():
                    doc.setdefault(key, []).extend(values)
                doc["n"] += len(new["steps"])
        for part, new in batch:
            part.count += len(new["steps"])

    def put_file(self, name: str, data: IO[bytes], *, content_type=None, metadata=None,
                 md5=None, replace=False) -> Any:  # fmt: skip
        self._check()
        if replace:
            self.files = [f for f in self.files if f["name"] != name]
        self.files.append({"name": name, "data": data.read(), "id": f"file{next(self._ids)}"})
        self.puts.append((name, len(self.files[-1]["data"])))
        return self.files[-1]["id"]


@pytest.fixture
def store():
    return MemoryStore()


def observer_on(store, tmp_path, **attributes):
    observer = DocumentObserver(store, failure_dir=tmp_path / "unsent")
    observer.beat_retry = RetryPolicy(attempts=1)
    observer.final_retry = RetryPolicy(attempts=1)
    for name, value in attributes.items():
        setattr(observer, name, value)
    return observer


def test_parts_and_refs(store, tmp_path):
    observer = observer_on(store, tmp_path, points_per_part=3)
    run_id = start(observer, tmp_path)
    observer.log_metrics(metrics_by_name={**points("a", 0, 7), **points("b", 0, 2)}, info={})
    observer.completed_event(stop_time=now(), result=None)
    parts = sorted(store.parts.values(), key=lambda d: (d["name"], d.get("part", 0)))
    assert [(d["name"], d["steps"]) for d in parts] == [
        ("a", [0, 1, 2]), ("a", [3, 4, 5]), ("a", [6]), ("b", [0, 1]),
    ]  # fmt: skip
    refs = store.runs[run_id]["info"]["metrics"]
    assert [r["name"] for r in refs] == ["a", "b"]
    assert all(store.parts[r["id"]]["run_id"] == run_id for r in refs)


def test_output_is_copied_when_it_doubles(store, tmp_path):
    observer = observer_on(store, tmp_path, output_limit=10)
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    for length in (8, 12, 20, 30, 40, 50):
        beats.beat(out="y" * length)
    name = f"captured_out://runs/{run_id}"
    assert [size for n, size in store.puts if n == name] == [12, 30]  # when twice the last
    observer.completed_event(stop_time=now(), result=None)
    assert [size for n, size in store.puts if n == name] == [12, 30, 50]
    [final] = [f for f in store.files if f["name"] == name]  # older copies replaced
    assert final["data"] == b"y" * 50
    assert store.runs[run_id]["captured_out"].endswith("\n" + "y" * 10)


def test_saved_run_round_trips_through_the_default_encoding(store, tmp_path):
    observer = observer_on(store, tmp_path)
    run_id = start(observer, tmp_path)
    store.down = True
    Beats(observer).beat(points("m", 0, 4), out="late\n")
    stopped = now()
    observer.completed_event(stop_time=stopped, result={"nan": float("nan")})
    assert observer.saved_to is not None

    store.down = False
    uploaded = upload_saved_runs(observer.saved_to.parent, observer_on(store, tmp_path))
    assert uploaded == [run_id]
    doc = store.runs[run_id]
    assert doc["status"] == "COMPLETED" and doc["stop_time"] == stopped
    assert doc["captured_out"] == "late\n"
    [part] = store.parts.values()
    assert part["steps"] == [0, 1, 2, 3] and part["timestamps"][0].year >= 2024


def test_upload_of_an_empty_folder_is_an_error(store, tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved run"):
        upload_saved_runs(tmp_path, observer_on(store, tmp_path))


def test_a_retried_file_upload_reads_the_file_from_the_start(store, tmp_path):
    observer = observer_on(store, tmp_path)
    observer.beat_retry = RetryPolicy(attempts=2, first_delay=0.01)
    start(observer, tmp_path)
    resource = tmp_path / "data.bin"
    resource.write_bytes(b"0123456789")
    real_put = store.put_file

    def dies_mid_upload(name, data, **options):
        store.put_file = real_put
        data.read(4)  # the connection drops after the first chunk went out
        raise SinkUnavailable("connection lost mid-upload")

    store.put_file = dies_mid_upload
    observer.resource_event(filename=str(resource))
    assert [f["data"] for f in store.files if f["name"] == str(resource)] == [b"0123456789"]


def test_retry_waits_double_up_to_the_cap():
    policy = RetryPolicy(attempts=4, first_delay=0.1, max_delay=0.3)
    assert list(policy.delays()) == [0.1, 0.2, 0.3]
    assert list(itertools.islice(policy.backoff(), 5)) == [0.1, 0.2, 0.3, 0.3, 0.3]

"""Artifacts and resources: stored inline when small, in chunks when large, read back whole."""

from __future__ import annotations

import hashlib
import os
import tracemalloc

import pytest

from sacredlike.errors import RunNotFound
from sacredlike.observers.rows import schema as _rows_schema

from .helpers import start

MIB = 1 << 20


def _write(path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def test_small_artifact_is_inline_like_sacred(db, observer, reader, tmp_path):
    run_id = start(observer)
    data = _write(tmp_path / "model.pt", 1000)
    observer.artifact_event(
        name="model.pt",
        filename=str(tmp_path / "model.pt"),
        metadata={"epoch": 3},
        content_type="application/octet-stream",
    )
    (row,) = db.select("artifact", run_id=str(run_id))
    assert row["filename"] == "model.pt" and row["content"] == data
    assert row["size"] == 1000 and row["md5sum"] == hashlib.md5(data).hexdigest()
    assert row["meta"] == {"epoch": 3} and row["content_type"] == "application/octet-stream"
    assert reader.get_artifact(run_id, "model.pt") == data
    assert reader.get_run(run_id).artifacts == ["model.pt"]


def test_large_artifact_is_streamed_in_chunks(db, observer, reader, tmp_path):
    run_id = start(observer)
    size = 32 * MIB + 5
    source = tmp_path / "big.bin"
    data = _write(source, size)
    expected = hashlib.md5(data).hexdigest()
    del data

    tracemalloc.start()
    observer.artifact_event(name="big.bin", filename=str(source))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the drivers copy a chunk a few times (pymysql escapes it), never the whole 32 MiB
    assert peak < 12 * _rows_schema.CHUNK_SIZE

    (row,) = db.select("artifact", run_id=str(run_id))
    assert row["content"] is None and row["size"] == size and row["md5sum"] == expected
    chunks = db.scalar(
        "SELECT COUNT(*) FROM artifact_chunk WHERE artifact_id = :a", a=row["artifact_id"]
    )
    assert chunks == 33
    digest = hashlib.md5()
    for piece in reader.iter_artifact(run_id, "big.bin"):
        assert len(piece) <= _rows_schema.CHUNK_SIZE
        digest.update(piece)
    assert digest.hexdigest() == expected


def test_same_name_replaces_the_artifact(db, observer, reader, tmp_path):
    run_id = start(observer)
    path = tmp_path / "notes.txt"
    path.write_text("v1")
    observer.artifact_event(name="notes.txt", filename=str(path))
    path.write_text("v2")
    observer.artifact_event(name="notes.txt", filename=str(path))
    assert reader.get_artifact(run_id, "notes.txt") == b"v2"
    assert db.scalar("SELECT COUNT(*) FROM artifact") == 1


def test_missing_artifact_and_run(db, observer, reader):
    run_id = start(observer)
    with pytest.raises(FileNotFoundError, match="nope"):
        reader.get_artifact(run_id, "nope")
    with pytest.raises(RunNotFound):
        reader.get_artifact(12345, "nope")


def test_resources_are_stored_once_and_linked_to_each_run(db, observer, tmp_path):
    path = tmp_path / "data.csv"
    data = _write(path, 2 * MIB + 1)
    first = start(observer)
    observer.resource_event(filename=str(path))
    observer.resource_event(filename=str(path))
    second = start(observer)
    observer.resource_event(filename=str(path))

    (resource,) = db.select("resource")
    assert resource["filename"] == str(path) and resource["size"] == len(data)
    assert resource["md5sum"] == hashlib.md5(data).hexdigest() and resource["content"] is None
    chunks = db.rows(
        "SELECT data FROM resource_chunk WHERE resource_id = :r ORDER BY seq",
        r=resource["resource_id"],
    )
    assert b"".join(bytes(chunk["data"]) for chunk in chunks) == data
    links = db.rows("SELECT run_id FROM runs_resources ORDER BY run_id")
    assert [link["run_id"] for link in links] == [str(first), str(second)]

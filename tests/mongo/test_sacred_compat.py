"""What Sacred 0.8.7 documents about MongoObserver, checked on a real server.

Its API page lists the ``runs`` / ``metrics`` collections, the GridFS ``fs`` and ``VERSION``;
its observers compare what they store to; its ``-m`` flag takes
``[host:port:]db_name[.collection[:id]][!priority]``; a queued run carries
``meta.queue_time``; ``failure_dir`` is a path (``str`` or ``PathLike``).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import gridfs
import pymongo.collection
import pytest

from sacredlike import Experiment
from sacredlike.observers import FileStorageObserver
from sacredlike.observers.mongo import MongoObserver

from .helpers import now, points, start


def _plain(mongo_server) -> str:
    """``HOST:PORT`` of the test server, for Sacred's plain ``-m`` forms."""
    return mongo_server.uri.split("://", 1)[1]


def _experiment() -> Experiment:
    ex = Experiment("compat", save_git_info=False)

    @ex.main
    def main(_run):
        _run.log_scalar("loss", 0.5)
        return 1

    return ex


def _close(run) -> None:
    for observer in run.observers:
        observer.store.close()


def test_collections_gridfs_and_version(make_observer, db, tmp_path):
    observer = make_observer()
    assert isinstance(observer.runs, pymongo.collection.Collection)
    assert observer.runs.full_name == f"{db.name}.runs"
    assert observer.metrics.full_name == f"{db.name}.metrics"
    assert isinstance(observer.fs, gridfs.GridFS)
    assert MongoObserver.VERSION == observer.VERSION == "MongoObserver-0.7.0"
    run_id = start(observer, tmp_path)
    observer.log_metrics(metrics_by_name=points("m", 0, 3), info={})
    observer.completed_event(stop_time=now(), result=None)
    assert observer.runs.find_one({"_id": run_id})["format"] == observer.VERSION
    assert observer.metrics.count_documents({"run_id": run_id}) == 1


def test_observers_compare_by_what_they_store_to(make_observer, tmp_path):
    first, again = make_observer(), make_observer()
    other = make_observer(collection_prefix="other")
    assert first == again and hash(first) == hash(again)
    assert first != other
    assert first in [other, again]
    assert len({first, again, other}) == 2
    files = FileStorageObserver(tmp_path / "runs")
    assert files == FileStorageObserver(str(tmp_path / "runs"))
    assert hash(files) == hash(FileStorageObserver(tmp_path / "runs"))
    assert files != FileStorageObserver(tmp_path / "elsewhere")
    assert first != files


def test_m_db_collection_writes_that_runs_collection(mongo_server, db):
    run = _experiment().run_commandline(["x", "-m", f"{_plain(mongo_server)}:{db.name}.my_runs"])
    _close(run)
    assert db["my_runs"].find_one({"_id": run._id})["status"] == "COMPLETED"
    assert db["metrics"].find_one({"run_id": run._id})["values"] == [0.5]
    assert "runs" not in db.list_collection_names()
    assert "my_runs_runs" not in db.list_collection_names()


def test_m_with_an_id_overwrites_that_run(mongo_server, db):
    where = f"{_plain(mongo_server)}:{db.name}.my_runs"
    queued = _experiment().run_commandline(["x", "-q", "-m", where])
    _close(queued)
    document = db["my_runs"].find_one({"_id": queued._id})
    assert document["status"] == "QUEUED"
    db["my_runs"].update_one({"_id": queued._id}, {"$set": {"omniboard": {"tags": ["keep"]}}})

    run = _experiment().run_commandline(["x", "-m", f"{where}:{queued._id}!7"])
    _close(run)
    assert run._id == queued._id
    assert run.observers[0].priority == 7
    [document] = db["my_runs"].find()
    assert document["status"] == "COMPLETED" and document["result"] == 1
    assert document["omniboard"] == {"tags": ["keep"]}


def test_queued_run_has_meta_queue_time(mongo_server, db):
    queued = _experiment().run_commandline(["x", "-q", "-m", f"{_plain(mongo_server)}:{db.name}"])
    _close(queued)
    document = db.runs.find_one({"_id": queued._id})
    assert document["status"] == "QUEUED"
    assert isinstance(document["meta"]["queue_time"], _dt.datetime)
    assert document["meta"]["queue_time"] == document["queue_time"]


def test_failure_dir_given_as_str_or_path(make_observer, tmp_path):
    as_str = make_observer(failure_dir=str(tmp_path / "a"))
    as_path = make_observer(failure_dir=tmp_path / "b")
    assert as_str.failure_dir == tmp_path / "a" and isinstance(as_str.failure_dir, Path)
    assert as_path.failure_dir == tmp_path / "b"


def test_m_with_an_id_the_store_lacks_is_a_one_line_error(mongo_server, db, capsys):
    where = f"{_plain(mongo_server)}:{db.name}.my_runs:999"
    with pytest.raises(SystemExit) as stopped:
        _experiment().run_commandline(["x", "-m", where])
    assert stopped.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "holds no run 999 to overwrite" in line
    assert db["my_runs"].count_documents({}) == 0

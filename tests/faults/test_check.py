"""``sacredlike check STORE [--repair]`` on what crashes and full disks leave behind."""

from __future__ import annotations

import json

import pytest

from sacredlike import Experiment
from sacredlike.console import main as console
from sacredlike.observers import FileStorageObserver

OPTIONS = {"--capture": "sys", "--beat-interval": 0.05}


def _runs(root, count=2):
    ex = Experiment("checked")
    ex.observers.append(FileStorageObserver(root))

    @ex.main
    def main(_run):
        for step in range(2000):
            _run.log_scalar("x", float(step))

    for _ in range(count):
        ex.run(options=OPTIONS)


def test_check_finds_and_repairs_a_folder_store(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SACREDLIKE_JOURNAL_DIR", str(tmp_path / "journals"))
    root = tmp_path / "runs"
    _runs(root)
    (root / "1" / "metrics.json").write_text('{"x": {"steps": [0, 1')  # cut by a full disk
    (root / "2" / "info.json").write_text("{")
    (root / "3").mkdir()  # the process died before writing run.json
    assert console(["check", str(root)]) == 1
    found = capsys.readouterr().out
    assert "run 1: metrics.jsonl holds 2000 points, metrics.json does not parse" in found
    assert "run 2: info.json is truncated or corrupt" in found
    assert "run 3: run folder without run.json" in found
    assert console(["check", str(root), "--repair"]) == 1  # runs 2 and 3 need a human
    assert "[repaired]" in capsys.readouterr().out
    assert json.loads((root / "1" / "metrics.json").read_text())["x"]["steps"] == list(range(2000))
    console(["check", str(root)])
    assert "run 1" not in capsys.readouterr().out


def test_check_reports_unsynced_journals_and_marks_lost_runs_dead(tmp_path, capsys):
    from tests.contract.test_contract import _abandoned_run

    root = tmp_path / "runs"
    journals = tmp_path / "journals"
    journal = journals / "filestorage-1-x"
    journal.mkdir(parents=True)
    header = {"journal": 1, "run_id": 1, "sink": "filestorage", "store": str(root)}
    (journal / "events.jsonl").write_text(json.dumps(header) + "\n")
    import datetime as dt

    run_id, _ = _abandoned_run(FileStorageObserver(root), dt.datetime(2024, 5, 1, 12, 0, 30))
    assert console(["check", str(root), "--journals", str(journals), "--repair"]) == 1
    found = capsys.readouterr().out
    assert f"run {run_id}: RUNNING but its lease ended" in found and "[repaired]" in found
    assert f"run 1: journal never synced: {journal}" in found
    assert "sacredlike sync" in found
    assert json.loads((root / str(run_id) / "run.json").read_text())["status"] == "DEAD"


@pytest.mark.service
def test_check_on_sql_deletes_orphaned_chunks(sqlite_db, capsys):
    import sqlalchemy as sa

    from sacredlike.observers.sql import SqlObserver

    SqlObserver(sqlite_db.url).engine.dispose()
    with sqlite_db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO artifact_chunk VALUES (99, 0, x'00')"))
        conn.execute(
            sa.text("INSERT INTO metrics (run_id, name, step, value) VALUES ('7', 'x', 0, 1)")
        )
    assert console(["check", sqlite_db.url, "--repair"]) == 1
    found = capsys.readouterr().out
    assert "1 artifact_chunk row(s) of no artifact (orphaned) [repaired]" in found
    assert "run 7: 1 metric point(s) of a run missing from 'run'" in found
    assert sqlite_db.scalar("SELECT COUNT(*) FROM artifact_chunk") == 0


@pytest.mark.service
def test_check_on_mongo_finds_orphans(backend_mongo, capsys):
    import pymongo
    from bson import ObjectId

    observer = backend_mongo.observer()
    observer.store.update_run(1, {"status": "COMPLETED", "artifacts": []})
    with pymongo.MongoClient(backend_mongo.url) as client:
        database = client.get_default_database()
        database["metrics"].insert_one({"run_id": 5, "name": "x", "steps": [0]})
        database["fs.files"].insert_one({"_id": ObjectId(), "filename": "artifact://runs/1/m.bin"})
        database["fs.chunks"].insert_one({"files_id": ObjectId(), "n": 0, "data": b"x"})
        assert console(["check", backend_mongo.url, "--repair"]) == 1
        found = capsys.readouterr().out
        assert "run 5: metric documents of a run missing from the runs" in found
        assert "run 1: GridFS file artifact://runs/1/m.bin listed by no run" in found
        assert "GridFS chunks of 1 missing file(s) [repaired]" in found
        assert database["fs.chunks"].count_documents({}) == 0

"""TinyDbReader: Sacred's fetch_* semantics and the shared RunReader interface."""

from __future__ import annotations

import contextlib

import pytest
from tinydb import Query

from sacredlike import open_store
from sacredlike.errors import RunNotFound
from sacredlike.observers import RunQuery, TinyDbObserver, TinyDbReader

from .conftest import make_experiment

FAST = {"--beat-interval": "0.05"}


@pytest.fixture
def filled(store, tmp_path):
    """Three runs: mnist lr=0.1 (with an artifact), mnist lr=0.2, cifar failed."""
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"\x00\x01" * 500)
    observer = TinyDbObserver(store)
    for name, outcome, updates in (
        ("mnist", "complete", {"lr": 0.1, "artifact": str(artifact)}),
        ("mnist", "complete", {"lr": 0.2}),
        ("cifar", "fail", {}),
    ):
        ex = make_experiment(name, outcome)
        ex.observers.append(observer)
        with contextlib.suppress(ValueError):
            ex.run(config_updates=updates, options=FAST)
    return store


def test_fetch_metadata_by_name_query_and_indices(filled):
    reader = TinyDbReader(filled)
    assert [d["config"]["lr"] for d in reader.fetch_metadata(exp_name="^mn")] == [0.1, 0.2]
    by_query = reader.fetch_metadata(query=Query().status == "FAILED")
    assert [d["experiment"]["name"] for d in by_query] == ["cifar"]
    assert reader.fetch_metadata(indices=1)[0]["config"]["lr"] == 0.2
    assert [d.doc_id for d in reader.fetch_metadata(indices=[2, 0])] == [3, 1]
    with pytest.raises(ValueError, match="Must specify an experiment name"):
        reader.fetch_metadata()
    with pytest.raises(ValueError, match=r"Index value \(3\) must be less than"):
        reader.fetch_metadata(indices=3)


def test_fetch_files_opens_the_stored_files(filled):
    reader = TinyDbReader(filled)
    first, second = reader.fetch_files(exp_name="mnist")
    assert first["exp_id"] == 1 and first["exp_name"] == "mnist"
    assert first["artifacts"]["model.bin"].read() == b"\x00\x01" * 500
    assert "artifacts" not in second
    assert b"def make_experiment" in first["sources"]["conftest.py"].read()


def test_fetch_report_in_sacreds_format(filled):
    (report,) = TinyDbReader(filled).fetch_report(indices=0)
    assert "Experiment: mnist" in report and "ID: 1" in report
    assert "    lr: 0.1" in report and "    1.0" in report and "    model.bin" in report


def test_run_reader_interface(filled):
    with open_store(f"tinydb://{filled}") as reader:
        assert [r.id for r in reader.find_runs()] == [3, 2, 1]
        query = RunQuery(experiment="mnist", status="COMPLETED", config={"lr": 0.2})
        assert [r.id for r in reader.find_runs(query)] == [2]
        assert [r.id for r in reader.find_runs(RunQuery(limit=1))] == [3]
        assert reader.get_run("2").config["lr"] == 0.2
        assert set(reader.get_metrics(1, names=["loss"])) == {"loss"}
        assert reader.get_metrics(1, names=["nothing"]) == {}
        with pytest.raises(RunNotFound):
            reader.get_run(99)
        with pytest.raises(FileNotFoundError, match="no artifact 'nope'"):
            reader.get_artifact(1, "nope")


def test_long_output_is_read_whole(store):
    observer = TinyDbObserver(store)
    observer.output_limit = 100
    ex = make_experiment()

    @ex.main
    def main():
        for line in range(50):
            print(f"line {line:04d}")

    ex.observers.append(observer)
    ex.run(options=FAST)
    with TinyDbReader(store) as reader:
        output = reader.get_run(1).captured_out
        assert output.count("line ") == 50 and output.startswith("line 0000")
        assert len(reader.fetch_metadata(indices=0)[0]["captured_out"]) < 200


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no TinyDB store folder"):
        TinyDbReader(tmp_path / "absent")


def test_the_console_command_reads_a_tinydb_url(filled, capsys):
    from sacredlike.console import main

    assert main(["ls", f"tinydb://{filled}"]) == 0
    listing = capsys.readouterr().out
    assert "cifar" in listing and listing.count("mnist") == 2
    assert main(["metrics", f"tinydb://{filled}", "1", "loss"]) == 0
    assert "loss\t4\t0.2" in capsys.readouterr().out

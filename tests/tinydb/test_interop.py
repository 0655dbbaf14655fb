"""Both directions with Sacred 0.8.7: its TinyDB store read by us, ours read by its reader.

Sacred runs in a subprocess (it is installed by the test extra, never imported here).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from sacredlike.observers import TinyDbObserver, TinyDbReader

from .conftest import make_experiment

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("sacred", "hashfs", "tinydb_serialization")),
    reason="needs sacred==0.8.7, hashfs and tinydb-serialization (the test extra)",
)

SACRED_WRITES = """
import sys
from sacred import Experiment
from sacred.observers import TinyDbObserver
store, artifact = sys.argv[1:]
ex = Experiment("sacred_side")
ex.observers.append(TinyDbObserver(store))
@ex.config
def config():
    lr = 0.5
@ex.main
def main(_run, lr):
    print("sacred says hi")
    _run.add_artifact(artifact, "weights.bin")
    return {"acc": lr}
ex.run()
"""

SACRED_READS = """
import json, sys
from sacred.observers.tinydb_hashfs import TinyDbReader
reader = TinyDbReader(sys.argv[1])
docs = reader.fetch_metadata(exp_name="mnist")
files = reader.fetch_files(exp_name="mnist")
print(json.dumps({
    "status": [d["status"] for d in docs],
    "config": [d["config"] for d in docs],
    "result": [d.get("result") for d in docs],
    "stop_time": [d["stop_time"].isoformat() for d in docs],
    "artifacts": [{k: f.read().hex() for k, f in e.get("artifacts", {}).items()} for e in files],
    "report": reader.fetch_report(indices=0)[0],
}))
"""


def _sacred(folder, code: str, *args: str) -> str:
    script = folder / "sacred_side.py"  # a file, so Sacred can store it as a source
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_store_written_by_sacred_is_read_and_extended(store, tmp_path):
    artifact = tmp_path / "weights.bin"
    artifact.write_bytes(bytes(range(256)) * 10)
    _sacred(tmp_path, SACRED_WRITES, str(store), str(artifact))

    with TinyDbReader(store) as reader:
        (run,) = reader.find_runs()
        assert run.id == 1 and run.status == "COMPLETED"
        assert run.config["lr"] == 0.5 and run.result == {"acc": 0.5}
        assert run.experiment_name == "sacred_side" and run.stop_time > run.start_time
        assert run.experiment["sources"][0][0] == "sacred_side.py"
        assert reader.get_artifact(1, "weights.bin") == artifact.read_bytes()
        assert "sacred says hi" in reader.get_run(1).captured_out
        assert reader.get_run(reader.fetch_metadata(indices=0)[0]["_id"]).id == 1  # uuid hex
        assert reader.get_metrics(1) == {}  # Sacred's TinyDbObserver keeps no metrics

    ex = make_experiment()
    ex.observers.append(TinyDbObserver(store))
    assert ex.run(options={"--beat-interval": "0.05"})._id == 2
    with TinyDbReader(store) as reader:
        assert [r.status for r in reader.find_runs()] == ["COMPLETED", "COMPLETED"]
        assert reader.get_artifact(1, "weights.bin") == artifact.read_bytes()


def test_our_store_is_read_by_sacreds_reader(store, tmp_path):
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"\xff\x00" * 4096)
    observer = TinyDbObserver(store)
    ex = make_experiment()
    ex.observers.append(observer)
    ex.run(config_updates={"artifact": str(artifact)}, options={"--beat-interval": "0.05"})
    failing = make_experiment(outcome="fail")
    failing.observers.append(observer)
    with pytest.raises(ValueError):
        failing.run(options={"--beat-interval": "0.05"})

    seen = json.loads(_sacred(tmp_path, SACRED_READS, str(store)))
    assert seen["status"] == ["COMPLETED", "FAILED"]
    assert [c["lr"] for c in seen["config"]] == [0.1, 0.1]
    assert seen["result"] == [1.0, None]
    assert seen["artifacts"] == [{"model.bin": artifact.read_bytes().hex()}, {}]
    assert "Experiment: mnist" in seen["report"] and "model.bin" in seen["report"]

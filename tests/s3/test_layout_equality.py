"""One run recorded by ``-F -S -G`` at once: the three run folders hold the same bytes.

Needs both servers (moto's and fake-gcs-server); the GCS fixtures come from tests/gcs's.
"""

from __future__ import annotations

import json
from pathlib import Path

from sacredlike import Experiment
from sacredlike.console import main as console


def _local_files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def _without_markers(objects: dict[str, bytes]) -> dict[str, bytes]:
    return {key: data for key, data in objects.items() if not key.endswith("/")}


def _split_resources(files: dict[str, bytes]) -> tuple[dict[str, bytes], list]:
    """The files with run.json's ``resources`` left out, and those resources.

    Each sink names a stored resource by its own path, as Sacred does: the local path of
    ``basedir/_resources/...`` for -F, the key in the bucket for -S and -G.
    """
    entry = json.loads(files["1/run.json"])
    resources = entry.pop("resources")
    return {**files, "1/run.json": json.dumps(entry, sort_keys=True).encode()}, resources


def test_file_s3_and_gcs_store_the_same_run(s3_cloud, gcs_cloud, tmp_path, capsys):
    artifact = tmp_path / "table.csv"
    artifact.write_text("a,b\n1,2\n")
    resource = tmp_path / "data.txt"
    resource.write_text("resource bytes")
    ex = Experiment("layout")

    @ex.config
    def config():
        width = 3

    @ex.main
    def main(_run, width):
        for step in range(3000):
            _run.log_scalar("loss", 1 / (step + 1))
            _run.log_scalar("acc", step % 7)
        print("x" * 200)
        _run.open_resource(str(resource)).close()
        _run.add_artifact(str(artifact))
        _run.info["width"] = width
        return {"done": True}

    folder = tmp_path / "runs"
    run = ex.run_commandline(
        ["x", "-F", str(folder), "-S", s3_cloud.url(), "-G", gcs_cloud.url(), "-b", "0.02"]
    )
    assert run.status == "COMPLETED"
    local = _local_files(folder)
    resources = [key for key in local if key.startswith("_resources/")]
    assert set(local) >= {"1/run.json", "1/config.json", "1/info.json", "1/cout.txt"}
    assert {"1/metrics.json", "1/metrics.jsonl", "1/table.csv", *resources} <= set(local)
    same, [[_, local_path]] = _split_resources(local)
    assert local_path == str(folder / resources[0])
    for cloud in (s3_cloud, gcs_cloud):
        files, [[_, key]] = _split_resources(_without_markers(cloud.objects()))
        assert files == same
        assert key == f"runs/{resources[0]}"  # the bucket prefix is "runs"
    assert set(s3_cloud.objects()) - set(local) == {"1/"}, "the run folder's marker"

    assert console(["ls", s3_cloud.url()]) == 0
    assert console(["metrics", gcs_cloud.url(), "1", "acc"]) == 0
    printed = capsys.readouterr().out
    assert "layout" in printed and "COMPLETED" in printed
    assert printed.count("acc") >= 3000

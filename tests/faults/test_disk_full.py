"""A disk that fills during a run (a 2 MB tmpfs) under FileStorage, TinyDB and the journal:
a clear error in the log, the experiment goes on, what was stored before stays readable."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from tests.service_helpers import under_ci

from .scenarios import Child, stored, user_sees

FREE = 300_000  # bytes left free on the small disk when the run starts
POINTS = 40_000


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs, nearly full. Skipped where mounting is refused (not root, a container)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        if under_ci() and os.geteuid() == 0:
            pytest.fail(f"mounting a tmpfs as root failed under CI: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        stats = os.statvfs(folder)
        filler = stats.f_bavail * stats.f_frsize - FREE
        (folder / f"filler-{uuid.uuid4().hex[:4]}").write_bytes(b"\0" * filler)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(urls, *extra, env=None):
    child = Child(urls, "--points", str(POINTS), "--every", "0.0001", *extra, env=env)
    run_id = child.run_id
    return child, run_id, child.finish()


@pytest.mark.parametrize("kind", ["files", "tinydb"])
def test_the_store_disk_fills(small_disk, kind, fault_table):
    url = str(small_disk / "runs") if kind == "files" else f"tinydb://{small_disk / 'tiny'}"
    child, run_id, code = _fill([url])
    status, values, _ = stored(url, run_id)
    fault_table.add(
        "disk fills (2 MB tmpfs)", kind, "bare", POINTS, len(values), status, user_sees(child.log())
    )
    assert code == 0, child.log()  # the experiment was not killed
    assert "No space left on device" in child.log()
    assert values == [float(step) for step in range(len(values))]  # a readable prefix
    if kind == "files":
        json.loads((small_disk / "runs" / str(run_id) / "run.json").read_text())


def test_the_journal_disk_fills(small_disk, tmp_path, fault_table):
    url = str(tmp_path / "runs")
    env = {"SACREDLIKE_JOURNAL_DIR": str(small_disk / "journal")}
    child, run_id, code = _fill([url], "--queue", env=env)
    status, values, _ = stored(url, run_id)
    fault_table.add(
        "disk fills (2 MB tmpfs)",
        "journal",
        "queue → files",
        POINTS,
        len(values),
        status,
        user_sees(child.log()),
    )
    assert code == 0, child.log()
    assert "writing the journal" in child.log() and "No space left on device" in child.log()
    assert status == "COMPLETED" and values == [float(step) for step in range(POINTS)]

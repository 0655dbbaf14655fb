"""The TinyDB sink (a local folder: metadata.json + hashfs/)."""

from __future__ import annotations

import pytest

from ..target import Target


@pytest.fixture
def backend_tinydb(tmp_path):
    """A fresh store folder."""
    pytest.importorskip("tinydb")
    from sacredlike.observers import TinyDbObserver

    root = tmp_path / "runs_db"

    def make(**kwargs):
        kwargs.setdefault("failure_dir", str(tmp_path / "unsent"))
        return TinyDbObserver(root, **kwargs)

    target = Target("tinydb", f"tinydb://{root}", make)
    yield target
    target.close()

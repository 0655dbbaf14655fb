"""The file storage sink (a local directory)."""

from __future__ import annotations

import pytest

from ..target import Target


@pytest.fixture
def backend_files(tmp_path):
    """A fresh run directory."""
    from sacredlike.observers import FileStorageObserver

    root = tmp_path / "runs"
    target = Target("files", str(root), lambda **kw: FileStorageObserver(root, **kw))
    yield target
    target.close()

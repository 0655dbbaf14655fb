"""Fixtures for every test: journals of QueueObservers go to the test's own folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def journal_dir(tmp_path, monkeypatch):
    """``SACREDLIKE_JOURNAL_DIR`` for the test (never the user's ~/.sacredlike/journal)."""
    folder = tmp_path / "journal"
    monkeypatch.setenv("SACREDLIKE_JOURNAL_DIR", str(folder))
    return folder

"""Bad store paths: one clear error when the observer is made, nothing stored is touched."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile

import pytest

from sacredlike.errors import CommandLineError, SinkRejected
from sacredlike.observers import TinyDbObserver

from .conftest import make_experiment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _snapshot(folder):
    return {
        path: open(os.path.join(top, path), "rb").read()
        for top, _, names in os.walk(folder)
        for path in names
    }


def test_a_file_is_not_a_store(tmp_path):
    path = tmp_path / "runs_db"
    path.write_text("not a folder")
    with pytest.raises(SinkRejected, match=r"runs_db is a file, not a folder"):
        TinyDbObserver(path)
    assert path.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"runs": {"1": {"status": "COMPL', "is not valid TinyDB JSON"),
        ("[1, 2, 3]", "is JSON but not a TinyDB file"),
        ('{"runs": {"first": {}}}', "is JSON but not a TinyDB file"),
    ],
)
def test_a_corrupt_metadata_file_is_refused_untouched(store, content, message):
    store.mkdir()
    (store / "metadata.json").write_text(content)
    before = _snapshot(store)
    with pytest.raises(SinkRejected, match=message) as caught:
        TinyDbObserver(store)
    assert "\n" not in str(caught.value)
    assert _snapshot(store) == before


def test_the_flag_fails_before_the_run_starts(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("x")
    ex = make_experiment()
    called = []
    ex.pre_run_hook(lambda: called.append(True))
    with pytest.raises(CommandLineError, match=r"-t/--tiny_db .* is a file, not a folder"):
        ex.run(options={"--tiny_db": str(path)})
    assert called == []


def _refused_as_nobody(store: str) -> None:
    """Exit 0 if, as the user nobody, TinyDbObserver(store) is refused as not writable."""
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    try:
        TinyDbObserver(store)
    except SinkRejected as error:
        sys.exit(0 if "is not writable" in str(error) else 2)
    sys.exit(3)


def test_an_unwritable_folder_is_refused(tmp_path):
    if os.geteuid() != 0:
        store = tmp_path / "locked"
        store.mkdir(mode=0o555)
        with pytest.raises(SinkRejected, match="is not writable"):
            TinyDbObserver(store)
        return
    top = tempfile.mkdtemp()
    try:
        os.chmod(top, 0o755)
        store = os.path.join(top, "locked")
        os.mkdir(store, 0o555)
        # a fresh single-threaded process (forking this one, with threads, may deadlock)
        # runs the check as nobody; it has the interpreter loaded before it drops root
        child = multiprocessing.get_context("forkserver").Process(
            target=_refused_as_nobody, args=(store,)
        )
        child.start()
        child.join(60)
        assert child.exitcode == 0
        assert os.listdir(store) == []
    finally:
        shutil.rmtree(top)


def test_overwrite_of_a_run_the_store_lacks_is_refused(tmp_path):
    TinyDbObserver(tmp_path / "runs_db")  # an empty store
    with pytest.raises(SinkRejected, match="holds no run 7 to overwrite"):
        TinyDbObserver(tmp_path / "runs_db", overwrite=7)

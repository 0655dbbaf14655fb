"""Corpus, category "cli": sink flags, credentials in error paths and exit codes.

Each case runs an experiment script as a process, as a user would, and checks its exit
status, its stderr (one line, no password) and what was stored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sacredlike import open_store
from tests.service_helpers import free_port

SCRIPT = """
from sacredlike import Experiment
ex = Experiment("cli_corpus", save_git_info=False)

@ex.automain
def main(_run):
    _run.log_scalar("loss", 0.5)
    print("ran")
    return 7
"""
SECRET = "Hunter2pw"


def run_script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the corpus script with ``args`` in ``tmp_path``."""
    path = tmp_path / "exp.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(path), "-C", "sys", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _results(url: str) -> list:
    with open_store(url) as reader:
        return [(run.status, run.result) for run in reader.find_runs()]


def test_repeated_file_storage_flag_records_in_each(tmp_path):
    done = run_script(tmp_path, "-F", "d1", "-F", "d2")
    assert done.returncode == 0, done.stderr
    for folder in ("d1", "d2"):
        assert _results(str(tmp_path / folder)) == [("COMPLETED", 7)]


def test_repeated_sql_flag_records_in_each(tmp_path):
    urls = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    done = run_script(tmp_path, "-s", urls[0], "-s", urls[1])
    assert done.returncode == 0, done.stderr
    for url in urls:
        assert _results(url) == [("COMPLETED", 7)]


def test_every_sink_flag_repeated_together(tmp_path, store):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    done = run_script(tmp_path, store.flag, store.url, "-s", other, "-F", "also")
    assert done.returncode == 0, done.stderr
    for url in (store.url, other, str(tmp_path / "also")):
        assert _results(url) == [("COMPLETED", 7)]


REFUSED_FLAGS = [
    ("sqlite_memory", ["-s", "sqlite://"], "in-memory SQLite database"),
    ("sqlite_memory_explicit", ["-s", "sqlite:///:memory:"], "in-memory SQLite database"),
    ("file_storage_empty", ["-F", ""], "directory name is empty"),
    ("file_storage_blank", ["-F", "  "], "directory name is empty"),
    ("sql_not_a_url", ["-s", "not a url"], "not a database URL"),
    ("mongo_bad_port", ["-m", "localhost:port"], "bad MongoDB location"),
]


@pytest.mark.parametrize(
    ("argv", "message"), [c[1:] for c in REFUSED_FLAGS], ids=[c[0] for c in REFUSED_FLAGS]
)
def test_refused_flag_is_one_line_and_exit_2(tmp_path, argv, message):
    done = run_script(tmp_path, *argv)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "ran" not in done.stdout


def _secret_urls() -> list[tuple[str, list[str]]]:
    closed = free_port()
    return [
        ("postgresql_closed_port", ["-s", f"postgresql://me:{SECRET}@127.0.0.1:{closed}/db"]),
        ("mariadb_wrong_password", ["-s", f"mysql://root:{SECRET}@127.0.0.1:3306/test"]),
        ("mongo_malformed_uri", ["-m", f"mongodb://u:{SECRET}@host:notaport/db"]),
        ("sql_unknown_driver", ["-s", f"oracle+nodriver://u:{SECRET}@host/db"]),
    ]


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("argv", [c[1] for c in _secret_urls()], ids=[c[0] for c in _secret_urls()])
def test_passwords_never_printed(tmp_path, argv, debug):
    done = run_script(tmp_path, *argv, *(["-d"] if debug else []))
    assert done.returncode == (1 if debug else 2), done.stderr
    assert SECRET not in done.stderr and SECRET not in done.stdout
    assert "***" in done.stderr
    if debug:
        assert "Traceback" in done.stderr
    else:
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr

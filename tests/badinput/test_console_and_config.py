"""Corpus, categories "console" and "config": the ``sacredlike`` command and config mistakes.

Every mistake is one line on stderr and exit status 2, never a traceback; reading a store
never creates one; the baseline run stays intact.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sacredlike import Experiment
from sacredlike.console import main as console

from .conftest import assert_intact, record


def _one_line_error(capsys, argv: list[str], message: str) -> None:
    assert console(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sacredlike: error: "), err
    assert message in err[0], err


CONSOLE_MISTAKES = [
    ("ls-bad-regex", ["ls", "{store}", "--experiment", "["], "bad regex"),
    ("ls-bad-config-filter", ["ls", "{store}", "--config", "lr"], "expects key=value"),
    ("show-unknown-run", ["show", "{store}", "999"], "no run"),
    ("show-unknown-text-run", ["show", "{store}", "nope"], "no run"),
    ("metrics-unknown-run", ["metrics", "{store}", "999"], "no run"),
    ("metrics-unknown-name", ["metrics", "{store}", "{run}", "nosuch"], "no metric 'nosuch'"),
]


@pytest.mark.parametrize(
    ("argv", "message"), [c[1:] for c in CONSOLE_MISTAKES], ids=[c[0] for c in CONSOLE_MISTAKES]
)
def test_console_mistake_is_one_line(store, baseline, capsys, argv, message):
    capsys.readouterr()
    filled = [a.format(store=store.url, run=baseline.run_id) for a in argv]
    _one_line_error(capsys, filled, message)
    assert_intact(store, baseline)


def test_console_reads_a_good_run(store, baseline, capsys):
    capsys.readouterr()
    assert console(["metrics", store.url, str(baseline.run_id), "base.loss"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 6


def test_a_missing_folder_is_an_error(tmp_path, capsys):
    _one_line_error(capsys, ["ls", str(tmp_path / "nowhere")], "no folder of runs")
    assert not (tmp_path / "nowhere").exists()


def test_a_file_given_as_a_store_is_an_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    _one_line_error(capsys, ["ls", str(tmp_path / "notes.txt")], "is a file")


def test_a_missing_sqlite_file_is_an_error_and_not_created(tmp_path, capsys):
    path = tmp_path / "typo.db"
    _one_line_error(capsys, ["ls", f"sqlite:///{path}"], "no SQLite database")
    assert not path.exists()


def test_a_closed_pipe_is_quiet(tmp_path):
    ex = Experiment("pipe", save_git_info=False)
    from sacredlike.observers import FileStorageObserver

    ex.observers.append(FileStorageObserver(str(tmp_path / "runs")))

    @ex.main
    def main(_run):
        for step in range(50_000):
            _run.log_scalar("x", step)

    ex.run(options={"--capture": "no"})
    command = f"{sys.executable} -m sacredlike.console metrics {tmp_path / 'runs'} 1 | head -2"
    done = subprocess.run(
        command, shell=True, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.count("\n") == 2 and "Traceback" not in done.stderr, done.stderr


CONFIG_MISTAKES = [
    ("add-config-int-key", {1: "one"}, [], "config key 1 (int) under the root is not a string"),
    ("add-config-nested-key", {"a": {(1, 2): 3}}, [], "config key (1, 2) (tuple) under a"),
    ("seed-float", {}, ["seed=1.5"], "seed must be an integer, got float 1.5"),
    ("seed-string", {}, ["seed='abc'"], "seed must be an integer, got str 'abc'"),
    ("seed-none", {}, ["seed=None"], "seed must be an integer, got NoneType"),
]

CONFIG_SCRIPT = """
import numpy
from sacredlike import Experiment
ex = Experiment("config_corpus", save_git_info=False)
ex.add_config({config!r})

@ex.automain
def main():
    print("ran")
"""


@pytest.mark.parametrize(
    ("config", "updates", "message"),
    [c[1:] for c in CONFIG_MISTAKES],
    ids=[c[0] for c in CONFIG_MISTAKES],
)
def test_config_mistake_is_one_line_with_numpy_imported(tmp_path: Path, config, updates, message):
    script = tmp_path / "exp.py"
    script.write_text(CONFIG_SCRIPT.format(config=config), encoding="utf-8")
    argv = [sys.executable, str(script), "-F", "runs", *(["with", *updates] if updates else [])]
    done = subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "ran" not in done.stdout and not os.path.exists(tmp_path / "runs" / "1")


def test_config_mistake_leaves_the_store_intact(store, baseline):
    from sacredlike.errors import ConfigError

    with pytest.raises(ConfigError, match="seed must be an integer"):
        record(store, lambda: None, config={"seed": 2.5})
    assert_intact(store, baseline)

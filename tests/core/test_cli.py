"""The ``sacredlike`` console command on a file store."""

from __future__ import annotations

import pytest

from sacredlike import Experiment
from sacredlike.console import main
from sacredlike.observers import FileStorageObserver

from .conftest import FAST


@pytest.fixture
def store(tmp_path):
    ex = Experiment("cli_exp", save_git_info=False)
    ex.observers.append(FileStorageObserver(tmp_path / "runs"))
    ex.add_config(lr=0.1)

    @ex.main
    def main_function(_run, lr):
        print("printed by the run")
        _run.log_scalar("loss", lr)
        return lr * 10

    ex.run(options=FAST)
    ex.run(config_updates={"lr": 0.5}, options=FAST)
    return str(tmp_path / "runs")


def test_ls_lists_and_filters(store, capsys):
    assert main(["ls", store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ID", "EXPERIMENT", "STATUS"]
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]
    assert main(["ls", store, "--config", "lr=0.5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["2"]


def test_show_and_metrics(store, capsys):
    assert main(["show", store, "1"]) == 0
    out = capsys.readouterr().out
    assert '"status": "COMPLETED"' in out and "printed by the run" in out
    assert main(["metrics", store, "2", "loss"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "name\tstep\tvalue\ttimestamp"
    assert lines[1].startswith("loss\t0\t0.5\t")


def test_errors_are_one_line(store, capsys):
    assert main(["show", store, "42"]) == 2
    assert "no run 42" in capsys.readouterr().err
    assert main(["ls", "nosuchscheme://x"]) == 2
    assert "registered schemes" in capsys.readouterr().err
    assert main(["ls", store, "--config", "oops"]) == 2

"""The command line of a real script, run as a process: records, exit codes, messages."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest

from .conftest import BASIC_SCRIPT


@pytest.fixture
def basic(script):
    return script(BASIC_SCRIPT)


def run_json(folder) -> dict:
    return json.loads((folder / "run.json").read_text())


def test_file_storage_run_with_updates_stores_the_config(basic, tmp_path):
    done = basic("-F", "runs", "with", "lr=0.5", "optimizer.name=adam", "fast", "name='you'")
    assert done.returncode == 0, done.stderr
    assert "hello you" in done.stdout
    config = json.loads((tmp_path / "runs" / "1" / "config.json").read_text())
    assert config["lr"] == 0.5 and config["steps"] == 1 and config["name"] == "you"
    assert config["optimizer"] == {"name": "adam", "momentum": 0.9}
    record = run_json(tmp_path / "runs" / "1")
    assert record["status"] == "COMPLETED" and record["result"] == 1
    assert record["meta"]["config_updates"] == {
        "lr": 0.5,
        "name": "you",
        "optimizer": {"name": "adam"},
    }
    assert record["meta"]["named_configs"] == ["fast"]


def test_run_metadata_flags(basic, tmp_path):
    done = basic("-F", "runs", "-n", "renamed", "-c", "try sgd", "-P", "4", "-i", "42", "-C", "no")
    assert done.returncode == 0, done.stderr
    record = run_json(tmp_path / "runs" / "42")
    assert record["experiment"]["name"] == "renamed"
    assert record["meta"]["comment"] == "try sgd" and record["meta"]["priority"] == 4
    assert record["meta"]["options"]["--capture"] == "no"


def test_queue_and_unobserved(basic, tmp_path):
    assert basic("-F", "runs", "-q").returncode == 0
    assert run_json(tmp_path / "runs" / "1")["status"] == "QUEUED"
    assert basic("-F", "other", "-u").returncode == 0
    assert not (tmp_path / "other" / "1").exists()


def test_builtin_and_unobserved_commands_create_no_records(basic, tmp_path):
    for command in ("print_config", "print_dependencies", "print_named_configs", "save_config"):
        done = basic(command, "-F", "runs")
        assert done.returncode == 0, done.stderr
    done = basic("peek", "-F", "runs")
    assert done.returncode == 0 and "peek 0.1" in done.stdout
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").glob("[0-9]*"))


def test_several_sink_flags_attach_several_observers(basic, tmp_path):
    done = basic("-F", "runs", "-s", f"sqlite:///{tmp_path / 'runs.db'}", "-C", "no")
    assert done.returncode == 0, done.stderr
    assert run_json(tmp_path / "runs" / "1")["status"] == "COMPLETED"
    with sqlite3.connect(tmp_path / "runs.db") as connection:
        assert connection.execute("select status from run").fetchall() == [("COMPLETED",)]


def test_exception_in_the_experiment_is_recorded_and_exits_1(basic, tmp_path):
    done = basic("fail", "-F", "runs")
    assert done.returncode == 1
    assert "ValueError: broken after 3 steps" in done.stderr
    assert 'exp.py", line' in done.stderr and "sacredlike" not in done.stderr.split("Traceback")[1]
    record = run_json(tmp_path / "runs" / "1")
    assert record["status"] == "FAILED"
    assert "ValueError: broken after 3 steps" in "".join(record["fail_trace"])


def test_debug_reraises_with_the_full_traceback(basic):
    done = basic("fail", "-d")
    assert done.returncode == 1
    assert "sacredlike" in done.stderr and "ValueError: broken after 3 steps" in done.stderr


def test_pdb_starts_the_post_mortem_debugger(basic):
    done = basic("fail", "-D", "-C", "no", stdin="p steps\nq\n")
    assert done.returncode == 1
    assert "(Pdb)" in done.stdout and "3" in done.stdout


ONE_LINE_ERRORS = [
    (["train"], "unknown command 'train'"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["-b", "soon"], "expected a number of seconds"),
    (["with", "lr=[1,"], "malformed value for 'lr'"),
    (["with", "a..b=1"], "malformed update 'a..b=1'"),
    (["with", "fats"], "unknown named config 'fats' (did you mean 'fast'?)"),
    (["with", "missing.yaml"], "config file not found: 'missing.yaml'"),
    (["with", "lrr=1"], "config key 'lrr' is not defined"),
    (["with", "steps='many'"], "config key 'steps' changes type from int (3) to str"),
    (["-m", "localhost:port"], "-m/--mongo_db 'localhost:port': bad MongoDB location"),
    (["-s", "not-a-url"], "-s/--sql 'not-a-url'"),
    (["help", "trian"], "unknown command 'trian'"),
]


@pytest.mark.parametrize(("argv", "message"), ONE_LINE_ERRORS)
def test_user_mistakes_are_one_line_and_exit_2(basic, tmp_path, argv, message):
    done = basic(*argv) if argv[0] == "help" else basic(*argv, "-F", "runs")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("exp.py: error: "), done.stderr
    assert message in lines[0]
    assert not (tmp_path / "runs" / "1").exists()


def test_debug_shows_the_traceback_of_a_user_mistake(basic):
    done = basic("with", "lrr=1", "-d")
    assert done.returncode == 1 and "Traceback" in done.stderr
    assert "ConfigAddedError" in done.stderr  # a ConfigError subclass, as in Sacred


def test_force_runs_despite_suspicious_updates(basic, tmp_path):
    done = basic("-f", "-F", "runs", "with", "lrr=1", "steps=2.5")
    assert done.returncode == 0, done.stderr
    assert "config key 'lrr' is not defined" in done.stderr
    assert json.loads((tmp_path / "runs" / "1" / "config.json").read_text())["lrr"] == 1


def test_missing_sink_library_names_the_extra(script):
    run = script(
        """
        from sacredlike import Experiment
        from sacredlike.registry import Sink, register_sink

        register_sink(Sink(name="phantom", observer="nowhere:Observer", extra="phantom",
                           requires=("no_such_driver_module",), flag="--phantom",
                           short_flag="-X", help="store runs nowhere"))
        ex = Experiment("phantom")

        @ex.automain
        def main():
            return 1
        """
    )
    done = run("-X", "somewhere")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install "sacredlike[phantom]"' in lines[0]


def git(folder, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def test_enforce_clean_refuses_a_dirty_tree(basic, tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "exp.py")
    git(tmp_path, "commit", "-q", "-m", "init")
    assert basic("-e", "-C", "no").returncode == 0
    with open(tmp_path / "exp.py", "a") as handle:
        handle.write("# changed\n")
    done = basic("-e", "-F", "runs")
    assert done.returncode == 2 and "uncommitted changes" in done.stderr
    assert not (tmp_path / "runs" / "1").exists()


def test_enforce_clean_outside_git(basic):
    done = basic("-e")
    assert done.returncode == 2 and "not in a git repository" in done.stderr


def test_only_the_sinks_given_by_flags_are_imported(script):
    run = script(
        """
        import sys
        from sacredlike import Experiment

        ex = Experiment("lean")
        ex.main(lambda: None)
        ex.run_commandline()
        loaded = [m for m in ("file_storage", "mongo", "sql")
                  if f"sacredlike.observers.{m}" in sys.modules]
        print("sinks loaded:", loaded)
        """
    )
    assert "loaded: []" in run("-u", "-C", "no", "-c", "fast").stdout
    assert "loaded: ['file_storage']" in run("-C", "no", "-F", "runs").stdout

"""Built-in commands, help, and commands that must not create run records."""

from __future__ import annotations

import importlib
import io
import json
import sys
from pathlib import Path

import pytest

import sacredlike
from sacredlike import Experiment, SacredInterrupt
from sacredlike.commandline import CLIOption
from sacredlike.config.summary import ConfigSummary
from sacredlike.errors import CommandLineError
from sacredlike.printing import format_config

from .conftest import FAST


class Recorder:
    """An observer that counts the events it receives."""

    priority = 0

    def __init__(self) -> None:
        self.events: list[str] = []

    def __getattr__(self, name: str):
        if name.endswith("_event") or name in ("log_metrics", "join"):
            return lambda **kwargs: self.events.append(name)
        raise AttributeError(name)


@pytest.fixture
def configured(ex: Experiment) -> Experiment:
    @ex.config
    def cfg():
        lr = 0.1  # learning rate
        optimizer = {"name": "sgd"}
        steps = 3

    @ex.named_config
    def fast():
        """Only one step.

        More text.
        """
        steps = 1

    ex.main(lambda lr: lr)
    return ex


def test_format_config_marks_changes_without_colour():
    summary = ConfigSummary(
        config={"lr": 1, "new": 2, "opt": {"name": "adam"}, "kind": "x", "empty": {}},
        docs={"lr": "learning rate", "opt.name": "which one"},
        added={"new"},
        modified={"lr", "opt.name", "kind"},
        typechanged={"kind"},
    )
    assert format_config(summary).splitlines() == [
        "Configuration (! type changed, + added, * modified, # doc):",
        "   empty = {}",
        "!  kind = 'x'",
        "*  lr = 1           # learning rate",
        "+  new = 2",
        "   opt:",
        "*    name = 'adam'  # which one",
    ]


def test_format_config_uses_colour_only_when_asked():
    summary = ConfigSummary(config={"lr": 1}, docs={"lr": "rate"}, modified={"lr"})
    coloured = format_config(summary, color=True)
    assert "\x1b[34m  lr = 1\x1b[0m" in coloured and "# rate" in coloured
    assert "\x1b[" not in format_config(summary, color=False)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_print_config_highlights_updates_and_colours_on_a_terminal(configured, monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stdout", pipe)
    observer = Recorder()
    configured.observers.append(observer)
    configured.run("print_config", {"lr": 0.5}, ["fast"], options=FAST)
    text = pipe.getvalue()
    assert "*  lr = 0.5" in text and "# learning rate" in text and "*  steps = 1" in text
    assert "\x1b[" not in text
    assert observer.events == []
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stdout", terminal)
    configured.run_commandline(["exp.py", "print_config", "with", "lr=0.5"])
    assert "\x1b[34m" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stdout", terminal)
    configured.run_commandline(["exp.py", "print_config", "with", "lr=0.5"])
    assert "*  lr = 0.5" in terminal.getvalue() and "\x1b[" not in terminal.getvalue()


def test_print_config_option_prints_before_running(configured, capsys):
    configured.run(config_updates={"steps": 2}, options={**FAST, "--print-config": True})
    assert "*  steps = 2" in capsys.readouterr().out


def test_save_config_writes_json_or_the_given_file(configured, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    configured.run_commandline(["exp.py", "save_config", "with", "lr=0.5"])
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["lr"] == 0.5 and "config_filename" not in saved and "seed" in saved
    configured.run_commandline(["exp.py", "save_config", "with", "config_filename=out.yaml"])
    assert "lr: 0.1" in (tmp_path / "out.yaml").read_text()


def test_print_named_configs_and_dependencies(configured, capsys):
    configured.run_commandline(["exp.py", "print_named_configs"])
    assert "fast  # Only one step." in capsys.readouterr().out
    configured.add_package_dependency("pytest")
    configured.run_commandline(["exp.py", "print_dependencies"])
    out = capsys.readouterr().out
    assert "Dependencies:" in out and "pytest" in out and "Sources:" in out
    assert "test_commands.py" in out  # the main file of the experiment, with its md5


def test_experiment_info_follows_sources_and_packages_added_or_edited_after_a_run(ex, tmp_path):
    source = tmp_path / "helper.py"
    source.write_text("a = 1\n")
    ex.main(lambda: None)
    ex.run(options=FAST)

    def helper_md5():
        sources = ex.get_experiment_info()["sources"]
        return next(md5 for path, md5 in sources if path.endswith("helper.py"))

    ex.add_source_file(source)
    ex.add_package_dependency("somepkg", "1.0")
    before = helper_md5()
    source.write_text("a = 22\n")
    assert helper_md5() != before
    assert "somepkg==1.0" in ex.get_experiment_info()["dependencies"]


def test_experiment_info_sees_modules_imported_after_a_run(tmp_path, monkeypatch):
    (tmp_path / "late_module_for_info.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "late_module_for_info", raising=False)
    ex = Experiment("late", base_dir=tmp_path, save_git_info=False)

    def names():
        return [path for path, _ in ex.get_experiment_info()["sources"]]

    assert "late_module_for_info.py" not in names()
    importlib.import_module("late_module_for_info")
    assert "late_module_for_info.py" in names()


def test_help_lists_commands_and_shows_one_command(configured, capsys):
    @configured.command
    def evaluate(lr, checkpoint="last.pt"):
        """Evaluate a checkpoint.

        Prints the score.
        """

    configured.run_commandline(["exp.py", "help"])
    out = capsys.readouterr().out
    # Python 3.13 shows "-F, --file_storage BASEDIR", older "-F BASEDIR, --file_storage BASEDIR"
    for name in (
        "evaluate",
        "print_config",
        "save_config",
        "print_dependencies",
        "--file_storage BASEDIR",
    ):
        assert name in out
    assert "Evaluate a checkpoint." in out
    configured.run_commandline(["exp.py", "help", "evaluate"])
    assert capsys.readouterr().out.startswith(
        "evaluate(lr, checkpoint='last.pt')\n\nEvaluate a checkpoint.\n\nPrints the score."
    )
    configured.run_commandline(["exp.py", "help", "save_config"])
    assert "config_filename" in capsys.readouterr().out


def test_help_for_an_unknown_command_exits_2(configured, capsys):
    with pytest.raises(SystemExit) as exited:
        configured.run_commandline(["exp.py", "help", "evalute"])
    assert exited.value.code == 2
    assert "unknown command 'evalute'" in capsys.readouterr().err


def test_unobserved_commands_and_unobserved_flag_create_no_records(configured):
    observer = Recorder()
    configured.observers.append(observer)

    @configured.command(unobserved=True)
    def quiet():
        return "quiet"

    configured.run("quiet", options=FAST)
    configured.run(options={**FAST, "--unobserved": True})
    assert observer.events == []
    configured.run(options=FAST)
    assert observer.events[0] == "started_event" and observer.events[-1] == "join"


def test_user_option_is_applied_to_the_run():
    from sacredlike.commandline_options import cli_option

    @cli_option("-o", "--own-tag")
    def own_tag(value, run):
        """Tag the run."""
        run.info["tag"] = value

    ex = Experiment("with_option", additional_cli_options=[own_tag])
    ex.main(lambda _run: _run.info["tag"])
    assert ex.run_commandline(["exp.py", "-o", "blue", "-C", "no"]).result == "blue"
    assert ex.run(options={**FAST, "--own-tag": "red"}).result == "red"


def test_no_main_function_is_a_clear_error(ex):
    with pytest.raises(CommandLineError, match="no main function"):
        ex.run()


class BrokenAtStart(Recorder):
    def started_event(self, **kwargs):
        raise ConnectionError("database down")


@pytest.mark.parametrize(
    ("problem", "status", "stderr"),
    [
        (KeyboardInterrupt, 130, ""),
        (type("Preempted", (SacredInterrupt,), {"STATUS": "PREEMPTED"}), 130, ""),
        ("observer", 1, "exp.py: error: observer BrokenAtStart failed in started_event: database"),
    ],
)
def test_interrupts_and_observer_failures_exit_with_their_status(
    ex, capsys, problem, status, stderr
):
    if problem == "observer":
        ex.observers.append(BrokenAtStart())
        ex.main(lambda: None)
    else:

        @ex.main
        def main():
            raise problem()

    with pytest.raises(SystemExit) as exited:
        ex.run_commandline(["exp.py", "-C", "no"])
    assert exited.value.code == status
    err = capsys.readouterr().err
    assert err.startswith(stderr) and err.count("\n") == (1 if stderr else 0), err


def test_user_traceback_leaves_out_sacredlike_frames_of_every_chained_exception(ex):
    from sacredlike.experiment import format_user_traceback

    @ex.main
    def main():
        try:
            ex.run("no_such_command")
        except CommandLineError as error:
            error.__context__ = RuntimeError("wrapped")  # a cycle: the chain still ends
            error.__context__.__context__ = error
            raise RuntimeError("wrapped") from error

    with pytest.raises(RuntimeError) as caught:
        ex.run(options=FAST)
    text = format_user_traceback(caught.value)
    assert "CommandLineError: unknown command 'no_such_command'" in text
    package = str(Path(sacredlike.__file__).parent)
    assert text.count("test_commands.py") == 3 and package not in text


def test_user_option_values_are_converted_and_bad_ones_named():
    count = CLIOption("--count", None, "how many", "N", convert=int)
    ex = Experiment("converted", additional_cli_options=[count])
    ex.main(lambda: None)
    assert ex.run(options={**FAST, "--count": "3"}).meta_info["options"]["--count"] == 3
    with pytest.raises(CommandLineError, match=r"^--count: invalid literal for int\(\)"):
        ex.run(options={**FAST, "--count": "many"})

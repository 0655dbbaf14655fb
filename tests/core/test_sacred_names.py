"""Sacred 0.8's public names and documented run behaviour, as a Sacred user's script uses them.

Written from Sacred's documentation: the API pages (``Experiment``, ``Run``, ``sacred.utils``,
``sacred.host_info``), the "Collected information" chapter (host info gatherers) and the
command-line chapter (option hooks, custom options).
"""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from sacredlike import Experiment

from .conftest import FAST, RecordingObserver


def test_top_level_decorators_are_importable():
    from sacredlike import cli_option, host_info_gatherer, host_info_getter

    assert callable(cli_option) and callable(host_info_gatherer) and callable(host_info_getter)


def test_utils_names_and_their_hierarchy():
    from sacredlike import utils

    assert issubclass(utils.ConfigAddedError, utils.ConfigError)
    assert issubclass(utils.ConfigError, utils.SacredError)
    assert issubclass(utils.ObserverError, utils.SacredError)
    assert issubclass(utils.TimeoutInterrupt, utils.SacredInterrupt)
    assert utils.TimeoutInterrupt.STATUS == "TIMEOUT"
    nested: dict = {"a": {"b": 1}}
    utils.set_by_dotted_path(nested, "a.c.d", 2)
    assert utils.get_by_dotted_path(nested, "a.c.d") == 2
    assert utils.get_by_dotted_path(nested, "a.x") is None
    assert utils.recursive_update(nested, {"a": {"b": 3}}) == {"a": {"b": 3, "c": {"d": 2}}}


def test_config_classes_at_sacreds_module_paths():
    from sacredlike.config.config_dict import ConfigDict
    from sacredlike.config.config_scope import ConfigScope

    def cfg():
        a = 1
        b = a + 1

    assert ConfigScope(cfg)() == {"a": 1, "b": 2}
    assert ConfigDict({"a": 1})() == {"a": 1}


def test_observers_reachable_from_the_top_package_without_loading_drivers():
    code = (
        "import sys, sacredlike\n"
        "assert 'sacredlike.observers' not in sys.modules\n"
        "sacredlike.observers.RunObserver, sacredlike.observers.FileStorageObserver\n"
        "loaded = [m for m in ('pymongo', 'sqlalchemy', 'httpx', 'mako') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_host_info_gatherer_adds_a_named_entry():
    from sacredlike import host_info_gatherer

    @host_info_gatherer("host IP address")
    def ip():
        return "127.0.0.1"

    ex = Experiment("hosted", additional_host_info=[ip], save_git_info=False)
    recorder = RecordingObserver()
    ex.observers.append(recorder)
    ex.main(lambda: None)
    ex.run(options=FAST)
    assert recorder.of("started_event")[0]["host_info"]["host IP address"] == "127.0.0.1"


def test_get_host_info_and_the_deprecated_getter(monkeypatch):
    from sacredlike import host_info, host_info_gatherer, host_info_getter

    monkeypatch.setattr(host_info, "host_info_gatherers", {})
    with pytest.warns(DeprecationWarning, match="host_info_getter"):

        @host_info_getter
        def greeting():
            return "hello"

    with pytest.warns(DeprecationWarning):

        @host_info_getter(name="answer")
        def whatever():
            return 42

    @host_info_gatherer("skipped")
    def skipped():
        raise host_info.IgnoreHostInfo

    info = host_info.get_host_info([skipped])
    assert info["greeting"] == "hello" and info["answer"] == 42
    assert "skipped" not in info
    assert isinstance(info["hostname"], str) and isinstance(info["python_version"], str)


def test_option_hook_sees_and_changes_the_options(ex, recorder):
    seen = {}

    @ex.option_hook
    def hook(options):
        seen.update(options)
        options["--comment"] = "set by the hook"

    ex.main(lambda: None)
    ex.run(options=FAST)
    assert seen["--capture"] == "sys" and seen["--unobserved"] is False
    assert seen["COMMAND"] == "<lambda>"
    assert recorder.of("started_event")[0]["meta_info"]["comment"] == "set by the hook"
    with pytest.raises(TypeError, match="options"):
        ex.option_hook(lambda opts: None)


def test_run_attributes_sacred_documents(ex):
    @ex.config
    def cfg():
        lr = 0.1

    calls = []
    ex.pre_run_hook(lambda: calls.append("pre"))
    ex.post_run_hook(lambda: calls.append("post"))
    ex.main(lambda: None)
    run = ex.run(config_updates={"lr": 0.5}, options=FAST)
    assert run.config_modifications.modified == {"lr"}
    assert run.config_modifications.added == set()
    assert len(run.pre_run_hooks) == 1 and len(run.post_run_hooks) == 1
    assert calls == ["pre", "post"]
    assert isinstance(run.root_logger, logging.Logger)
    assert run.run_logger.name == "test_exp"


def test_current_run_stays_set_after_the_run_and_refuses_new_events(ex, tmp_path):
    ex.main(lambda: 7)
    run = ex.run(options=FAST)
    assert ex.current_run is run and run.result == 7
    (tmp_path / "late.txt").write_text("x")
    with pytest.raises(RuntimeError, match="while the run is running"):
        ex.add_artifact(tmp_path / "late.txt")


def test_a_run_cannot_be_started_twice(ex, recorder):
    ex.main(lambda: None)
    run = ex.run(options=FAST)
    with pytest.raises(RuntimeError, match="only once"):
        run()
    assert recorder.names().count("started_event") == 1


def test_an_added_config_key_raises_config_added_error(ex):
    from sacredlike.utils import ConfigAddedError

    ex.main(lambda: None)
    with pytest.raises(ConfigAddedError) as caught:
        ex.run(config_updates={"unknown": 1}, options=FAST)
    assert caught.value.conflicting_configs == ("unknown",)


def test_a_fail_trace_given_as_a_string_is_stored_as_its_lines():
    import datetime as dt

    from sacredlike.record import RunRecord

    record = RunRecord()
    record.failed(dt.datetime(2024, 1, 1), "Traceback (most recent call last):\nValueError: x\n")
    assert record.fields["fail_trace"] == [
        "Traceback (most recent call last):\n",
        "ValueError: x\n",
    ]

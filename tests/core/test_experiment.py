"""Experiment basics: config injection, special arguments, seeds, options, host and sources."""

from __future__ import annotations

import random

import pytest

from sacredlike import Experiment
from sacredlike.errors import CommandLineError, ConfigError

from .conftest import FAST


def test_config_values_and_special_arguments_are_injected(ex, recorder):
    @ex.config
    def cfg():
        lr = 0.5
        model = {"depth": 3}

    seen = {}

    @ex.capture
    def helper(lr, _seed, _rnd, _log, factor=2):
        seen.update(helper_lr=lr, seed=_seed, rnd=_rnd, log=_log, factor=factor)
        return lr * factor

    @ex.main
    def main(lr, model, _run, _config, seed):
        seen.update(lr=lr, model=model, run=_run, config=_config, seed_root=seed)
        return helper(factor=3)

    run = ex.run(config_updates={"model.depth": 5}, options=FAST)
    assert run.result == 1.5
    assert seen["lr"] == 0.5 and seen["model"] == {"depth": 5}
    assert seen["run"] is run and seen["config"]["lr"] == 0.5
    assert isinstance(seen["seed"], int) and seen["factor"] == 3
    assert hasattr(seen["rnd"], "randint")
    assert seen["log"].name == "test_exp.helper"
    assert isinstance(seen["seed_root"], int) and run.config["seed"] == seen["seed_root"]


def test_fixed_seed_makes_runs_reproducible(ex):
    @ex.main
    def main(_rnd, _seed):
        return (_seed, _rnd.randint(0, 10**6), random.random())

    first = ex.run(config_updates={"seed": 42}, options=FAST).result
    second = ex.run(config_updates={"seed": 42}, options=FAST).result
    other = ex.run(config_updates={"seed": 43}, options=FAST).result
    assert first == second and first != other


def test_config_is_read_only_in_captured_functions(ex):
    ex.add_config(layers=[1, 2], opts={"a": 1})

    @ex.main
    def main(layers, opts, _config):
        for mutate in (lambda: layers.append(3), lambda: opts.update(b=2)):
            with pytest.raises(ConfigError, match="read-only"):
                mutate()
        with pytest.raises(ConfigError, match="read-only"):
            _config["layers"] = []

    ex.run(options=FAST)


def test_missing_argument_names_the_parameter(ex):
    @ex.main
    def main(not_in_config):
        return not_in_config

    with pytest.raises(TypeError, match="'not_in_config': not passed and not in the config"):
        ex.run(options=FAST)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"--no-such-flag": True}, "unknown option 'no_such_flag'"),
        ({"--capture": "tee"}, "unknown mode 'tee'"),
        ({"--loglevel": "LOUD"}, "unknown level 'LOUD'"),
    ],
)
def test_bad_options_give_one_clear_error(ex, options, message):
    ex.main(lambda: None)
    with pytest.raises(CommandLineError, match=message):
        ex.run(options=options)


def test_both_beat_interval_spellings_are_accepted(ex):
    ex.main(lambda _run: _run.beat_interval)
    assert ex.run(options={"--beat_interval": 0.5, "--capture": "no"}).result == 0.5
    assert ex.run(options={"--beat-interval": 0.25, "--capture": "no"}).result == 0.25


def test_unknown_command_lists_the_available_ones(ex):
    ex.main(lambda: None)
    with pytest.raises(CommandLineError, match="unknown command 'train'; available: <lambda>"):
        ex.run("train")


def test_experiment_and_host_info(ex, recorder, tmp_path):
    extra = tmp_path / "helper_data.py"
    extra.write_text("X = 1\n")
    ex.add_source_file(extra)
    ex.add_package_dependency("numpy")
    ex.additional_host_info["gpu_count"] = lambda: 0
    ex.main(lambda: None)
    ex.run(options={**FAST, "--name": "renamed", "--comment": "first try"})
    started = recorder.of("started_event")[0]
    info = started["ex_info"]
    assert info["name"] == "renamed"
    assert any(path.endswith("helper_data.py") and len(md5) == 32 for path, md5 in info["sources"])
    assert any(dep.startswith("numpy==") for dep in info["dependencies"])
    assert any(dep.startswith("sacredlike==") for dep in info["dependencies"])
    assert started["host_info"]["gpu_count"] == 0
    assert started["meta_info"]["comment"] == "first try"
    assert {"hostname", "os", "python_version", "cpu"} <= set(started["host_info"])


def test_git_info_is_recorded_for_sources_in_a_repository(tmp_path):
    import subprocess

    source = tmp_path / "train.py"
    source.write_text("print('hi')\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.email=a@b", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    ex = Experiment("git_exp", base_dir=tmp_path)
    ex.add_source_file(source)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    repos = ex.get_experiment_info()["repositories"]
    assert {"url": None, "commit": head.strip(), "dirty": False} in repos
    assert ex.get_experiment_info() is not ex.get_experiment_info()  # copies, never shared


def test_current_run_helpers_outside_a_run_raise(ex):
    with pytest.raises(RuntimeError, match="no run is active"):
        ex.log_scalar("x", 1)


def test_ex_level_helpers_act_on_the_current_run(ex, recorder):
    @ex.main
    def main():
        ex.log_scalar("acc", 0.75)
        ex.info["k"] = "v"

    ex.run(options=FAST)
    assert recorder.points("acc") == [0.75]
    assert recorder.of("heartbeat_event")[-1]["info"] == {"k": "v"}


def test_imported_packages_match_installed_metadata():
    import importlib.metadata

    import numpy  # noqa: F401 - imported so that it is listed
    import pytest as pytest_module  # noqa: F401

    from sacredlike.dependencies import imported_packages

    listed = imported_packages()
    assert f"numpy=={importlib.metadata.version('numpy')}" in listed
    assert f"pytest=={importlib.metadata.version('pytest')}" in listed
    assert not any(entry.split("==")[0] in ("os", "json", "sys") for entry in listed)


def test_passwords_in_option_values_are_not_recorded(ex, recorder):
    ex.main(lambda: None)
    ex.run(options={**FAST, "--comment": "see mongodb://alice:s3cret@db.example/exps"})
    meta = recorder.of("started_event")[0]["meta_info"]
    assert meta["options"]["--comment"] == "see mongodb://alice:***@db.example/exps"
    assert meta["comment"] == "see mongodb://alice:***@db.example/exps"
    assert "s3cret" not in repr(meta)

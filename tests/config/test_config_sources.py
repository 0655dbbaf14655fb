"""Config sources, their order of precedence, docs, ingredients and update checks."""

from __future__ import annotations

import functools
import json
import logging
import sys

import numpy
import pytest

from sacredlike import SETTINGS, Experiment, Ingredient
from sacredlike.config import ConfigScope
from sacredlike.errors import CommandLineError, ConfigError, MissingExtra

from .conftest import FAST


def test_scope_locals_become_entries_and_non_config_locals_are_left_out(ex):
    @ex.config
    def cfg():
        import math

        lr = 0.1
        epochs = 2
        total = lr * epochs
        square = lambda x: x * x  # noqa: E731

        def helper():
            return 1

        _private = 3
        kind = math.floor(2.5)
        cls = dict

    assert ex.gather_config().config.keys() == {"lr", "epochs", "total", "kind", "seed"}


def test_with_updates_win_and_dependent_entries_follow(ex):
    @ex.config
    def cfg():
        lr = 0.1
        epochs = 2
        total = lr * epochs
        optimizer = {"name": "sgd", "momentum": 0.9}
        optimizer["nesterov"] = epochs > 1

    config = ex.gather_config({"lr": 1, "optimizer": {"name": "adam"}}).config
    assert config["lr"] == 1 and config["total"] == 2
    assert config["optimizer"] == {"name": "adam", "momentum": 0.9, "nesterov": True}


def test_comments_become_docs():
    def cfg():
        # the learning rate
        # (per step)
        lr = 0.1
        epochs = 2  # passes over the data
        batch = 32

    scope = ConfigScope(cfg)
    assert scope.docs == {"lr": "the learning rate (per step)", "epochs": "passes over the data"}


def test_config_scope_parameters_read_earlier_entries(ex):
    """Sacred's configuration chapter: ``def my_config2(a)`` reads and may change ``a``."""

    @ex.config
    def my_config1():
        a = 10
        b = "test"

    @ex.config
    def my_config2(a):
        c = a * 2
        a = -1

    ex.main(lambda: None)
    config = ex.gather_config({}, [], "main").config
    assert {key: config[key] for key in "abc"} == {"a": -1, "b": "test", "c": 20}
    assert ex.gather_config({"a": 5}, [], "main").config["c"] == 10


def test_config_scope_parameter_without_an_earlier_entry_is_an_error(ex):
    @ex.config
    def needs(missing):
        x = missing

    ex.main(lambda: None)
    with pytest.raises(ConfigError, match="takes missing, which no earlier config defines"):
        ex.gather_config({}, [], "main")
    with pytest.raises(ConfigError, match="cannot have a default"):
        ex.config(lambda x=1: None)


def test_precedence_of_sources(ex, tmp_path):
    """add_config/@config in order < config hooks < named configs in order < updates."""
    (tmp_path / "base.json").write_text(json.dumps({"a": "file", "b": "file", "f": 1}))
    ex.add_config({"a": "dict", "b": "dict", "c": "dict", "d": "dict", "e": "dict"})
    ex.add_config(str(tmp_path / "base.json"))

    @ex.config
    def cfg():
        b = "scope"
        c = "scope"
        d = "scope"
        e = "scope"
        seen_a = a  # noqa: F821 - earlier sources are readable

    @ex.config_hook
    def hook(config, command_name, logger):
        return {"c": "hook", "d": "hook", "e": "hook", "hook_saw": config["b"]}

    ex.add_named_config("one", {"d": "named1", "e": "named1"})
    ex.add_named_config("two", e="named2")
    ex.main(lambda: None)
    config = ex.gather_config({"e": "update"}, ["one", "two"], "main").config
    assert config["a"] == "file" and config["seen_a"] == "file" and config["f"] == 1
    assert (config["b"], config["c"], config["d"], config["e"]) == (
        "scope",
        "hook",
        "named1",
        "update",
    )
    assert config["hook_saw"] == "scope"


def test_partial_update_of_a_dict_keeps_its_other_entries_readable(ex):
    ex.add_config(opt={"lr": 0.1, "name": "sgd"})

    @ex.config
    def cfg():
        label = f"{opt['name']}-{opt['lr']}"  # noqa: F821

    assert ex.gather_config({"opt": {"lr": 1}}).config["label"] == "sgd-1"


def test_later_named_config_wins_and_named_values_feed_the_scopes(ex):
    @ex.config
    def cfg():
        width = 8
        area = width * width

    @ex.named_config
    def wide():
        width = 100

    @ex.named_config
    def narrow():
        width = 2

    assert ex.gather_config(named_configs=["wide", "narrow"]).config["area"] == 4
    assert ex.gather_config(named_configs=["narrow", "wide"]).config["area"] == 10000


def test_named_config_files_json_and_yaml(ex, tmp_path):
    ex.add_config(lr=0.1, layers=[1])
    (tmp_path / "a.json").write_text('{"lr": 0.5}')
    (tmp_path / "b.yaml").write_text("layers: [3, 4]\n")
    ex.add_named_config("from_file", str(tmp_path / "b.yaml"))
    config = ex.gather_config(named_configs=[str(tmp_path / "a.json"), "from_file"]).config
    assert config["lr"] == 0.5 and config["layers"] == [3, 4]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("c.json", None, "config file not found"),
        ("c.json", b"[1, 2]", "must hold a mapping"),
        ("c.json", b"{", "malformed"),
        ("c.yaml", b"a: [1", "malformed"),
        ("c.yml", b"when: 2001-13-45", "malformed"),
        ("c.json", b'{"a": "\xff"}', "malformed"),
    ],
)
def test_bad_config_files(ex, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        ex.gather_config(named_configs=[str(path)])


def test_add_config_refuses_a_file_of_unknown_type(ex, tmp_path):
    (tmp_path / "c.txt").write_text("a = 1")
    with pytest.raises(ConfigError, match=r"unknown type '\.txt'; use one of .json, .yaml"):
        ex.add_config(str(tmp_path / "c.txt"))


def test_yaml_without_pyyaml_names_the_extra(ex, tmp_path, monkeypatch):
    (tmp_path / "c.yaml").write_text("a: 1\n")
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(MissingExtra, match=r'pip install "sacredlike\[yaml\]"'):
        ex.add_config(str(tmp_path / "c.yaml"))


def test_unknown_named_config_suggests_the_closest(ex):
    ex.add_named_config("big_model", size=3)
    with pytest.raises(ConfigError, match=r"unknown named config 'bigmodel' \(did you mean"):
        ex.gather_config(named_configs=["bigmodel"])


def test_root_always_has_a_seed_that_updates_can_set(ex):
    assert isinstance(ex.gather_config().config["seed"], int)
    assert ex.gather_config({"seed": 5}).config["seed"] == 5


def make_ingredient_experiment():
    data = Ingredient("dataset")

    @data.config
    def data_cfg():
        n = 10  # number of samples
        path = "train.csv"

    @data.named_config
    def small():
        n = 2

    @data.capture
    def load(n, path, _config):
        return n, path, dict(_config)

    @data.command
    def stats(n):
        """Print stats."""
        return f"stats {n}"

    ex = Experiment("with_ingredients", ingredients=[data])

    @ex.config
    def cfg():
        samples = dataset["n"] * 2  # noqa: F821 - ingredient config is readable
        source = dataset["path"]  # noqa: F821
        optimizer = {"name": "sgd", "lr": 0.1}

    @ex.capture(prefix="optimizer")
    def make_optimizer(name, lr):
        return name, lr

    @ex.main
    def main(samples):
        return samples, load(), make_optimizer()

    return ex


def test_ingredient_config_lives_under_its_path():
    ex = make_ingredient_experiment()
    summary = ex.gather_config({"dataset": {"n": 4}})
    assert summary.config["dataset"] == {"n": 4, "path": "train.csv"}
    assert summary.config["samples"] == 8 and summary.config["source"] == "train.csv"
    assert summary.docs["dataset.n"] == "number of samples"


def test_ingredient_named_configs_and_commands_use_the_path():
    ex = make_ingredient_experiment()
    assert ex.gather_config(named_configs=["dataset.small"]).config["dataset"]["n"] == 2
    assert ex.run("dataset.stats", options=FAST).result == "stats 10"
    assert ex.run("dataset.stats", named_configs=["dataset.small"], options=FAST).result == (
        "stats 2"
    )


def test_captured_functions_of_ingredients_and_prefixes_read_their_subtree():
    ex = make_ingredient_experiment()
    samples, loaded, optimizer = ex.run(config_updates={"optimizer.lr": 0.5}, options=FAST).result
    assert samples == 20
    assert loaded == (10, "train.csv", {"n": 10, "path": "train.csv"})
    assert optimizer == ("sgd", 0.5)


def test_nested_ingredients():
    inner = Ingredient("tokenizer")
    inner.add_config(vocab=100)
    inner.add_named_config("huge", vocab=10**6)
    inner.command(lambda vocab: vocab, unobserved=True)
    outer = Ingredient("corpus", ingredients=[inner])

    @outer.config
    def corpus_cfg():
        size = tokenizer["vocab"] * 2  # noqa: F821 - a sub-ingredient's config is readable

    ex = Experiment("nested", ingredients=[outer])
    ex.main(lambda: None)
    config = ex.gather_config(named_configs=["tokenizer.huge"]).config
    assert config["tokenizer"] == {"vocab": 10**6} and config["corpus"] == {"size": 2 * 10**6}
    assert ex.run("tokenizer.<lambda>", {"tokenizer.vocab": 7}, options=FAST).result == 7


def test_pre_and_post_run_hooks_run_around_main(ex):
    calls = []
    ex.add_config(lr=0.3)
    ex.pre_run_hook(lambda lr: calls.append(("pre", lr)))
    ex.post_run_hook(lambda _run: calls.append(("post", _run.result)))
    ex.main(lambda: calls.append("main") or "done")
    ex.run(options=FAST)
    assert calls == [("pre", 0.3), "main", ("post", "done")]


def test_summary_tracks_added_modified_and_typechanged(ex):
    ex.add_config(lr=0.1, steps=3, name="a", nested={"x": 1, "y": [1]}, maybe=None)
    ex.add_named_config("more", extra=1, steps=3)
    summary = ex.gather_config(
        {"lr": 1, "name": 5, "nested": {"x": 2, "y": (1,)}, "maybe": "set", "new": 1},
        ["more"],
    )
    assert summary.added == {"extra", "new"}
    assert summary.modified == {"lr", "name", "nested.x", "maybe"}
    assert summary.typechanged == {"name"}


def test_unknown_update_key_is_an_error_naming_the_closest_key(ex):
    ex.add_config(learning_rate=0.1)
    ex.main(lambda: None)
    with pytest.raises(ConfigError, match=r"'learning_rat' is not defined .* 'learning_rate'"):
        ex.run(config_updates={"learning_rat": 1}, options=FAST)


def test_update_of_a_captured_parameter_is_allowed(ex):
    @ex.main
    def main(patience=3, options=None):
        return patience, options

    assert ex.run(config_updates={"patience": 5}, options=FAST).result == (5, None)
    result = ex.run(config_updates={"options.deep": 1}, options=FAST).result
    assert result == (3, {"deep": 1})


def test_type_change_is_an_error_but_int_float_and_none_are_fine(ex):
    ex.add_config(steps=3, rate=1, maybe=None)
    ex.main(lambda steps, rate, maybe: (steps, rate, maybe))
    with pytest.raises(ConfigError, match=r"'steps' changes type from int \(3\) to str"):
        ex.run(config_updates={"steps": "many"}, options=FAST)
    result = ex.run(config_updates={"rate": 0.5, "maybe": [1]}, options=FAST).result
    assert result == (3, 0.5, [1])


def test_force_turns_update_errors_into_warnings(ex, caplog):
    ex.add_config(steps=3)
    ex.main(lambda steps: steps)
    with caplog.at_level(logging.WARNING):
        run = ex.run(config_updates={"steps": "x", "stpes": 4}, options={**FAST, "--force": True})
    assert run.result == "x"
    warned = " ".join(record.getMessage() for record in caplog.records)
    assert "'stpes' is not defined" in warned and "'steps' changes type" in warned


def test_config_is_read_only_in_captured_functions_unless_disabled(ex, monkeypatch):
    ex.add_config(layers=[1, 2], opt={"lr": 1})

    @ex.main
    def main(layers, opt):
        layers.append(3)
        opt["lr"] = 2
        return layers, opt

    with pytest.raises(ConfigError, match="read-only"):
        ex.run(options=FAST)
    monkeypatch.setitem(SETTINGS.CONFIG, "READ_ONLY_CONFIG", False)
    assert ex.run(options=FAST).result == ([1, 2, 3], {"lr": 2})


def test_unknown_command_suggests_the_closest(ex):
    ex.main(lambda: None)
    with pytest.raises(CommandLineError, match=r"'print_confg' \(did you mean 'print_config'"):
        ex.run("print_confg")


def test_captured_functions_fill_keyword_parameters_and_name_the_missing_ones(ex):
    ex.add_config(a=1, b=2, c=3, opt={"lr": 0.1})

    @ex.capture
    def f(a, /, b, *rest, c, d=4, **more):
        return a, b, c, d, rest, more

    @ex.capture(prefix="opt")
    def g(lr, momentum):
        return lr, momentum

    @ex.main
    def main():
        with pytest.raises(TypeError, match=r"^f\(\) is missing 'a': not passed and not in"):
            f()  # positional-only parameters never come from the config
        with pytest.raises(TypeError, match=r"g\(\) is missing 'momentum': .* under 'opt'$"):
            g()
        return f(0), f(0, 5, 6, c=7, e=8), g(momentum=0.9)

    assert ex.run(options=FAST).result == (
        (0, 2, 3, 4, (), {}),
        (0, 5, 7, 4, (6,), {"e": 8}),
        (0.1, 0.9),
    )


def _function_without_source():
    namespace: dict = {}
    exec("def generated():\n    a = 1\n", namespace)
    return namespace["generated"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_function_without_source, "cannot read the source of config function 'generated'"),
        (
            lambda: functools.partial(lambda: None),
            r"cannot read the source of config function 'functools",
        ),
        (lambda: lambda: None, "config source of '<lambda>' is not a function"),
    ],
)
def test_config_functions_without_a_readable_body_are_refused(ex, make, message):
    with pytest.raises(ConfigError, match=message):
        ex.config(make())


def test_add_config_takes_a_dict_or_keywords_but_not_both(ex):
    with pytest.raises(ConfigError, match="a config must be a dict, got list"):
        ex.add_config([1, 2])
    with pytest.raises(ConfigError, match="not both"):
        ex.add_config({"a": 1}, b=2)


def test_updates_of_array_entries_are_compared_without_errors(ex):
    ex.add_config(weights=numpy.array([1, 2]), same=numpy.array([3]))
    summary = ex.gather_config({"weights": [1, 2], "same": numpy.array([3])})
    assert summary.modified == {"weights"}  # array == list is element-wise: not comparable


def test_config_sources_can_be_called_for_their_entries(ex):
    @ex.config
    def cfg():
        lr = 0.1
        steps = 2 * lr

    ex.add_config(epochs=3)
    assert cfg(fixed={"lr": 1}) == {"lr": 1, "steps": 2}
    assert ex.configurations[1](fixed={"batch": 8}) == {"epochs": 3, "batch": 8}

"""Parsing the experiment command line: every flag, every form of ``with`` update."""

from __future__ import annotations

import logging

import pytest

from sacredlike.commandline import (
    CORE_OPTIONS,
    CLIOption,
    cli_option,
    parse_command_line,
    parse_update_value,
    parse_updates,
)
from sacredlike.errors import CommandLineError
from sacredlike.registry import registered_sinks


def parse(*argv: str, extra=()):
    return parse_command_line(argv, prog="exp.py", commands={"main": ""}, extra_options=extra)


SWITCHES = [
    ("-q", "--queue", "queue"),
    ("-u", "--unobserved", "unobserved"),
    ("-d", "--debug", "debug"),
    ("-D", "--pdb", "pdb"),
    ("-f", "--force", "force"),
    ("-e", "--enforce_clean", "enforce_clean"),
    ("-p", "--print-config", "print_config"),
    (None, "--print_config", "print_config"),
]


@pytest.mark.parametrize(("short", "long", "key"), SWITCHES)
def test_every_switch_in_both_spellings(short, long, key):
    for flag in filter(None, (short, long)):
        assert parse(flag).options == {key: True}


VALUED = [
    ("-n", "--name", "other", "name", "other"),
    ("-c", "--comment", "try sgd", "comment", "try sgd"),
    ("-P", "--priority", "3", "priority", 3),
    ("-P", "--priority", "2.5", "priority", 2.5),
    ("-i", "--id", "17", "id", 17),
    ("-i", "--id", "run-a", "id", "run-a"),
    ("-b", "--beat-interval", "0.5", "beat_interval", 0.5),
    (None, "--beat_interval", "2", "beat_interval", 2.0),
    ("-C", "--capture", "sys", "capture", "sys"),
    ("-l", "--loglevel", "debug", "loglevel", logging.DEBUG),
    ("-l", "--loglevel", "25", "loglevel", 25),
]


@pytest.mark.parametrize(("short", "long", "text", "key", "value"), VALUED)
def test_every_valued_option_in_both_spellings(short, long, text, key, value):
    for flag in filter(None, (short, long)):
        assert parse(flag, text).options == {key: value}


def test_every_core_option_has_a_one_line_help():
    for option in CORE_OPTIONS:
        assert option.help and "\n" not in option.help, option.long


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-C", "tee"], "unknown mode 'tee'"),
        (["-l", "LOUD"], "unknown level 'LOUD'"),
        (["-b", "soon"], "expected a number of seconds"),
        (["-P", "high"], "expected a number"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["-n"], "expected one argument"),
        (["main", "extra"], "unrecognized arguments: extra"),
        (["help", "a", "b"], "at most one command"),
    ],
)
def test_bad_flags_raise_one_clear_error(argv, message):
    with pytest.raises(CommandLineError, match=message):
        parse(*argv)


def test_every_registered_sink_flag_is_an_option():
    sinks = [sink for sink in registered_sinks() if sink.flag]
    assert {"file_storage", "mongo", "sql"} <= {sink.name for sink in sinks}
    for sink in sinks:
        key = sink.flag.lstrip("-")
        for flag in filter(None, (sink.short_flag, sink.flag)):
            assert parse(flag, "somewhere").options == {key: "somewhere"}


def test_several_sink_flags_at_once():
    parsed = parse("-F", "runs", "-s", "sqlite:///r.db", "-m", "db")
    assert parsed.options == {"file_storage": "runs", "sql": "sqlite:///r.db", "mongo_db": "db"}


def test_command_updates_and_options_in_any_order():
    parsed = parse("main", "-F", "runs", "with", "a.b=1", "fast", "cfg.yaml", "-c", "x")
    assert parsed.command == "main"
    assert parsed.config_updates == {"a": {"b": 1}}
    assert parsed.named_configs == ["fast", "cfg.yaml"]
    assert parsed.options == {"file_storage": "runs", "comment": "x"}


def test_help_forms():
    assert parse("help").help and parse("help").command is None
    assert parse("help", "main").command == "main"
    assert parse("-F", "runs", "help").help
    with pytest.raises(SystemExit) as exited:
        parse("--help")
    assert exited.value.code == 0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("-2.5", -2.5),
        ("1e-3", 0.001),
        ("True", True),
        ("None", None),
        ("[1, 2]", [1, 2]),
        ("(1, 'a')", (1, "a")),
        ("{'a': 1}", {"a": 1}),
        ("'quoted'", "quoted"),
        ('"with space"', "with space"),
        ("adam", "adam"),
        ("data/train.csv", "data/train.csv"),
        ("", ""),
        ("1.2.3", "1.2.3"),
    ],
)
def test_update_values_are_literals_else_strings(text, value):
    assert parse_update_value(text) == value
    assert type(parse_update_value(text)) is type(value)


@pytest.mark.parametrize("depth", [3000, 100_000])
def test_values_too_deep_to_parse_are_strings(depth):
    """The parser gives up with RecursionError or MemoryError (by depth); no traceback."""
    text = "-" * depth + "1"
    assert parse_update_value(text) == text


@pytest.mark.parametrize("text", ["[1, 2", "{a: 1}", "'open", '"open', "(1,", "{[1]: 2}"])
def test_malformed_literal_values_are_errors(text):
    with pytest.raises(CommandLineError, match=r"malformed value for 'key'"):
        parse_update_value(text, "key")


def test_updates_nest_dotted_keys_and_collect_named_configs():
    updates, named = parse_updates(["a.b.c=1", "a.d='x'", "top=[1]", "big", "more.yml"])
    assert updates == {"a": {"b": {"c": 1}, "d": "x"}, "top": [1]}
    assert named == ["big", "more.yml"]


@pytest.mark.parametrize("token", ["=1", "a..b=1", "1a=2", "a-b=3", ".a=1"])
def test_malformed_keys_are_errors(token):
    with pytest.raises(CommandLineError, match="malformed update"):
        parse_updates([token])


def test_additional_options_and_cli_option_decorator():
    @cli_option("-o", "--own-flag", is_flag=True)
    def own_flag(value, run):
        """Set my flag."""

    @cli_option(None, "--level")
    def level(value, run):
        """Pick a level."""

    assert own_flag == CLIOption("--own-flag", "-o", "Set my flag.", None, apply=own_flag.apply)
    assert level.metavar == "LEVEL" and level.help == "Pick a level."
    parsed = parse("-o", "--level", "7", extra=[own_flag, level])
    assert parsed.options == {"own_flag": True, "level": "7"}


def test_user_option_clashing_with_a_flag_is_a_clear_error():
    clash = CLIOption("--file-store", "-F", "my own -F")
    with pytest.raises(CommandLineError, match="-F of option --file-store is already taken by"):
        parse("-q", extra=[clash])

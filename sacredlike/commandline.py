"""The experiment's own command line: ``python exp.py [COMMAND] [with UPDATE...] [options]``.

Options come from one table (:data:`CORE_OPTIONS`), the sink registry (each sink's flag) and
the experiment's ``additional_cli_options``; nothing else needs to change when a sink is
added.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config.paths import set_by_dotted_path
from .errors import CommandLineError
from .registry import registered_sinks


@dataclass(frozen=True)
class CLIOption:
    """A command-line option of experiments.

    Attributes:
        long: the long flag, e.g. ``"--beat-interval"``; its options key is the name without
            dashes and with ``-`` as ``_`` (``beat_interval``).
        short: the short flag, e.g. ``"-b"``, or None.
        help: one line shown by ``--help``.
        metavar: name of the option's argument; None for a switch (True when given).
        aliases: other long spellings accepted.
        apply: for user options, ``apply(value, run)`` called before the run starts.
        convert: turns the argument string into the option's value.
    """

    long: str
    short: str | None = None
    help: str = ""
    metavar: str | None = None
    aliases: tuple[str, ...] = ()
    apply: Callable[[Any, Any], None] | None = None
    convert: Callable[[str], Any] = str

    @property
    def key(self) -> str:
        """The key of this option in ``options`` dicts."""
        return option_key(self.long)


def option_key(name: str) -> str:
    """Normalize an option name: ``--beat-interval``, ``beat_interval`` → ``beat_interval``."""
    return name.lstrip("-").replace("-", "_")


def _positive_or_zero_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None


CORE_OPTIONS: tuple[CLIOption, ...] = (
    CLIOption("--queue", "-q", "only queue the run (record it as QUEUED) without running it"),
    CLIOption("--unobserved", "-u", "run without observers"),
    CLIOption("--name", "-n", "experiment name for this run", "NAME"),
    CLIOption("--comment", "-c", "add a comment to the run (meta.comment)", "COMMENT"),
    CLIOption(
        "--priority", "-P", "priority of a queued run (meta.priority)", "PRIORITY", convert=float
    ),
    CLIOption("--id", "-i", "preset the run id", "ID"),
    CLIOption(
        "--beat-interval",
        "-b",
        "seconds between heartbeats (<= 0: only the final beat)",
        "SECONDS",
        aliases=("--beat_interval",),
        convert=_positive_or_zero_float,
    ),
    CLIOption("--capture", "-C", "output capture mode: no, sys or fd", "MODE"),
    CLIOption("--loglevel", "-l", "log level name or number (e.g. DEBUG, 20)", "LEVEL"),
    CLIOption("--debug", "-d", "re-raise errors instead of printing a filtered traceback"),
    CLIOption("--pdb", "-D", "start the post-mortem debugger on an error"),
    CLIOption("--force", "-f", "do not fail on config keys that are added or change type"),
    CLIOption("--enforce_clean", "-e", "refuse to run when the git tree has uncommitted changes"),
    CLIOption(
        "--print-config",
        "-p",
        "print the config before running",
        aliases=("--print_config",),
    ),
)


@dataclass
class ParsedCommandLine:
    """What the command line asks for."""

    command: str | None = None
    config_updates: dict[str, Any] = field(default_factory=dict)
    named_configs: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    help: bool = False


def parse_update_value(text: str) -> Any:
    """A ``with`` value: a Python literal if it parses as one, otherwise the string itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_updates(tokens: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """Split ``with`` tokens into nested config updates and named configs / config files.

    Raises:
        CommandLineError: a token like ``=1`` or ``a..b=1`` has no valid key.
    """
    updates: dict[str, Any] = {}
    named: list[str] = []
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep:
            named.append(token)
            continue
        key = key.strip()
        if not key or any(not part.isidentifier() for part in key.split(".")):
            raise CommandLineError(
                f"malformed update {token!r}: expected key=value with a dotted Python name as key"
            )
        set_by_dotted_path(updates, key, parse_update_value(value))
    return updates, named


def all_options(extra: Sequence[CLIOption] = ()) -> list[CLIOption]:
    """Core options, every registered sink's flag, then ``extra``."""
    options = list(CORE_OPTIONS)
    for sink in registered_sinks():
        if sink.flag:
            options.append(
                CLIOption(
                    sink.flag,
                    sink.short_flag,
                    sink.help or f"add a {sink.name} observer",
                    sink.metavar,
                )
            )
    options.extend(extra)
    return options


def build_parser(
    prog: str, commands: Iterable[str], options: Sequence[CLIOption]
) -> argparse.ArgumentParser:
    """The argparse parser for options (``with`` updates are split off before it runs)."""
    command_list = ", ".join(sorted(commands)) or "none"
    parser = argparse.ArgumentParser(
        prog=prog,
        usage=f"{prog} [COMMAND] [with UPDATE ...] [options]",
        description=f"Commands: {command_list}. 'with' takes key=value updates (values parsed "
        "as Python literals), named configs and JSON/YAML config files.",
        allow_abbrev=False,
    )
    parser.add_argument("command", nargs="?", help="command to run (default: the main function)")
    for option in options:
        flags = [f for f in (option.short, option.long, *option.aliases) if f]
        if option.metavar is None:
            parser.add_argument(*flags, dest=option.key, action="store_true", help=option.help)
        else:
            parser.add_argument(
                *flags,
                dest=option.key,
                metavar=option.metavar,
                type=option.convert,
                help=option.help,
            )
    return parser


def parse_command_line(
    argv: Sequence[str],
    *,
    prog: str,
    commands: Iterable[str],
    extra_options: Sequence[CLIOption] = (),
) -> ParsedCommandLine:
    """Parse the arguments after the script name.

    ``-h``/``--help`` and argparse errors exit as argparse does (status 0 / 2).

    Raises:
        CommandLineError: a malformed ``with`` update.
    """
    arguments = list(argv)
    if arguments[:1] == ["help"]:
        return ParsedCommandLine(command=arguments[1] if len(arguments) > 1 else None, help=True)
    before, with_tokens, after = _split_with(arguments)
    options = all_options(extra_options)
    parser = build_parser(prog, commands, options)
    namespace = parser.parse_args(before + after)
    updates, named = parse_updates(with_tokens)
    given = {
        option.key: getattr(namespace, option.key)
        for option in options
        if getattr(namespace, option.key) not in (None, False)
    }
    return ParsedCommandLine(
        command=namespace.command,
        config_updates=updates,
        named_configs=named,
        options=given,
    )


def _split_with(arguments: list[str]) -> tuple[list[str], list[str], list[str]]:
    if "with" not in arguments:
        return arguments, [], []
    position = arguments.index("with")
    tokens: list[str] = []
    rest = arguments[position + 1 :]
    while rest and not rest[0].startswith("-"):
        tokens.append(rest.pop(0))
    return arguments[:position], tokens, rest


def print_help(parser: argparse.ArgumentParser, command: str | None, doc: str | None) -> None:
    """Print the help of the experiment, or of one command."""
    if command is None:
        parser.print_help()
    else:
        print(f"{command}:\n{doc or '(no documentation)'}", file=sys.stdout)


__all__ = [
    "CORE_OPTIONS",
    "CLIOption",
    "ParsedCommandLine",
    "all_options",
    "build_parser",
    "option_key",
    "parse_command_line",
    "parse_update_value",
    "parse_updates",
    "print_help",
]

"""The experiment's own command line: ``python exp.py [COMMAND] [with UPDATE...] [options]``.

Options come from one table (:data:`CORE_OPTIONS`), the sink registry (each sink's flag) and
the experiment's ``additional_cli_options``; nothing else needs to change when a sink is
added.
"""

from __future__ import annotations

import argparse
import ast
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .config.paths import set_by_dotted_path
from .errors import CommandLineError, MissingExtra, SacredlikeError
from .output_capture import CAPTURE_MODES
from .printing import first_line
from .redaction import redact_credentials
from .registry import Sink, registered_sinks
from .suggest import unknown_name


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
        repeatable: the option may be given several times; its value is then a list.
    """

    long: str
    short: str | None = None
    help: str = ""
    metavar: str | None = None
    aliases: tuple[str, ...] = ()
    apply: Callable[[Any, Any], None] | None = None
    convert: Callable[[str], Any] = str
    repeatable: bool = False

    @property
    def key(self) -> str:
        """The key of this option in ``options`` dicts."""
        return option_key(self.long)

    @property
    def flags(self) -> list[str]:
        """Every spelling of the option: short, long, then aliases."""
        return [flag for flag in (self.short, self.long, *self.aliases) if flag]


def option_key(name: str) -> str:
    """Normalize an option name: ``--beat-interval``, ``beat_interval`` → ``beat_interval``."""
    return name.lstrip("-").replace("-", "_")


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None


def _priority(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _run_id(text: str) -> int | str:
    """Numeric ids stay numbers (sinks with numeric ids need them), anything else a string."""
    return int(text) if text.isdigit() else text


def _capture_mode(text: str) -> str:
    if text not in CAPTURE_MODES:
        raise argparse.ArgumentTypeError(
            f"unknown mode {text!r}; choose one of {', '.join(CAPTURE_MODES)}"
        )
    return text


def log_level(text: str) -> int:
    """A log level from its name (``DEBUG``, case-insensitive) or number (``10``).

    Raises:
        argparse.ArgumentTypeError: neither a level name nor a number.
    """
    text = str(text).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    level = logging.getLevelName(text.upper())
    if not isinstance(level, int):
        raise argparse.ArgumentTypeError(
            f"unknown level {text!r}; use DEBUG, INFO, WARNING, ERROR, CRITICAL or a number"
        )
    return level


CORE_OPTIONS: tuple[CLIOption, ...] = (
    CLIOption("--queue", "-q", "only queue the run (record it as QUEUED) without running it"),
    CLIOption("--unobserved", "-u", "run without observers"),
    CLIOption(
        "--queue_observers",
        "-Q",
        "deliver the observers of the sink flags through a QueueObserver (journal on disk, "
        "background writes, `sacredlike sync` for what is left)",
    ),
    CLIOption(
        "--strict-observers",
        None,
        "fail the run when an observer fails (default: log it, retry, record it in the run)",
        aliases=("--strict_observers",),
    ),
    CLIOption("--name", "-n", "experiment name for this run", "NAME"),
    CLIOption("--comment", "-c", "add a comment to the run (meta.comment)", "COMMENT"),
    CLIOption(
        "--priority",
        "-P",
        "priority of a queued run (meta.priority)",
        "PRIORITY",
        convert=_priority,
    ),
    CLIOption("--id", "-i", "preset the run id", "ID", convert=_run_id),
    CLIOption(
        "--beat-interval",
        "-b",
        "seconds between heartbeats (<= 0: only the final beat)",
        "SECONDS",
        aliases=("--beat_interval",),
        convert=_seconds,
    ),
    CLIOption(
        "--capture", "-C", "output capture mode: no, sys or fd", "MODE", convert=_capture_mode
    ),
    CLIOption(
        "--loglevel", "-l", "log level name or number (e.g. DEBUG, 20)", "LEVEL", convert=log_level
    ),
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


_LITERAL_MARKS = "[{(\"'"


def parse_update_value(text: str, key: str = "value") -> Any:
    """A ``with`` value: a Python literal if it parses as one, otherwise the string itself.

    Raises:
        CommandLineError: the value starts like a list, dict, tuple or quoted string but does
            not parse (``[1, 2``, ``"abc``, ``{a: 1}``).
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
        if text.lstrip().startswith(tuple(_LITERAL_MARKS)):
            raise CommandLineError(
                f"malformed value for {key!r}: {text!r} is not a valid Python literal "
                f"({type(error).__name__}); quote strings inside lists and dicts, e.g. "
                f'{key}=\'["a", "b"]\''
            ) from None
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
        set_by_dotted_path(updates, key, parse_update_value(value, key))
    return updates, named


def _core_options(extra: Sequence[CLIOption] = ()) -> dict[str, CLIOption]:
    """Core options and ``extra`` by key: those known without loading the sink registry."""
    return {option.key: option for option in (*CORE_OPTIONS, *extra)}


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
                    repeatable=True,
                )
            )
    options.extend(extra)
    return options


def check_options(options: Mapping[str, Any], extra: Sequence[CLIOption] = ()) -> dict[str, Any]:
    """``options`` by key (``beat_interval``), string values converted as on the command line.

    Options that are False or None are left out. The sink registry is loaded only when an
    option is neither a core option nor in ``extra``.

    Raises:
        CommandLineError: an unknown option, or a value its option cannot convert.
    """
    known = _core_options(extra)
    if any(option_key(name) not in known for name in options):
        known = {option.key: option for option in all_options(extra)}
    checked = {}
    for name, value in options.items():
        key = option_key(name)
        if key not in known:
            raise CommandLineError(unknown_name("option", key, known))
        option = known[key]
        if isinstance(value, str) and option.metavar is not None:
            try:
                value = option.convert(value)
            except (argparse.ArgumentTypeError, ValueError) as error:
                raise CommandLineError(f"{option.long}: {error}") from None
        if value not in (None, False):
            checked[key] = value
    return checked


def sink_observers(options: Mapping[str, Any], extra: Sequence[CLIOption] = ()) -> list[Any]:
    """The observers the sink flags among checked ``options`` ask for, in registry order.

    A sink flag given several times (``-s A -s B``, or a list in ``options``) attaches one
    observer per value.

    Raises:
        CommandLineError: a flag's value is not a location its sink understands.
        MissingExtra: a sink's library is not installed.
    """
    if options.keys() <= _core_options(extra).keys():
        return []
    observers = []
    for sink in registered_sinks():
        if not sink.flag or option_key(sink.flag) not in options:
            continue
        values = options[option_key(sink.flag)]
        for value in [values] if isinstance(values, str) else values:
            observers.append(_observer_from_flag(sink, str(value)))
    if options.get("queue_observers"):
        from .observers.queue import QueueObserver

        observers = [QueueObserver(observer) for observer in observers]
    return observers


def _observer_from_flag(sink: Sink, value: str) -> Any:
    """The observer a sink flag asks for; a bad value becomes one clear error naming the flag.

    Credentials in the value and in the error are masked (:func:`redact_credentials`).
    """
    flags = "/".join(flag for flag in (sink.short_flag, sink.flag) if flag)
    try:
        return sink.observer_from_flag(value)
    except MissingExtra:
        raise
    except (SacredlikeError, ValueError, OSError) as error:
        message = f"{flags} {value!r}: {error}"
        raise CommandLineError(redact_credentials(message)) from error


class _Parser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`CommandLineError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        """Raise the error (the caller prints it as one line)."""
        raise CommandLineError(f"{message} (see --help)")


def build_parser(
    prog: str, commands: Mapping[str, str], options: Sequence[CLIOption]
) -> argparse.ArgumentParser:
    """The argparse parser for options (``with`` updates are split off before it runs).

    Args:
        prog: the program name shown in usage lines.
        commands: ``{name: one-line help}`` of the commands, listed in the help text.
        options: the options to accept.
    """
    width = max(map(len, commands), default=0)
    listing = "\n".join(f"  {name:<{width}}  {commands[name]}" for name in sorted(commands))
    parser = _Parser(
        prog=prog,
        usage=f"{prog} [COMMAND] [with UPDATE ...] [options]\n       {prog} help [COMMAND]",
        description=f"commands:\n{listing or '  (none)'}\n\n"
        "UPDATE is key.sub=value (the value is parsed as a Python literal, otherwise kept as a\n"
        "string), the name of a named config, or the path of a JSON/YAML config file.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("command", nargs="?", help="command to run (default: the main function)")
    owners: dict[str, str] = {}
    for option in options:
        flags = option.flags
        for flag in flags:
            if flag in owners:
                raise CommandLineError(
                    f"the flag {flag} of option {option.long} is already taken by "
                    f"{owners[flag]}; choose another flag in additional_cli_options"
                )
            owners[flag] = option.long
        if option.metavar is None:
            parser.add_argument(*flags, dest=option.key, action="store_true", help=option.help)
        elif option.repeatable:
            parser.add_argument(
                *flags,
                dest=option.key,
                metavar=option.metavar,
                type=option.convert,
                action="append",
                help=f"{option.help} (repeat for several)",
            )
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
    commands: Mapping[str, str],
    extra_options: Sequence[CLIOption] = (),
) -> ParsedCommandLine:
    """Parse the arguments after the script name.

    ``-h``/``--help`` prints the help and exits with status 0, as argparse does.

    Raises:
        CommandLineError: an unknown flag, a bad flag value or a malformed ``with`` update.
    """
    arguments = list(argv)
    if arguments[:1] == ["help"]:
        if len(arguments) > 2:
            raise CommandLineError("help takes at most one command name")
        return ParsedCommandLine(command=arguments[1] if len(arguments) > 1 else None, help=True)
    before, with_tokens, after = _split_with(arguments)
    options = _options_for(before + after, extra_options)
    parser = build_parser(prog, commands, options)
    namespace = parser.parse_args(before + after)
    if namespace.command == "help":
        return ParsedCommandLine(help=True)
    updates, named = parse_updates(with_tokens)
    given = {
        option.key: _single(getattr(namespace, option.key))
        for option in options
        if getattr(namespace, option.key) not in (None, False)
    }
    return ParsedCommandLine(
        command=namespace.command,
        config_updates=updates,
        named_configs=named,
        options=given,
    )


def _single(value: Any) -> Any:
    """A repeatable option's value: the value itself when it was given once, else the list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _options_for(arguments: list[str], extra: Sequence[CLIOption]) -> list[CLIOption]:
    """The core options, or all options when the sink flags may matter.

    They may when the experiment has ``extra`` options (their flags must not clash with a
    sink's) or when a flag-like argument is not a core flag (a sink flag, ``-h``, a typo,
    ``-Cno``); only then is the sink registry loaded.
    """
    known = {flag for option in CORE_OPTIONS for flag in option.flags}
    if extra or any(
        arg.startswith("-") and arg.partition("=")[0] not in known for arg in arguments
    ):
        return all_options(extra)
    return list(CORE_OPTIONS)


def _split_with(arguments: list[str]) -> tuple[list[str], list[str], list[str]]:
    if "with" not in arguments:
        return arguments, [], []
    position = arguments.index("with")
    tokens: list[str] = []
    rest = arguments[position + 1 :]
    while rest and not rest[0].startswith("-"):
        tokens.append(rest.pop(0))
    return arguments[:position], tokens, rest


def cli_option(
    short: str | None, long: str, is_flag: bool = False
) -> Callable[[Callable[[Any, Any], None]], CLIOption]:
    """Decorator (Sacred's): turn ``function(value, run)`` into a :class:`CLIOption`.

    The function's docstring is the option's help; it is called before the run starts with
    the option's value (True for a flag) and the :class:`~sacredlike.run.Run`. Pass the
    result in ``Experiment(additional_cli_options=[...])``.

    Args:
        short: the short flag, e.g. ``"-o"``, or None.
        long: the long flag, e.g. ``"--own-flag"``.
        is_flag: the option takes no value.
    """

    def decorate(function: Callable[[Any, Any], None]) -> CLIOption:
        return CLIOption(
            long,
            short,
            first_line(function.__doc__),
            None if is_flag else option_key(long).upper(),
            apply=function,
        )

    return decorate


__all__ = [
    "CORE_OPTIONS",
    "CLIOption",
    "ParsedCommandLine",
    "all_options",
    "build_parser",
    "check_options",
    "cli_option",
    "log_level",
    "option_key",
    "parse_command_line",
    "parse_update_value",
    "parse_updates",
    "sink_observers",
]

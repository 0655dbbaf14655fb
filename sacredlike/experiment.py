"""Experiment: the entry point users decorate; builds and executes runs."""

from __future__ import annotations

import copy
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .builtin_commands import BUILTIN_COMMANDS, BuiltinCommand, CommandContext
from .captured_function import CapturedFunction
from .commandline import (
    CLIOption,
    all_options,
    build_parser,
    check_options,
    parse_command_line,
    sink_observers,
)
from .config import iterate_flattened, read_only, recursive_update, set_by_dotted_path
from .config.summary import ConfigSummary, update_problems
from .dependencies import prefetch_package_index
from .errors import (
    CommandLineError,
    ConfigAddedError,
    ConfigError,
    MissingExtra,
    ObserverError,
    SacredInterrupt,
    UnknownSink,
)
from .experiment_info import check_clean, gather_experiment_info
from .host_info import host_info
from .ingredient import Ingredient, check_command
from .output_capture import uncaptured_stderr
from .printing import first_line, format_config, use_color
from .redaction import redact_credentials
from .run import Run
from .settings import SETTINGS

_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_USER_ERRORS = (CommandLineError, ConfigError, MissingExtra, UnknownSink)


class Experiment(Ingredient):
    """The main ingredient: owns commands, observers and the command line.

    Args:
        name: experiment name (default: the main file's name without ``.py``).
        ingredients: ingredients whose config and commands the experiment uses.
        interactive: allow use from an interactive session (accepted for compatibility).
        base_dir: directory whose imported modules are recorded as sources.
        additional_host_info: extra host entries, ``{name: function}`` or functions
            (their ``__name__`` is the entry name).
        additional_cli_options: extra :class:`~sacredlike.commandline.CLIOption` flags.
        save_git_info: record the git commit, dirty flag and remote URL.
        strict_observers: an observer failing during the run fails the run (FAILED) instead of
            being logged and retried; also ``--strict-observers``.
    """

    def __init__(
        self,
        name: str | None = None,
        ingredients: Sequence[Ingredient] = (),
        interactive: bool = False,
        base_dir: str | os.PathLike[str] | None = None,
        additional_host_info: Mapping[str, Callable[[], Any]]
        | Sequence[Callable[[], Any]]
        | None = None,
        additional_cli_options: Sequence[CLIOption] | None = None,
        save_git_info: bool = True,
        strict_observers: bool = False,
    ) -> None:
        caller_globals = sys._getframe(1).f_globals
        mainfile = caller_globals.get("__file__")
        if name is None:
            if not mainfile:
                raise ConfigError("an interactive experiment needs a name: Experiment('name')")
            name = Path(mainfile).stem
        super().__init__(
            name,
            ingredients=tuple(ingredients),
            interactive=interactive,
            base_dir=base_dir,
            save_git_info=save_git_info,
            _mainfile=os.path.abspath(mainfile) if mainfile else None,
        )
        self.observers: list[Any] = []
        self.captured_out_filter: Callable[[str], str] | None = None
        self.current_run: Run | None = None
        self.default_command: str | None = None
        self.option_hooks: list[Callable[..., Any]] = []
        if isinstance(additional_host_info, Mapping):
            self.additional_host_info = dict(additional_host_info)
        else:
            self.additional_host_info = {f.__name__: f for f in additional_host_info or ()}
        self.additional_cli_options = list(additional_cli_options or ())
        self.strict_observers = strict_observers
        if SETTINGS.DISCOVER_DEPENDENCIES == "imported":
            prefetch_package_index()

    # -- decorators ------------------------------------------------------------------------
    def main(self, function: Callable[..., Any]) -> CapturedFunction:
        """Decorator: the default command."""
        captured = self.command(function)
        self.default_command = captured.__name__
        return captured

    def automain(self, function: Callable[..., Any]) -> CapturedFunction:
        """Decorator: the default command, run from the command line when the file is run."""
        captured = self.main(function)
        if function.__module__ == "__main__":
            self.run_commandline()
        return captured

    def option_hook(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: ``function(options)`` may change the options right before a run.

        ``options`` maps every long flag (``"--capture"``, ``"--comment"``, sink flags, ...)
        to its value; the function changes it in place.

        Raises:
            TypeError: the function has no parameter named ``options``.
        """
        if "options" not in inspect.signature(function).parameters:
            raise TypeError(
                f"option hook {getattr(function, '__name__', function)!r} must take a "
                "parameter named 'options'"
            )
        self.option_hooks.append(function)
        return function

    # -- acting on the current run ---------------------------------------------------------
    def _run_now(self) -> Run:
        if self.current_run is None:
            raise RuntimeError("no run is active: call this from inside the experiment's main")
        return self.current_run

    def log_scalar(self, name: str, value: Any, step: Any = None) -> None:
        """Log a metric point to the current run."""
        self._run_now().log_scalar(name, value, step)

    def add_artifact(
        self,
        filename: str | os.PathLike[str],
        name: str | None = None,
        metadata: dict | None = None,
        content_type: str | None = None,
    ) -> None:
        """Add an artifact to the current run."""
        self._run_now().add_artifact(filename, name, metadata, content_type)

    def add_resource(self, filename: str | os.PathLike[str]) -> None:
        """Add a resource to the current run."""
        self._run_now().add_resource(filename)

    def open_resource(self, filename: str | os.PathLike[str], mode: str = "r") -> Any:
        """Open a file and record it as a resource of the current run."""
        return self._run_now().open_resource(filename, mode)

    @property
    def info(self) -> dict[str, Any]:
        """The current run's ``info`` dict."""
        return self._run_now().info

    # -- running ---------------------------------------------------------------------------
    def run(
        self,
        command_name: str | None = None,
        config_updates: Mapping | None = None,
        named_configs: Sequence[str] = (),
        info: Mapping | None = None,
        meta_info: Mapping | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Run:
        """Run a command (default: the main function) and return the finished :class:`Run`.

        Exceptions of the command propagate after the run was recorded as FAILED or
        INTERRUPTED.

        Args:
            command_name: which command; default the ``@main`` function.
            config_updates: nested or dotted ``{key: value}`` updates (they win over all).
            named_configs: named configs (or JSON/YAML file paths) to apply, in order.
            info: initial ``run.info``.
            meta_info: extra entries of the run's ``meta``.
            options: command-line options by long name (``{"--capture": "sys"}``).
        """
        run = self._create_run(
            command_name, config_updates, named_configs, info, meta_info, options
        )
        self.current_run = run  # stays set after the run, as in Sacred
        run()
        return run

    def _create_run(
        self,
        command_name: str | None,
        config_updates: Mapping | None,
        named_configs: Sequence[str],
        info: Mapping | None,
        meta_info: Mapping | None,
        options: Mapping[str, Any] | None,
    ) -> Run:
        prepared = self._prepare(command_name, config_updates, named_configs, options)
        command_name, options = prepared.command, prepared.options
        summary = prepared.summary
        config = read_only(summary.config) if SETTINGS.CONFIG.READ_ONLY_CONFIG else summary.config
        experiment_info = self.get_experiment_info()
        if "name" in options:
            experiment_info["name"] = options["name"]
        builtin = prepared.builtin
        if options.get("enforce_clean") and builtin is None:
            check_clean(experiment_info)
        meta = {
            "command": command_name,
            "options": {f"--{key}": value for key, value in options.items()},
            "config_updates": prepared.updates,
            "named_configs": list(named_configs),
            **dict(meta_info or {}),
        }
        for key in ("comment", "priority"):
            if key in options:
                meta[key] = options[key]
        meta = redact_credentials(meta)  # e.g. -m mongodb://user:password@host: never stored
        if builtin is None:
            main_function: Callable[..., Any] = self.gather_commands()[command_name]
            observers = [*self.observers, *sink_observers(options, self.additional_cli_options)]
        else:
            main_function = builtin.bind(CommandContext(self, summary, prepared.arguments))
            observers = []
        run = Run(
            config=config,
            main_function=main_function,
            observers=observers,
            run_logger=prepared.logger,
            experiment_info=experiment_info,
            host_info=host_info(self.additional_host_info),
            meta_info=meta,
            captured_functions=prepared.captured_functions,
            pre_run_hooks=[h for ing in self.traverse_ingredients() for h in ing.pre_run_hooks],
            post_run_hooks=[h for ing in self.traverse_ingredients() for h in ing.post_run_hooks],
            captured_out_filter=self.captured_out_filter,
            config_modifications=summary,
        )
        run.info.update(info or {})
        self._apply_options(run, prepared)
        return run

    def _prepare(
        self,
        command_name: str | None,
        config_updates: Mapping | None,
        named_configs: Sequence[str],
        options: Mapping[str, Any] | None,
    ) -> _Prepared:
        """Check the command and options, assemble and check the config."""
        command_name = command_name or self.default_command
        commands = self.gather_commands()
        names = [*commands, *BUILTIN_COMMANDS]
        if command_name is None:
            raise CommandLineError(
                "the experiment has no main function; decorate one with @ex.main or name a "
                f"command: {', '.join(sorted(names))}"
            )
        check_command(command_name, names)
        builtin = None if command_name in commands else BUILTIN_COMMANDS[command_name]
        options = check_options(options or {}, self.additional_cli_options)
        if self.option_hooks:
            options = self._hooked_options(command_name, config_updates or {}, options)
        updates = _nested_updates(config_updates or {})
        arguments = {
            key: updates.pop(key) for key in (builtin.takes if builtin else ()) if key in updates
        }
        run_logger = logging.getLogger(self.path)
        if "loglevel" in options:
            run_logger.setLevel(options["loglevel"])
        summary = self.gather_config(updates, named_configs, command_name, run_logger)
        functions = self.bind_captured_functions()
        problems = update_problems(
            summary,
            [path for path, _ in iterate_flattened(updates)],
            [path for function in functions for path in function.parameter_paths()],
        )
        if problems and not options.get("force"):
            message = "; ".join(p.message for p in problems) + " (use -f/--force to run anyway)"
            added = tuple(p.path for p in problems if p.added)
            if added:
                raise ConfigAddedError(message, added)
            raise ConfigError(message)
        for problem in problems:
            run_logger.warning("%s (accepted because of --force)", problem.message)
        if options.get("print_config") and command_name != "print_config":
            print(format_config(summary, color=use_color(sys.stdout)), flush=True)
        return _Prepared(
            command_name, builtin, options, updates, arguments, summary, run_logger, functions
        )

    def _hooked_options(
        self, command_name: str, config_updates: Mapping, options: dict[str, Any]
    ) -> dict[str, Any]:
        """Let the option hooks see and change every option, keyed by its long flag.

        Absent options are False (switches) or None; ``COMMAND`` and ``UPDATE`` are given
        too, but only the ``--flag`` entries are read back.
        """
        flagged: dict[str, Any] = {
            option.long: options.get(option.key, False if option.metavar is None else None)
            for option in all_options(self.additional_cli_options)
        }
        flagged["COMMAND"] = command_name
        flagged["UPDATE"] = [f"{key}={value!r}" for key, value in config_updates.items()]
        for hook in self.option_hooks:
            hook(options=flagged)
        chosen = {key: value for key, value in flagged.items() if key.startswith("--")}
        return check_options(chosen, self.additional_cli_options)

    def _apply_options(self, run: Run, prepared: _Prepared) -> None:
        options = prepared.options
        if "beat_interval" in options:
            run.beat_interval = float(options["beat_interval"])
        if "capture" in options:
            run.capture_mode = options["capture"]
        if "id" in options:
            run._id = options["id"]
        builtin = prepared.builtin is not None
        if builtin:
            run.capture_mode = "no"
        run.unobserved = (
            bool(options.get("unobserved"))
            or builtin
            or prepared.command in self.unobserved_command_names()
        )
        run.queue_only = bool(options.get("queue"))
        run.strict_observers = self.strict_observers or bool(options.get("strict_observers"))
        run.debug = bool(options.get("debug"))
        run.pdb = bool(options.get("pdb"))
        for option in self.additional_cli_options:
            if option.apply is not None and option.key in options:
                option.apply(options[option.key], run)

    def get_experiment_info(self) -> dict[str, Any]:
        """``{"name", "base_dir", "sources", "dependencies", "repositories", "mainfile"}``.

        Gathered anew on every call, so sources and packages added later and edited source
        files are seen (see :func:`~sacredlike.experiment_info.gather_experiment_info`);
        observers may keep the result.
        """
        return gather_experiment_info(self)

    # -- command line ----------------------------------------------------------------------
    def run_commandline(self, argv: Sequence[str] | None = None) -> Run | None:
        """Parse ``argv`` (default ``sys.argv``) and run what it asks for.

        User mistakes print one line on stderr and exit with status 2; an exception in the
        experiment prints a traceback of the user's frames and exits with status 1 after the
        run was recorded. ``-d`` prints Python's full traceback instead (status 1); ``-D`` opens
        the post-mortem debugger. Every message has its URLs' passwords masked.
        Built-in commands (``print_config``, ...) run without creating a run.
        """
        argv = list(sys.argv if argv is None else argv)
        prog = os.path.basename(argv[0]) if argv else self.path
        debug = "-d" in argv or "--debug" in argv
        try:
            parsed = parse_command_line(
                argv[1:],
                prog=prog,
                commands=self._command_help(),
                extra_options=self.additional_cli_options,
            )
            if parsed.help:
                self._print_help(prog, parsed.command)
                return None
            _ensure_log_handler()
            builtin = self._builtin(parsed.command)
            if builtin is not None:
                prepared = self._prepare(
                    parsed.command, parsed.config_updates, parsed.named_configs, parsed.options
                )
                builtin.bind(CommandContext(self, prepared.summary, prepared.arguments))()
                return None
            return self.run(
                parsed.command,
                parsed.config_updates,
                parsed.named_configs,
                options=parsed.options,
            )
        except (KeyboardInterrupt, Exception) as error:
            if debug and not isinstance(error, KeyboardInterrupt):
                trace = "".join(traceback.format_exception(error))
                sys.stderr.write(redact_credentials(trace))
                sys.exit(1)
            sys.exit(_report_failure(prog, error, post_mortem="-D" in argv or "--pdb" in argv))

    def _builtin(self, command_name: str | None) -> BuiltinCommand | None:
        """The built-in command ``command_name`` names, unless a user command overrides it."""
        if command_name in BUILTIN_COMMANDS and command_name not in self.gather_commands():
            return BUILTIN_COMMANDS[command_name]
        return None

    def _command_help(self) -> dict[str, str]:
        """``{command: one-line help}`` of user commands and built-in commands."""
        helps = {name: command.help for name, command in BUILTIN_COMMANDS.items()}
        for name, command in self.gather_commands().items():
            doc = first_line(command.__doc__)
            helps[name] = f"{doc} (default)" if name == self.default_command else doc
        return helps

    def _print_help(self, prog: str, command_name: str | None) -> None:
        helps = self._command_help()
        if command_name is None:
            options = all_options(self.additional_cli_options)
            build_parser(prog, helps, options).print_help()
            return
        check_command(command_name, helps)
        builtin = self._builtin(command_name)
        if builtin is not None:
            print(f"{command_name}: {builtin.help}")
            return
        function = self.gather_commands()[command_name]
        signature = inspect.signature(function.function)
        doc = inspect.cleandoc(function.__doc__ or "") or "(no documentation)"
        print(f"{command_name}{signature}\n\n{doc}")


@dataclass
class _Prepared:
    """A command and its config, checked and ready to run."""

    command: str
    builtin: BuiltinCommand | None
    options: dict[str, Any]
    updates: dict[str, Any]
    arguments: dict[str, Any]
    summary: ConfigSummary
    logger: logging.Logger
    captured_functions: list[CapturedFunction]


def _report_failure(prog: str, error: BaseException, post_mortem: bool) -> int:
    """Tell the user on stderr what went wrong; return the exit status.

    A user mistake is one line (status 2), so is an observer that could not start the run
    (status 1); an interrupt says nothing (status 130); any other exception prints the
    user's frames of its traceback and, with ``post_mortem``, opens the debugger (status 1).
    """
    if isinstance(error, (KeyboardInterrupt, SacredInterrupt)):
        return 130
    if isinstance(error, (*_USER_ERRORS, ObserverError)):
        print(f"{prog}: error: {redact_credentials(str(error))}", file=sys.stderr)
        return 2 if isinstance(error, _USER_ERRORS) else 1
    sys.stderr.write(redact_credentials(format_user_traceback(error)))
    if post_mortem:
        import pdb

        pdb.post_mortem(error.__traceback__)
    return 1


def format_user_traceback(error: BaseException) -> str:
    """The traceback of ``error`` without sacredlike's own frames."""
    summary = traceback.TracebackException.from_exception(error)
    for exc in _chain(summary):
        exc.stack = traceback.StackSummary.from_list(
            [frame for frame in exc.stack if not frame.filename.startswith(_PACKAGE_DIR)]
        )
    return "".join(summary.format())


def _chain(summary: traceback.TracebackException) -> Iterator[traceback.TracebackException]:
    """``summary`` and the exceptions it was raised from or while handling (never cyclic)."""
    node: traceback.TracebackException | None = summary
    while node is not None:
        yield node
        node = node.__cause__ or node.__context__


class _ConsoleLogHandler(logging.StreamHandler):
    """Writes log lines to stderr; those about observers go past the run's output capture.

    A run's own log lines are part of what it printed, so a capture records them; an
    observer failing is about the recording, not the run, and stays out of it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._stderr = self.stream

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` (called with the handler's lock held)."""
        about_observers = record.name.startswith("sacredlike.observers")
        self.stream = uncaptured_stderr() if about_observers else self._stderr
        super().emit(record)


def _ensure_log_handler() -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = _ConsoleLogHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s - %(name)s - %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def _nested_updates(updates: Mapping) -> dict[str, Any]:
    """Accept both nested dicts and dotted keys (``{"a.b": 1}``) as config updates."""
    nested: dict[str, Any] = {}
    for key, value in updates.items():
        if isinstance(key, str) and "." in key:
            set_by_dotted_path(nested, key, copy.deepcopy(value))
        else:
            recursive_update(nested, {key: value})
    return nested


__all__ = ["Experiment", "format_user_traceback"]

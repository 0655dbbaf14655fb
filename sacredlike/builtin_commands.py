"""Commands every experiment has: print_config, print_dependencies, save_config, ...

They look at the experiment and its assembled config; none of them creates a run record.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config.files import save_config_file
from .config.summary import ConfigSummary
from .printing import format_config, format_dependencies, format_named_configs, use_color

if TYPE_CHECKING:
    from .experiment import Experiment

_log = logging.getLogger(__name__)


@dataclass
class CommandContext:
    """What a built-in command works on.

    Attributes:
        experiment: the experiment.
        summary: its assembled config.
        arguments: ``with`` entries the command takes itself (see ``BuiltinCommand.takes``).
    """

    experiment: Experiment
    summary: ConfigSummary
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuiltinCommand:
    """A built-in command.

    Attributes:
        name: the command's name on the command line.
        function: ``function(context)`` does the work.
        help: one line for ``help``.
        takes: ``with`` keys that are arguments of the command, not config entries.
    """

    name: str
    function: Callable[[CommandContext], Any]
    help: str
    takes: tuple[str, ...] = ()

    def bind(self, context: CommandContext) -> Callable[[], Any]:
        """A no-argument function running the command on ``context`` (named like it)."""

        def command() -> Any:
            return self.function(context)

        command.__name__ = command.__qualname__ = self.name
        return command


def _print_config(context: CommandContext) -> None:
    print(format_config(context.summary, color=use_color(sys.stdout)))


def _print_dependencies(context: CommandContext) -> None:
    print(format_dependencies(context.experiment.get_experiment_info()))


def _save_config(context: CommandContext) -> str:
    filename = str(context.arguments.get("config_filename", "config.json"))
    save_config_file(context.summary.config, filename)
    _log.info("saved the config to %s", filename)
    return filename


def _print_named_configs(context: CommandContext) -> None:
    named = context.experiment.named_config_sources()
    print(format_named_configs({name: source for name, (_, source) in named.items()}))


BUILTIN_COMMANDS: dict[str, BuiltinCommand] = {
    command.name: command
    for command in (
        BuiltinCommand(
            "print_config",
            _print_config,
            "print the config (entries changed by 'with' are highlighted, docs as comments)",
        ),
        BuiltinCommand(
            "print_dependencies",
            _print_dependencies,
            "print the packages, source files (with md5) and git state the run would record",
        ),
        BuiltinCommand(
            "save_config",
            _save_config,
            "write the config to config.json (or 'with config_filename=NAME.json|.yaml')",
            takes=("config_filename",),
        ),
        BuiltinCommand(
            "print_named_configs",
            _print_named_configs,
            "list the named configs that 'with NAME' can apply",
        ),
    )
}

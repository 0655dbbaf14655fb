"""Sacred's module name for user command-line options: ``cli_option`` and ``CLIOption``."""

from .commandline import CLIOption, cli_option

__all__ = ["CLIOption", "cli_option"]

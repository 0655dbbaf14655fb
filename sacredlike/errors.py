"""Exception types raised by sacredlike, in one hierarchy.

``SacredlikeError``
  ├── ``ConfigError``            a config entry, update or named config is wrong
  │     └── ``ConfigAddedError`` an update adds a key no config defines or uses
  ├── ``CommandLineError``       the experiment's command line is malformed
  ├── ``ObserverError``          an observer could not start the run
  ├── ``MissingExtra``           a sink's optional library is not installed
  ├── ``UnknownSink``            no sink is registered for a URL scheme or flag
  ├── ``RunNotFound``            a reader was asked for a run id it does not hold
  └── ``SinkError``              a store failed; raised by sink adapters
        ├── ``SinkUnavailable``  the store cannot be reached now (retry may help)
        └── ``SinkRejected``     the store refused the data (retry will not help)

Interrupt classes (``SacredInterrupt`` and subclasses) are raised by user code to stop a run
with a status other than FAILED.
"""

from __future__ import annotations


class SacredlikeError(Exception):
    """Base class of every error sacredlike raises on purpose."""


class ConfigError(SacredlikeError):
    """A config entry, config update or named config is invalid."""


class ConfigAddedError(ConfigError):
    """A config update adds keys that no config source defines and no function uses.

    Attributes:
        conflicting_configs: the dotted keys that were added.
    """

    def __init__(self, message: str, conflicting_configs: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.conflicting_configs = tuple(conflicting_configs)


class CommandLineError(SacredlikeError):
    """The experiment's command line could not be understood."""


class ObserverError(SacredlikeError):
    """An observer failed in a way that stops the run (at start-up only)."""


class MissingExtra(SacredlikeError, ImportError):
    """An optional library is missing; the message names the pip extra that installs it.

    Args:
        sink: the sink that needs it (named in the message unless ``feature`` is given).
        extra: the pip extra, as in ``pip install "sacredlike[extra]"``.
        module: the module that could not be imported.
        feature: what needs it when that is not a sink, e.g. "reading YAML config files".
    """

    def __init__(self, sink: str, extra: str, module: str, *, feature: str | None = None) -> None:
        super().__init__(
            f"{feature or f'the {sink} sink'} needs the Python package {module!r}, which is not "
            f'installed; install it with: pip install "sacredlike[{extra}]"'
        )
        self.sink, self.extra, self.module = sink, extra, module


class UnknownSink(SacredlikeError, ValueError):
    """No sink is registered for the given URL scheme or name."""


class RunNotFound(SacredlikeError, KeyError):
    """A reader holds no run with the requested id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "run not found"


class SinkError(SacredlikeError):
    """A store failed while reading or writing a run."""


class SinkUnavailable(SinkError):
    """The store cannot be reached right now; the same call may succeed later."""


class SinkRejected(SinkError):
    """The store refused the data or the request; repeating it will not help."""


class SacredInterrupt(Exception):
    """Raise (a subclass of) this to stop a run with the status in ``STATUS``."""

    STATUS = "INTERRUPTED"


class TimeoutInterrupt(SacredInterrupt):
    """Stop a run with status TIMEOUT."""

    STATUS = "TIMEOUT"

"""sacredlike: record experiment runs to files, SQL, MongoDB and more (Sacred-compatible).

Public names: :class:`Experiment`, :class:`Ingredient`, :class:`Run`, :data:`SETTINGS`,
:class:`RunStatus`, the interrupt classes, :func:`open_store` to read runs back, and
Sacred's decorators :func:`cli_option`, :func:`host_info_gatherer` and
:func:`host_info_getter`. Observers live in :mod:`sacredlike.observers`; like the other
submodules in :data:`_SUBMODULES` it is also reachable as ``sacredlike.observers`` after a
plain ``import sacredlike`` (imported on first access).
"""

import importlib

from .commandline import cli_option
from .errors import SacredInterrupt, TimeoutInterrupt
from .experiment import Experiment
from .host_info import host_info_gatherer, host_info_getter
from .ingredient import Ingredient
from .registry import open_store
from .run import Run
from .settings import SETTINGS
from .status import RunStatus

_SUBMODULES = frozenset({"config", "host_info", "metrics_logger", "observers", "utils"})


def __getattr__(name: str) -> object:
    """``__version__`` and the submodules of :data:`_SUBMODULES`, loaded when first used."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "__version__":  # read lazily: importlib.metadata costs ~25 ms at import
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("sacredlike")
        except PackageNotFoundError:  # a source tree that was not installed
            return "0.0.0"
    raise AttributeError(f"module 'sacredlike' has no attribute {name!r}")


__all__ = [
    "SETTINGS",
    "Experiment",
    "Ingredient",
    "Run",
    "RunStatus",
    "SacredInterrupt",
    "TimeoutInterrupt",
    "__version__",
    "cli_option",
    "host_info_gatherer",
    "host_info_getter",
    "open_store",
]

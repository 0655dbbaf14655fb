"""sacredlike: record experiment runs to files, SQL, MongoDB and more (Sacred-compatible).

Public names: :class:`Experiment`, :class:`Ingredient`, :class:`Run`, :data:`SETTINGS`,
:class:`RunStatus`, the interrupt classes, and :func:`open_store` to read runs back.
Observers live in :mod:`sacredlike.observers`.
"""

from .errors import SacredInterrupt, TimeoutInterrupt
from .experiment import Experiment
from .ingredient import Ingredient
from .registry import open_store
from .run import Run
from .settings import SETTINGS
from .status import RunStatus


def __getattr__(name: str) -> str:
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
    "open_store",
]

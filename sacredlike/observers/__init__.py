"""Observers: the sinks a run reports to.

Every observer class is importable from here (``from sacredlike.observers import
MongoObserver``); each is loaded on first access, so importing this package loads no
database driver.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..sink_table import lazy_exports
from .base import MetricSeries, RunObserver, RunQuery, RunReader, StoredRun

_LAZY = {**lazy_exports(), "QueueObserver": f"{__name__}.queue"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sacredlike.observers' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["MetricSeries", "RunObserver", "RunQuery", "RunReader", "StoredRun", *_LAZY]

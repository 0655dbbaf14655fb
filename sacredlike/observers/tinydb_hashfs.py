"""TinyDB sink: TinyDbObserver and TinyDbReader, at Sacred's module path (``-t/--tiny_db``).

A local, queryable store needing no server: ``metadata.json`` (TinyDB JSON) plus the
content-addressed folder ``hashfs/``, in Sacred's TinyDbObserver layout, plus the metrics
Sacred drops. Layout and writing strategy: :mod:`.document.tinydb_store`; reader:
:mod:`.document.tinydb_reader`. tinydb is imported lazily: importing this module works
without it.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

from .document.tinydb_reader import TinyDbReader
from .document.tinydb_store import SINK, WRITE_INTERVAL, TinyDbDocumentStore
from .document.writer import DocumentObserver

__all__ = ["TinyDbDocumentStore", "TinyDbObserver", "TinyDbReader"]


class TinyDbObserver(DocumentObserver):
    """Stores runs in a TinyDB folder the way Sacred's TinyDbObserver does, metrics included.

    Each metric of a run is one document of the ``metrics`` table; ``metadata.json`` is
    rewritten atomically when a run starts and ends and at most every ``write_interval``
    seconds in between (see :mod:`sacredlike.observers.document.tinydb_store`).
    """

    points_per_part = sys.maxsize
    document_format = "TinyDbObserver-sacredlike"

    def __init__(
        self,
        path: str | os.PathLike[str] = "./runs_db",
        overwrite: Any = None,
        priority: int = 0,
        *,
        write_interval: float = WRITE_INTERVAL,
        failure_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """Open (or create) the store; a bad path fails here, before any run starts.

        Args:
            path: the store's folder.
            overwrite: id of an existing run (e.g. a queued one) whose document this run
                takes over.
            priority: call order among observers (higher first).
            write_interval: longest time in seconds between two rewrites of
                ``metadata.json`` during a run (0: at every event).
            failure_dir: where a run goes if its final write fails (default
                ``~/.sacredlike/unsent_runs``).

        Raises:
            MissingExtra: tinydb is not installed.
            SinkRejected: ``path`` is a file or not writable, or its ``metadata.json`` is not
                TinyDB JSON.
        """
        SINK.check_installed()
        store = TinyDbDocumentStore(path, write_interval=write_interval)
        super().__init__(store, overwrite=overwrite, priority=priority, failure_dir=failure_dir)
        self.root = str(store.root)
        self.url = f"tinydb://{self.root}"  # what open_store and `sacredlike sync` take

    @classmethod
    def create(cls, path: str = "./runs_db", overwrite: Any = None) -> TinyDbObserver:
        """Deprecated alias of the constructor, kept for Sacred 0.7 code."""
        warnings.warn(
            "TinyDbObserver.create(...) is deprecated; call TinyDbObserver(...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls(path, overwrite)

    @classmethod
    def from_flag(cls, value: str) -> TinyDbObserver:
        """Build the observer from a ``-t/--tiny_db`` value (a folder or ``tinydb://PATH``)."""
        return cls(value.removeprefix("tinydb://"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.root!r})"

"""MongoDB sink: MongoObserver, QueuedMongoObserver and MongoReader (pymongo >= 4).

The run layout is the document family's (:mod:`sacredlike.observers.document.writer`), which is
Sacred's ``MongoObserver-0.7.0`` format: collections ``runs`` and ``metrics`` (or
``<prefix>_runs`` / ``<prefix>_metrics``) and the GridFS bucket ``fs``. The adapter, its key
rule and error translation are in :mod:`._mongo_store`, the ``-m`` forms in
:mod:`._mongo_location`, the reader in :mod:`._mongo_reader`; this module holds the
observers, the upload command for runs saved to ``failure_dir`` and the registration.

pymongo is imported lazily: importing this module works without it.

Upload saved runs: ``python -m sacredlike.observers.mongo upload DIRECTORY LOCATION``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Any

from ..errors import SacredlikeError
from .document.mongo_location import MongoTarget, parse_target
from .document.mongo_reader import MongoReader
from .document.mongo_store import (
    SINK,
    MongoDocumentStore,
    driver_errors,
    escape_key,
    from_bson,
    largest_metric_part,
    to_bson,
    unescape_key,
)
from .document.writer import DocumentObserver, upload_saved_runs
from .queue import QueueObserver

__all__ = [
    "MongoDocumentStore",
    "MongoObserver",
    "MongoReader",
    "MongoTarget",
    "QueuedMongoObserver",
    "driver_errors",
    "escape_key",
    "from_bson",
    "main",
    "parse_target",
    "to_bson",
    "unescape_key",
    "upload",
]


class MongoObserver(DocumentObserver):
    """Stores runs in MongoDB the way Sacred's MongoObserver does (Omniboard/Incense read it).

    Writes only what changed each beat, splits long metrics over several documents and
    long output into GridFS, retries a lost server and, if the final write still fails,
    saves the run to ``failure_dir`` for ``python -m sacredlike.observers.mongo upload``.

    Attributes (as Sacred's): ``runs`` and ``metrics`` are the pymongo collections, ``fs`` the
    ``gridfs.GridFS``, ``VERSION`` the ``format`` of the run documents.
    """

    VERSION = DocumentObserver.document_format
    points_per_part = largest_metric_part()
    """As many points per metric document as BSON's 16 MB allow, less 10% (321,000): Omniboard
    and Incense read only a metric's first document."""

    def __init__(
        self,
        url: str | None = None,
        db_name: str = "sacred",
        collection_prefix: str = "",
        overwrite: Any = None,
        priority: int = 30,
        client: Any = None,
        failure_dir: str | os.PathLike | None = None,
        *,
        store: MongoDocumentStore | None = None,
        **client_kwargs: Any,
    ) -> None:
        """Connect to MongoDB.

        Args:
            url: a ``mongodb://`` or ``mongodb+srv://`` URI (default ``localhost:27017``).
            db_name: the database.
            collection_prefix: collections become ``<prefix>_runs`` and ``<prefix>_metrics``.
            overwrite: id (or document) of an existing run, e.g. a queued one, to take over.
            priority: call order among observers (higher first).
            client: a ready ``pymongo.MongoClient`` to use instead of ``url``.
            failure_dir: where runs go that could not be written (default
                ``~/.sacredlike/unsent_runs``).
            store: a ready :class:`MongoDocumentStore` (used by :meth:`create_from`).
            **client_kwargs: passed to ``MongoClient`` (timeouts default to 5 s).

        Raises:
            MissingExtra: pymongo is not installed.
        """
        SINK.check_installed()
        collection = client_kwargs.pop("collection", "runs")
        if collection != "runs":
            warnings.warn(
                'MongoObserver(collection=...) is deprecated; use "collection_prefix"',
                DeprecationWarning,
                stacklevel=2,
            )
            if collection_prefix:
                raise ValueError("pass either collection or collection_prefix, not both")
        if store is None:
            server = url or "mongodb://localhost:27017"
            target = MongoTarget(server, db_name, collection_prefix, collection=collection)
            store = MongoDocumentStore.open(target, client, **client_kwargs)
        super().__init__(store, overwrite=overwrite, priority=priority, failure_dir=failure_dir)
        self.url = store.describe()
        self.upload_hint = f"python -m sacredlike.observers.mongo upload DIRECTORY {self.url}"

    @classmethod
    def create_from(
        cls,
        runs: Any,
        fs: Any,
        overwrite: Any = None,
        metrics_collection: Any = None,
        failure_dir: str | os.PathLike | None = None,
        priority: int = 30,
    ) -> MongoObserver:
        """Build the observer on ready pymongo objects (Sacred's signature).

        Args:
            runs: the runs collection.
            fs: a ``gridfs.GridFS`` on the same database.
            metrics_collection: the metrics collection (default ``metrics`` beside ``runs``).
            overwrite / failure_dir / priority: as for the constructor.
        """
        metrics = metrics_collection if metrics_collection is not None else runs.database["metrics"]
        servers = runs.database.client.topology_description.server_descriptions()
        hosts = ",".join(f"{host}:{port}" for host, port in servers) or "SERVER"
        store = MongoDocumentStore(runs, metrics, fs, f"mongodb://{hosts}/{runs.database.name}")
        return cls(overwrite=overwrite, priority=priority, failure_dir=failure_dir, store=store)

    @property
    def runs(self) -> Any:
        """The runs collection (a ``pymongo.collection.Collection``)."""
        return self.store.runs

    @property
    def metrics(self) -> Any:
        """The metrics collection."""
        return self.store.metrics

    @property
    def fs(self) -> Any:
        """The ``gridfs.GridFS`` holding sources, resources, artifacts and long output."""
        return self.store.fs

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> MongoObserver:
        """Deprecated alias of the constructor, kept for Sacred 0.7 code."""
        warnings.warn(
            f"{cls.__name__}.create(...) is deprecated; call {cls.__name__}(...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls(*args, **kwargs)

    @classmethod
    def from_flag(cls, value: str) -> MongoObserver:
        """Build the observer from a ``-m/--mongo_db`` value (see :func:`parse_target`).

        ``-m DB.COLLECTION`` writes runs to ``COLLECTION`` and metrics to ``metrics``, as
        Sacred's flag does (without the deprecation warning of ``collection=``).
        """
        target = parse_target(value)
        store = MongoDocumentStore.open(target)
        return cls(overwrite=target.overwrite, priority=target.priority, store=store)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


class QueuedMongoObserver(QueueObserver):
    """A :class:`MongoObserver` behind a :class:`~sacredlike.observers.queue.QueueObserver`.

    Events are journaled and written on a background thread, so a slow or absent server
    never blocks the run; what is still undelivered when ``join`` gives up stays in the
    journal for ``sacredlike sync``.
    """

    def __init__(
        self,
        *args: Any,
        interval: float = 1.0,
        retry_interval: float = 5.0,
        journal_dir: str | os.PathLike | None = None,
        final_timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        """Take :class:`MongoObserver`'s arguments, plus the queue's settings.

        Args:
            *args / **kwargs: as for :class:`MongoObserver`.
            interval: seconds between writes while the run goes on.
            retry_interval: longest wait between two failed writes.
            journal_dir / final_timeout: as for :class:`QueueObserver`.
        """
        super().__init__(
            MongoObserver(*args, **kwargs),
            interval=interval,
            retry_interval=retry_interval,
            journal_dir=journal_dir,
            final_timeout=final_timeout,
        )

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> QueuedMongoObserver:
        """Deprecated alias of the constructor, kept for Sacred 0.7 code."""
        warnings.warn(
            f"{cls.__name__}.create(...) is deprecated; call {cls.__name__}(...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls(*args, **kwargs)


# -- uploading saved runs -----------------------------------------------------------------
def upload(directory: str, location: str) -> list[Any]:
    """Upload runs a MongoObserver saved to its ``failure_dir``.

    Args:
        directory: one saved run's folder or a folder of them.
        location: where to upload, in any ``-m`` form or as a URI.

    Returns:
        The uploaded run ids.
    """
    observer = MongoObserver.from_flag(location)
    try:
        return upload_saved_runs(directory, observer)
    finally:
        observer.store.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m sacredlike.observers.mongo upload DIRECTORY LOCATION``."""
    parser = argparse.ArgumentParser(prog="python -m sacredlike.observers.mongo")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upload", help="upload runs saved in a failure_dir")
    up.add_argument("directory")
    up.add_argument("location", help="MongoDB URI or -m form, e.g. localhost:27017:sacred")
    args = parser.parse_args(argv)
    try:
        ids = upload(args.directory, args.location)
    except (SacredlikeError, FileNotFoundError) as exc:
        print(f"upload failed: {exc}", file=sys.stderr)
        return 1
    print(f"uploaded run(s) {', '.join(map(str, ids))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""MongoDB sink: MongoObserver, QueuedMongoObserver and MongoReader (pymongo >= 4).

The run layout is the document family's (:mod:`sacredlike.observers._document`), which is
Sacred's ``MongoObserver-0.7.0`` format: collections ``runs`` and ``metrics`` (or
``<prefix>_runs`` / ``<prefix>_metrics``) and the GridFS bucket ``fs``.

Key and value rule (applied to every document written): values first go through
:func:`sacredlike.serialize.flatten` (numpy, sets, tuples, paths, arbitrary objects →
JSON-like data; datetimes, NaN and infinities kept); integers outside the 64-bit range
become their decimal string; then every key is escaped so MongoDB accepts it: ``%`` →
``%25``, ``.`` → ``%2E``, a leading ``$`` → ``%24`` and NUL → ``%00``. :func:`unescape_key`
reverses it, and :class:`MongoReader` returns the original keys.

pymongo is imported lazily: importing this module works without it.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import (
    CommandLineError,
    RunNotFound,
    SacredlikeError,
    SinkRejected,
    SinkUnavailable,
)
from ..registry import Sink, register_sink
from ._document import (
    DocumentObserver,
    DocumentStore,
    MetricPart,
    QueuedDocumentObserver,
    RetryPolicy,
    redact_credentials,
    upload_saved_runs,
)
from .base import MetricSeries, RunQuery, RunReader, StoredRun

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_MS = 5000
ID_ATTEMPTS = 100
_INT64 = (-(2**63), 2**63 - 1)
# Server error codes meaning "the server is stepping down or shutting down": retry later.
_TRANSIENT_CODES = frozenset({91, 189, 10107, 11600, 11602, 13435, 13436})


# -- key and value rule ---------------------------------------------------------------------
_UNESCAPE = re.compile(r"%(25|2E|24|00)")
_UNESCAPED = {"25": "%", "2E": ".", "24": "$", "00": "\x00"}


def escape_key(key: str) -> str:
    """A key MongoDB accepts: ``%``, ``.``, NUL and a leading ``$`` percent-escaped."""
    key = key.replace("%", "%25").replace(".", "%2E").replace("\x00", "%00")
    return "%24" + key[1:] if key.startswith("$") else key


def unescape_key(key: str) -> str:
    """Inverse of :func:`escape_key`."""
    return _UNESCAPE.sub(lambda match: _UNESCAPED[match.group(1)], key)


def to_bson(value: Any) -> Any:
    """Apply the key rule to flattened data (driver values such as ObjectIds pass through)."""
    if isinstance(value, dict):
        return {escape_key(str(k)): to_bson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_bson(v) for v in value]
    if type(value) is int and not _INT64[0] <= value <= _INT64[1]:
        return str(value)
    return value


def from_bson(value: Any) -> Any:
    """Undo the key escaping of :func:`to_bson` in data read back."""
    if isinstance(value, dict):
        return {unescape_key(k): from_bson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_bson(v) for v in value]
    return value


# -- the -m / URL forms -----------------------------------------------------------------
_NAME = r"[A-Za-z0-9_-]+"
_PLAIN_FORM = re.compile(
    rf"^(?:(?P<host>[^:/\s]+):(?P<port>\d+)(?::(?P<db>{_NAME})(?:\.(?P<prefix>{_NAME}))?)?"
    rf"|(?P<db_only>{_NAME})(?:\.(?P<prefix_only>{_NAME}))?)$"
)
_PRIORITY = re.compile(r"!(-?\d+)$")
_FORMS = (
    "expected DB, HOST:PORT, HOST:PORT:DB or any of them with .COLLECTION_PREFIX after the "
    "DB, optionally followed by !PRIORITY, or a mongodb:// or mongodb+srv:// URI"
)


@dataclass(frozen=True)
class MongoTarget:
    """Where a Mongo observer or reader connects, parsed from ``-m`` or a URL.

    Attributes:
        url: the connection URI, without collection prefix (may hold credentials).
        db_name / collection_prefix / priority: as for :class:`MongoObserver`.
    """

    url: str
    db_name: str = "sacred"
    collection_prefix: str = ""
    priority: int = 30

    @property
    def safe_url(self) -> str:
        """The URL with its password hidden, plus ``/DB.PREFIX``."""
        parts = urlsplit(redact_credentials(self.url))
        path = self.db_name + (f".{self.collection_prefix}" if self.collection_prefix else "")
        return urlunsplit((parts.scheme, parts.netloc, "/" + path, parts.query, ""))


def parse_target(value: str) -> MongoTarget:
    """Parse a ``-m/--mongo_db`` value or a ``mongodb://`` URL.

    Forms: ``DB``, ``HOST:PORT``, ``HOST:PORT:DB``, any with ``.PREFIX`` after the DB, each
    optionally followed by ``!PRIORITY``; ``mongodb://[user:pass@]host[:port][/DB[.PREFIX]][?opts]``
    and ``mongodb+srv://...`` (also with ``!PRIORITY``).

    Raises:
        CommandLineError: the value matches none of the forms; the message says why.
    """
    text = value.strip()
    if not text:
        raise CommandLineError(f"empty MongoDB location: {_FORMS}")
    priority = 30
    match = _PRIORITY.search(text)
    if match:
        priority, text = int(match.group(1)), text[: match.start()]
    if "://" in text:
        return _parse_uri(text, priority)
    if "!" in text:
        raise CommandLineError(
            f"bad MongoDB location {text!r}: the priority after '!' must be an integer"
        )
    found = _PLAIN_FORM.match(text)
    if found is None:
        raise CommandLineError(f"bad MongoDB location {text!r}: {_plain_problem(text)}; {_FORMS}")
    groups = found.groupdict()
    db = groups["db"] or groups["db_only"] or "sacred"
    prefix = groups["prefix"] or groups["prefix_only"] or ""
    if groups["host"] is None:
        return MongoTarget("mongodb://localhost:27017", db, prefix, priority)
    port = int(groups["port"])
    if not 0 < port < 65536:
        raise CommandLineError(f"bad MongoDB location {text!r}: port {port} is out of range")
    return MongoTarget(f"mongodb://{groups['host']}:{port}", db, prefix, priority)


def _plain_problem(text: str) -> str:
    pieces = text.split(":")
    if len(pieces) > 3:
        return "too many ':' separators"
    if len(pieces) >= 2 and not pieces[1].isdigit():
        return f"the port {pieces[1]!r} is not a number"
    return "the database or prefix name has characters other than letters, digits, _ and -"


def _parse_uri(text: str, priority: int) -> MongoTarget:
    parts = urlsplit(text)
    if parts.scheme not in ("mongodb", "mongodb+srv"):
        raise CommandLineError(
            f"bad MongoDB URI scheme {parts.scheme!r}: use mongodb:// or mongodb+srv://"
        )
    if not parts.netloc.rpartition("@")[2]:
        raise CommandLineError("bad MongoDB URI: it names no host")
    db, _, prefix = parts.path.lstrip("/").partition(".")
    clean = urlunsplit((parts.scheme, parts.netloc, "/" + db if db else "/", parts.query, ""))
    return MongoTarget(clean, db or "sacred", prefix, priority)


# -- driver errors ----------------------------------------------------------------------
@contextmanager
def driver_errors(where: str, what: str) -> Iterator[None]:
    """Translate pymongo / bson errors into SinkUnavailable or SinkRejected.

    Args:
        where: credential-free description of the server.
        what: the operation, for the message.
    """
    import bson.errors
    from pymongo import errors

    try:
        yield
    except errors.ConnectionFailure as exc:
        raise SinkUnavailable(
            f"MongoDB at {where} is unreachable while {what}: {_clean(exc)}"
        ) from exc
    except errors.OperationFailure as exc:
        error = SinkUnavailable if exc.code in _TRANSIENT_CODES else SinkRejected
        raise error(f"MongoDB at {where} refused {what}: {_clean(exc)}") from exc
    except (errors.PyMongoError, bson.errors.BSONError) as exc:
        raise SinkRejected(f"MongoDB at {where} refused {what}: {_clean(exc)}") from exc


def _clean(exc: BaseException) -> str:
    return redact_credentials(str(exc))[:500]


def _client(target: MongoTarget, client_kwargs: dict[str, Any]) -> Any:
    import pymongo

    options = {
        "serverSelectionTimeoutMS": DEFAULT_TIMEOUT_MS,
        "connectTimeoutMS": DEFAULT_TIMEOUT_MS,
        **client_kwargs,
    }
    with driver_errors(target.safe_url, "connecting"):
        return pymongo.MongoClient(target.url, **options)


# -- the store adapter ------------------------------------------------------------------
class MongoDocumentStore(DocumentStore):
    """:class:`DocumentStore` on a MongoDB database (runs, metrics, GridFS ``fs``)."""

    def __init__(self, runs: Any, metrics: Any, fs: Any, where: str, client: Any = None) -> None:
        """Wrap ready pymongo objects.

        Args:
            runs / metrics: the two collections.
            fs: a ``gridfs.GridFS`` for sources, resources, artifacts and long output.
            where: credential-free description of the server for messages.
            client: a MongoClient this store owns and closes, or None.
        """
        self.runs, self.metrics, self.fs = runs, metrics, fs
        self.runs_name = runs.name
        self.where = where
        self._client = client
        self._indexed = False

    @classmethod
    def open(
        cls, target: MongoTarget, client: Any = None, runs: str = "runs", **client_kwargs: Any
    ) -> Any:
        """Connect to ``target`` (or use ``client``) and return the store.

        Args:
            target: server, database and collection prefix.
            client: a ready MongoClient, or None to connect to ``target.url``.
            runs: name of the runs collection when there is no prefix (Sacred's deprecated
                ``collection`` argument; the metrics collection is then ``metrics``).
            **client_kwargs: passed to ``MongoClient``.
        """
        import gridfs

        owned = None
        if client is None:
            client = owned = _client(target, client_kwargs)
        database = client[target.db_name]
        prefix = f"{target.collection_prefix}_" if target.collection_prefix else ""
        return cls(
            database[f"{prefix}runs" if prefix else runs],
            database[f"{prefix}metrics"],
            gridfs.GridFS(database),
            target.safe_url,
            owned,
        )

    def describe(self) -> str:
        """The server and database, password hidden."""
        return self.where

    def _errors(self, what: str) -> Any:
        return driver_errors(self.where, what)

    def _ensure_indexes(self) -> None:
        if not self._indexed:
            self.metrics.create_index([("run_id", 1), ("name", 1)])
            self.metrics.create_index([("part_of", 1), ("part", 1)], sparse=True)
            self._indexed = True

    def insert_run(self, document: dict[str, Any], run_id: Any = None) -> Any:
        """Insert the run; allocate ``max(numeric _id) + 1`` (retrying on collisions)."""
        from pymongo.errors import DuplicateKeyError

        body = to_bson(document)
        with self._errors("inserting a run"):
            self._ensure_indexes()
            if run_id is not None:
                try:
                    self.runs.insert_one({**body, "_id": run_id})
                except DuplicateKeyError as exc:
                    raise SinkRejected(
                        f"a run with id {run_id!r} already exists in {self.where}"
                    ) from exc
                return run_id
            for attempt in range(ID_ATTEMPTS):
                newest = self.runs.find_one(
                    {"_id": {"$type": "number"}}, {"_id": 1}, sort=[("_id", -1)]
                )
                candidate = int(newest["_id"]) + 1 if newest else 1
                try:
                    self.runs.insert_one({**body, "_id": candidate})
                except DuplicateKeyError:
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
                return candidate
        raise SinkUnavailable(
            f"no free run id in {self.where} after {ID_ATTEMPTS} attempts (too many concurrent "
            "starts); try again"
        )

    def update_run(self, run_id: Any, fields: dict[str, Any]) -> None:
        """``$set`` the fields of run ``run_id`` (upsert)."""
        with self._errors(f"updating run {run_id}"):
            self._ensure_indexes()
            self.runs.update_one({"_id": run_id}, {"$set": to_bson(fields)}, upsert=True)

    def append_points(self, batch: list[tuple[MetricPart, dict[str, list]]]) -> None:
        """One unordered bulk of ``$push``/``$each`` updates, each conditional on ``n``.

        An update whose part already moved on (duplicate key on the upsert) is accepted
        when the part holds exactly its points: an earlier try of the same append landed.
        """
        from bson import ObjectId
        from pymongo import UpdateOne
        from pymongo.errors import BulkWriteError

        operations = []
        for part, points in batch:
            if part.id is None:
                part.id = ObjectId()
            update: dict[str, Any] = {
                "$push": {key: {"$each": to_bson(values)} for key, values in points.items()},
                "$inc": {"n": len(points["steps"])},
            }
            if part.count == 0:
                update["$setOnInsert"] = to_bson(part.seed)
            operations.append(UpdateOne({"_id": part.id, "n": part.count}, update, upsert=True))
        with self._errors(f"appending points to {len(batch)} metric document(s)"):
            try:
                self.metrics.bulk_write(operations, ordered=False)
            except BulkWriteError as exc:
                for error in exc.details.get("writeErrors", []):
                    part, points = batch[error["index"]]
                    self._check_landed(part, len(points["steps"]), error)
        for part, points in batch:
            part.count += len(points["steps"])

    def _check_landed(self, part: MetricPart, size: int, error: dict[str, Any]) -> None:
        stored = self.metrics.find_one({"_id": part.id}, {"n": 1}) or {}
        if error.get("code") != 11000 or stored.get("n") != part.count + size:
            raise SinkRejected(
                f"metric document {part.id} refused {size} points ({error.get('errmsg')}); "
                f"it holds {stored.get('n')} points, expected {part.count} or {part.count + size}"
            )

    def put_file(
        self,
        name: str,
        data: IO[bytes],
        *,
        content_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        md5: str | None = None,
        replace: bool = False,
    ) -> Any:
        """Stream ``data`` into GridFS (reusing a same-named file with the same md5)."""
        with self._errors(f"storing file {name}"):
            if md5 is not None:
                existing = self.fs.find_one({"filename": name, "metadata.md5": md5})
                if existing is not None:
                    return existing._id
                metadata = {**(metadata or {}), "md5": md5}
            options: dict[str, Any] = {"filename": name, "metadata": to_bson(metadata or {})}
            if content_type:
                options["contentType"] = content_type
            file_id = self.fs.put(data, **options)
            if replace:
                for old in self.fs.find({"filename": name, "_id": {"$ne": file_id}}):
                    self.fs.delete(old._id)
            return file_id

    def close(self) -> None:
        """Close the client if this store opened it."""
        if self._client is not None:
            self._client.close()

    def encode_saved(self, value: Any) -> str:
        """Canonical extended JSON: keeps ObjectIds, datetimes, int64, NaN."""
        from bson import json_util

        return json_util.dumps(value, json_options=_json_options())

    def decode_saved(self, text: str) -> Any:
        """Inverse of :meth:`encode_saved`."""
        from bson import json_util

        return json_util.loads(text, json_options=_json_options())


def _json_options() -> Any:
    from bson.json_util import JSONMode, JSONOptions

    return JSONOptions(json_mode=JSONMode.CANONICAL, tz_aware=False)


# -- observers --------------------------------------------------------------------------
class MongoObserver(DocumentObserver):
    """Stores runs in MongoDB the way Sacred's MongoObserver does (Omniboard/Incense read it).

    Writes only what changed each beat, splits long metrics over several documents and
    long output into GridFS, retries a lost server and, if the final write still fails,
    saves the run to ``failure_dir`` for ``python -m sacredlike.observers.mongo upload``.
    """

    def __init__(
        self,
        url: str | None = None,
        db_name: str = "sacred",
        collection_prefix: str = "",
        overwrite: Any = None,
        priority: int = 30,
        client: Any = None,
        failure_dir: str | None = None,
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
        target = MongoTarget(url or "mongodb://localhost:27017", db_name, collection_prefix)
        if store is None:
            store = MongoDocumentStore.open(target, client, collection, **client_kwargs)
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
        failure_dir: str | None = None,
        priority: int = 30,
    ) -> MongoObserver:
        """Build the observer on ready pymongo objects (Sacred's signature).

        Args:
            runs: the runs collection.
            fs: a ``gridfs.GridFS`` on the same database.
            metrics_collection: the metrics collection (default ``metrics`` beside ``runs``).
            overwrite / failure_dir / priority: as for the constructor.
        """
        SINK.check_installed()
        metrics = metrics_collection if metrics_collection is not None else runs.database["metrics"]
        servers = runs.database.client.topology_description.server_descriptions()
        hosts = ",".join(f"{host}:{port}" for host, port in servers) or "SERVER"
        store = MongoDocumentStore(runs, metrics, fs, f"mongodb://{hosts}/{runs.database.name}")
        return cls(overwrite=overwrite, priority=priority, failure_dir=failure_dir, store=store)

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
        """Build the observer from a ``-m/--mongo_db`` value (see :func:`parse_target`)."""
        target = parse_target(value)
        return cls(target.url, target.db_name, target.collection_prefix, priority=target.priority)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


class QueuedMongoObserver(QueuedDocumentObserver, MongoObserver):
    """MongoObserver whose writes go through a background thread with retries.

    Nothing is lost while the server is away: points and fields stay pending until a write
    succeeds; after the run, :meth:`join` waits up to ``final_timeout`` seconds, then
    saves the run to ``failure_dir``.
    """

    def __init__(
        self,
        *args: Any,
        interval: float | None = None,
        retry_interval: float | None = None,
        **kwargs: Any,
    ) -> None:
        """Take :class:`MongoObserver`'s arguments, plus Sacred's queue settings.

        Args:
            *args / **kwargs: as for :class:`MongoObserver`.
            interval: seconds between writes when no event wakes the writer (default 1).
            retry_interval: longest wait between two failed writes (default 5).
        """
        super().__init__(*args, **kwargs)
        if interval is not None:
            self.interval = float(interval)
        if retry_interval is not None:
            delay = float(retry_interval)
            self.retry = RetryPolicy(first_delay=min(0.2, delay), max_delay=delay)


# -- reader -----------------------------------------------------------------------------
class MongoReader(RunReader):
    """Reads runs written by :class:`MongoObserver` (or by Sacred's)."""

    def __init__(self, database: Any, collection_prefix: str = "", client: Any = None) -> None:
        """Read from a pymongo ``Database``.

        Args:
            database: the database holding the collections.
            collection_prefix: as for the observer.
            client: a MongoClient this reader closes in :meth:`close`, or None.
        """
        import gridfs

        prefix = f"{collection_prefix}_" if collection_prefix else ""
        self.runs = database[f"{prefix}runs"]
        self.metrics = database[f"{prefix}metrics"]
        self.fs = gridfs.GridFS(database)
        self.where = f"database {database.name}"
        self._client = client

    @classmethod
    def from_url(cls, url: str, **client_kwargs: Any) -> MongoReader:
        """Open a reader on a ``mongodb://host/DB[.PREFIX]`` URL or any ``-m`` form."""
        SINK.check_installed()
        target = parse_target(url)
        client = _client(target, client_kwargs)
        reader = cls(client[target.db_name], target.collection_prefix, client)
        reader.where = target.safe_url
        return reader

    def close(self) -> None:
        """Close the client if the reader opened it."""
        if self._client is not None:
            self._client.close()

    def find_runs(self, query: RunQuery | None = None) -> list[StoredRun]:
        """Runs matching ``query``, newest start first (filters run on the server)."""
        query = query or RunQuery()
        with driver_errors(self.where, "finding runs"):
            cursor = self.runs.find(_mongo_filter(query), {"captured_out": 0}).sort(
                [("start_time", -1), ("_id", -1)]
            )
            if query.limit is not None:
                cursor = cursor.limit(query.limit)
            return [_stored_run(doc) for doc in cursor]

    def get_run(self, run_id: Any) -> StoredRun:
        """One run, with its whole captured output."""
        with driver_errors(self.where, f"reading run {run_id}"):
            doc = self.runs.find_one({"_id": _run_key(run_id)})
            if doc is None:
                raise RunNotFound(f"no run {run_id!r} in {self.where}")
            run = _stored_run(doc)
            full = self.fs.find_one(
                {"filename": f"captured_out://{self.runs.name}/{doc['_id']}"},
                sort=[("uploadDate", -1)],
            )
            run.captured_out = (
                full.read().decode("utf-8", "surrogateescape")
                if full is not None
                else doc.get("captured_out")
            )
            return run

    def get_metrics(
        self, run_id: Any, names: Iterable[str] | None = None
    ) -> dict[str, MetricSeries]:
        """Every point of the run's metrics, parts joined in order."""
        key = _run_key(run_id)
        wanted: dict[str, Any] = {"run_id": key}
        if names is not None:
            wanted["name"] = {"$in": list(names)}
        series: dict[str, MetricSeries] = {}
        with driver_errors(self.where, f"reading metrics of run {run_id}"):
            for first in self.metrics.find(wanted):
                metric = series.setdefault(first["name"], MetricSeries(first["name"]))
                parts = self.metrics.find({"part_of": first["_id"]}).sort("part", 1)
                for doc in [first, *parts]:
                    metric.steps.extend(doc.get("steps", []))
                    metric.values.extend(doc.get("values", []))
                    metric.timestamps.extend(doc.get("timestamps", []))
        return series

    def get_artifact(self, run_id: Any, name: str) -> bytes:
        """The content of artifact ``name`` of the run."""
        run = self.get_run(run_id)
        with driver_errors(self.where, f"reading artifact {name}"):
            doc = self.runs.find_one({"_id": run.id}, {"artifacts": 1}) or {}
            for entry in doc.get("artifacts", []):
                if entry.get("name") == name:
                    return self.fs.get(entry["file_id"]).read()
        raise FileNotFoundError(f"run {run_id!r} has no artifact {name!r}")


def _run_key(run_id: Any) -> Any:
    if isinstance(run_id, str) and run_id.isdigit():
        return int(run_id)
    return run_id


def _mongo_filter(query: RunQuery) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    if query.experiment is not None:
        conditions["experiment.name"] = {"$regex": query.experiment}
    statuses = query.statuses()
    if statuses is not None:
        conditions["status"] = {"$in": statuses}
    bounds = {}
    if query.started_after is not None:
        bounds["$gte"] = query.started_after
    if query.started_before is not None:
        bounds["$lt"] = query.started_before
    if bounds:
        conditions["start_time"] = bounds
    for dotted, value in query.config.items():
        path = ".".join(escape_key(part) for part in dotted.split("."))
        conditions[f"config.{path}"] = to_bson(value)
    return conditions


def _stored_run(doc: dict[str, Any]) -> StoredRun:
    doc = {key: from_bson(value) for key, value in doc.items()}
    return StoredRun(
        id=doc["_id"],
        experiment_name=(doc.get("experiment") or {}).get("name"),
        status=doc.get("status") or "",
        command=doc.get("command"),
        config=doc.get("config") or {},
        info=doc.get("info") or {},
        result=doc.get("result"),
        start_time=doc.get("start_time"),
        stop_time=doc.get("stop_time"),
        heartbeat=doc.get("heartbeat"),
        queue_time=doc.get("queue_time"),
        host=doc.get("host") or {},
        meta=doc.get("meta") or {},
        experiment=doc.get("experiment") or {},
        fail_trace=doc.get("fail_trace"),
        artifacts=[a["name"] for a in doc.get("artifacts", []) if isinstance(a, dict)],
    )


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


SINK = register_sink(
    Sink(
        name="mongo",
        observer="sacredlike.observers.mongo:MongoObserver",
        reader="sacredlike.observers.mongo:MongoReader",
        extra="mongo",
        requires=("pymongo",),
        schemes=("mongodb",),
        flag="--mongo_db",
        short_flag="-m",
        metavar="DB",
        help="add a MongoObserver: DB, HOST:PORT, HOST:PORT:DB, ...:DB.PREFIX, optional "
        "!PRIORITY, or a mongodb:// / mongodb+srv:// URI",
    )
)

if __name__ == "__main__":
    sys.exit(main())

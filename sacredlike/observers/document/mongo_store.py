"""The MongoDB adapter of the document family: key rule, driver errors, MongoDocumentStore.

Key and value rule (applied to every document written): values first go through
:func:`sacredlike.serialize.flatten` (numpy, sets, tuples, paths, arbitrary objects →
JSON-like data; datetimes, NaN and infinities kept); integers outside the 64-bit range
become their decimal string; then every key is escaped so MongoDB accepts it: ``%`` →
``%25``, ``.`` → ``%2E``, a leading ``$`` → ``%24`` and NUL → ``%00``. :func:`unescape_key`
reverses it, and the reader returns the original keys. Lone surrogates (no UTF-8 form, so
BSON cannot hold them) in keys and strings are escaped by
:func:`sacredlike.text_escape.escape`.

pymongo, bson and gridfs are imported inside functions only.
"""

from __future__ import annotations

import datetime as _dt
import random
import re
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any

from ...errors import SinkRejected, SinkUnavailable
from ...redaction import redact_credentials
from ...sink_table import builtin_sink
from ...text_escape import escape, unescape
from .mongo_location import MongoTarget
from .store import DocumentStore, MetricPart

DEFAULT_TIMEOUT_MS = 5000
ID_ATTEMPTS = 100
_INT64 = (-(2**63), 2**63 - 1)
_AS_IS = frozenset({float, bool, type(None), _dt.datetime})  # what to_bson returns unchanged
# Server error codes meaning "the server is stepping down or shutting down": retry later.
_TRANSIENT_CODES = frozenset({91, 189, 10107, 11600, 11602, 13435, 13436})

BSON_DOCUMENT_LIMIT = 16 * 1024 * 1024
"""MongoDB's largest document, in bytes (``maxBsonObjectSize``)."""
PART_MARGIN = 0.1
"""Share of :data:`BSON_DOCUMENT_LIMIT` a full metric document leaves free (the metric's
name, ids and count, and room for what a server adds)."""

SINK = builtin_sink("mongo")
"""The MongoDB sink as the table declares it (checks that pymongo is installed)."""


# -- key and value rule ---------------------------------------------------------------------
_UNESCAPE = re.compile(r"%(25|2E|24|00)")
_UNESCAPED = {"25": "%", "2E": ".", "24": "$", "00": "\x00"}


def escape_key(key: str) -> str:
    """A key MongoDB accepts: ``%``, ``.``, NUL and a leading ``$`` percent-escaped."""
    key = escape(key, nul=False).replace("%", "%25").replace(".", "%2E").replace("\x00", "%00")
    return "%24" + key[1:] if key.startswith("$") else key


def unescape_key(key: str) -> str:
    """Inverse of :func:`escape_key`."""
    return unescape(_UNESCAPE.sub(lambda match: _UNESCAPED[match.group(1)], key))


def to_bson(value: Any) -> Any:
    """Apply the key rule to flattened data (driver values such as ObjectIds pass through)."""
    if isinstance(value, dict):
        return {escape_key(str(k)): to_bson(v) for k, v in value.items()}
    if isinstance(value, list):  # metric points: the common scalars skip the call
        return [v if type(v) in _AS_IS else to_bson(v) for v in value]
    if type(value) is int and not _INT64[0] <= value <= _INT64[1]:
        return str(value)
    if type(value) is str:
        return escape(value, nul=False)
    return value


def from_bson(value: Any) -> Any:
    """Undo the key escaping of :func:`to_bson` in data read back."""
    if isinstance(value, dict):
        return {unescape_key(k): from_bson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_bson(v) for v in value]
    if isinstance(value, str):
        return unescape(value)
    return value


def decode_field(data: bytes) -> Any:
    """The value of a field stored as a file by :meth:`MongoDocumentStore.encode_field`."""
    import bson

    return from_bson(bson.decode(data)["value"])


def largest_metric_part(limit: int = BSON_DOCUMENT_LIMIT, margin: float = PART_MARGIN) -> int:
    """The most points one metric document holds and stays ``margin`` under ``limit`` bytes.

    A point is one element in each of the arrays ``steps``, ``values`` and ``timestamps``.
    In BSON an array element takes a type byte, its index as a NUL-terminated decimal key,
    and 8 bytes (a step counted as int64, the worst case; a double; a date). Rounded down
    to a thousand.
    """
    budget = int(limit * (1 - margin))
    points, digits = 0, 1
    while True:
        per_point = 3 * (1 + digits + 1 + 8)
        width = 9 * 10 ** (digits - 1) if digits > 1 else 10  # indices with ``digits`` digits
        if budget < width * per_point:
            points += budget // per_point
            return points - points % 1000
        budget -= width * per_point
        points += width
        digits += 1


# -- driver errors ----------------------------------------------------------------------
@contextmanager
def driver_errors(where: str, what: str) -> Iterator[None]:
    """Translate pymongo / bson errors into SinkUnavailable or SinkRejected.

    A GridFS file that is not there becomes ``FileNotFoundError`` (the reader contract).

    Args:
        where: credential-free description of the server.
        what: the operation, for the message.
    """
    import bson.errors
    import gridfs.errors
    from pymongo import errors

    try:
        yield
    except gridfs.errors.NoFile as exc:
        raise FileNotFoundError(
            f"MongoDB at {where}: the stored file is missing while {what}: {_clean(exc)}"
        ) from exc
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


def open_client(target: MongoTarget, client_kwargs: dict[str, Any]) -> Any:
    """A ``pymongo.MongoClient`` for ``target`` (timeouts default to 5 s)."""
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
        self._largest_document: int | None = None

    @classmethod
    def open(
        cls, target: MongoTarget, client: Any = None, **client_kwargs: Any
    ) -> MongoDocumentStore:
        """Connect to ``target`` (or use ``client``) and return the store.

        Args:
            target: server, database and collections.
            client: a ready MongoClient, or None to connect to ``target.url``.
            **client_kwargs: passed to ``MongoClient``.
        """
        import gridfs

        owned = None
        if client is None:
            client = owned = open_client(target, client_kwargs)
        database = client[target.db_name]
        return cls(
            database[target.runs_name],
            database[target.metrics_name],
            gridfs.GridFS(database),
            target.safe_url,
            owned,
        )

    def describe(self) -> str:
        """The server and database, password hidden."""
        return self.where

    def _errors(self, what: str) -> AbstractContextManager[None]:
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

    def load_run(self, run_id: Any) -> tuple[dict[str, Any], dict[str, list[MetricPart]]]:
        """The run document and its metric parts (first parts by ``run_id``, then ``part_of``)."""
        with self._errors(f"loading run {run_id}"):
            document = self.runs.find_one({"_id": run_id})
            if document is None:
                raise SinkRejected(f"no run {run_id!r} in {self.where} to resume")
            document.pop("_id")
            parts: dict[str, list[MetricPart]] = {}
            shape = {"n": 1, "name": 1, "run_id": 1, "part_of": 1, "part": 1}
            for first in self.metrics.find({"run_id": run_id}, shape):
                name = first["name"]
                seed = {"run_id": run_id, "name": name}
                parts[name] = [MetricPart(seed, first["_id"], int(first.get("n", 0)))]
                more = self.metrics.find({"part_of": first["_id"]}, shape).sort("part", 1)
                for part in more:
                    seed = {"part_of": first["_id"], "part": part["part"], "name": name}
                    parts[name].append(MetricPart(seed, part["_id"], int(part.get("n", 0))))
        return from_bson(document), parts

    def append_points(self, batch: list[tuple[MetricPart, dict[str, list]]]) -> None:
        """One unordered bulk of ``$push``/``$each`` updates, each conditional on ``n``.

        An update whose part already moved on (duplicate key on the upsert) means an earlier
        try of this append landed unseen: it stored the first points of ``points`` (the
        observer's pending points only grow at their end), so only the rest is appended.
        """
        from bson import ObjectId
        from pymongo import UpdateOne
        from pymongo.errors import BulkWriteError

        operations = []
        for part, points in batch:
            if part.id is None:
                part.id = ObjectId()
            update = _push(points)
            if part.count == 0:
                update["$setOnInsert"] = to_bson(part.seed)
            operations.append(UpdateOne({"_id": part.id, "n": part.count}, update, upsert=True))
        with self._errors(f"appending points to {len(batch)} metric document(s)"):
            try:
                self.metrics.bulk_write(operations, ordered=False)
            except BulkWriteError as exc:
                for error in exc.details.get("writeErrors", []):
                    part, points = batch[error["index"]]
                    self._append_rest(part, points, error)
        for part, points in batch:
            part.count += len(points["steps"])

    def _append_rest(self, part: MetricPart, points: dict[str, list], error: dict) -> None:
        size = len(points["steps"])
        stored = self.metrics.find_one({"_id": part.id}, {"n": 1}) or {}
        landed = stored.get("n", -1) - part.count
        if error.get("code") != 11000 or not 0 < landed <= size:
            raise SinkRejected(
                f"metric document {part.id} refused {size} points ({error.get('errmsg')}); "
                f"it holds {stored.get('n')} points, expected {part.count} to {part.count + size}"
            )
        if landed == size:
            return
        rest = {key: values[landed:] for key, values in points.items()}
        done = self.metrics.update_one({"_id": part.id, "n": part.count + landed}, _push(rest))
        if done.matched_count != 1:
            raise SinkRejected(f"metric document {part.id} changed while points were appended")

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

    def field_budget(self) -> int:
        """Half of the server's largest document (``maxBsonObjectSize``, asked once)."""
        if self._largest_document is None:
            with self._errors("reading the server's limits"):
                hello = self.runs.database.client.admin.command("hello")
            self._largest_document = int(hello.get("maxBsonObjectSize", BSON_DOCUMENT_LIMIT))
        return self._largest_document // 2

    def encode_field(self, value: Any) -> bytes:
        """``value`` as one BSON document (``{"value": ...}``): read by :func:`decode_field`."""
        import bson

        return bson.encode({"value": to_bson(value)})

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


def _push(points: dict[str, list]) -> dict[str, Any]:
    """The update appending ``points`` to a metric document and counting them in ``n``."""
    return {
        "$push": {key: {"$each": to_bson(values)} for key, values in points.items()},
        "$inc": {"n": len(points["steps"])},
    }


def _json_options() -> Any:
    from bson.json_util import JSONMode, JSONOptions

    return JSONOptions(json_mode=JSONMode.CANONICAL, tz_aware=False)

"""MongoReader: runs written by MongoObserver (or Sacred's) read back as StoredRun objects."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ...errors import RunNotFound
from ..base import Finding, MetricSeries, RunQuery, RunReader, StoredRun, public_run_id
from ..oversized import MOVABLE_FIELDS, noted_file
from .mongo_check import check_mongo
from .mongo_location import collection_names, parse_target
from .mongo_store import (
    SINK,
    decode_field,
    driver_errors,
    escape_key,
    from_bson,
    open_client,
    to_bson,
)
from .store import stored_run

log = logging.getLogger(__name__)


class MongoReader(RunReader):
    """Reads runs written by :class:`MongoObserver` (or by Sacred's)."""

    def __init__(
        self,
        database: Any,
        collection_prefix: str = "",
        client: Any = None,
        *,
        collection: str = "runs",
    ) -> None:
        """Read from a pymongo ``Database``.

        Args:
            database: the database holding the collections.
            collection_prefix / collection: as for the observer (``PREFIX_runs`` and
                ``PREFIX_metrics``, else ``collection`` and ``metrics``).
            client: a MongoClient this reader closes in :meth:`close`, or None.
        """
        import gridfs

        runs, metrics = collection_names(collection_prefix, collection)
        self.runs = database[runs]
        self.metrics = database[metrics]
        self.fs = gridfs.GridFS(database)
        self.database = database
        self.where = f"database {database.name}"
        self._client = client

    @classmethod
    def from_url(cls, url: str, **client_kwargs: Any) -> MongoReader:
        """Open a reader on a ``mongodb://host/DB[.PREFIX]`` URL or any ``-m`` form
        (``-m DB.COLLECTION`` reads the runs collection ``COLLECTION``)."""
        SINK.check_installed()
        target = parse_target(url)
        client = open_client(target, client_kwargs)
        reader = cls(
            client[target.db_name], target.collection_prefix, client, collection=target.collection
        )
        reader.where = target.safe_url
        return reader

    def close(self) -> None:
        """Close the client if the reader opened it."""
        if self._client is not None:
            self._client.close()

    def check(self, repair: bool = False) -> list[Finding]:
        """Orphaned metric documents and GridFS files (reported), orphaned chunks (deleted)."""
        with driver_errors(self.where, "checking the store"):
            return check_mongo(self.runs, self.metrics, self.database, repair)

    def find_runs(self, query: RunQuery | None = None) -> list[StoredRun]:
        """Runs matching ``query``, newest start first (filters run on the server)."""
        query = query or RunQuery()
        with driver_errors(self.where, "finding runs"):
            cursor = self.runs.find(_mongo_filter(query), {"captured_out": 0}).sort(
                [("start_time", -1), ("_id", -1)]
            )
            if query.store_limit() is not None:
                cursor = cursor.limit(query.store_limit())
            runs = [self._restored(run) for run in map(_stored_run, cursor)]
            runs = [run for run in runs if query.matches(run)]
        return runs[: query.limit] if query.limit is not None else runs

    def get_run(self, run_id: Any) -> StoredRun:
        """One run, with its whole captured output."""
        with driver_errors(self.where, f"reading run {run_id}"):
            doc = self._run_document(run_id)
            run = self._restored(_stored_run(doc))
            full = self.fs.find_one(
                {"filename": f"captured_out://{self.runs.name}/{doc['_id']}"},
                sort=[("uploadDate", -1)],
            )
            run.captured_out = (
                full.read().decode("utf-8", "surrogateescape")
                if full is not None
                else from_bson(doc.get("captured_out"))
            )
            return run

    def get_metrics(
        self, run_id: Any, names: Iterable[str] | None = None
    ) -> dict[str, MetricSeries]:
        """Every point of the run's metrics, parts joined in order.

        Raises:
            RunNotFound: no run ``run_id``.
        """
        key = public_run_id(run_id)
        wanted: dict[str, Any] = {"run_id": key}
        if names is not None:
            wanted["name"] = {"$in": list(names)}
        series: dict[str, MetricSeries] = {}
        with driver_errors(self.where, f"reading metrics of run {run_id}"):
            firsts = list(self.metrics.find(wanted))
            if not firsts:
                self._run_document(run_id, {"_id": 1})
            further: dict[Any, list[dict[str, Any]]] = {first["_id"]: [] for first in firsts}
            if firsts:
                parts = self.metrics.find({"part_of": {"$in": list(further)}}).sort("part", 1)
                for part in parts:
                    further[part["part_of"]].append(part)
            for first in firsts:
                metric = series.setdefault(first["name"], MetricSeries(first["name"]))
                for doc in [first, *further[first["_id"]]]:
                    metric.steps.extend(doc.get("steps", []))
                    metric.values.extend(doc.get("values", []))
                    metric.timestamps.extend(doc.get("timestamps", []))
        return series

    def get_artifact(self, run_id: Any, name: str) -> bytes:
        """The content of artifact ``name`` of the run."""
        with driver_errors(self.where, f"reading artifact {name}"):
            doc = self._run_document(run_id, {"artifacts": 1})
            for entry in doc.get("artifacts", []):
                if entry.get("name") == name:
                    return self.fs.get(entry["file_id"]).read()
        raise FileNotFoundError(f"run {run_id!r} has no artifact {name!r}")

    def _restored(self, run: StoredRun) -> StoredRun:
        """``run`` with the fields the writer stored as files put back in place."""
        for key in MOVABLE_FIELDS:
            value = getattr(run, key)
            name = noted_file(value)
            if name is None:
                continue
            stored = self.fs.find_one({"filename": name}, sort=[("uploadDate", -1)])
            if stored is None:  # the note stays: it says what is missing
                log.warning(
                    "run %r in %s: the file %s holding its %s is gone",
                    run.id,
                    self.where,
                    name,
                    key,
                )
                continue
            restored = decode_field(stored.read())
            if key == "info" and "metrics" in value:
                restored["metrics"] = value["metrics"]
            setattr(run, key, restored)
        return run

    def _run_document(self, run_id: Any, fields: dict[str, int] | None = None) -> dict[str, Any]:
        """The raw run document (only ``fields`` when given); RunNotFound if absent."""
        doc = self.runs.find_one({"_id": public_run_id(run_id)}, fields)
        if doc is None:
            raise RunNotFound(f"no run {run_id!r} in {self.where}")
        return doc


def _mongo_filter(query: RunQuery) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    if query.experiment is not None:
        conditions["experiment.name"] = {"$regex": query.experiment}
    statuses = query.store_statuses()
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
    doc = from_bson(doc)
    return stored_run(doc["_id"], doc)

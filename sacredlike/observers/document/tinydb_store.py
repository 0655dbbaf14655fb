"""The TinyDB adapter of the document family: :class:`TinyDbDocumentStore`.

Layout of the store's folder (Sacred's TinyDbObserver's, plus two tables its reader ignores):

* ``metadata.json`` — TinyDB JSON (:mod:`.tinydb_file`), values tagged as Sacred's
  serializers write them (:mod:`.tinydb_codec`). Tables:

  - ``runs``: Sacred's run documents, ``_id`` being the TinyDB document id (an int) unless
    the run was given another id. File lists have Sacred's shapes:
    ``experiment.sources`` ``[[path, file id, file ref]]``, ``resources``
    ``[[path, file id, file ref]]``, ``artifacts`` ``[[name, name, file id, file ref]]``.
  - ``metrics``: one document per metric of a run, ``{_id, run_id, name, steps, values,
    timestamps}`` (``_id`` a uuid hex, which ``info.metrics`` names; ``run_id`` the run's
    ``_id``). Sacred's TinyDbObserver stores no metrics.
  - ``files``: ``{filename, file_id}`` (plus ``content_type``, ``metadata``, ``md5``) for
    every stored file: artifacts are ``artifact://runs/<id>/<name>``, a long captured output
    is ``captured_out://runs/<id>``.

* ``hashfs/`` — the files' contents (:mod:`.hash_files`).

Writing: every change first goes to memory (fields to set per run, points to append per
metric, files to list). A *compaction* takes the writers' lock, re-reads ``metadata.json`` if
another process changed it, applies what is pending and replaces the file atomically. It
runs when a run is inserted, when a run's final fields arrive (``stop_time``), and otherwise
at most every ``write_interval`` seconds — and never more often than every 20 times its own
duration, so however large the store grows, rewriting it takes at most ~5% of a run's time.
A writer killed mid-run loses at most what was pending (the last ``write_interval``
seconds); the file is always whole.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ...errors import SinkRejected, SinkUnavailable
from ...sink_table import builtin_sink
from ..base import public_run_id
from .hash_files import HashFiles
from .store import DocumentStore, MetricPart
from .tinydb_codec import encode, encode_dates, sacred_shapes, writer_shapes
from .tinydb_file import MetadataFile, Tables

SINK = builtin_sink("tinydb")
"""The TinyDB sink as the table declares it (checks that tinydb is installed)."""

WRITE_INTERVAL = 10.0
"""Default longest time (seconds) between two rewrites of ``metadata.json`` during a run."""

_COST_FACTOR = 20


def open_folder(path: str | os.PathLike[str]) -> Path:
    """The store folder at ``path``, created if absent, checked to be a writable folder.

    Raises:
        SinkRejected: ``path`` is a file, cannot be created or is not writable.
    """
    root = Path(path).absolute()
    if root.exists() and not root.is_dir():
        raise SinkRejected(f"TinyDB store {root} is a file, not a folder; give a folder path")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SinkRejected(
            f"cannot create the TinyDB store folder {root}: {exc.strerror}"
        ) from None
    return root


def _next_key(table: dict[str, Any]) -> str:
    return str(max(map(int, table), default=0) + 1)


class TinyDbDocumentStore(DocumentStore):
    """:class:`DocumentStore` on a TinyDB folder (``metadata.json`` + ``hashfs/``)."""

    def __init__(
        self, path: str | os.PathLike[str], *, write_interval: float = WRITE_INTERVAL
    ) -> None:
        """Open (or create) the store at ``path``; nothing stored there is changed.

        Args:
            path: the store's folder.
            write_interval: longest time in seconds between two rewrites of
                ``metadata.json`` while a run goes on (0: rewrite at every event).

        Raises:
            SinkRejected: ``path`` is a file, is not writable, or holds a ``metadata.json``
                that is not TinyDB JSON.
        """
        self.root = open_folder(path)
        self.file = MetadataFile(self.root / "metadata.json")
        self.file.load()
        try:
            self.file.lock_path.touch()
        except OSError as exc:
            raise SinkRejected(
                f"TinyDB store {self.root} is not writable: {exc.strerror}"
            ) from None
        self.hash_files = HashFiles(self.root / "hashfs")
        self.write_interval = write_interval
        self._lock = threading.RLock()
        self._fields: dict[Any, dict[str, Any]] = {}
        self._points: dict[str, dict[str, list]] = {}
        self._files: list[tuple[dict[str, Any], bool]] = []
        self._seeds: dict[str, dict[str, Any]] = {}
        self._keys: dict[Any, str] = {}
        self._part_keys: dict[str, str] = {}
        self._last_write = time.monotonic()
        self._written_leases: dict[Any, _dt.datetime] = {}
        self._pending_leases: dict[Any, _dt.datetime] = {}
        self._write_seconds = 0.0

    def describe(self) -> str:
        """The store's folder."""
        return f"TinyDB at {self.root}"

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise SinkUnavailable(f"{self.describe()}: {what} failed: {exc}") from exc

    # -- the DocumentStore interface ---------------------------------------------------------
    def insert_run(self, document: dict[str, Any], run_id: Any = None) -> Any:
        """Insert the run and write ``metadata.json`` now (ids are taken under the lock).

        A new run's id is the next TinyDB document id (an int); a numeric ``run_id`` (``7``
        or ``"7"``) is used as the document id, any other is kept as ``_id`` of a new document.
        """
        fields = sacred_shapes(document)
        run_id = public_run_id(run_id)
        with self._lock, self._errors("inserting a run"), self.file.locked():
            tables = self.file.load()
            runs = tables.setdefault("runs", {})
            key = self._free_key(runs, run_id)
            run_id = int(key) if run_id is None else run_id
            runs[key] = {"_id": run_id, **fields}
            self._write(tables)
            self._keys[run_id] = key
        return run_id

    def update_run(self, run_id: Any, fields: dict[str, Any]) -> None:
        """Set the fields (in memory; written now if final or due, else at a later event)."""
        encoded = sacred_shapes(fields)
        run_id = public_run_id(run_id)
        with self._lock:
            self._fields.setdefault(run_id, {}).update(encoded)
            if fields.get("lease_until") is not None:
                self._pending_leases[run_id] = fields["lease_until"]
            if "stop_time" in fields or self._due() or self._lease_runs_out(run_id, fields):
                self.sync()

    def append_points(self, batch: list[tuple[MetricPart, dict[str, list]]]) -> None:
        """Queue the points for the next write of ``metadata.json`` (never fails)."""
        with self._lock:
            for part, points in batch:
                if part.id is None:
                    part.id = uuid.uuid4().hex
                    self._seeds[part.id] = encode(part.seed)
                pending = self._points.setdefault(
                    part.id, {"steps": [], "values": [], "timestamps": []}
                )
                pending["steps"].extend(points["steps"])
                pending["values"].extend(points["values"])  # numbers: log_scalar checks
                pending["timestamps"].extend(encode_dates(points["timestamps"]))
            for part, points in batch:
                part.count += len(points["steps"])

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
        """Stream ``data`` into ``hashfs/`` and list it in the ``files`` table; return its id.

        With ``md5`` a file already listed under the same name and id is not listed again.
        """
        with self._errors(f"storing file {name}"):
            file_id = self.hash_files.put(data, known_id=md5)
        entry: dict[str, Any] = {"filename": name, "file_id": file_id}
        if md5 is not None:
            entry["md5"] = md5
        if content_type:
            entry["content_type"] = content_type
        if metadata:
            entry["metadata"] = encode(metadata)
        with self._lock:
            if md5 is None or not self._listed(entry):
                self._files.append((entry, replace))
        return file_id

    def load_run(self, run_id: Any) -> tuple[dict[str, Any], dict[str, list[MetricPart]]]:
        """The stored run (without ``_id``) and its metric parts, to resume it."""
        run_id = public_run_id(run_id)
        self.sync()
        with self._lock, self._errors(f"loading run {run_id}"), self.file.locked():
            tables = self.file.load()
        runs = tables.get("runs", {})
        key = self._find_key(runs, run_id)
        if key not in runs:
            raise SinkRejected(f"no run {run_id!r} in {self.describe()} to resume")
        document = writer_shapes(runs[key])
        document.pop("_id", None)
        parts: dict[str, list[MetricPart]] = {}
        with self._lock:
            self._keys[run_id] = key
            for metric_key, metric in tables.get("metrics", {}).items():
                if metric.get("run_id") == run_id:
                    seed = {"run_id": run_id, "name": metric["name"]}
                    self._seeds[metric["_id"]] = seed
                    self._part_keys[metric["_id"]] = metric_key
                    part = MetricPart(seed, metric["_id"], len(metric["steps"]))
                    parts[metric["name"]] = [part]
        return document, parts

    def close(self) -> None:
        """Write what is pending and close the cached file."""
        self.sync()
        self.file.forget()

    # -- writing -------------------------------------------------------------------------
    def sync(self) -> None:
        """Write everything pending to ``metadata.json`` now."""
        with self._lock:
            if not (self._fields or self._points or self._files):
                return
            with self._errors("writing metadata.json"), self.file.locked():
                self._write(self.file.load())

    def _wait(self) -> float:
        return max(self.write_interval, _COST_FACTOR * self._write_seconds)

    def _due(self) -> bool:
        return time.monotonic() - self._last_write >= self._wait()

    def _lease_runs_out(self, run_id: Any, fields: dict[str, Any]) -> bool:
        """Whether the lease in the file must be renewed now so readers never see a live run
        as DEAD: none written yet, or less than half the new lease's window left on it."""
        lease, beat = fields.get("lease_until"), fields.get("heartbeat")
        if lease is None or beat is None:
            return False
        written = self._written_leases.get(run_id)
        return written is None or written - beat <= (lease - beat) / 2

    def _write(self, tables: Tables) -> None:
        """Apply what is pending to ``tables`` (the file's cache) and replace the file."""
        began = time.monotonic()
        self._apply_fields(tables.setdefault("runs", {}))
        self._apply_points(tables.setdefault("metrics", {}))
        self._apply_files(tables.setdefault("files", {}))
        self.file.write(tables)  # on failure it drops the changed cache; pending stays
        self._written_leases.update(self._pending_leases)
        self._pending_leases = {}
        self._fields, self._points, self._files = {}, {}, []
        self._last_write = time.monotonic()
        self._write_seconds = self._last_write - began

    def _apply_fields(self, runs: dict[str, Any]) -> None:
        for run_id, fields in self._fields.items():
            key = self._keys.get(run_id)
            if key is None or runs.get(key, {}).get("_id", run_id) != run_id:
                key = self._find_key(runs, run_id)
            runs.setdefault(key, {"_id": run_id}).update(fields)
            self._keys[run_id] = key

    def _apply_points(self, metrics: dict[str, Any]) -> None:
        for part_id, pending in self._points.items():
            key = self._part_keys.get(part_id)
            if key is None or metrics.get(key, {}).get("_id") != part_id:
                key = _next_key(metrics)
                metrics[key] = {
                    "_id": part_id,
                    **self._seeds[part_id],
                    "steps": [],
                    "values": [],
                    "timestamps": [],
                }
                self._part_keys[part_id] = key
            document = metrics[key]
            for column, values in pending.items():
                document[column].extend(values)

    def _apply_files(self, files: dict[str, Any]) -> None:
        for entry, replace in self._files:
            if replace:
                for key in [k for k, doc in files.items() if doc["filename"] == entry["filename"]]:
                    del files[key]
            files[_next_key(files)] = entry

    # -- helpers ---------------------------------------------------------------------------
    def _free_key(self, runs: dict[str, Any], run_id: Any) -> str:
        if run_id is None:
            return _next_key(runs)
        taken = (
            str(run_id) in runs
            if type(run_id) is int
            else any(doc.get("_id") == run_id for doc in runs.values())
        )
        if taken:
            raise SinkRejected(f"a run with id {run_id!r} already exists in {self.describe()}")
        return str(run_id) if type(run_id) is int else _next_key(runs)

    def _find_key(self, runs: dict[str, Any], run_id: Any) -> str:
        """The document id of run ``run_id``, or a new one if the store has no such run."""
        if type(run_id) is int:
            return str(run_id)
        for key, doc in runs.items():
            if doc.get("_id") == run_id:
                return key
        return _next_key(runs)

    def _listed(self, entry: dict[str, Any]) -> bool:
        same = (entry["filename"], entry["file_id"])
        listed = [e for e, _ in self._files] + list(self.file.load().get("files", {}).values())
        return any((e["filename"], e["file_id"]) == same for e in listed)

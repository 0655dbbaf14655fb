"""What a document-family sink implements: :class:`DocumentStore` and :class:`MetricPart`.

The observers (:mod:`._document`, :mod:`._document_queued`) decide what to write; a store
adapter (e.g. :mod:`._mongo_store`) only writes it. A new document sink implements the four
abstract methods of :class:`DocumentStore`.
"""

from __future__ import annotations

import abc
import datetime as _dt
import json
from dataclasses import dataclass
from typing import IO, Any

from ...errors import SinkRejected
from ..base import StoredRun


@dataclass
class MetricPart:
    """One document holding a slice of a metric's points.

    Attributes:
        seed: fields the document starts with (``run_id``/``name`` or ``part_of``/``part``).
        id: the document id, assigned by the store on the first append.
        count: number of points the document holds.
    """

    seed: dict[str, Any]
    id: Any = None
    count: int = 0


class DocumentStore(abc.ABC):
    """Where a document observer writes: runs, metric parts and files.

    Adapters translate their driver's errors into
    :class:`~sacredlike.errors.SinkUnavailable` (retrying may help) and
    :class:`~sacredlike.errors.SinkRejected` (it will not).
    """

    runs_name: str = "runs"

    @abc.abstractmethod
    def insert_run(self, document: dict[str, Any], run_id: Any = None) -> Any:
        """Insert a new run document and return its id.

        Args:
            document: the fields of the run (without ``_id``).
            run_id: the id to use; None allocates the next free number.

        Raises:
            SinkRejected: ``run_id`` is taken.
        """

    @abc.abstractmethod
    def update_run(self, run_id: Any, fields: dict[str, Any]) -> None:
        """Set ``fields`` (top-level names) of the run, creating the document if absent."""

    @abc.abstractmethod
    def append_points(self, batch: list[tuple[MetricPart, dict[str, list]]]) -> None:
        """Append points (``steps``, ``values``, ``timestamps``) to parts, exactly once.

        Assigns ``part.id`` to new parts. Only when every append succeeded, advances each
        ``part.count``; after an error no count changes, and a later try (the same points,
        possibly followed by newer ones) must not store again what already reached the store.
        """

    @abc.abstractmethod
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
        """Store a file and return its id.

        Args:
            name: the file's name in the store.
            data: its content, read in chunks.
            content_type / metadata: stored with the file.
            md5: content hash; when given, an existing file with the same name and md5 is
                reused instead of storing the content again.
            replace: remove older files of the same name once this one is stored.
        """

    def load_run(self, run_id: Any) -> tuple[dict[str, Any], dict[str, list[MetricPart]]]:
        """The stored run document (without ``_id``) and its metric parts by name, in order.

        Used to resume a run (``sacredlike sync``). Stores that cannot resume keep this
        default.

        Raises:
            SinkRejected: no run ``run_id``, or the store cannot resume runs.
        """
        raise SinkRejected(f"{self.describe()} cannot resume run {run_id!r}")

    def field_budget(self) -> int | None:
        """Most bytes ``config``, ``info`` and ``result`` may take in one document.

        Larger ones are stored as files (:mod:`sacredlike.observers.oversized`); None (the
        default) means the store takes any size.
        """
        return None

    def encode_field(self, value: Any) -> bytes:
        """The content of the file holding a field too big for a document."""
        return self.encode_saved(value).encode("utf-8")

    def close(self) -> None:
        """Release the connection."""

    def describe(self) -> str:
        """A credential-free description of the store for messages."""
        return type(self).__name__

    def encode_saved(self, value: Any) -> str:
        """Text form of a run saved to disk (must keep every type the store writes)."""
        return json.dumps(value, default=_tag_datetime, allow_nan=True)

    def decode_saved(self, text: str) -> Any:
        """Inverse of :meth:`encode_saved`."""
        return json.loads(text, object_hook=_untag_datetime)


def _tag_datetime(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return {"$datetime": value.isoformat()}
    raise TypeError(f"cannot save a {type(value).__name__}")


def _untag_datetime(obj: dict) -> Any:
    if set(obj) == {"$datetime"}:
        return _dt.datetime.fromisoformat(obj["$datetime"])
    return obj


def stored_run(run_id: Any, doc: dict[str, Any]) -> StoredRun:
    """A run document (Sacred's fields, values decoded by the store) as the readers' StoredRun."""
    experiment = doc.get("experiment") or {}
    return StoredRun(
        id=run_id,
        experiment_name=experiment.get("name"),
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
        experiment=experiment,
        fail_trace=doc.get("fail_trace"),
        artifacts=[a["name"] for a in doc.get("artifacts", []) if isinstance(a, dict)],
        lease_until=doc.get("lease_until"),
    )

"""A run as rows in a SQL database: the observer of the rows family.

The tables are described in :mod:`sacredlike.observers.rows.schema` (and ``docs/sql.md``);
the statements live in :mod:`sacredlike.observers.rows.store`. This module holds the event
logic only and imports SQLAlchemy lazily, so it loads without the ``sql`` extra (the
observer is built on an engine, so SQLAlchemy is there by then).

Per event, one transaction:

* ``started_event`` / ``queued_event``: get or create the experiment and host rows, insert
  the run; the database allocates the integer id (``run.id``) unless one was preset.
* ``heartbeat_event`` and the terminal events: update only the columns that changed since
  the last successful write (:class:`~sacredlike.record.RunRecord`), and append the new part
  of the captured output (``||`` / ``CONCAT``) instead of rewriting it.
* ``log_metrics``: every point in one bulk insert (``COPY`` on PostgreSQL with psycopg).
* ``artifact_event`` / ``resource_event``: the file streamed in chunks.

A failed write raises :class:`~sacredlike.errors.SinkUnavailable` or
:class:`~sacredlike.errors.SinkRejected`; what was not written stays pending in the record
and goes out with the next event (metrics are offered again by the dispatcher).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from ...errors import SinkUnavailable
from ...record import OutputDelta, RunRecord
from ..base import StoringObserver
from ..oversized import MOVABLE_FIELDS, note, too_big

OUTPUT_COPY = "cout.txt"
"""The artifact holding the whole captured output once it outgrows ``captured_out`` (a name
user artifacts cannot take: it is reserved for the run's own records)."""
OUTPUT_NOTE = f"earlier characters are in the artifact {OUTPUT_COPY}]"
"""The end of the first line of ``captured_out`` when the whole output is in the copy."""
FIELD_FILES = frozenset(f".sacredlike/{field}.json" for field in MOVABLE_FIELDS)
"""The artifacts holding fields too big for one statement (:mod:`..oversized`)."""


class RowsObserver(StoringObserver):
    """Records runs as rows of a SQL database (SQLite, PostgreSQL, MariaDB/MySQL).

    Args:
        engine: a SQLAlchemy engine on the database; missing tables are created.
        priority: observers with a higher priority are called first.

    Raises:
        SinkUnavailable: the database cannot be reached.
        SinkRejected: the database holds tables this version cannot write to.
    """

    def __init__(self, engine: Any, priority: int = 40) -> None:
        from .store import RowStore

        self.priority = priority
        self.store = RowStore(engine)
        self.store.ensure_schema()
        self._record = RunRecord()
        self._key: int | None = None
        self._captured_out: str | None = None
        self._output_copied = 0
        self._stored_points: dict[str, int] = {}
        self._unsure: dict[str, int] | None = None

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine the observer writes to."""
        return self.store.engine

    def destination(self) -> tuple:
        """The database (its URL, password hidden)."""
        return ("rows", str(self.engine.url))

    # -- start ------------------------------------------------------------------------
    def queued_event(self, ex_info, command, host_info, queue_time, config, meta_info, _id):
        """Insert a QUEUED run and return its id."""
        self._record = RunRecord()
        self._record.queued(ex_info, command, host_info, queue_time, config, meta_info)
        return self._insert(_id)

    def started_event(self, ex_info, command, host_info, start_time, config, meta_info, _id):
        """Insert a RUNNING run and return its id (an int unless ``_id`` was preset)."""
        self._record = RunRecord()
        self._record.started(ex_info, command, host_info, start_time, config, meta_info)
        return self._insert(_id)

    def resume(self, run_id: Any) -> None:
        """Take over the stored run ``run_id`` so that replayed events add only what is missing.

        Used by ``sacredlike sync``: points already stored are skipped when offered again, the
        next output replaces the stored one, later fields overwrite their columns.

        Raises:
            SinkRejected: the database holds no run ``run_id``.
        """
        self._record = RunRecord()
        self._key, counts = self.store.stored_run(run_id)
        self._record.resumed(run_id, {})
        self._record.skip_points(counts)
        self._captured_out = None
        self._stored_points, self._unsure = counts, None

    def _insert(self, preset_id: Any) -> Any:
        self._captured_out = None
        self._output_copied = 0
        self._stored_points, self._unsure = {}, None
        changes = self._record.changes()
        written, files = self._fit(changes)
        self._key = self.store.add_run(written, preset_id)
        self._record.run_id = self._key if preset_id is None else preset_id
        self._store_field_files(files)
        self._record.mark_stored(changes)
        return self._record.run_id

    def _fit(self, changes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
        """``changes`` with notes for the fields too big to write, and those fields' JSON."""
        moved = too_big(changes, self._json_bytes, self.store.json_budget)
        written, files = dict(changes), {}
        for field, data in moved.items():
            name = f".sacredlike/{field}.json"
            files[name] = data
            written[field] = note(name, len(data))
        return written, files

    def _json_bytes(self, value: Any) -> bytes:
        """``value`` as its JSON column holds it, in UTF-8."""
        from .schema import json_safe

        text = json.dumps(json_safe(value, self.store.nul), ensure_ascii=False)
        return text.encode("utf-8", "surrogatepass")

    def _store_field_files(self, files: dict[str, bytes]) -> None:
        for name, data in files.items():
            self.store.add_artifact(
                self._run_key, name, io.BytesIO(data), content_type="application/json"
            )

    # -- updates ------------------------------------------------------------------------
    def heartbeat_event(self, info, captured_out, beat_time, result, lease_until=None) -> None:
        """Write the changed columns and the new part of the captured output."""
        self._record.heartbeat(info, beat_time, result, lease_until)
        self._captured_out = captured_out
        self._flush()

    def completed_event(self, stop_time, result) -> None:
        """Mark the run COMPLETED."""
        self._record.completed(stop_time, result)
        self._flush()

    def interrupted_event(self, interrupt_time, status) -> None:
        """Mark the run with its interrupt status."""
        self._record.interrupted(interrupt_time, status)
        self._flush()

    def failed_event(self, fail_time, fail_trace) -> None:
        """Mark the run FAILED with its traceback."""
        self._record.failed(fail_time, fail_trace)
        self._flush()

    def _flush(self) -> None:
        """Write whatever the record holds that the database does not, in one transaction.

        Output longer than the server's ``captured_out`` limit goes to the ``cout.txt``
        artifact whole, when it has doubled since the last copy and at the end (so bytes
        written stay linear); the column then holds a note and the latest part. ``config``,
        ``info`` and ``result`` too big for one statement go to files of the run
        (:mod:`~sacredlike.observers.oversized`).
        """
        changes = self._record.changes()
        written, files = self._fit(changes)
        self._store_field_files(files)
        text = self._captured_out or ""
        limit = self.store.output_limit
        if len(text) <= limit:
            delta = self._record.output.delta(text)
        else:
            delta = None
            final = self._record.fields.get("stop_time") is not None
            if len(text) >= 2 * self._output_copied or (final and len(text) > self._output_copied):
                self.store.add_text_artifact(self._run_key, OUTPUT_COPY, text, "text/plain")
                self._output_copied = len(text)
                head = len(text) - limit // 2
                note = f"[{head} {OUTPUT_NOTE}\n"
                delta = OutputDelta(note + text[head:], rewrite=True)
        self.store.update_run(self._key, written, delta)
        self._record.mark_stored(changes)
        self._record.output.mark_stored()

    def log_metrics(self, metrics_by_name, info) -> None:
        """Insert the new metric points in bulk (all or none: a failed batch is offered again).

        After an insert failed on a lost connection, its commit may still have landed: the
        stored counts are read back first and, if they moved, its points are not sent again.
        """
        if self._unsure is not None:
            counts = self.store.metric_counts(self._run_key)
            if counts != self._stored_points:
                self._record.skip_points(self._unsure)
            self._stored_points, self._unsure = counts, None
        fresh = self._record.new_points(metrics_by_name)
        try:
            self._stored_points = self.store.add_metrics(self._run_key, fresh, self._stored_points)
        except Exception as error:
            self._record.offer_failed(metrics_by_name, fresh, kept=False)
            if isinstance(error, SinkUnavailable):
                self._unsure = {name: len(series["steps"]) for name, series in fresh.items()}
            raise

    def artifact_event(self, name, filename, metadata=None, content_type=None) -> None:
        """Store an artifact file, streamed in chunks."""
        self.store.add_artifact(self._run_key, name, filename, metadata, content_type)

    def resource_event(self, filename) -> None:
        """Store a resource file once per content and link it to the run."""
        self.store.add_resource(self._run_key, filename)

    @property
    def _run_key(self) -> str:
        return str(self._record.run_id)

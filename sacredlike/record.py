"""The one place that turns observer events into a run's stored record.

Every built-in observer family (folder of files, document, rows) starts a new
:class:`RunRecord` at each ``started_event`` / ``queued_event`` (one observer may record many
runs) and feeds it the events it receives; the record says what changed since the last
successful write, and the writer stores only that. This is where statuses, times, info,
the captured-output offset and the bookkeeping of metric points already stored live (points
offered again after a failed write, or replayed from a journal, are skipped), so the writers
stay thin and behave alike.

Field names follow Sacred's run document: ``experiment, command, host, start_time,
queue_time, config, meta, status, heartbeat, result, stop_time, fail_trace, info,
resources, artifacts``, plus ``lease_until`` (:mod:`sacredlike.lease`), which Sacred's tools
ignore. Values are :func:`sacredlike.serialize.flatten`-ed (datetimes kept).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from .redaction import redact_credentials
from .serialize import flatten
from .status import RunStatus

_TAIL = 256  # characters of stored output remembered to detect a rewritten prefix


@dataclass(frozen=True)
class OutputDelta:
    """What a writer must do to bring its stored captured output up to date.

    Attributes:
        text: the text to append, or the whole text when ``rewrite`` is true.
        rewrite: the already-stored text changed (an output filter edited earlier lines), so
            the stored output must be replaced by ``text`` instead of appended to.
    """

    text: str
    rewrite: bool = False


class OutputTracker:
    """Tracks how much of a run's captured output a sink has stored.

    ``captured_out`` arrives whole at every beat (Sacred's contract); the tracker hands out
    only the part not yet stored, so appends cost what is new, not what is there.
    """

    def __init__(self) -> None:
        self.stored_length = 0
        self._stored_tail = ""
        self._pending: tuple[int, str] | None = None
        self._rewrite = False

    def delta(self, captured_out: str | None) -> OutputDelta | None:
        """Return what is new in ``captured_out`` since the last :meth:`mark_stored`."""
        if not captured_out:
            return None
        tail_start = self.stored_length - len(self._stored_tail)
        same_prefix = (
            len(captured_out) >= self.stored_length
            and captured_out[tail_start : self.stored_length] == self._stored_tail
        )
        self._pending = (len(captured_out), captured_out[max(0, len(captured_out) - _TAIL) :])
        if self._rewrite or not same_prefix:
            return OutputDelta(captured_out, rewrite=True)
        if len(captured_out) == self.stored_length:
            self._pending = None
            return None
        return OutputDelta(captured_out[self.stored_length :])

    def mark_stored(self) -> None:
        """Record that the last delta was written."""
        if self._pending is not None:
            self.stored_length, self._stored_tail = self._pending
            self._pending = None
            self._rewrite = False

    def rewrite_next(self) -> None:
        """Make the next delta replace the stored output whole (a run resumed from a journal)."""
        self._rewrite = True


class RunRecord:
    """The state of one run as its sink stores it, with change tracking.

    Usage by a writer: call the event method, then write ``changes()`` (a dict of the fields
    that differ from what was stored), then ``mark_stored(changes)`` once the write
    succeeded. A failed write leaves the changes pending for the next event.
    """

    def __init__(self) -> None:
        self.run_id: Any = None
        self.fields: dict[str, Any] = {}
        self._stored: dict[str, Any] = {}
        self.output = OutputTracker()
        self._skip: dict[str, int] = {}

    # -- metric points -------------------------------------------------------------------
    def skip_points(self, counts: dict[str, int]) -> None:
        """Drop the next ``counts[name]`` points offered for each metric: they are stored.

        Used when a run is resumed (its events replayed from the start); after a failed
        ``log_metrics`` use :meth:`offer_failed`.
        """
        for name, count in counts.items():
            if count:
                self._skip[name] = self._skip.get(name, 0) + count

    def new_points(self, metrics_by_name: dict[str, dict]) -> dict[str, dict]:
        """The points of ``metrics_by_name`` not stored yet (see :meth:`skip_points`)."""
        if not self._skip:
            return metrics_by_name
        fresh = {}
        for name, series in metrics_by_name.items():
            skip = min(self._skip.get(name, 0), len(series["steps"]))
            if skip:
                self._skip[name] -= skip
                series = {
                    key: value[skip:] if isinstance(value, list) else value
                    for key, value in series.items()
                }
            if series["steps"]:
                fresh[name] = series
        self._skip = {name: left for name, left in self._skip.items() if left}
        return fresh

    def offer_failed(self, offered: dict[str, dict], fresh: dict[str, dict], kept: bool) -> None:
        """Note that ``log_metrics`` raised after :meth:`new_points` gave ``fresh`` of ``offered``.

        The dispatcher (or a queue) offers ``offered`` again, first: the points skipped in it
        are skipped again, and those of ``fresh`` too if ``kept`` (the sink stored or buffered
        them before raising), however many times the offer fails.
        """
        self.skip_points(
            {
                name: len(series["steps"])
                - (0 if kept else len(fresh.get(name, {"steps": ()})["steps"]))
                for name, series in offered.items()
            }
        )

    # -- events -------------------------------------------------------------------------
    def queued(
        self,
        ex_info: dict,
        command: str,
        host_info: dict,
        queue_time: _dt.datetime,
        config: dict,
        meta_info: dict,
    ) -> None:
        """Fill the record of a run that was only queued."""
        self._begin(ex_info, command, host_info, config, meta_info)
        self.fields.update(status=RunStatus.QUEUED.value, queue_time=queue_time)

    def started(
        self,
        ex_info: dict,
        command: str,
        host_info: dict,
        start_time: _dt.datetime,
        config: dict,
        meta_info: dict,
    ) -> None:
        """Fill the record of a run that starts now."""
        self._begin(ex_info, command, host_info, config, meta_info)
        self.fields.update(status=RunStatus.RUNNING.value, start_time=start_time, heartbeat=None)

    def heartbeat(
        self,
        info: dict,
        beat_time: _dt.datetime,
        result: Any,
        lease_until: _dt.datetime | None = None,
    ) -> None:
        """Take the beat's info, time, result and lease (output goes through :attr:`output`)."""
        self.fields.update(info=flatten(info), heartbeat=beat_time, result=flatten(result))
        if lease_until is not None:
            self.fields["lease_until"] = lease_until

    def completed(self, stop_time: _dt.datetime, result: Any) -> None:
        """Mark the run COMPLETED."""
        self.fields.update(
            status=RunStatus.COMPLETED.value, stop_time=stop_time, result=flatten(result)
        )

    def interrupted(self, interrupt_time: _dt.datetime, status: str) -> None:
        """Mark the run interrupted with ``status`` (INTERRUPTED, TIMEOUT or custom)."""
        self.fields.update(status=str(status), stop_time=interrupt_time)

    def failed(self, fail_time: _dt.datetime, fail_trace: list[str] | str) -> None:
        """Mark the run FAILED with its traceback lines (a string is split into its lines)."""
        if isinstance(fail_trace, str):
            fail_trace = fail_trace.splitlines(keepends=True)
        self.fields.update(
            status=RunStatus.FAILED.value, stop_time=fail_time, fail_trace=list(fail_trace)
        )

    def add_resource(self, path: str, md5: str) -> None:
        """Record a resource (a file the run read), once per ``(path, md5)``."""
        entry = [path, md5]
        resources = self.fields.setdefault("resources", [])
        if entry not in resources:
            self.fields["resources"] = [*resources, entry]

    def add_artifact(self, entry: Any) -> None:
        """Record an artifact (a name or a sink-specific dict), replacing a same-named one."""
        name = _artifact_name(entry)
        kept = [a for a in self.fields.get("artifacts", []) if _artifact_name(a) != name]
        self.fields["artifacts"] = [*kept, entry]

    # -- change tracking ------------------------------------------------------------------
    def changes(self) -> dict[str, Any]:
        """Fields whose current value differs from the last stored one."""
        return {
            key: value
            for key, value in self.fields.items()
            if key not in self._stored or self._stored[key] != value
        }

    def stored_fields(self) -> set[str]:
        """Names of the fields written at least once."""
        return set(self._stored)

    def mark_stored(self, changes: dict[str, Any]) -> None:
        """Record that ``changes`` (as returned by :meth:`changes`) were written."""
        self._stored.update(changes)

    def resumed(self, run_id: Any, stored: dict[str, Any]) -> None:
        """Take over run ``run_id`` whose stored fields are ``stored`` (replaying a journal).

        The fields count as written; the next captured output replaces the stored one.
        """
        self.run_id = run_id
        self.fields = dict(stored)
        self._stored = dict(stored)
        self.output.rewrite_next()

    def _begin(
        self, ex_info: dict, command: str, host_info: dict, config: dict, meta_info: dict
    ) -> None:
        self.fields.update(
            experiment=flatten(ex_info),
            command=command,
            host=flatten(host_info),
            config=flatten(config),
            meta=redact_credentials(flatten(meta_info)),  # also when events come directly
            resources=[],
            artifacts=[],
        )


def _artifact_name(entry: Any) -> str:
    return entry["name"] if isinstance(entry, dict) else entry

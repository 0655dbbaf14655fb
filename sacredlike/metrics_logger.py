"""``log_scalar``'s buffer: an append on the training loop's path, drained by the heartbeat.

The hot path appends one tuple to a ``collections.deque`` (thread-safe under CPython without
a lock) and keeps the last step per name. The heartbeat thread calls :meth:`collect` often
(every few tens of milliseconds) to move points into compact per-metric columns, popping
exactly the points that were there when it started, so a point is never lost or delivered
twice; at each beat :meth:`drain` hands the columns out in bounded batches. Memory thus stays
proportional to the points of one beat, at about 80 bytes a point, whatever the beat interval.
"""

from __future__ import annotations

import datetime as _dt
import sys
import time
from array import array
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .metric_values import EXACT_INT, STEP_MAX, check_name, check_step, check_value


@dataclass(frozen=True)
class ScalarMetricLogEntry:
    """One logged point (Sacred's public name)."""

    name: str
    step: int
    timestamp: _dt.datetime
    value: float


def linearize_metrics(logged_metrics: list[ScalarMetricLogEntry]) -> dict[str, dict[str, Any]]:
    """Group entries by metric name into ``{name: {"name", "steps", "values", "timestamps"}}``."""
    grouped: dict[str, dict[str, Any]] = {}
    for entry in logged_metrics:
        series = grouped.get(entry.name)
        if series is None:
            series = grouped[entry.name] = {
                "name": entry.name,
                "steps": [],
                "values": [],
                "timestamps": [],
            }
        series["steps"].append(entry.step)
        series["values"].append(entry.value)
        series["timestamps"].append(entry.timestamp)
    return grouped


_EPOCH = _dt.datetime(1970, 1, 1)

if sys.version_info < (3, 12):
    # 3x faster than the epoch sum below and 8x faster than fromtimestamp(t, utc) without
    # tzinfo, with the same result (naive UTC, rounded half-even to the microsecond)
    _utc_from_timestamp = _dt.datetime.utcfromtimestamp
else:  # deprecated from 3.12 on, and no faster there, with its warning on every call

    def _utc_from_timestamp(stamp: float) -> _dt.datetime:
        return _EPOCH + _dt.timedelta(0, stamp)


MetricsByName = dict[str, dict[str, Any]]


class _Columns:
    """The collected points of one metric: steps, values and float timestamps."""

    __slots__ = ("stamps", "steps", "values")

    def __init__(self) -> None:
        self.steps: list[Any] = []
        self.values: list[Any] = []
        self.stamps = array("d")


class MetricsLogger:
    """Collects scalar metric points of one run until the heartbeat drains them."""

    def __init__(self) -> None:
        self._points: deque[tuple[str, Any, Any, float]] = deque()
        self._last_step: dict[str, Any] = {}
        self._append = self._points.append
        self._columns: dict[str, _Columns] = {}

    def log_scalar(
        self,
        name: str,
        value: Any,
        step: Any = None,
        *,
        _now: Any = time.time,
        _int: type = int,
        _float: type = float,
        _exact: int = EXACT_INT,
        _step_max: int = STEP_MAX,
    ) -> None:
        """Record ``value`` of metric ``name`` at ``step`` (default: previous step + 1, from 0).

        The rule of :mod:`sacredlike.metric_values` applies: numpy scalars and other real
        numbers become Python numbers, NaN and infinities are kept, anything no sink can
        store exactly is refused here. Never blocks and never touches a sink.

        Raises:
            TypeError: ``name`` is not a string, or ``value`` / ``step`` is not a number.
            ValueError: an empty, too long or unencodable name; a step that is not a whole
                64-bit number; an int value no 64-bit float equals.
        """
        # the keyword-only defaults bind globals as locals: this line runs in training loops
        last = self._last_step.get(name)
        if last is None:
            check_name(name)
            last = -1
        if step is None:
            step = last + 1
        elif type(step) is not _int or not -_step_max <= step <= _step_max:
            step = check_step(name, step)
        if type(value) is _int:
            if not -_exact <= value <= _exact:
                value = check_value(name, value)
        elif type(value) is not _float:
            value = check_value(name, value)
        self._last_step[name] = step
        self._append((name, value, step, _now()))

    def collect(self) -> None:
        """Move the points logged so far into per-metric columns (consumer side only)."""
        points = self._points
        columns = self._columns
        for _ in range(len(points)):
            name, value, step, stamp = points.popleft()
            series = columns.get(name)
            if series is None:
                series = columns[name] = _Columns()
            series.steps.append(step)
            series.values.append(value)
            series.stamps.append(stamp)

    def pending(self) -> int:
        """Number of points logged and not drained yet."""
        return len(self._points) + _count(self._columns)

    def drain(self, batch_size: int | None = None) -> DrainedPoints:
        """Remove the points logged so far, to be handed out as ``log_metrics`` wants them.

        Args:
            batch_size: at most this many points per batch (None: one batch).
        """
        self.collect()
        columns, self._columns = self._columns, {}
        return DrainedPoints(columns, batch_size)


def _count(columns: dict[str, _Columns]) -> int:
    return sum(len(series.steps) for series in columns.values())


class DrainedPoints:
    """Points removed from a :class:`MetricsLogger`: ``len()`` counts them, iterating yields
    ``{name: {"name", "steps", "values", "timestamps"}}`` batches with naive UTC datetimes
    (nothing when no point was logged)."""

    def __init__(self, columns: dict[str, _Columns], batch_size: int | None) -> None:
        self._columns = columns
        self._batch_size = batch_size

    def __len__(self) -> int:
        return _count(self._columns)

    def __iter__(self) -> Iterator[MetricsByName]:
        batch_size = self._batch_size
        batch: MetricsByName = {}
        size = 0
        for name, series in self._columns.items():
            start, total = 0, len(series.steps)
            while start < total:
                end = total if batch_size is None else min(total, start + batch_size - size)
                batch[name] = {
                    "name": name,
                    "steps": series.steps[start:end],
                    "values": series.values[start:end],
                    "timestamps": list(map(_utc_from_timestamp, series.stamps[start:end])),
                }
                size += end - start
                start = end
                if batch_size is not None and size >= batch_size:
                    yield batch
                    batch, size = {}, 0
        if batch:
            yield batch

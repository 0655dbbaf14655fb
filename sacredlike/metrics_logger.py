"""``log_scalar``'s buffer: an append on the training loop's path, drained by the heartbeat.

The hot path appends one tuple to a ``collections.deque`` (thread-safe under CPython without
a lock) and keeps the last step per name; the heartbeat thread pops exactly the points that
were there when it started draining, so a point is never lost or delivered twice.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from .serialize import number


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


_utc_from_timestamp = _dt.datetime.fromtimestamp
_UTC = _dt.timezone.utc


class MetricsLogger:
    """Collects scalar metric points of one run until the heartbeat drains them."""

    def __init__(self) -> None:
        self._points: deque[tuple[str, Any, Any, float]] = deque()
        self._last_step: dict[str, Any] = {}
        self._append = self._points.append

    def log_scalar(
        self,
        name: str,
        value: Any,
        step: Any = None,
        *,
        _now: Any = time.time,
        _str: type = str,
        _int: type = int,
        _float: type = float,
    ) -> None:
        """Record ``value`` of metric ``name`` at ``step`` (default: previous step + 1, from 0).

        Numpy scalars and other real numbers are converted to Python numbers; NaN and
        infinities are kept. Never blocks and never touches a sink.

        Raises:
            TypeError: ``name`` is not a string, or ``value`` / ``step`` is not a number.
        """
        # the keyword-only defaults bind globals as locals: this line runs in training loops
        if type(name) is not _str:
            raise TypeError(f"log_scalar: metric name must be a string, got {name!r}")
        if step is None:
            step = self._last_step.get(name, -1) + 1
        elif type(step) is not _int:
            step = _checked(name, "step", step)
        if type(value) is not _float and type(value) is not _int:
            value = _checked(name, "value", value)
        self._last_step[name] = step
        self._append((name, value, step, _now()))

    def drain(self) -> dict[str, dict[str, Any]]:
        """Remove and return the points logged so far, as ``log_metrics`` wants them.

        Returns:
            ``{name: {"name", "steps", "values", "timestamps"}}`` with naive UTC datetimes.
        """
        points = self._points
        grouped: dict[str, dict[str, Any]] = {}
        for _ in range(len(points)):
            name, value, step, stamp = points.popleft()
            series = grouped.get(name)
            if series is None:
                series = grouped[name] = {"name": name, "steps": [], "values": [], "timestamps": []}
            series["steps"].append(step)
            series["values"].append(value)
            series["timestamps"].append(_utc_from_timestamp(stamp, _UTC).replace(tzinfo=None))
        return grouped

    def pending(self) -> int:
        """Number of points not drained yet."""
        return len(self._points)


def _checked(name: str, what: str, value: Any) -> int | float:
    try:
        converted = number(value)
    except TypeError:
        raise TypeError(
            f"log_scalar({name!r}): {what} must be a number, got {type(value).__name__} {value!r}"
        ) from None
    if what == "step" and isinstance(converted, float) and converted.is_integer():
        return int(converted)
    return converted

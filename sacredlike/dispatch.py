"""The only caller of observers: priority order, id assignment, error policy, one lock.

Events from the main thread (artifacts, resources, the end) and from the heartbeat thread
go through one lock, so an observer never sees two events of a run at once.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from .errors import ObserverError
from .lease import utcnow

_log = logging.getLogger("sacredlike.observers")

MetricsByName = dict[str, dict[str, Any]]
FAILURES_KEY = "observer_failures"
"""The ``info`` key under which a run records its observers' failures (kept by every sink)."""
MAX_FAILURES = 100
"""At most this many failures are recorded in a run's info (the log has every one)."""


def observer_name(observer: Any) -> str:
    """A short description of an observer for messages (its class name and repr)."""
    return type(observer).__name__


def takes_keyword(method: Callable[..., Any], name: str) -> bool:
    """Whether ``method`` accepts the keyword argument ``name`` (or any keyword)."""
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


def count_points(batch: MetricsByName) -> int:
    """Number of metric points in ``batch``."""
    return sum(len(series["steps"]) for series in batch.values())


def merge_metrics(older: MetricsByName, newer: MetricsByName) -> MetricsByName:
    """Points of ``older`` followed by those of ``newer``, per metric name (new lists)."""
    merged: MetricsByName = {}
    for batch in (older, newer):
        for name, series in batch.items():
            target = merged.setdefault(
                name, {"name": name, "steps": [], "values": [], "timestamps": []}
            )
            for key in ("steps", "values", "timestamps"):
                target[key].extend(series[key])
    return merged


class Dispatcher:
    """Delivers a run's events to its observers.

    Every time an observer begins failing in an event kind, the failure is logged and noted
    in :attr:`failures`; the next beats carry them in the run's info (``observer_failures``)
    to the observers that still work.

    Args:
        observers: the run's observers; called in descending ``priority`` (stable for ties).
        raise_errors: re-raise observer errors instead of logging them (``SETTINGS.OBSERVER_ERRORS
            = "raise"``). Errors in the heartbeat thread are then kept and raised by
            :meth:`raise_deferred` in the main thread.
    """

    def __init__(self, observers: Iterable[Any], *, raise_errors: bool = False) -> None:
        self.observers = sorted(observers, key=lambda o: -getattr(o, "priority", 0))
        self.raise_errors = raise_errors
        self._lock = threading.Lock()
        self._failing: set[tuple[int, str]] = set()
        self._backlog: dict[int, MetricsByName] = {}
        self._deferred: BaseException | None = None
        self._lease_takers: dict[int, bool] = {}
        self._last_beat: tuple[dict, dict[str, Any], Any] | None = None
        self._failures_told = 0  # failures the latest beat's info carried
        self.failures: list[dict[str, str]] = []
        """Each time an observer began failing: ``{"observer", "event", "time", "error"}``."""

    # -- start -----------------------------------------------------------------------------
    def start(self, event: str, _id: Any, **kwargs: Any) -> Any:
        """Call ``started_event`` or ``queued_event`` on every observer; return the run id.

        The first non-None id returned wins unless ``_id`` was preset.

        Raises:
            ObserverError: an observer failed; observers already started get ``failed_event``.
        """
        method = f"{event}_event"
        started: list[Any] = []
        with self._lock:
            for observer in self.observers:
                try:
                    returned = getattr(observer, method)(**kwargs, _id=_id)
                except Exception as error:
                    message = f"observer {observer_name(observer)} failed in {method}: {error}"
                    self._abandon(started, message, kwargs)
                    raise ObserverError(message + "; the run was not started") from error
                started.append(observer)
                if _id is None and returned is not None:
                    _id = returned
        return _id

    def _abandon(self, started: list[Any], message: str, kwargs: dict[str, Any]) -> None:
        stamp = kwargs.get("start_time") or kwargs.get("queue_time")
        for observer in started:
            self._call(observer, "failed_event", fail_time=stamp, fail_trace=[message + "\n"])

    # -- during the run --------------------------------------------------------------------
    def beat(
        self,
        metric_batches: Iterable[MetricsByName],
        info: dict,
        captured_out: str,
        beat_time,
        result,
        lease_until: _dt.datetime | None = None,
    ) -> None:
        """Deliver new metric points (re-offering any an observer missed), then a heartbeat.

        ``metric_batches`` may hold several batches (bounded in size, so memory stays
        bounded); each goes to every observer before the next batch is made. ``lease_until``
        goes to the observers whose ``heartbeat_event`` takes it (Sacred's do not).
        """
        beat = {"captured_out": captured_out, "beat_time": beat_time, "result": result}
        with self._lock:
            self._last_beat = ({**info}, beat, lease_until)
            self._failures_told = len(self.failures)
            if self.failures:
                info = {**info, FAILURES_KEY: list(self.failures)}
            delivered = False
            for new_points in metric_batches:
                self._deliver_metrics(new_points, info)
                delivered = True
            if not delivered:  # no new points: still retry what an observer missed before
                self._deliver_metrics({}, info)
            self._heartbeat(info, beat, lease_until)

    def _heartbeat(
        self, info: dict, beat: dict[str, Any], lease_until: Any, *, final: bool = False
    ) -> None:
        """``heartbeat_event`` to every observer (``final``: to those not failing in it)."""
        for observer in self.observers:
            if final and (id(observer), "heartbeat_event") in self._failing:
                continue
            lease = {}
            if lease_until is not None and self._takes_lease(observer):
                lease["lease_until"] = lease_until
            self._call(observer, "heartbeat_event", not final, info=info, **beat, **lease)

    def _takes_lease(self, observer: Any) -> bool:
        key = id(observer)
        if key not in self._lease_takers:
            method = getattr(observer, "heartbeat_event", None)
            self._lease_takers[key] = method is not None and takes_keyword(method, "lease_until")
        return self._lease_takers[key]

    def _deliver_metrics(self, new_points: MetricsByName, info: dict) -> None:
        for observer in self.observers:
            key = id(observer)
            batch = new_points
            if key in self._backlog:
                batch = merge_metrics(self._backlog.pop(key), new_points)
            if batch and not self._call(observer, "log_metrics", metrics_by_name=batch, info=info):
                self._backlog[key] = batch

    def event(self, method: str, **kwargs: Any) -> None:
        """Deliver ``resource_event`` or ``artifact_event`` to every observer."""
        with self._lock:
            for observer in self.observers:
                self._call(observer, method, **kwargs)

    # -- end -------------------------------------------------------------------------------
    def finish(self, method: str, **kwargs: Any) -> None:
        """Deliver the terminal event to every observer (even if some raise), then join them.

        An observer that began failing in the last beat is recorded first: the others get
        that beat again with the failure in ``info`` (no later beat would carry it).
        """
        with self._lock:
            if self._last_beat is not None and len(self.failures) > self._failures_told:
                info, beat, lease_until = self._last_beat
                info = {**info, FAILURES_KEY: list(self.failures)}
                self._heartbeat(info, beat, lease_until, final=True)
            for observer in self.observers:
                self._call(observer, method, may_raise=False, **kwargs)
            for observer in self.observers:
                self._call(observer, "join", may_raise=False)
            unsent = sum(map(count_points, self._backlog.values()))
            if unsent:
                _log.error("%d metric points could not be stored by every observer", unsent)

    def _note_failure(self, name: str, method: str, error: Exception) -> None:
        if len(self.failures) < MAX_FAILURES:
            stamp = utcnow().isoformat()
            self.failures.append(
                {"observer": name, "event": method, "time": stamp, "error": str(error)[:500]}
            )

    def raise_deferred(self) -> None:
        """Re-raise an observer error kept from the heartbeat thread (``raise_errors`` only)."""
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise ObserverError(str(error)) from error

    def _call(self, observer: Any, method: str, may_raise: bool = True, **kwargs: Any) -> bool:
        """Call one event; return False if it raised (logged once per observer and kind).

        With ``raise_errors``, a failure is raised (main thread) or kept for
        :meth:`raise_deferred`, unless ``may_raise`` is false (the terminal events).
        """
        key = (id(observer), method)
        try:
            getattr(observer, method)(**kwargs)
        except Exception as error:
            name = observer_name(observer)
            if self.raise_errors and may_raise:
                wrapped = ObserverError(f"observer {name} failed in {method}: {error}")
                if threading.current_thread() is threading.main_thread():
                    raise wrapped from error
                self._deferred = self._deferred or wrapped
            if key not in self._failing:
                self._failing.add(key)
                self._note_failure(name, method, error)
                _log.warning(
                    "observer %s failed in %s (will retry at the next event): %s",
                    name,
                    method,
                    str(error).splitlines()[0] if str(error) else type(error).__name__,
                )
                _log.debug("the traceback:\n%s", "".join(traceback.format_exception(error)))
            else:
                _log.debug("observer %s failed again in %s: %s", name, method, error)
            return False
        if key in self._failing:
            self._failing.discard(key)
            _log.warning("observer %s recovered in %s", observer_name(observer), method)
        return True

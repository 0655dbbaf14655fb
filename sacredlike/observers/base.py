"""The observer contract (what a run reports) and the reader contract (how runs come back).

Observer contract, as in Sacred 0.8: every event method is optional and is always called
with keyword arguments, by the run's dispatcher only, never concurrently for one run.

* ``started_event`` / ``queued_event`` return the run id the observer assigned, or None.
  The first non-None id becomes the run's ``_id`` and is passed to the later observers.
  An exception here aborts the run before its main function runs.
* ``log_metrics(metrics_by_name, info)`` gets only the points new since the last beat:
  ``{name: {"name", "steps", "values", "timestamps"}}``. If it raises, the dispatcher offers
  the same points again, first, merged with the newer ones, at the next beat; an observer
  that can store part of a batch before failing must skip what it already stored.
* ``heartbeat_event``, ``artifact_event``, ``resource_event``: an exception is logged
  (once per observer and event kind) and the observer is called again at the next event.
* Terminal events (``completed_event``, ``interrupted_event``, ``failed_event``) reach every
  observer even if one raises; then ``join`` is called.

Reader contract: :class:`RunReader` lists, filters and loads runs from one store, returning
:class:`StoredRun` and :class:`MetricSeries` objects that look the same whatever the store.
"""

from __future__ import annotations

import abc
import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..lease import reported_status
from ..status import RunStatus


class RunObserver:
    """Base class of observers: override the events you need; all default to doing nothing.

    Attributes:
        priority: observers with a higher priority are called first (ties keep their order).
    """

    priority: int = 0

    def queued_event(self, ex_info, command, host_info, queue_time, config, meta_info, _id) -> Any:
        """A run was queued (``-q``) instead of started; return its id or None."""
        return None

    def started_event(self, ex_info, command, host_info, start_time, config, meta_info, _id) -> Any:
        """A run starts; return its id or None to accept the id of another observer."""
        return None

    def heartbeat_event(self, info, captured_out, beat_time, result, lease_until=None) -> None:
        """Periodic beat with the run's info, whole captured output so far and result.

        ``lease_until`` (sacredlike's addition, given only to observers whose method takes
        it) is when the next beat is overdue: store it to let readers spot dead runs.
        """

    def completed_event(self, stop_time, result) -> None:
        """The main function returned ``result``."""

    def interrupted_event(self, interrupt_time, status) -> None:
        """The run was interrupted (KeyboardInterrupt, SIGTERM or an interrupt class)."""

    def failed_event(self, fail_time, fail_trace) -> None:
        """The run raised; ``fail_trace`` is a list of traceback lines."""

    def resource_event(self, filename) -> None:
        """The run opened or added a resource file."""

    def artifact_event(self, name, filename, metadata=None, content_type=None) -> None:
        """The run added the file ``filename`` as artifact ``name``."""

    def log_metrics(self, metrics_by_name, info) -> None:
        """Metric points logged since the last beat."""

    def join(self) -> None:
        """Wait until everything this observer queued is stored (called after the end)."""


class StoringObserver(RunObserver):
    """An observer that stores runs somewhere: equal to another one storing to the same place.

    As Sacred's storage observers compare what they write to (the runs collection, the base
    directory, the database), so ``observer in ex.observers`` finds an equivalent one. The
    hash follows the same key, so equal observers hash alike.
    """

    def destination(self) -> tuple:
        """What identifies the place this observer writes to (a hashable tuple)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        """Same :meth:`destination`."""
        if not isinstance(other, StoringObserver):
            return NotImplemented
        return self.destination() == other.destination()

    def __hash__(self) -> int:
        return hash(self.destination())


@dataclass
class MetricSeries:
    """All points of one metric of one run, in logging order."""

    name: str
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    timestamps: list[_dt.datetime] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.steps)


@dataclass
class StoredRun:
    """One run as read back from a store (the same shape for every sink).

    A run stored as RUNNING whose ``lease_until`` has passed is reported with status
    ``DEAD`` (nothing is written; ``sacredlike reap`` stores it).
    """

    id: Any
    experiment_name: str | None
    status: str
    command: str | None = None
    config: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    result: Any = None
    start_time: _dt.datetime | None = None
    stop_time: _dt.datetime | None = None
    heartbeat: _dt.datetime | None = None
    queue_time: _dt.datetime | None = None
    host: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    experiment: dict = field(default_factory=dict)
    fail_trace: list[str] | None = None
    artifacts: list[str] = field(default_factory=list)
    captured_out: str | None = None
    lease_until: _dt.datetime | None = None

    def __post_init__(self) -> None:
        self.status = reported_status(self.status, self.lease_until)

    def config_value(self, dotted_key: str, default: Any = None) -> Any:
        """The config entry at ``a.b.c``, or ``default`` when absent."""
        node: Any = self.config
        for part in dotted_key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node


@dataclass
class Finding:
    """A problem ``sacredlike check`` found in a store.

    Attributes:
        run_id: the run it concerns (None for things that belong to no run).
        problem: what is wrong, in words.
        repaired: whether ``--repair`` fixed it.
    """

    run_id: Any
    problem: str
    repaired: bool = False


_MISSING = object()


def canonical_int(value: Any) -> int | None:
    """``value`` as an int if it is one, or the decimal text of a non-negative int."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit() and str(int(value)) == value:
        return int(value)
    return None


def public_run_id(run_id: Any) -> Any:
    """A run id as every reader reports it: an int when it is one (``"7"`` too), else as is."""
    numeric = canonical_int(run_id)
    return run_id if numeric is None else numeric


@dataclass
class RunQuery:
    """A filter on runs, understood by every reader.

    Attributes:
        experiment: regular expression matched (``re.search``) against the experiment name.
        status: one status or several; a run matches if its status is among them.
        started_after / started_before: bounds on ``start_time`` (inclusive / exclusive).
        config: ``{"dotted.key": value}`` pairs that must all equal the run's config entries.
        limit: at most this many runs, newest start first.
    """

    experiment: str | None = None
    status: str | Iterable[str] | None = None
    started_after: _dt.datetime | None = None
    started_before: _dt.datetime | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    limit: int | None = None

    def statuses(self) -> list[str] | None:
        """The wanted statuses as a list of strings, or None for any."""
        if self.status is None:
            return None
        if isinstance(self.status, str):
            return [self.status]
        return [str(s) for s in self.status]

    def store_statuses(self) -> list[str] | None:
        """The statuses to ask a store for: a run reported DEAD is stored as RUNNING."""
        wanted = self.statuses()
        if wanted is None or RunStatus.DEAD.value not in wanted:
            return wanted
        return [*wanted, RunStatus.RUNNING.value]

    def store_limit(self) -> int | None:
        """The limit a store may apply itself: none when RUNNING runs may turn out DEAD."""
        wanted = self.store_statuses()
        if wanted is not None and RunStatus.RUNNING.value in wanted:
            return None
        return self.limit

    def matches(self, run: StoredRun) -> bool:
        """Whether ``run`` passes the filter (readers that cannot push it down use this)."""
        if self.experiment is not None and not re.search(
            self.experiment, run.experiment_name or ""
        ):
            return False
        wanted = self.statuses()
        if wanted is not None and run.status not in wanted:
            return False
        if self.started_after is not None and (
            run.start_time is None or run.start_time < self.started_after
        ):
            return False
        if self.started_before is not None and (
            run.start_time is None or run.start_time >= self.started_before
        ):
            return False
        return all(run.config_value(key, _MISSING) == value for key, value in self.config.items())


class RunReader(abc.ABC):
    """Read runs back from one store. Use as a context manager or call :meth:`close`."""

    @abc.abstractmethod
    def find_runs(self, query: RunQuery | None = None) -> list[StoredRun]:
        """Runs matching ``query`` (all runs when None), newest start first.

        ``captured_out`` is left None in listings, and the folder family (files, S3, GCS)
        leaves ``info`` empty there (it is a file of its own); :meth:`get_run` fills both.
        """

    @abc.abstractmethod
    def get_run(self, run_id: Any) -> StoredRun:
        """One run with everything but its metrics and artifact contents.

        Raises:
            RunNotFound: the store holds no run ``run_id``.
        """

    @abc.abstractmethod
    def get_metrics(
        self, run_id: Any, names: Iterable[str] | None = None
    ) -> dict[str, MetricSeries]:
        """The run's metrics by name (only ``names`` when given), every point in order."""

    @abc.abstractmethod
    def get_artifact(self, run_id: Any, name: str) -> bytes:
        """The content of one artifact.

        Raises:
            RunNotFound: no such run. ``FileNotFoundError``: the run has no such artifact.
        """

    def close(self) -> None:
        """Release connections and files held by the reader."""

    def check(self, repair: bool = False) -> list[Finding]:
        """What a crash or a full disk left in this store's own layout; fix it if ``repair``.

        Only what can be repaired without guessing is; the rest is reported. The default
        (stores with nothing of their own to check) finds nothing.
        """
        return []

    def metrics_frame(self, run_id: Any, names: Iterable[str] | None = None) -> Any:
        """The run's metrics as a pandas DataFrame (columns name, step, value, timestamp).

        Needs pandas (``pip install pandas``).
        """
        import pandas as pd

        rows = [
            (series.name, step, value, stamp)
            for series in self.get_metrics(run_id, names).values()
            for step, value, stamp in zip(
                series.steps, series.values, series.timestamps, strict=True
            )
        ]
        return pd.DataFrame(rows, columns=["name", "step", "value", "timestamp"])

    def __enter__(self) -> RunReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

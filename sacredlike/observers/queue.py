"""QueueObserver: any observer's events journaled on disk and delivered in the background.

``QueueObserver(covered)`` wraps one observer (composition, not a subclass): the run never
waits for the store, and nothing is lost when the store is away, even past the end of the
process.

* ``started_event`` / ``queued_event`` go to the covered observer at once (they return the
  run id), then a journal is opened (:mod:`.journal`).
* Every later event is appended to the journal and to a queue that a worker thread
  delivers in order, every ``interval`` seconds; a failed delivery is retried with backoff
  (up to ``retry_interval`` seconds between tries), later heartbeats and metric batches
  merged into the waiting ones.
* A terminal event wakes the worker at once. ``join`` waits until the queue is delivered
  or ``final_timeout`` seconds passed: then the journal is kept (with copies of the files
  not yet stored) and a warning names the command that delivers it later,
  ``sacredlike sync JOURNAL [--to URL]`` (:func:`sync_journal`). A delivered journal is
  removed.
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from ..dispatch import merge_metrics, observer_name, takes_keyword
from ..registry import open_observer
from .base import RunObserver
from .journal import Journal, JournalWriter, default_journal_dir
from .retry import RetryPolicy

log = logging.getLogger(__name__)

_TERMINAL = frozenset({"completed_event", "failed_event", "interrupted_event"})
_FILE_EVENTS = frozenset({"artifact_event", "resource_event"})


class QueueObserver(RunObserver):
    """Journals the events of ``covered`` and delivers them on a background thread.

    Args:
        covered: the observer that stores the run (any :class:`RunObserver`).
        interval: seconds between deliveries while the run goes on.
        retry_interval: longest wait between two failed deliveries.
        journal_dir: where journals go (default ``$SACREDLIKE_JOURNAL_DIR`` or
            ``~/.sacredlike/journal``).
        final_timeout: how long ``join`` waits for the last deliveries after the run.
        priority: call order (default: the covered observer's).
    """

    def __init__(
        self,
        covered: Any,
        interval: float = 20.0,
        retry_interval: float = 10.0,
        journal_dir: str | os.PathLike | None = None,
        final_timeout: float = 10.0,
        priority: int | None = None,
    ) -> None:
        self.covered = covered
        if hasattr(covered, "save_unsent"):
            covered.save_unsent = False  # the journal keeps what the store did not take
        self.interval = float(interval)
        self.retry = RetryPolicy(first_delay=min(0.2, retry_interval), max_delay=retry_interval)
        self.journal_dir = Path(journal_dir) if journal_dir is not None else default_journal_dir()
        self.final_timeout = float(final_timeout)
        self.priority = getattr(covered, "priority", 0) if priority is None else priority
        self.journal: JournalWriter | None = None
        self.kept_journal: Path | None = None
        self._queue: collections.deque[tuple[str, dict]] = collections.deque()
        self._wake = threading.Condition()
        self._ended = False
        self._journal_failing = False
        self._abandoned = False
        self._worker: threading.Thread | None = None
        self._last_worker: threading.Thread | None = None

    def __getattr__(self, name: str) -> Any:
        """Attributes of the covered observer (``run_id``, ``dir``, ``store`` ...)."""
        if name == "covered":
            raise AttributeError(name)
        return getattr(self.covered, name)

    def __repr__(self) -> str:
        return f"QueueObserver({self.covered!r})"

    # -- start: synchronous ----------------------------------------------------------------
    def started_event(self, **kwargs: Any) -> Any:
        """Start the run in the covered observer, then open its journal and worker."""
        return self._begin("started_event", kwargs)

    def queued_event(self, **kwargs: Any) -> Any:
        """Queue the run in the covered observer (nothing follows a queued run)."""
        return self._begin("queued_event", kwargs)

    def _begin(self, event: str, kwargs: dict[str, Any]) -> Any:
        self.join()  # a previous run of this observer is finished first
        run_id = getattr(self.covered, event)(**kwargs)
        run_id = run_id if run_id is not None else kwargs.get("_id")
        self._queue.clear()
        self._ended, self._abandoned, self.kept_journal = False, False, None
        self._journal_failing = False
        self.journal = JournalWriter.create(
            self.journal_dir,
            _sink_name(self.covered),
            run_id,
            {"store": store_location(self.covered), "observer": observer_name(self.covered)},
        )
        self.journal.add(event, {**kwargs, "_id": run_id})
        if event == "started_event":
            self._worker = threading.Thread(
                target=self._work, name=f"queue-observer-{run_id}", daemon=True
            )
            self._worker.start()
        else:
            self._finish_journal(delivered=True)
        return run_id

    # -- later events: journal + queue ---------------------------------------------------
    def heartbeat_event(self, **kwargs: Any) -> None:
        """Queue a heartbeat."""
        self._enqueue("heartbeat_event", kwargs)

    def log_metrics(self, **kwargs: Any) -> None:
        """Queue metric points."""
        self._enqueue("log_metrics", kwargs)

    def artifact_event(self, **kwargs: Any) -> None:
        """Queue an artifact."""
        self._enqueue("artifact_event", kwargs)

    def resource_event(self, **kwargs: Any) -> None:
        """Queue a resource."""
        self._enqueue("resource_event", kwargs)

    def completed_event(self, **kwargs: Any) -> None:
        """Queue the end and wake the worker."""
        self._enqueue("completed_event", kwargs)

    def failed_event(self, **kwargs: Any) -> None:
        """Queue the failure and wake the worker."""
        self._enqueue("failed_event", kwargs)

    def interrupted_event(self, **kwargs: Any) -> None:
        """Queue the interruption and wake the worker."""
        self._enqueue("interrupted_event", kwargs)

    def _enqueue(self, event: str, kwargs: dict[str, Any]) -> None:
        if self.journal is None or self._worker is None:
            return  # no run started here (the start failed or the run was only queued)
        try:
            self.journal.add(event, kwargs)
        except OSError as exc:  # a full disk: the event is still delivered from memory
            (log.debug if self._journal_failing else log.error)(
                "%s: writing the journal %s failed (%s); events are delivered from memory "
                "only and are lost if the process ends before the store takes them",
                observer_name(self.covered),
                self.journal.folder,
                exc,
            )
            self._journal_failing = True
        with self._wake:
            self._queue.append((event, kwargs))
            if event in _TERMINAL:
                self._ended = True
                self._wake.notify()

    # -- delivery ------------------------------------------------------------------------
    def _work(self) -> None:
        waits = self.retry.backoff()
        failing = False
        while True:
            with self._wake:
                if not self._ended:
                    self._wake.wait(self.interval if not failing else next(waits))
                if self._abandoned or (not self._queue and self._ended):
                    return
            try:
                self._deliver_queue()
            except Exception as exc:  # the store failed: keep the event, try again later
                (log.debug if failing else log.warning)(
                    "%s: delivering run events failed (%s); retrying",
                    observer_name(self.covered),
                    exc,
                )
                failing = True
                continue
            if failing:
                log.warning("%s: delivering run events works again", observer_name(self.covered))
            failing, waits = False, self.retry.backoff()

    def _deliver_queue(self) -> None:
        while True:
            with self._wake:
                if not self._queue or self._abandoned:
                    return
                event, kwargs = self._queue[0]
                merged = 1
                while len(self._queue) > merged and self._queue[merged][0] == event:
                    if event == "log_metrics":
                        kwargs = {
                            **kwargs,
                            "metrics_by_name": merge_metrics(
                                kwargs["metrics_by_name"], self._queue[merged][1]["metrics_by_name"]
                            ),
                        }
                    elif event == "heartbeat_event":
                        kwargs = self._queue[merged][1]  # the newest beat says it all
                    else:
                        break
                    merged += 1
                if merged > 1:  # keep the merged form in case the delivery fails
                    for _ in range(merged):
                        self._queue.popleft()
                    self._queue.appendleft((event, kwargs))
            method = getattr(self.covered, event)
            if "lease_until" in kwargs and not takes_keyword(method, "lease_until"):
                kwargs = {k: v for k, v in kwargs.items() if k != "lease_until"}
            method(**kwargs)
            with self._wake:
                self._queue.popleft()

    def join(self) -> None:
        """Wait for the deliveries (at most ``final_timeout`` s); keep the journal if undone."""
        worker = self._worker
        if worker is None:
            return
        with self._wake:
            self._ended = True
            self._wake.notify()
        worker.join(self.final_timeout)
        self._last_worker = worker
        with self._wake:
            self._worker = None
            delivered = not worker.is_alive() and not self._queue
            self._abandoned = not delivered  # the journal takes over: the worker stops
            self._wake.notify()
        self._finish_journal(delivered)
        if delivered:
            getattr(self.covered, "join", lambda: None)()

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until a worker ``join`` gave up on has finished its last write; True if so.

        After ``join`` keeps the journal, the worker stops at once, except for a write
        already under way. Call this before ``sync_journal`` in the same process, so the
        two never write the same run at once.
        """
        worker = self._last_worker
        if worker is not None:
            worker.join(timeout)
        return worker is None or not worker.is_alive()

    def _finish_journal(self, delivered: bool) -> None:
        journal, self.journal = self.journal, None
        if journal is None:
            return
        if delivered:
            journal.remove()
            return
        with self._wake:
            pending = list(self._queue)
        for event, kwargs in pending:
            if event in _FILE_EVENTS:
                journal.keep_file(str(kwargs["filename"]))
        journal.close()
        self.kept_journal = journal.folder
        log.warning(
            "%s: %d event(s) of run %s could not be stored yet; they are kept in %s. "
            "Deliver them later with: sacredlike sync %s",
            observer_name(self.covered),
            len(pending),
            getattr(self.covered, "run_id", None) or journal.folder.name,
            journal.folder,
            journal.folder,
        )


def _sink_name(observer: Any) -> str:
    return type(observer).__name__.replace("Observer", "").lower() or "run"


def store_location(observer: Any) -> str | None:
    """Where ``observer`` stores runs, as a URL or path ``sacredlike sync`` can open again."""
    location = getattr(getattr(observer, "store", None), "location", None)
    for value in (getattr(observer, "url", None), location, getattr(observer, "basedir", None)):
        if isinstance(value, str):
            return value
    engine = getattr(observer, "engine", None)
    if engine is not None:
        return engine.url.render_as_string(hide_password=True)
    return None


def sync_journal(folder: str | os.PathLike, to: str | None = None) -> Any:
    """Deliver one kept journal to its store (or to ``to``), then remove it; return the run id.

    Idempotent: the run is resumed in the store, so points, output and fields already there
    are not stored twice, whether the run was partly delivered or the journal is replayed
    again.

    Raises:
        FileNotFoundError / ValueError: ``folder`` holds no readable journal.
        ObserverError: the journal names no store and ``to`` is not given, or the store's
            password was masked in the journal.
        SinkUnavailable / SinkRejected: the store failed; the journal is kept.
    """
    from ..errors import ObserverError

    journal = Journal.read(folder)
    location = to or journal.header.get("store")
    if not location:
        raise ObserverError(f"journal {journal.folder} names no store; give one with --to URL")
    if to is None and ":***@" in location:
        raise ObserverError(
            f"the password of {location} is not kept in the journal; give the URL with --to"
        )
    observer = open_observer(location)
    run_id = journal.header["run_id"]
    observer.resume(run_id)
    for entry in journal.entries:
        if entry.event in ("started_event", "queued_event"):
            continue
        getattr(observer, entry.event)(**entry.kwargs)
    getattr(observer, "join", lambda: None)()
    shutil.rmtree(journal.folder, ignore_errors=True)
    return run_id

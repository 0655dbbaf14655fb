"""Handing a run's metric points to its observers: counted, and stoppable at the run's end.

Every beat passes its drained points through :meth:`MetricsFlush.batches`. Once main has
ended, :meth:`MetricsFlush.begin` starts the final flush (a beat still running in the
heartbeat thread, then the final beat). :meth:`MetricsFlush.stop` (called for a signal, from
any thread) lets the batch being written finish and hands out no further batch;
:meth:`MetricsFlush.end` then logs exactly how many points were not stored. On a terminal, a
progress line shows the final flush once it has taken more than :data:`PROGRESS_DELAY`
seconds; elsewhere (a log file, a batch system) one log line says so instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from .dispatch import MetricsByName, count_points
from .metrics_logger import DrainedPoints
from .progress_line import ProgressLine, ProgressLog

PROGRESS_DELAY = 1.0
"""Seconds of final flush before the progress line appears (on a terminal only)."""

_log = logging.getLogger(__name__)


class MetricsFlush:
    """Counts the metric points of one run on their way from its logger to its observers.

    Args:
        pending: the number of points still in the run's logger.
    """

    def __init__(self, pending: Callable[[], int]) -> None:
        self._pending = pending
        self._stopped = threading.Event()
        self._sent = 0  # in batches every observer was given
        self._held = 0  # drained by the latest beat and not handed out (yet)
        self._unsent = 0  # drained and never handed out
        self._sent_before = 0
        self._run_id: Any = None
        self._progress: ProgressLine | ProgressLog | None = None  # during the final flush

    def batches(self, drained: DrainedPoints) -> Iterator[MetricsByName]:
        """The batches of ``drained``, one at a time, until :meth:`stop` is called."""
        self._unsent += self._held  # the previous beat ended (raised) before taking them all
        self._held = len(drained)
        return self._hand_out(iter(drained))

    def _hand_out(self, batches: Iterator[MetricsByName]) -> Iterator[MetricsByName]:
        while not self._stopped.is_set():
            batch = next(batches, None)
            if batch is None:
                break
            yield batch  # resumed once every observer had it
            size = count_points(batch)
            self._sent += size
            self._held -= size
            if self._progress is not None and not self._stopped.is_set():
                self._progress.update(self._status)
        self._unsent += self._held
        self._held = 0

    def begin(self, run_id: Any, stream: TextIO) -> None:
        """Start the final flush of run ``run_id``: its progress shows on ``stream`` if that
        is a terminal, else in the log."""
        self._run_id = run_id
        self._sent_before = self._sent
        self._progress = ProgressLine.on_terminal(stream, PROGRESS_DELAY) or ProgressLog(
            _log, PROGRESS_DELAY
        )

    def stop(self) -> None:
        """Hand out no further batch (the one being written finishes); end the progress line."""
        self._stopped.set()
        if self._progress is not None:
            self._progress.end()

    def end(self) -> None:
        """End the final flush: end the progress line; log how many points were not stored."""
        done = self._sent - self._sent_before
        unsent = self._unsent + self._held
        if self._progress is not None:
            self._progress.end(f"stored run {self._run_id}: {done:,} metric points")
        if not unsent:
            return
        if self._stopped.is_set():
            level, cause, by = logging.WARNING, "interrupted", ""
            after = "; further signals wait until the run's end is stored"
        else:
            level, cause, by, after = logging.ERROR, "an observer failed", " by every observer", ""
        _log.log(
            level,
            "%s while storing run %s: %s of %s metric points were not stored%s (those stored "
            "stay stored%s)",
            cause,
            self._run_id,
            f"{unsent:,}",
            f"{done + unsent:,}",
            by,
            after,
        )

    def _status(self) -> str:
        done = self._sent - self._sent_before
        total = done + self._held + self._pending()
        return (
            f"storing run {self._run_id}: {done:,} / {total:,} metric points "
            "(Ctrl-C stops and keeps what is stored)"
        )

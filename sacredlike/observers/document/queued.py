"""QueuedDocumentObserver: the document observer with its writes on a background thread."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ...errors import SinkError, SinkUnavailable
from ..retry import RetryPolicy
from .writer import DocumentObserver

log = logging.getLogger(__name__)


class QueuedDocumentObserver(DocumentObserver):
    """A :class:`DocumentObserver` whose writes run on a background thread.

    Events only update the in-memory state and wake the writer, so a slow or absent server
    never blocks the run. The writer retries failed writes with backoff (from
    ``retry.first_delay`` up to ``retry.max_delay``) for as long as the run goes on; after
    the final event, :meth:`join` waits at most ``final_timeout`` seconds for the last
    write, then saves the run to ``failure_dir``. Only ``started_event`` and
    ``queued_event`` write synchronously, because they must return the run id.

    Attributes:
        interval: seconds between writes when no event wakes the writer.
        retry: backoff between failed writes (its ``attempts`` is unused).
        final_timeout: how long :meth:`join` keeps retrying the final write.
    """

    interval = 1.0
    retry = RetryPolicy(first_delay=0.2, max_delay=5.0)
    final_timeout = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake = threading.Event()
        self._final_deadline: float | None = None
        self._worker: threading.Thread | None = None

    def _after_event(self, final: bool) -> None:
        if final and self._final_deadline is None:
            self._final_deadline = time.monotonic() + self.final_timeout
        if self._worker is None:
            self._worker = threading.Thread(
                target=self._work, name=f"document-writer-{self.record.run_id}", daemon=True
            )
            self._worker.start()
        self._wake.set()

    def _work(self) -> None:
        try:
            self._write_until_final()
        except Exception as exc:  # the thread must not die silently with the run's data
            log.exception("the writer of run %s stopped", self.record.run_id)
            self._save_and_warn(exc)

    def _write_until_final(self) -> None:
        waits, failing = self.retry.backoff(), False
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            deadline = self._final_deadline
            try:
                self._flush()
            except SinkError as exc:
                if deadline is not None and (
                    time.monotonic() >= deadline or not isinstance(exc, SinkUnavailable)
                ):
                    self._final_flush(RetryPolicy(attempts=1))
                    return
                (log.debug if failing else log.warning)(
                    "writing run %s failed (%s); retrying", self.record.run_id, exc
                )
                failing = True
                time.sleep(next(waits))
                self._wake.set()
                continue
            if failing:
                log.warning("writing run %s works again", self.record.run_id)
            waits, failing = self.retry.backoff(), False
            if deadline is not None:
                return

    def join(self) -> None:
        """Wait until the final write is done or the run was saved to ``failure_dir``."""
        if self._worker is not None:
            self._after_event(final=True)
            self._worker.join()

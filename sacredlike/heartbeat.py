"""The heartbeat thread: calls a beat function every ``interval`` seconds until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

_log = logging.getLogger(__name__)


class Heartbeat:
    """Runs ``beat`` periodically in a daemon thread.

    :meth:`stop` waits for a beat in progress to finish (no timeout), so after it returns the
    caller can do the final beat knowing no other beat is running or will run.

    Args:
        beat: the function to call; exceptions are logged, never end the thread.
        interval: seconds between beats; ``<= 0`` starts no thread (only the final beat).
    """

    def __init__(self, beat: Callable[[], None], interval: float) -> None:
        self._beat = beat
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start beating (no-op when ``interval <= 0``)."""
        if self.interval > 0:
            self._thread = threading.Thread(
                target=self._loop, name="sacredlike-heartbeat", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self._beat()
            except Exception:
                _log.exception("heartbeat failed; the next beat will try again")

    def stop(self) -> None:
        """Stop beating and wait until a beat in progress has finished."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

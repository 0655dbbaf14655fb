"""The heartbeat thread: a beat every ``interval`` seconds, and a cheap tick in between."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

_log = logging.getLogger(__name__)

TICK_INTERVAL = 0.05
"""Seconds between ticks (the run collects logged metric points into compact columns)."""
STOP_POLL = 0.1
"""Seconds between the checks of :meth:`Heartbeat.stop` for the thread's end."""


class Heartbeat:
    """Runs ``beat`` periodically, and ``tick`` more often, in one daemon thread.

    :meth:`stop` waits for a beat in progress to finish (no timeout), so after it returns the
    caller can do the final beat knowing no other beat is running or will run.

    Args:
        beat: called every ``interval`` seconds; exceptions are logged, never end the thread.
        interval: seconds between beats; ``<= 0`` means no periodic beat (only ticks).
        tick: called every ``tick_interval`` seconds between beats, or None.
        tick_interval: seconds between ticks.
    """

    def __init__(
        self,
        beat: Callable[[], None],
        interval: float,
        tick: Callable[[], None] | None = None,
        tick_interval: float = TICK_INTERVAL,
    ) -> None:
        self._beat = beat
        self.interval = interval
        self._tick = tick
        self._tick_interval = tick_interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (none when there is neither a beat interval nor a tick)."""
        if self.interval > 0 or self._tick is not None:
            self._thread = threading.Thread(
                target=self._loop, name="sacredlike-heartbeat", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        beats = self.interval > 0
        next_beat = time.monotonic() + self.interval
        while True:
            wait = next_beat - time.monotonic() if beats else self._tick_interval
            if self._tick is not None:
                wait = min(wait, self._tick_interval)
            if self._stopping.wait(max(wait, 0.0)):
                return
            if beats and time.monotonic() >= next_beat:
                self._guarded(self._beat, "heartbeat")
                next_beat = time.monotonic() + self.interval
            elif self._tick is not None:
                self._guarded(self._tick, "tick")

    @staticmethod
    def _guarded(function: Callable[[], None], what: str) -> None:
        try:
            function()
        except Exception:
            _log.exception("%s failed; the next one will try again", what)

    def stop(self) -> None:
        """Stop the thread and wait until a beat in progress has finished.

        The wait wakes up every :data:`STOP_POLL` seconds, so that the main thread runs its
        signal handlers meanwhile even when a signal was delivered to another thread.
        """
        self._stopping.set()
        if self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(STOP_POLL)
            self._thread = None

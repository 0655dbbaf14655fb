"""Progress of a long wait: one status line rewritten in place on a terminal (no tqdm or
rich needed), or one log line where there is no terminal."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TextIO

_CLEAR_TO_END = "\x1b[K"


class ProgressLine:
    """Shows ``text()`` on ``stream`` from ``delay`` seconds on, at most every ``interval`` s.

    Create it with :meth:`on_terminal`, which gives None when ``stream`` is not a terminal.
    Write errors are ignored: a progress line never breaks what it reports on.
    """

    def __init__(self, stream: TextIO, delay: float, interval: float = 0.1) -> None:
        self._stream = stream
        self._next = time.monotonic() + delay
        self._interval = interval
        self.shown = False

    @classmethod
    def on_terminal(cls, stream: TextIO, delay: float) -> ProgressLine | None:
        """A progress line on ``stream`` if it is a terminal, else None."""
        try:
            terminal = stream.isatty()
        except (AttributeError, OSError, ValueError):  # no stream, or a closed one
            return None
        return cls(stream, delay) if terminal else None

    def update(self, text: Callable[[], str]) -> None:
        """Rewrite the line with ``text()`` if it is due (``text`` is called only then)."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._interval
            self._write(f"\r{text()}{_CLEAR_TO_END}")
            self.shown = True

    def end(self, text: str | None = None) -> None:
        """End the line (with ``text`` as its last state) if it was shown; later updates
        start a new one."""
        if self.shown:
            self.shown = False
            self._write(f"\r{text}{_CLEAR_TO_END}\n" if text is not None else "\n")

    def _write(self, data: str) -> None:
        # RuntimeError: a signal handler's write interrupted a write of the same thread
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            self._stream.write(data)
            self._stream.flush()


class ProgressLog:
    """Where there is no terminal: logs ``text()`` once (INFO) when ``delay`` seconds have
    passed, and the last state at :meth:`end` if it did; the same calls as :class:`ProgressLine`.
    """

    def __init__(self, log: logging.Logger, delay: float) -> None:
        self._log = log
        self._due = time.monotonic() + delay
        self.shown = False

    def update(self, text: Callable[[], str]) -> None:
        """Log ``text()`` if the delay has passed and nothing was logged yet."""
        if not self.shown and time.monotonic() >= self._due:
            self.shown = True
            self._log.info("%s", text())

    def end(self, text: str | None = None) -> None:
        """Log ``text`` as the last state if the progress was logged."""
        if self.shown and text is not None:
            self._log.info("%s", text)
        self.shown = False

"""Bounded retries with exponential backoff for writes to a sink."""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from ..errors import SinkUnavailable

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff for calls raising ``SinkUnavailable``.

    Attributes:
        attempts: calls in total (at least 1).
        first_delay: seconds before the second call; doubled each time up to ``max_delay``.
        max_delay: cap on one wait.
    """

    attempts: int = 3
    first_delay: float = 0.2
    max_delay: float = 5.0

    def delays(self) -> Iterator[float]:
        """The waits between attempts (``attempts - 1`` of them)."""
        return itertools.islice(self.backoff(), self.attempts - 1)

    def backoff(self) -> Iterator[float]:
        """Endless waits: ``first_delay``, doubled each time up to ``max_delay``."""
        delay = self.first_delay
        while True:
            yield delay
            delay = min(delay * 2, self.max_delay)

    def call(self, action: Callable[[], _T], what: str) -> _T:
        """Run ``action``, retrying on :class:`SinkUnavailable`; re-raise the last error."""
        for delay in self.delays():
            try:
                return action()
            except SinkUnavailable as exc:
                log.info("%s failed (%s); retrying in %.1f s", what, exc, delay)
                time.sleep(delay * random.uniform(0.8, 1.2))
        return action()

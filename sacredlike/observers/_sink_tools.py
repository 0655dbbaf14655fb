"""Small tools shared by sinks: bounded retries with backoff, hiding passwords, file md5."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

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
        delay = self.first_delay
        for _ in range(self.attempts - 1):
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


_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]*@")


def redact_credentials(value: Any) -> Any:
    """``value`` with the password of every ``scheme://user:password@`` URL replaced by ***."""
    if isinstance(value, str):
        return _CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", value)
    if isinstance(value, dict):
        return {k: redact_credentials(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_credentials(v) for v in value]
    return value


def file_md5(path: str | os.PathLike) -> str:
    """Hex md5 of a file's content, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

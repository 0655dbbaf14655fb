"""The one enumeration of run states."""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    """State of a run, stored as its plain string value (Sacred-compatible).

    Interrupt classes may carry any other string as their ``STATUS``; stores keep such
    custom statuses verbatim, so code reading a status must accept plain strings too.
    ``DEAD`` is a RUNNING run that stopped beating: readers report it once the run's lease
    is over (:mod:`sacredlike.lease`), ``sacredlike reap`` stores it.
    """

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"
    TIMEOUT = "TIMEOUT"
    DEAD = "DEAD"

    def __str__(self) -> str:
        return self.value

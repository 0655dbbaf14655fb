"""Leases: every heartbeat says until when the run promises the next one.

A beat at ``t`` of a run beating every ``interval`` seconds stores ``lease_until = t +
LEASE_BEATS * interval + SETTINGS.LEASE_SLACK``. A reader that finds a RUNNING run whose
lease is over reports it ``DEAD`` (:func:`reported_status`) without writing anything;
``sacredlike reap`` records it (:mod:`sacredlike.reap`). A run without a lease (an interval
``<= 0``, or a run written by Sacred) is never reported dead.
"""

from __future__ import annotations

import datetime as _dt

from .settings import SETTINGS
from .status import RunStatus

LEASE_BEATS = 3
"""Beats a run may miss (a slow store, a long pause of the process) before it counts as dead."""


def utcnow() -> _dt.datetime:
    """The current time as a naive UTC datetime (what stores hold)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def lease_until(beat_time: _dt.datetime, interval: float) -> _dt.datetime | None:
    """When the beat after ``beat_time`` is overdue, or None without periodic beats."""
    if interval <= 0:
        return None
    return beat_time + _dt.timedelta(seconds=LEASE_BEATS * interval + SETTINGS.LEASE_SLACK)


def reported_status(
    status: str, lease: _dt.datetime | None, now: _dt.datetime | None = None
) -> str:
    """``status`` as readers report it: a RUNNING run past its lease is ``DEAD``."""
    if status == RunStatus.RUNNING.value and lease is not None and lease < (now or utcnow()):
        return RunStatus.DEAD.value
    return status

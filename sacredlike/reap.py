"""``sacredlike reap``: record DEAD in the store for runs that stopped beating.

Readers already report a RUNNING run whose lease is over as DEAD (:mod:`sacredlike.lease`);
reaping writes it, through the sink's own writer: the run is resumed (``resume(run_id)``)
and given a terminal event with status DEAD at the time of its last beat, so the stored
record ends exactly as a run that ended then would (a folder's ``metrics.json`` is rebuilt
from ``metrics.jsonl`` on the way). Reaping twice changes nothing: a reaped run is no
longer RUNNING.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from .errors import SacredlikeError
from .lease import utcnow
from .observers.base import RunQuery, StoredRun
from .registry import open_observer, open_store
from .status import RunStatus

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> _dt.timedelta:
    """``"90"``, ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"`` as a timedelta.

    Raises:
        SacredlikeError: the text is none of these forms.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if match is None:
        raise SacredlikeError(f"expected a duration like 90s, 5m, 2h or 1d, got {text!r}")
    number, unit = match.groups()
    return _dt.timedelta(seconds=float(number) * _UNITS[unit or "s"])


def last_sign_of_life(run: StoredRun) -> _dt.datetime | None:
    """The time of the run's last beat (its start if it never beat)."""
    return run.heartbeat or run.start_time


def lost_runs(
    url: str, older_than: _dt.timedelta | None = None, now: _dt.datetime | None = None
) -> list[StoredRun]:
    """Runs stored as RUNNING that stopped beating.

    Without ``older_than``: those past their lease (reported DEAD). With it: those whose
    last beat is older than ``older_than``, with or without a lease.
    """
    now = now or utcnow()
    wanted = RunQuery(status=[RunStatus.RUNNING.value, RunStatus.DEAD.value])
    with open_store(url) as store:
        runs = [run for run in store.find_runs(wanted) if run.stop_time is None]  # not ended
    if older_than is None:
        return [run for run in runs if run.status == RunStatus.DEAD.value]
    return [
        run
        for run in runs
        if (last := last_sign_of_life(run)) is not None and now - last >= older_than
    ]


def reap(url: str, older_than: _dt.timedelta | None = None) -> list[StoredRun]:
    """Store DEAD (stop time: the last beat) for each of :func:`lost_runs`; return them.

    Raises:
        SinkUnavailable / SinkRejected: the store failed (runs reaped before stay reaped).
    """
    runs = lost_runs(url, older_than)
    if runs:
        mark_dead(url, runs)
    return runs


def mark_dead(url: str, runs: list[StoredRun]) -> None:
    """Resume each run in the store at ``url`` and end it with status DEAD."""
    observer = open_observer(url)
    try:
        for run in runs:
            observer.resume(run.id)
            observer.interrupted_event(
                interrupt_time=last_sign_of_life(run), status=RunStatus.DEAD.value
            )
    finally:
        release(observer)


def release(observer: Any) -> None:
    """Close the connections an observer built from a URL holds."""
    store = getattr(observer, "store", None)
    if callable(getattr(store, "close", None)):
        store.close()
    engine = getattr(observer, "engine", None)
    if engine is not None:
        engine.dispose()

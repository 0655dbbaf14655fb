"""``sacredlike check STORE [--repair]``: what a crash or a full disk can leave behind.

Three sources of findings, each reported with its run id:

* the store's own layout (:meth:`RunReader.check`: a folder without ``run.json``, truncated
  JSON, ``metrics.json`` behind ``metrics.jsonl``, orphaned GridFS files or chunk rows);
* lost runs: RUNNING past their lease. Repair: record them DEAD (:func:`sacredlike.reap.reap`);
* journals of this store that a QueueObserver kept and nobody synced. They are reported with
  the command that delivers them; ``--repair`` does not deliver them (the store may be the
  wrong one for a journal given ``--to`` before).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import SacredlikeError
from .observers.base import Finding
from .observers.journal import Journal, default_journal_dir
from .reap import lost_runs, mark_dead
from .registry import open_store


def check_store(
    url: str, repair: bool = False, journal_dir: str | os.PathLike | None = None
) -> list[Finding]:
    """Every finding in the store at ``url`` and in the journal folder; repair if asked."""
    with open_store(url) as store:
        findings = store.check(repair)
    try:
        lost = lost_runs(url)
    except (SacredlikeError, ValueError) as exc:  # e.g. a run.json that does not parse
        findings.append(Finding(None, f"cannot list the runs to look for lost ones: {exc}"))
        lost = []
    if lost and repair:
        mark_dead(url, lost)
    findings += [
        Finding(run.id, f"RUNNING but its lease ended at {run.lease_until} (lost)", repair)
        for run in lost
    ]
    return findings + _unsynced(url, Path(journal_dir or default_journal_dir()))


def _unsynced(url: str, directory: Path) -> list[Finding]:
    if not directory.is_dir():
        return []
    findings = []
    for folder in Journal.find(directory):
        try:
            header = Journal.read(folder).header
        except (OSError, ValueError):
            findings.append(Finding(None, f"unreadable journal {folder}"))
            continue
        if header.get("store") in (url, os.path.abspath(url)):
            findings.append(
                Finding(
                    header.get("run_id"),
                    f"journal never synced: {folder} (deliver it: sacredlike sync {folder})",
                )
            )
    return findings

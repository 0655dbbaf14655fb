"""What ``sacredlike check`` looks for in a folder of runs (local directory or bucket).

* a run folder without ``run.json`` (the process died before its first write);
* a JSON file that does not parse (``run.json``, ``config.json``, ``info.json``,
  ``metrics.json``: truncated by a full disk or a crash);
* a run that ended with fewer points in ``metrics.json`` than in ``metrics.jsonl`` (the
  last rewrite of ``metrics.json`` never happened). Repair: rebuild ``metrics.json`` from
  ``metrics.jsonl``, through the folder writer.
"""

from __future__ import annotations

import json
from typing import Any

from ...status import RunStatus
from ..base import Finding
from .store import BlobStore

_JSON_FILES = ("run.json", "config.json", "info.json", "metrics.json")
_BROKEN = object()  # what _parsed gives for a file that does not parse


def check_folder(store: BlobStore, repair: bool = False) -> list[Finding]:
    """The findings of every run folder in ``store`` (repairs made when ``repair``)."""
    findings: list[Finding] = []
    for name in sorted((n for n in store.list("") if n.isdigit()), key=int):
        findings += _check_run(store, int(name), repair)
    return findings


def _parsed(store: BlobStore, key: str) -> tuple[bool, Any]:
    """``(present, value)``; the value is ``_BROKEN`` when the file does not parse."""
    try:
        data = store.get(key)
    except FileNotFoundError:
        return False, None
    try:
        return True, json.loads(data)
    except ValueError:
        return True, _BROKEN


def _check_run(store: BlobStore, run_id: int, repair: bool) -> list[Finding]:
    files = {name: _parsed(store, f"{run_id}/{name}") for name in _JSON_FILES}
    present, entry = files["run.json"]
    if not present:
        return [Finding(run_id, "run folder without run.json (the process died before it)")]
    findings = [
        Finding(run_id, f"{name} is truncated or corrupt (does not parse as JSON)")
        for name, (_, value) in files.items()
        if value is _BROKEN
    ]
    if entry is _BROKEN or entry.get("status") == RunStatus.RUNNING.value:
        return findings  # a running run's metrics.json lags behind on purpose
    in_log = _log_points(store, run_id)
    summary = files["metrics.json"][1]
    in_json = (
        -1
        if summary is _BROKEN
        else sum(len(series.get("steps", [])) for series in (summary or {}).values())
    )
    if in_log > in_json:
        finding = Finding(
            run_id,
            f"metrics.jsonl holds {in_log} points, metrics.json "
            + ("does not parse" if in_json < 0 else f"only {in_json}"),
        )
        if repair:
            from .writer import FolderObserver

            FolderObserver(store).rebuild_metrics_json(run_id)
            finding.repaired = True
        findings = [f for f in findings if "metrics.json is" not in f.problem] + [finding]
    return findings


def _log_points(store: BlobStore, run_id: int) -> int:
    try:
        lines = store.get(f"{run_id}/metrics.jsonl").decode().splitlines()
    except FileNotFoundError:
        return 0
    count = 0
    for line in lines:
        try:
            count += len(json.loads(line)["steps"])
        except (ValueError, KeyError):
            continue  # a line torn by a crash: those points are lost
    return count

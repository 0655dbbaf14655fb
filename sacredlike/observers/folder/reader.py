"""FolderReader: runs stored as folders of files (any :class:`BlobStore`) read back."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from typing import Any

from ...errors import RunNotFound
from ..base import Finding, MetricSeries, RunQuery, RunReader, StoredRun, public_run_id
from .check import check_folder
from .store import BlobStore

_ISO_FIELDS = ("start_time", "stop_time", "heartbeat", "queue_time", "lease_until")


def _parse_time(value: Any) -> _dt.datetime | None:
    return _dt.datetime.fromisoformat(value) if isinstance(value, str) else None


class FolderReader(RunReader):
    """Reads runs from a folder layout in a :class:`BlobStore`."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    def check(self, repair: bool = False) -> list[Finding]:
        """Run folders without run.json, unparsable JSON, metrics.json behind metrics.jsonl."""
        return check_folder(self.store, repair)

    def _json(self, key: str, default: Any = None) -> Any:
        try:
            return json.loads(self.store.get(key))
        except FileNotFoundError:
            return default

    def _run_ids(self) -> list[int]:
        return sorted((int(n) for n in self.store.list("") if n.isdigit()), reverse=True)

    def _load(self, run_id: Any, *, full: bool) -> StoredRun:
        entry = self._json(f"{run_id}/run.json")
        if entry is None:
            raise RunNotFound(f"no run {run_id!r} in {self.store.location}")
        run = StoredRun(
            id=public_run_id(run_id),
            experiment_name=entry.get("experiment", {}).get("name"),
            status=entry.get("status", ""),
            command=entry.get("command"),
            config=self._json(f"{run_id}/config.json", {}),
            result=entry.get("result"),
            host=entry.get("host", {}),
            meta=entry.get("meta", {}),
            experiment=entry.get("experiment", {}),
            fail_trace=entry.get("fail_trace"),
            artifacts=list(entry.get("artifacts", [])),
            **{field: _parse_time(entry.get(field)) for field in _ISO_FIELDS},
        )
        if full:
            run.info = self._json(f"{run_id}/info.json", {})
            try:
                run.captured_out = self.store.get(f"{run_id}/cout.txt").decode("utf-8", "replace")
            except FileNotFoundError:
                run.captured_out = ""
        return run

    def find_runs(self, query: RunQuery | None = None) -> list[StoredRun]:
        """Runs matching ``query``, newest start first."""
        query = query or RunQuery()
        runs = [self._load(run_id, full=False) for run_id in self._run_ids()]
        runs = [run for run in runs if query.matches(run)]
        runs.sort(key=lambda r: r.start_time or r.queue_time or _dt.datetime.min, reverse=True)
        return runs[: query.limit] if query.limit is not None else runs

    def get_run(self, run_id: Any) -> StoredRun:
        """One run, with info and captured output."""
        return self._load(run_id, full=True)

    def get_metrics(
        self, run_id: Any, names: Iterable[str] | None = None
    ) -> dict[str, MetricSeries]:
        """All points, from metrics.jsonl (durable even after a crash) or metrics.json."""
        self._load(run_id, full=False)
        wanted = set(names) if names is not None else None
        series: dict[str, MetricSeries] = {}
        try:
            lines = self.store.get(f"{run_id}/metrics.jsonl").decode().splitlines()
        except FileNotFoundError:
            lines = []
        if lines:
            batches = []
            for line in lines:
                try:
                    batches.append(json.loads(line))
                except ValueError:
                    continue  # a line torn by a crash mid-write
        else:
            stored = self._json(f"{run_id}/metrics.json", {})
            batches = [{"name": name, **data} for name, data in stored.items()]
        for batch in batches:
            name = batch["name"]
            if wanted is not None and name not in wanted:
                continue
            target = series.setdefault(name, MetricSeries(name))
            target.steps.extend(batch["steps"])
            target.values.extend(batch["values"])
            target.timestamps.extend(_dt.datetime.fromisoformat(t) for t in batch["timestamps"])
        return series

    def get_artifact(self, run_id: Any, name: str) -> bytes:
        """The bytes of artifact ``name`` of run ``run_id``."""
        run = self._load(run_id, full=False)
        if name not in run.artifacts:
            raise FileNotFoundError(f"run {run_id!r} has no artifact {name!r}")
        return self.store.get(f"{run_id}/{name}")

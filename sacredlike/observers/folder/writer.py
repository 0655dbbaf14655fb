"""A run as a folder of files, written once over a small :class:`BlobStore` interface.

Layout (Sacred's FileStorageObserver layout, readable by anything that reads it)::

    <root>/_sources/<stem>_<md5><ext>     each source content stored once
    <root>/_resources/<stem>_<md5><ext>   each resource content stored once
    <root>/<id>/run.json       experiment, command, host, start_time / queue_time, meta,
                               status, resources, artifacts, heartbeat, result,
                               stop_time, fail_trace
    <root>/<id>/config.json    the run's config
    <root>/<id>/info.json      run.info
    <root>/<id>/cout.txt       captured output, appended each beat
    <root>/<id>/metrics.jsonl  append-only: one line per metric per beat,
                               {"name", "steps", "values", "timestamps"}
    <root>/<id>/metrics.json   Sacred's {name: {"steps", "values", "timestamps"}}, complete
                               at the end; rewritten during the run each time the number of
                               points has doubled, so the total cost stays linear
    <root>/<id>/<artifact name>  (nested names create subfolders)

JSON files are written whole and atomically (``BlobStore.put``); output and metric lines
are appended. Run ids are numbers: ``max(existing) + 1``, taken with ``create_dir`` (which
fails if another process took the id first, then the next number is tried).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
import time
from pathlib import PurePosixPath
from typing import Any

from ...dependencies import file_md5, present_source
from ...errors import SinkRejected
from ...record import RunRecord
from ...serialize import dumps
from ..base import StoringObserver
from .store import BlobStore

_MAX_ID_ATTEMPTS = 1000
BEAT_ONLY_REWRITE_INTERVAL = 1.0
"""Seconds within which a beat that changes nothing but the beat time skips run.json."""
_BEAT_FIELDS = frozenset({"heartbeat", "lease_until"})
_SEPARATE_FILES = frozenset({"info", "config"})  # stored in info.json / config.json
RESERVED_NAMES = frozenset(
    {"run.json", "config.json", "cout.txt", "info.json", "metrics.json", "metrics.jsonl"}
)
"""Names an artifact may not take: the files of a run folder (every sink refuses them)."""


_METRIC_FIELDS = ("steps", "timestamps", "values")


def _series_json(series: dict[str, Any]) -> dict[str, str]:
    """The JSON text of a series' three lists, without their brackets (formatted once)."""
    return {
        "steps": json.dumps(series["steps"])[1:-1],
        "timestamps": json.dumps(list(map(_dt.datetime.isoformat, series["timestamps"])))[1:-1],
        "values": json.dumps(series["values"], allow_nan=True)[1:-1],
    }


def _metrics_line(name: str, parts: dict[str, str]) -> str:
    fields = ", ".join(f'"{field}": [{parts[field]}]' for field in _METRIC_FIELDS)
    return f'{{"name": {json.dumps(name)}, {fields}}}\n'


class _MetricsJsonBuilder:
    """Collects each metric's points as JSON text in scratch files, to write ``metrics.json``.

    Nothing is kept in memory: a rewrite streams the scratch files into the new
    ``metrics.json``. The scratch folder is removed by :meth:`close`.
    """

    def __init__(self) -> None:
        self._scratch: str | None = None
        self._names: dict[str, int] = {}
        self._filled: set[str] = set()
        self.points = 0
        self.points_written = 0

    def add(self, name: str, parts: dict[str, str], count: int) -> None:
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="sacredlike-metrics-")
        index = self._names.setdefault(name, len(self._names))
        for field, text in parts.items():
            if not text:
                continue
            path = os.path.join(self._scratch, f"{index}.{field}")
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(", " + text if path in self._filled else text)
            self._filled.add(path)
        self.points += count

    def due(self) -> bool:
        """Whether the points doubled since the last rewrite (keeps total cost linear)."""
        return self.points >= max(2 * self.points_written, 1000)

    def write_to(self, handle: Any) -> None:
        handle.write("{")
        for position, name in enumerate(sorted(self._names)):
            handle.write(",\n  " if position else "\n  ")
            handle.write(json.dumps(name) + ": {")
            for field_index, field in enumerate(_METRIC_FIELDS):
                handle.write(f'{", " if field_index else ""}"{field}": [')
                path = os.path.join(self._scratch or "", f"{self._names[name]}.{field}")
                if path in self._filled:
                    with open(path, encoding="utf-8") as part:
                        shutil.copyfileobj(part, handle, 1 << 20)
                handle.write("]")
            handle.write("}")
        handle.write("\n}\n" if self._names else "}\n")
        self.points_written = self.points

    def close(self) -> None:
        """Remove the scratch files."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


class FolderObserver(StoringObserver):
    """Stores each run as a folder of files in a :class:`BlobStore`.

    Args:
        store: where the folders go.
        resource_dir / source_dir: folder names for deduplicated resources and sources.
        resource_path: the resource folder as run.json names it in ``resources`` (Sacred
            writes ``<basedir>/_resources/<stem>_<md5><ext>``); default ``resource_dir``.
        priority: observer priority (default 20).
        copy_artifacts: False keeps a resource that is already inside the store where it is
            (run.json lists its own path) instead of copying it to ``resource_dir``, as in
            Sacred. Artifacts are copied either way.
        copy_sources: copy source files into ``source_dir`` (False: record original paths).
    """

    def __init__(
        self,
        store: BlobStore,
        *,
        resource_dir: str = "_resources",
        source_dir: str = "_sources",
        resource_path: str | None = None,
        priority: int = 20,
        copy_artifacts: bool = True,
        copy_sources: bool = True,
    ) -> None:
        self.store = store
        self.resource_dir = resource_dir.strip("/")
        self.source_dir = source_dir.strip("/")
        self.resource_path = self.resource_dir if resource_path is None else resource_path
        self.priority = priority
        self.copy_artifacts = copy_artifacts
        self.copy_sources = copy_sources
        self.record = RunRecord()
        self._metrics = _MetricsJsonBuilder()
        self._run_json_written = 0.0

    def destination(self) -> tuple:
        """The folder of runs (a local directory or a bucket prefix)."""
        return ("folder", self.store.location)

    @property
    def run_id(self) -> Any:
        """The id of the current (or last) run."""
        return self.record.run_id

    # -- start -----------------------------------------------------------------------------
    def queued_event(self, ex_info, command, host_info, queue_time, config, meta_info, _id):
        """Create the run folder with status QUEUED."""
        return self._open(
            self._new_record().queued,
            _id,
            ex_info,
            command,
            host_info,
            queue_time,
            config,
            meta_info,
        )

    def started_event(self, ex_info, command, host_info, start_time, config, meta_info, _id):
        """Create the run folder with status RUNNING and an empty cout.txt (as Sacred does)."""
        run_id = self._open(
            self._new_record().started,
            _id,
            ex_info,
            command,
            host_info,
            start_time,
            config,
            meta_info,
        )
        self.store.put(f"{run_id}/cout.txt", b"")
        return run_id

    def _new_record(self) -> RunRecord:
        """Start a fresh record (and metrics file builder) for a new run."""
        self.record = RunRecord()
        self._metrics.close()
        self._metrics = _MetricsJsonBuilder()
        return self.record

    def resume(self, run_id: Any) -> None:
        """Take over the stored run ``run_id`` so that replayed events add only what is missing.

        Used by ``sacredlike sync``: the stored fields count as written, the points already
        in ``metrics.jsonl`` are skipped when offered again, and the next output replaces
        ``cout.txt``.

        Raises:
            SinkRejected: the store holds no run ``run_id``.
        """
        self._new_record()
        try:
            entry = json.loads(self.store.get(f"{run_id}/run.json"))
        except FileNotFoundError:
            raise SinkRejected(f"no run {run_id!r} in {self.store.location} to resume") from None
        for name, key in (("config", "config.json"), ("info", "info.json")):
            try:
                entry[name] = json.loads(self.store.get(f"{run_id}/{key}"))
            except FileNotFoundError:
                continue
        self.record.resumed(run_id, entry)
        try:
            lines = self.store.get(f"{run_id}/metrics.jsonl").decode().splitlines()
        except FileNotFoundError:
            lines = []
        stored: dict[str, int] = {}
        for line in lines:
            try:
                batch = json.loads(line)
            except ValueError:
                continue  # torn by a crash: those points are offered again
            parts = {field: json.dumps(batch[field])[1:-1] for field in _METRIC_FIELDS}
            self._metrics.add(batch["name"], parts, len(batch["steps"]))
            stored[batch["name"]] = stored.get(batch["name"], 0) + len(batch["steps"])
        self.record.skip_points(stored)

    def rebuild_metrics_json(self, run_id: Any) -> None:
        """Write run ``run_id``'s ``metrics.json`` anew from its ``metrics.jsonl``.

        Raises:
            SinkRejected: the store holds no run ``run_id`` (or its run.json does not parse).
        """
        try:
            self.resume(run_id)
        except ValueError as exc:
            raise SinkRejected(f"run.json of run {run_id!r} does not parse: {exc}") from None
        try:
            self._write_metrics_json()
        finally:
            self._metrics.close()

    def _open(self, fill, _id, ex_info, command, host_info, stamp, config, meta_info) -> Any:
        self.record.run_id = self._claim_id(_id)
        fill(self._stored_ex_info(ex_info), command, host_info, stamp, config, meta_info)
        self.store.put(f"{self.record.run_id}/config.json", dumps(config).encode())
        self._write_changes()
        return self.record.run_id

    def _claim_id(self, _id: Any) -> Any:
        if _id is not None:
            name = str(_id)
            if "/" in name or name in ("", ".", "..") or name.startswith("_"):
                raise SinkRejected(
                    f"run id {_id!r} cannot be a folder name in {self.store.location}"
                )
            if not self.store.create_dir(name):
                raise SinkRejected(
                    f"run folder {name!r} already exists in {self.store.location}; refusing to "
                    "overwrite another run (choose another id or base directory)"
                )
            return _id
        existing = [int(name) for name in self.store.list("") if name.isdigit()]
        candidate = max(existing, default=0) + 1
        for _ in range(_MAX_ID_ATTEMPTS):
            if self.store.create_dir(str(candidate)):
                return candidate
            candidate += 1
        raise SinkRejected(
            f"could not claim a run id in {self.store.location} after {_MAX_ID_ATTEMPTS} tries"
        )

    def _stored_ex_info(self, ex_info: dict) -> dict:
        info = dict(ex_info)  # never mutate the shared experiment info
        base_dir = info.get("base_dir") or ""
        info["sources"] = [
            [name, self._save_source(base_dir, name, md5)]
            for name, md5 in ex_info.get("sources", [])
        ]
        return info

    def _save_source(self, base_dir: str, name: str, md5: str) -> str | None:
        path = present_source(base_dir, name)
        if path is None or not self.copy_sources:
            return path
        return self._save_deduplicated(self.source_dir, path, md5, name)

    def _save_deduplicated(self, folder: str, path: str, md5: str, name: str | None = None) -> str:
        stored = PurePosixPath(name or os.path.basename(path))
        key = f"{folder}/{stored.stem}_{md5}{stored.suffix}"
        if not self.store.exists(key):
            self.store.put_file(key, path)
        return key

    # -- during the run --------------------------------------------------------------------
    def heartbeat_event(self, info, captured_out, beat_time, result, lease_until=None):
        """Append new output, rewrite run.json and info.json if they changed.

        When only the beat time (and lease) moved and run.json was written less than
        :data:`BEAT_ONLY_REWRITE_INTERVAL` seconds ago, run.json waits for the next event
        (quick beats, and the final beat right before the terminal event, cost no rewrite).
        """
        self._write_output(captured_out)
        self.record.heartbeat(info, beat_time, result, lease_until)
        if (
            set(self.record.changes()) <= _BEAT_FIELDS
            and time.monotonic() - self._run_json_written < BEAT_ONLY_REWRITE_INTERVAL
        ):
            return
        self._write_changes()

    def log_metrics(self, metrics_by_name, info):
        """Append the new points to metrics.jsonl; refresh metrics.json when due.

        Once the append succeeded the points are stored: if the refresh of metrics.json
        then fails, the points offered again are skipped (metrics.json is rebuilt from the
        same points at the next refresh or at the end of the run).
        """
        fresh = self.record.new_points(metrics_by_name)
        if not fresh:
            return
        formatted = [(name, _series_json(series)) for name, series in fresh.items()]
        lines = "".join(_metrics_line(name, parts) for name, parts in formatted)
        try:
            self.store.append(f"{self.record.run_id}/metrics.jsonl", lines.encode())
        except Exception:
            self.record.offer_failed(metrics_by_name, fresh, kept=False)
            raise
        for name, parts in formatted:
            self._metrics.add(name, parts, len(fresh[name]["steps"]))
        if self._metrics.due():
            try:
                self._write_metrics_json()
            except Exception:
                self.record.offer_failed(metrics_by_name, fresh, kept=True)
                raise

    def artifact_event(self, name, filename, metadata=None, content_type=None):
        """Copy the artifact into the run folder and list it in run.json."""
        if name in RESERVED_NAMES:
            raise SinkRejected(f"artifact name {name!r} is reserved for the run's own records")
        self.store.put_file(f"{self.record.run_id}/{name}", filename, content_type)
        self.record.add_artifact(name)
        self._write_changes()

    def resource_event(self, filename):
        """Store the resource once per content and list ``[filename, stored path]`` in run.json.

        The stored path is ``resource_path/<stem>_<md5><ext>``, or ``filename`` itself for a
        file already inside the store when ``copy_artifacts`` is False.
        """
        filename = str(filename)
        if not self.copy_artifacts and self.store.holds_local(filename):
            self.record.add_resource(filename, filename)
        else:
            key = self._save_deduplicated(self.resource_dir, filename, file_md5(filename))
            stored = os.path.join(self.resource_path, PurePosixPath(key).name)
            self.record.add_resource(filename, stored)
        self._write_changes()

    # -- end -------------------------------------------------------------------------------
    def completed_event(self, stop_time, result):
        """Mark the run COMPLETED."""
        self.record.completed(stop_time, result)
        self._finish()

    def interrupted_event(self, interrupt_time, status):
        """Mark the run interrupted."""
        self.record.interrupted(interrupt_time, status)
        self._finish()

    def failed_event(self, fail_time, fail_trace):
        """Mark the run FAILED with its traceback."""
        self.record.failed(fail_time, fail_trace)
        self._finish()

    def _finish(self) -> None:
        try:
            if self._metrics.points != self._metrics.points_written:
                self._write_metrics_json()
            self.store.flush()
            self._write_changes()
        finally:
            self._metrics.close()

    # -- writing ---------------------------------------------------------------------------
    def _write_output(self, captured_out: str | None) -> None:
        delta = self.record.output.delta(captured_out)
        if delta is None:
            return
        key = f"{self.record.run_id}/cout.txt"
        if delta.rewrite:
            self.store.put(key, delta.text.encode())
        else:
            self.store.append(key, delta.text.encode())
        self.record.output.mark_stored()

    def _write_changes(self) -> None:
        changes = self.record.changes()
        if not changes:
            return
        run_id = self.record.run_id
        if "info" in changes and (changes["info"] or "info" in self.record.stored_fields()):
            self.store.put(f"{run_id}/info.json", dumps(changes["info"]).encode())
        if set(changes) - _SEPARATE_FILES:
            entry = {k: v for k, v in self.record.fields.items() if k not in _SEPARATE_FILES}
            self.store.put(f"{run_id}/run.json", dumps(entry).encode())
            self._run_json_written = time.monotonic()
        self.record.mark_stored(changes)

    def _write_metrics_json(self) -> None:
        with tempfile.NamedTemporaryFile(
            "w+", suffix=".json", encoding="utf-8", delete=False
        ) as tmp:
            try:
                self._metrics.write_to(tmp)
                tmp.close()
                self.store.put_file(f"{self.record.run_id}/metrics.json", tmp.name)
            finally:
                os.unlink(tmp.name)

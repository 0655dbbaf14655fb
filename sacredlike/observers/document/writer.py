"""A run as a document: one observer family over a small :class:`DocumentStore` interface.

Layout (Sacred's MongoObserver 0.7.0 format, which Omniboard and Incense read):

* **run document** ``{_id, format, experiment, command, host, start_time | queue_time,
  config, meta, status, resources, artifacts, captured_out, info, heartbeat, result,
  stop_time, fail_trace}``. ``experiment.sources`` is ``[[relative path, file id]]``,
  ``resources`` is ``[[path, md5]]``, ``artifacts`` is ``[{"name", "file_id"}]`` and
  ``info.metrics`` is ``[{"name", "id": str(first metric part id)}]``. After the first write
  only changed top-level fields are set, so fields added by dashboards survive.
* **metric parts**: a metric's points live in documents of at most
  :attr:`DocumentObserver.points_per_part` points. The first part is Sacred's metric
  document ``{_id, run_id, name, steps, values, timestamps}`` (what dashboards read);
  further parts are ``{_id, part_of: <first part id>, part: k, name, steps, values,
  timestamps}``, deliberately without ``run_id`` so that dashboards querying by run see one
  document per metric. Each part also keeps ``n``, its number of points, which makes
  appends exactly-once: an append names the count it expects, so a write repeated after a
  lost acknowledgement is recognised instead of stored twice.
* **captured output**: up to :attr:`DocumentObserver.output_limit` characters are kept
  whole in ``captured_out``. Beyond that, ``captured_out`` holds a one-line note and the
  last ``output_limit`` characters, and the whole text goes to the file
  ``captured_out://<runs>/<id>``; it is rewritten whenever the output has doubled since the
  last copy and at the end of the run (so total bytes written stay linear in the output).
* **files**: sources once per (path, md5), resources likewise, artifacts as
  ``artifact://<runs>/<id>/<name>`` with content type and metadata.

Writing: every event first updates in-memory state (a :class:`~sacredlike.record.RunRecord`,
buffers of metric points, pending artifacts), then :meth:`DocumentObserver._flush` stores
what is pending. A failed flush keeps everything pending for the next event, so a server
that comes back resumes the heartbeats with no point lost. If the final flush still fails
after its retries, the run is saved to ``failure_dir`` and a warning names the one-line
command that uploads it later (:func:`upload_saved_runs`). The store interface is in
:mod:`._document_store`, the variant that writes on a background thread in
:mod:`._document_queued`.
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import os
import shutil
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ...dependencies import file_md5, present_source
from ...errors import SinkError, SinkRejected
from ...record import RunRecord
from ...serialize import flatten
from ..base import StoringObserver
from ..oversized import note, too_big
from ..retry import RetryPolicy
from .store import DocumentStore, MetricPart

log = logging.getLogger(__name__)

FORMAT = "MongoObserver-0.7.0"


@dataclass
class _Metric:
    """A metric's parts and the points not stored yet."""

    name: str
    parts: list[MetricPart] = field(default_factory=list)
    steps: list = field(default_factory=list)
    values: list = field(default_factory=list)
    timestamps: list = field(default_factory=list)

    def pending(self) -> int:
        return len(self.steps)


@dataclass
class _Artifact:
    name: str
    filename: str
    metadata: dict | None
    content_type: str | None


class DocumentObserver(StoringObserver):
    """Stores each run as a document in a :class:`DocumentStore` (see the module layout).

    Attributes:
        points_per_part: most points in one metric document.
        output_limit: most characters of captured output kept in the run document.
        beat_retry / final_retry: retries of an ordinary event's write and of the final one.
        upload_hint: how to upload a run saved to ``failure_dir`` (``DIRECTORY`` is replaced
            by its folder in the warning).
        save_unsent: whether a failed final write saves the run to ``failure_dir``.
        document_format: the ``format`` field of run documents (which observer wrote them).
    """

    points_per_part = 100_000
    output_limit = 1_000_000
    beat_retry = RetryPolicy(attempts=2, first_delay=0.2)
    final_retry = RetryPolicy(attempts=5, first_delay=0.5, max_delay=4.0)
    upload_hint = "sacredlike.observers.document.writer.upload_saved_runs(DIRECTORY, observer)"
    save_unsent = True
    """Save a run whose final write failed to ``failure_dir`` (a QueueObserver turns it off:
    its journal keeps the run instead)."""
    document_format = FORMAT

    def __init__(
        self,
        store: DocumentStore,
        *,
        overwrite: Any = None,
        priority: int = 30,
        failure_dir: str | os.PathLike | None = None,
    ) -> None:
        """Create the observer.

        Args:
            store: where documents go.
            overwrite: id (or document with ``_id``) of an existing run, usually a queued
                one, whose document this run takes over.
            priority: call order among observers (higher first).
            failure_dir: where a run goes if the store cannot take its final write;
                defaults to ``~/.sacredlike/unsent_runs``.
        """
        self.store = store
        self.overwrite = overwrite.get("_id") if isinstance(overwrite, dict) else overwrite
        if self.overwrite is not None and not isinstance(overwrite, dict):
            self._check_overwritable(self.overwrite)
        self._overwritten = False
        self.priority = priority
        self.failure_dir = Path(
            failure_dir if failure_dir is not None else Path.home() / ".sacredlike" / "unsent_runs"
        )
        self._state_lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._new_run()

    def _check_overwritable(self, run_id: Any) -> None:
        """Refuse, before any run starts, an ``overwrite`` id the store does not hold."""
        try:
            self.store.load_run(run_id)
        except SinkRejected as exc:
            raise SinkRejected(
                f"{self.store.describe()} holds no run {run_id!r} to overwrite"
            ) from exc

    def destination(self) -> tuple:
        """The store and its runs collection."""
        return ("document", self.store.describe(), self.store.runs_name)

    def _new_run(self) -> None:
        """Forget everything about the previous run: one observer may record many runs."""
        with self._state_lock:
            self.record = RunRecord()
            self.saved_to: Path | None = None
            self._metrics: dict[str, _Metric] = {}
            self._artifacts: list[_Artifact] = []
            self._output = ""
            self._output_copied = 0
            self._user_info: dict = {}
            self._resumed_artifacts: set[str] = set()

    # -- start ----------------------------------------------------------------------------
    def started_event(self, ex_info, command, host_info, start_time, config, meta_info, _id):
        """Insert the run document (sources first) and return its id."""
        self._new_run()
        self.record.started(ex_info, command, host_info, start_time, config, meta_info)
        return self._insert(ex_info, _id)

    def queued_event(self, ex_info, command, host_info, queue_time, config, meta_info, _id):
        """Insert the document of a queued run and return its id."""
        if self.overwrite is not None:
            raise SinkRejected(
                f"a queued run cannot overwrite run {self.overwrite!r}: queue a new run instead"
            )
        self._new_run()
        self.record.queued(ex_info, command, host_info, queue_time, config, meta_info)
        return self._insert(ex_info, _id)

    def resume(self, run_id: Any) -> None:
        """Take over the stored run ``run_id`` so that replayed events add only what is missing.

        Used by ``sacredlike sync``: the stored fields count as written, points already in
        the metric documents are skipped when offered again, artifacts already listed are
        not uploaded again, and the next output replaces the stored one.

        Raises:
            SinkRejected: the store holds no run ``run_id`` (or cannot resume).
        """
        self._new_run()
        document, parts = self.beat_retry.call(
            lambda: self.store.load_run(run_id), f"loading run {run_id}"
        )
        with self._state_lock:
            self.record.resumed(run_id, document)
            info = document.get("info") or {}
            self._user_info = {k: v for k, v in info.items() if k != "metrics"}
            for name, metric_parts in parts.items():
                self._metrics[name] = _Metric(name, metric_parts)
            self.record.skip_points({n: sum(p.count for p in ps) for n, ps in parts.items()})
            self._resumed_artifacts = {a["name"] for a in document.get("artifacts") or []}

    def _insert(self, ex_info: dict, run_id: Any) -> Any:
        fields = self.record.fields
        fields["experiment"]["sources"] = self.beat_retry.call(
            lambda: self._store_sources(ex_info), "storing sources"
        )
        fields.update(format=self.document_format, captured_out="", info={})
        document = self._fit(dict(fields), run_id if self.overwrite is None else self.overwrite)
        if self.overwrite is not None:
            if self._overwritten:  # a second run would mix its data into the first one's
                raise SinkRejected(
                    f"this observer already overwrote run {self.overwrite!r}; make a new "
                    "observer (without overwrite) for further runs"
                )
            run_id = self.overwrite
            self.beat_retry.call(lambda: self.store.update_run(run_id, document), "overwrite")
            self._overwritten = True
        else:
            run_id = self.beat_retry.call(
                lambda: self.store.insert_run(document, run_id), "inserting the run"
            )
        self.record.run_id = run_id
        self.record.mark_stored(dict(fields))
        return run_id

    def _fit(self, fields: dict[str, Any], run_id: Any) -> dict[str, Any]:
        """``fields`` with notes for those too big for one document, which go to files.

        See :mod:`sacredlike.observers.oversized`; a field is stored as the file
        ``FIELD://RUNS/ID`` (a random token for ``ID`` before the run has one).
        """
        budget = self.store.field_budget()
        if budget is None:
            return fields
        fitted = dict(fields)
        for key, data in too_big(fields, self.store.encode_field, budget).items():
            owner = run_id if run_id is not None else uuid.uuid4().hex
            name = f"{key}://{self.store.runs_name}/{owner}"
            self.store.put_file(name, io.BytesIO(data), replace=True)
            value = fields[key]
            kept = {"metrics": value["metrics"]} if key == "info" and "metrics" in value else {}
            fitted[key] = note(name, len(data), **kept)
        return fitted

    def _store_sources(self, ex_info: dict) -> list:
        base_dir = ex_info.get("base_dir") or ""
        stored = []
        for name, md5 in ex_info.get("sources", []):
            path = present_source(base_dir, name)
            stored.append([name, None if path is None else self._put_path(path, md5)])
        return stored

    def _put_path(self, path: str, md5: str) -> Any:
        """Store the file at ``path`` under that name, once per content.

        Opens the file on every call, so a retry after a failed upload reads it from the start.
        """
        with open(path, "rb") as data:
            return self.store.put_file(path, data, md5=md5)

    # -- ordinary events -----------------------------------------------------------------
    def heartbeat_event(self, info, captured_out, beat_time, result, lease_until=None):
        """Take the beat and write what changed."""
        with self._state_lock:
            self.record.heartbeat(info or {}, beat_time, result, lease_until)
            self._user_info = self.record.fields["info"]  # flattened; _flush adds metric refs
            self._set_output(captured_out or "")
        self._after_event(final=False)

    def log_metrics(self, metrics_by_name, info):
        """Buffer the new points and store them.

        Values arrive as Python numbers (``log_scalar`` converts them). Points the
        dispatcher offers again after this method raised are recognised (it offers them
        first) and not buffered twice.
        """
        with self._state_lock:
            fresh = self.record.new_points(metrics_by_name)
            for name, series in fresh.items():
                metric = self._metrics.setdefault(name, _Metric(name))
                metric.steps.extend(series["steps"])
                metric.values.extend(series["values"])
                metric.timestamps.extend(series["timestamps"])
        try:
            self._after_event(final=False)
        except Exception:
            with self._state_lock:  # buffered: skip them when the dispatcher offers them again
                self.record.offer_failed(metrics_by_name, fresh, kept=True)
            raise

    def resource_event(self, filename):
        """Store the resource file once per content and record ``[path, md5]``."""
        md5 = file_md5(filename)
        path = os.path.abspath(filename)
        self.beat_retry.call(lambda: self._put_path(path, md5), "storing a resource")
        with self._state_lock:
            self.record.add_resource(filename, md5)
        self._after_event(final=False)

    def artifact_event(self, name, filename, metadata=None, content_type=None):
        """Queue the artifact for upload and store it (once, when a journal is replayed)."""
        with self._state_lock:
            if name in self._resumed_artifacts:
                self._resumed_artifacts.discard(name)
                return
            self._artifacts.append(_Artifact(name, str(filename), metadata, content_type))
        self._after_event(final=False)

    # -- final events ---------------------------------------------------------------------
    def completed_event(self, stop_time, result):
        """Mark the run COMPLETED and write everything pending."""
        with self._state_lock:
            self.record.completed(stop_time, result)
        self._after_event(final=True)

    def interrupted_event(self, interrupt_time, status):
        """Mark the run interrupted and write everything pending."""
        with self._state_lock:
            self.record.interrupted(interrupt_time, status)
        self._after_event(final=True)

    def failed_event(self, fail_time, fail_trace):
        """Mark the run FAILED and write everything pending."""
        with self._state_lock:
            self.record.failed(fail_time, fail_trace)
        self._after_event(final=True)

    # -- writing --------------------------------------------------------------------------
    def _after_event(self, final: bool) -> None:
        """Write what is pending (the queued variant hands this to its worker)."""
        if not final:
            self.beat_retry.call(self._flush, f"writing run {self.record.run_id}")
            return
        self._final_flush(self.final_retry)

    def _final_flush(self, policy: RetryPolicy) -> None:
        try:
            policy.call(self._flush, f"final write of run {self.record.run_id}")
        except SinkError as exc:
            if not self.save_unsent:
                raise
            self._save_and_warn(exc)

    def _save_and_warn(self, reason: Exception) -> None:
        self.saved_to = self._save_run()
        log.warning(
            "could not write run %s to %s (%s); it was saved to %s. Upload it later with: %s",
            self.record.run_id,
            self.store.describe(),
            reason,
            self.saved_to,
            self.upload_hint.replace("DIRECTORY", str(self.saved_to)),
        )

    def _flush(self) -> None:
        with self._flush_lock:
            self._flush_artifacts()
            self._flush_metrics()
            self._flush_output_copy()
            with self._state_lock:
                self._set_info()
                changes = self.record.changes()
            if changes:
                self._write_fields(changes)

    def _write_fields(self, changes: dict[str, Any]) -> None:
        """Set the changed fields; if the store refuses them, set the others one by one."""
        written = self._fit(changes, self.record.run_id)
        try:
            self.store.update_run(self.record.run_id, written)
        except SinkRejected:
            if len(changes) == 1:
                raise
            refused = []
            for key, value in written.items():
                try:
                    self.store.update_run(self.record.run_id, {key: value})
                except SinkRejected:
                    refused.append(key)
                    continue
                with self._state_lock:
                    self.record.mark_stored({key: changes[key]})
            raise SinkRejected(
                f"{self.store.describe()} refused field(s) {', '.join(refused)} of run "
                f"{self.record.run_id}; the other fields were stored"
            ) from None
        with self._state_lock:
            self.record.mark_stored(changes)

    def _flush_artifacts(self) -> None:
        while self._artifacts:
            artifact = self._artifacts[0]
            try:
                data = open(artifact.filename, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                log.error(
                    "artifact %r of run %s not stored: %s", artifact.name, self.record.run_id, exc
                )
                self._artifacts.pop(0)
                continue
            with data:
                file_id = self.store.put_file(
                    f"artifact://{self.store.runs_name}/{self.record.run_id}/{artifact.name}",
                    data,
                    content_type=artifact.content_type,
                    metadata=flatten(artifact.metadata),
                )
            with self._state_lock:
                self.record.add_artifact({"name": artifact.name, "file_id": file_id})
                self._artifacts.pop(0)

    def _flush_metrics(self) -> None:
        """Append pending points: one batch per round, a slice of every pending metric."""
        with self._state_lock:
            metrics = [m for m in self._metrics.values() if m.pending()]
        while metrics:
            batch = []
            for metric in metrics:
                part = self._open_part(metric)
                size = min(self.points_per_part - part.count, metric.pending())
                batch.append(
                    (
                        part,
                        {
                            "steps": metric.steps[:size],
                            "values": metric.values[:size],
                            "timestamps": metric.timestamps[:size],
                        },
                    )
                )
            self.store.append_points(batch)
            with self._state_lock:
                for metric, (_, points) in zip(metrics, batch, strict=True):
                    size = len(points["steps"])
                    del metric.steps[:size], metric.values[:size], metric.timestamps[:size]
            metrics = [m for m in metrics if m.pending()]

    def _open_part(self, metric: _Metric) -> MetricPart:
        if metric.parts and metric.parts[-1].count < self.points_per_part:
            return metric.parts[-1]
        if metric.parts:
            seed = {"part_of": metric.parts[0].id, "part": len(metric.parts), "name": metric.name}
        else:
            seed = {"run_id": self.record.run_id, "name": metric.name}
        metric.parts.append(MetricPart(seed))
        return metric.parts[-1]

    def _set_info(self) -> None:
        refs = [
            {"name": m.name, "id": str(m.parts[0].id)}
            for m in self._metrics.values()
            if m.parts and m.parts[0].id is not None
        ]
        info = dict(self._user_info)
        if refs:
            info["metrics"] = refs
        self.record.fields["info"] = info

    def _set_output(self, text: str) -> None:
        self._output = text
        if len(text) <= self.output_limit:
            self.record.fields["captured_out"] = text
            return
        head = len(text) - self.output_limit
        self.record.fields["captured_out"] = (
            f"[{head} earlier characters are in the file {self._output_name()}]\n" + text[head:]
        )

    def _output_name(self) -> str:
        return f"captured_out://{self.store.runs_name}/{self.record.run_id}"

    def _flush_output_copy(self) -> None:
        with self._state_lock:
            text = self._output
            final = self.record.fields.get("stop_time") is not None
        due = len(text) >= 2 * self._output_copied or (final and len(text) != self._output_copied)
        if len(text) <= self.output_limit or not due:
            return
        data = io.BytesIO(text.encode("utf-8", "surrogateescape"))
        self.store.put_file(self._output_name(), data, content_type="text/plain", replace=True)
        self._output_copied = len(text)

    # -- saving to disk and uploading later ------------------------------------------------
    def _save_run(self) -> Path:
        """Write everything not yet stored (and the fields) to a new folder of failure_dir."""
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        folder = self.failure_dir / f"run_{self.record.run_id}_{stamp}"
        (folder / "artifacts").mkdir(parents=True, exist_ok=True)
        with self._state_lock:
            artifacts = []
            for index, artifact in enumerate(self._artifacts):
                copy = folder / "artifacts" / str(index)
                shutil.copyfile(artifact.filename, copy)
                artifacts.append({**asdict(artifact), "filename": copy.name})
            state = {
                "run_id": self.record.run_id,
                "fields": self.record.fields,
                "user_info": self._user_info,
                "output": self._output if len(self._output) > self.output_limit else "",
                "artifacts": artifacts,
                "metrics": [
                    {
                        "name": m.name,
                        "parts": [asdict(p) for p in m.parts],
                        "steps": m.steps,
                        "values": m.values,
                        "timestamps": m.timestamps,
                    }
                    for m in self._metrics.values()
                ],
            }
            text = self.store.encode_saved(state)
        (folder / "run.json").write_text(text, encoding="utf-8")
        return folder

    def load_saved(self, folder: str | os.PathLike) -> None:
        """Take the state of a run saved by :meth:`_save_run` as everything pending."""
        folder = Path(folder)
        state = self.store.decode_saved((folder / "run.json").read_text(encoding="utf-8"))
        self._new_run()
        with self._state_lock:
            self.record.run_id = state["run_id"]
            self.record.fields = state["fields"]
            self._user_info = state["user_info"]
            self._output = state["output"]
            self._artifacts = [
                _Artifact(**{**a, "filename": str(folder / "artifacts" / a["filename"])})
                for a in state["artifacts"]
            ]
            self._metrics = {
                m["name"]: _Metric(
                    m["name"],
                    [MetricPart(**p) for p in m["parts"]],
                    m["steps"],
                    m["values"],
                    m["timestamps"],
                )
                for m in state["metrics"]
            }


def upload_saved_runs(folder: str | os.PathLike, observer: DocumentObserver) -> list[Any]:
    """Upload runs saved in ``failure_dir`` by a document observer, then delete them.

    Args:
        folder: one saved run's folder, or a directory holding several.
        observer: a fresh observer on the store to upload to.

    Returns:
        The ids of the uploaded runs.

    Raises:
        FileNotFoundError: ``folder`` holds no saved run.
        SinkUnavailable / SinkRejected: the store failed; the folders are kept.
    """
    folder = Path(folder)
    if (folder / "run.json").is_file():
        runs = [folder]
    else:
        runs = sorted(saved.parent for saved in folder.glob("*/run.json"))
    if not runs:
        raise FileNotFoundError(f"no saved run (run.json) found in {folder}")
    uploaded = []
    for run in runs:
        observer.load_saved(run)
        observer.final_retry.call(observer._flush, f"uploading {run}")
        uploaded.append(observer.record.run_id)
        shutil.rmtree(run)
    return uploaded

"""TinyDbReader: a TinyDB store (ours or Sacred's) read back, with Sacred's reader methods.

Sacred's ``fetch_metadata / fetch_files / fetch_report`` keep their semantics, and the
shared :class:`~sacredlike.observers.base.RunReader` methods make the store readable by every
tool of the project. Run ids in :class:`StoredRun` are the TinyDB document ids (ints);
:meth:`TinyDbReader.get_run` also accepts a run's ``_id`` (Sacred's uuid hex).
"""

from __future__ import annotations

import datetime as _dt
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from ...errors import RunNotFound
from ..base import MetricSeries, RunQuery, RunReader, StoredRun, canonical_int
from .hash_files import HashFiles
from .store import stored_run
from .tinydb_codec import decode, writer_shapes
from .tinydb_file import MetadataFile
from .tinydb_store import SINK

_REPORT = """
-------------------------------------------------
Experiment: {exp_name}
-------------------------------------------------
ID: {exp_id}
Date: {start_date}    Duration: {duration}

Parameters:
{parameters}

Result:
{result}

Dependencies:
{dependencies}

Resources:
{resources}

Source Files:
{sources}

Outputs:
{artifacts}
"""


class TinyDbReader(RunReader):
    """Reads the TinyDB store in folder ``path`` (``metadata.json`` and ``hashfs/``)."""

    def __init__(self, path: str | Path) -> None:
        """Open the store.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            SinkRejected: its ``metadata.json`` is not TinyDB JSON.
        """
        SINK.check_installed()
        self.root = Path(path).absolute()
        if not self.root.is_dir():
            raise FileNotFoundError(f"no TinyDB store folder at {self.root}")
        self.file = MetadataFile(self.root / "metadata.json")
        self.file.load()
        self.fs = HashFiles(self.root / "hashfs")

    @classmethod
    def from_url(cls, url: str) -> TinyDbReader:
        """From ``tinydb://PATH`` (``tinydb:///abs/path`` or ``tinydb://relative/path``)."""
        return cls(url.removeprefix("tinydb://"))

    def close(self) -> None:
        """Close the cached file."""
        self.file.forget()

    def _table(self, name: str) -> dict[str, Any]:
        return self.file.load().get(name, {})

    # -- Sacred's reader interface ---------------------------------------------------------
    def search(self, query: Any) -> list[Any]:
        """Run documents matching a TinyDB ``Query`` (file references opened, as Sacred does)."""
        return [doc for doc in self._documents(open_files=True) if query(doc)]

    def fetch_metadata(
        self, exp_name: str | None = None, query: Any = None, indices: int | list[int] | None = None
    ) -> list[Any]:
        """Run documents by experiment-name regex, TinyDB ``Query`` or index (Sacred's rules).

        Args:
            exp_name: regular expression searched in ``experiment.name``.
            query: a TinyDB query on the run documents (wins over ``exp_name``).
            indices: one position or a list of positions in the table (used only when
                neither ``exp_name`` nor ``query`` is given).

        Raises:
            ValueError: none of the three is given, or an index is out of range.
        """
        if query is None and exp_name:
            from tinydb import Query

            query = Query().experiment.name.search(exp_name)
        if query is not None:
            return self.search(query)
        if indices is None:
            raise ValueError("Must specify an experiment name, indices or pass custom query")
        wanted = list(indices) if isinstance(indices, (list, tuple)) else [indices]
        documents = self._documents(open_files=True)
        for index in wanted:
            if index >= len(documents):
                raise ValueError(
                    f"Index value ({index}) must be less than number of records ({len(documents)})"
                )
        return [documents[index] for index in wanted]

    def fetch_files(
        self, exp_name: str | None = None, query: Any = None, indices: int | list[int] | None = None
    ) -> list[dict[str, Any]]:
        """Per matching run: ``exp_name, exp_id, date`` and open files of its sources,
        resources and artifacts (``{name: file}``, each key present only when not empty)."""
        found = []
        for doc in self.fetch_metadata(exp_name, query, indices):
            entry = {
                "exp_name": doc["experiment"]["name"],
                "exp_id": doc["_id"],
                "date": doc["start_time"],
            }
            groups = {
                "sources": {s[0]: s[2] for s in doc["experiment"].get("sources", [])},
                "resources": {r[0]: r[2] for r in doc.get("resources", [])},
                "artifacts": {a[0]: a[3] for a in doc.get("artifacts", [])},
            }
            entry.update({key: files for key, files in groups.items() if files})
            found.append(entry)
        return found

    def fetch_report(
        self, exp_name: str | None = None, query: Any = None, indices: int | list[int] | None = None
    ) -> list[str]:
        """One text report per matching run, in Sacred's format."""
        return [_report(doc) for doc in self.fetch_metadata(exp_name, query, indices)]

    # -- the RunReader interface -------------------------------------------------------------
    def find_runs(self, query: RunQuery | None = None) -> list[StoredRun]:
        """Runs matching ``query``, newest start first."""
        query = query or RunQuery()
        runs = [_stored_run(key, writer_shapes(doc)) for key, doc in self._table("runs").items()]
        runs = [run for run in runs if query.matches(run)]
        runs.sort(key=_newest_first)
        return runs[: query.limit] if query.limit is not None else runs

    def get_run(self, run_id: Any) -> StoredRun:
        """One run with its whole captured output."""
        key, doc = self._run_document(run_id)
        run = _stored_run(key, doc)
        run.captured_out = doc.get("captured_out")
        full = [
            entry["file_id"]
            for entry in self._table("files").values()
            if entry["filename"] == f"captured_out://runs/{doc['_id']}"
        ]
        if full:
            data = self.fs.path(full[-1]).read_bytes()
            run.captured_out = data.decode("utf-8", "surrogateescape")
        return run

    def get_metrics(
        self, run_id: Any, names: Iterable[str] | None = None
    ) -> dict[str, MetricSeries]:
        """Every point of the run's metrics (none for runs written by Sacred)."""
        _, doc = self._run_document(run_id)
        wanted = set(names) if names is not None else None
        series: dict[str, MetricSeries] = {}
        for metric in self._table("metrics").values():
            if metric.get("run_id") != doc["_id"]:
                continue
            if wanted is not None and metric["name"] not in wanted:
                continue
            series[metric["name"]] = MetricSeries(
                metric["name"], metric["steps"], metric["values"], decode(metric["timestamps"])
            )
        return series

    def get_artifact(self, run_id: Any, name: str) -> bytes:
        """The content of artifact ``name`` of the run."""
        _, doc = self._run_document(run_id)
        for entry in doc.get("artifacts", []):
            if entry["name"] == name:
                return self.fs.path(entry["file_id"]).read_bytes()
        raise FileNotFoundError(f"run {run_id!r} has no artifact {name!r}")

    # -- helpers ---------------------------------------------------------------------------
    def _documents(self, open_files: bool) -> list[Any]:
        from tinydb.table import Document

        opener = self._open if open_files else None
        return [Document(decode(doc, opener), int(key)) for key, doc in self._table("runs").items()]

    def _open(self, file_id: str) -> IO[bytes]:
        handle = self.fs.open(file_id)
        handle.hash = file_id  # type: ignore[attr-defined]  # as Sacred's file handles
        return handle

    def _run_document(self, run_id: Any) -> tuple[str, dict[str, Any]]:
        runs = self._table("runs")
        key = str(canonical_int(run_id))
        if key in runs:
            return key, writer_shapes(runs[key])
        for key, doc in runs.items():
            if doc.get("_id") == run_id:
                return key, writer_shapes(doc)
        raise RunNotFound(f"no run {run_id!r} in the TinyDB store {self.root}")


def _stored_run(key: str, doc: dict[str, Any]) -> StoredRun:
    return stored_run(int(key), doc)


def _newest_first(run: StoredRun) -> tuple[float, int]:
    stamp = run.start_time or run.queue_time
    return (-stamp.timestamp() if stamp else 0.0, -run.id)


def _indent(text: str) -> str:
    wrapper = textwrap.TextWrapper(initial_indent="    ", subsequent_indent="    ", width=150)
    return "\n".join(wrapper.fill(line) for line in text.splitlines())


def _report(doc: dict[str, Any]) -> str:
    start: _dt.datetime = doc["start_time"]
    duration = "still running"
    if doc.get("stop_time") is not None:
        hours, rest = divmod((doc["stop_time"] - start).total_seconds(), 3600)
        minutes, seconds = divmod(rest, 60)
        duration = f"{int(hours):02d}:{int(minutes):02d}:{seconds:04.1f}"
    config = "\n".join(f"{key}: {value}" for key, value in sorted(doc["config"].items()))
    lines = {
        "parameters": _indent(config),
        "result": _indent(repr(doc.get("result"))),
        "dependencies": _indent("\n".join(doc["experiment"].get("dependencies", []))),
        "resources": _indent("\n".join(r[0] for r in doc.get("resources", []))),
        "sources": _indent("\n".join(s[0] for s in doc["experiment"].get("sources", []))),
        "artifacts": _indent("\n".join(a[0] for a in doc.get("artifacts", []))),
    }
    return _REPORT.format(
        exp_name=doc["experiment"]["name"],
        exp_id=doc["_id"],
        start_date=start.strftime("%a %d %b %Y"),
        duration=duration,
        **{key: text or "    None" for key, text in lines.items()},
    )

"""The on-disk journal of a :class:`~sacredlike.observers.queue.QueueObserver`: one per run.

A journal is a folder ``<journal_dir>/<sink>-<run id>-<stamp>/`` holding ``events.jsonl``,
append-only, one JSON line per event:

* line 1, the header: ``{"journal": 1, "run_id", "sink", "store", "observer"}`` — ``store``
  is the covered observer's location with any password masked (never stored in clear);
* then ``{"event": NAME, "kwargs": {...}}`` for every event after the start, in the order
  the run emitted them; datetimes are tagged ``{"$datetime": ISO}``;
* ``{"event": "_file", "path": P, "copy": NAME}`` says that the file ``P`` named by an
  earlier artifact or resource event was copied to ``files/NAME`` in the journal (done
  when a run ends undelivered, so the journal can be replayed after the files changed);

Lines are flushed as they are written and ``fsync``-ed after each heartbeat and terminal
event; a line torn by a crash is ignored when the journal is read back.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..redaction import redact_credentials
from ..serialize import flatten

JOURNAL_FILE = "events.jsonl"
DEFAULT_JOURNAL_DIR = Path.home() / ".sacredlike" / "journal"
"""Where journals go unless a folder is given (``journal_dir=`` / ``SACREDLIKE_JOURNAL_DIR``)."""
_SYNCED_EVENTS = frozenset(
    {"heartbeat_event", "completed_event", "failed_event", "interrupted_event"}
)


def default_journal_dir() -> Path:
    """``$SACREDLIKE_JOURNAL_DIR`` or ``~/.sacredlike/journal``."""
    configured = os.environ.get("SACREDLIKE_JOURNAL_DIR")
    return Path(configured) if configured else DEFAULT_JOURNAL_DIR


def _encode(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return {"$datetime": value.isoformat()}
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _decode(obj: dict) -> Any:
    if len(obj) == 1 and "$datetime" in obj:
        return _dt.datetime.fromisoformat(obj["$datetime"])
    return obj


@dataclass
class JournalEntry:
    """One event read back from a journal."""

    event: str
    kwargs: dict[str, Any] = field(default_factory=dict)


class JournalWriter:
    """Appends the events of one run to its journal folder."""

    def __init__(self, folder: Path, header: dict[str, Any]) -> None:
        """Create the journal folder and write the header line."""
        folder.mkdir(parents=True, exist_ok=False)
        self.folder = folder
        self._handle = open(folder / JOURNAL_FILE, "a", encoding="utf-8")  # noqa: SIM115
        self._write({"journal": 1, **redact_credentials(header)}, sync=True)

    @classmethod
    def create(cls, journal_dir: Path, sink: str, run_id: Any, header: dict) -> JournalWriter:
        """A new journal for run ``run_id`` under ``journal_dir``."""
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        name = f"{sink}-{run_id}-{stamp}".replace("/", "_")
        return cls(journal_dir / name, {"run_id": run_id, "sink": sink, **header})

    def add(self, event: str, kwargs: dict[str, Any]) -> None:
        """Append one event (values flattened the way every sink stores them)."""
        if event == "started_event" or event == "queued_event":
            kwargs = {**kwargs, "meta_info": redact_credentials(kwargs.get("meta_info"))}
        self._write({"event": event, "kwargs": flatten(kwargs)}, sync=event in _SYNCED_EVENTS)

    def keep_file(self, path: str) -> None:
        """Copy ``path`` (named by an event) into the journal, so replaying needs no original."""
        if not os.path.isfile(path):
            return
        files = self.folder / "files"
        files.mkdir(exist_ok=True)
        copy = f"{len(os.listdir(files))}_{os.path.basename(path)}"
        shutil.copyfile(path, files / copy)
        self._write({"event": "_file", "path": path, "copy": copy}, sync=True)

    def close(self) -> None:
        """Close the file (the journal stays on disk)."""
        if not self._handle.closed:
            self._handle.close()

    def remove(self) -> None:
        """Close and delete the journal: everything in it is stored."""
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _write(self, line: dict[str, Any], *, sync: bool) -> None:
        self._handle.write(json.dumps(line, default=_encode, allow_nan=True) + "\n")
        self._handle.flush()
        if sync:
            os.fsync(self._handle.fileno())


@dataclass
class Journal:
    """A journal read back: its header and its events, file copies applied."""

    folder: Path
    header: dict[str, Any]
    entries: list[JournalEntry]

    @classmethod
    def read(cls, folder: str | os.PathLike) -> Journal:
        """Read the journal in ``folder``.

        Raises:
            FileNotFoundError: ``folder`` holds no journal.
            ValueError: its header is unreadable.
        """
        folder = Path(folder)
        lines = (folder / JOURNAL_FILE).read_text(encoding="utf-8").splitlines()
        if not lines:
            raise ValueError(f"journal {folder} is empty")
        header = json.loads(lines[0], object_hook=_decode)
        if header.get("journal") != 1:
            raise ValueError(f"{folder / JOURNAL_FILE} is not a sacredlike journal")
        entries: list[JournalEntry] = []
        copies: dict[str, str] = {}
        for text in lines[1:]:
            try:
                line = json.loads(text, object_hook=_decode)
            except ValueError:
                continue  # torn by a crash mid-write
            if line.get("event") == "_file":
                copies[line["path"]] = str(folder / "files" / line["copy"])
            elif "event" in line:
                entries.append(JournalEntry(line["event"], line.get("kwargs") or {}))
        for entry in entries:
            key = "filename"
            if key in entry.kwargs and entry.kwargs[key] in copies:
                entry.kwargs[key] = copies[entry.kwargs[key]]
        return cls(folder, header, entries)

    @staticmethod
    def find(directory: str | os.PathLike) -> list[Path]:
        """Journal folders in ``directory`` (or ``directory`` itself if it is one), oldest first."""
        directory = Path(directory)
        if (directory / JOURNAL_FILE).is_file():
            return [directory]
        found = [path.parent for path in directory.glob(f"*/{JOURNAL_FILE}")]
        return sorted(found, key=lambda path: path.stat().st_mtime)

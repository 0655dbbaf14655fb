"""``metadata.json``, the TinyDB file: validated loads, a process lock and atomic rewrites.

The file is TinyDB's JSON: ``{table: {"<doc id>": document}}``. It is only ever replaced
whole (a temporary file beside it, ``fsync``, ``os.replace``), so a reader or a writer
killed at any moment sees the old file or the new one, never a mix. Writers hold an
exclusive ``flock`` on ``metadata.json.lock`` while they read, change and replace the file,
and always re-read it once they hold the lock, so writers in several processes never lose
each other's changes. Outside the lock (look-ups, readers) the parsed content is
cached and re-read only when the file on disk changed: the cache keeps the file it was read
from open, so its inode cannot be reused, and a path now naming another inode (a replace)
or the same one with another size or mtime (an in-place write, as TinyDB itself does) is a
change.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ...errors import SinkRejected

Tables = dict[str, dict[str, Any]]


class MetadataFile:
    """The TinyDB JSON file at ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._cached: Tables | None = None
        self._held: IO[bytes] | None = None
        self._signature: tuple[int, ...] | None = None

    def _unchanged(self) -> bool:
        if self._cached is None:
            return False
        try:
            return _signature(os.stat(self.path)) == self._signature
        except FileNotFoundError:
            return self._signature is None

    def load(self) -> Tables:
        """The file's tables (empty when the file is absent), re-read only if it changed.

        The result is this object's cache: change it only under :meth:`locked` and then
        :meth:`write` it (or :meth:`forget` it if writing failed).

        Raises:
            SinkRejected: the file is not TinyDB JSON.
        """
        if self._unchanged():
            return self._cached  # type: ignore[return-value]
        self.forget()
        try:
            held = open(self.path, "rb")  # noqa: SIM115 - kept open, see the module docstring
        except FileNotFoundError:
            self._cached = {}
            return self._cached
        try:
            tables = self._parse(held.read())
        except BaseException:
            held.close()
            raise
        self._hold(tables, held)
        return tables

    def _hold(self, tables: Tables, held: IO[bytes]) -> None:
        self._cached, self._held = tables, held
        self._signature = _signature(os.fstat(held.fileno()))

    def _parse(self, text: bytes) -> Tables:
        if not text.strip():
            return {}
        try:
            tables = json.loads(text)
        except ValueError as exc:
            raise SinkRejected(f"{self.path} is not valid TinyDB JSON ({exc})") from None
        well_formed = isinstance(tables, dict) and all(
            isinstance(table, dict)
            and all(key.isdigit() and isinstance(doc, dict) for key, doc in table.items())
            for table in tables.values()
        )
        if not well_formed:
            raise SinkRejected(
                f"{self.path} is JSON but not a TinyDB file "
                '(expected {"table": {"1": {...}, ...}, ...})'
            )
        return tables

    def forget(self) -> None:
        """Drop the cache, so the next :meth:`load` reads the file again."""
        if self._held is not None:
            self._held.close()
        self._cached = self._held = self._signature = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writers' lock (blocks while another process holds it).

        The cache is dropped on entry: what a writer changes under the lock is always the
        file as it is now, never a copy that could be stale.
        """
        import fcntl

        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.forget()
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def write(self, tables: Tables) -> None:
        """Replace the file by ``tables`` atomically (call under :meth:`locked`).

        Raises only if the file was not replaced, so a caller never writes the same change twice.
        """
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".metadata-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(json.dumps(tables, allow_nan=True))  # C encoder; json.dump is not
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            self.forget()
            raise
        self.forget()
        with contextlib.suppress(OSError):  # stored: failing to re-open it only costs the cache
            self._hold(tables, open(self.path, "rb"))  # noqa: SIM115 - kept open


def _signature(found: os.stat_result) -> tuple[int, ...]:
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)

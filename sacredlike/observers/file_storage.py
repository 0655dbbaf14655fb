"""FileStorageObserver: runs as folders of files in a local directory (Sacred's layout).

See :mod:`sacredlike.observers.folder` for the layout. Flag: ``-F/--file_storage BASEDIR``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..errors import SinkRejected
from ._report import find_template, render_report, report_name
from .folder import BlobStore, FolderObserver, FolderReader


class LocalBlobStore(BlobStore):
    """A :class:`BlobStore` in a local directory; ``put`` is temp file + ``os.replace``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()
        self.location = str(self.root)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if key.startswith("/") or ".." in parts:
            raise SinkRejected(f"key {key!r} leaves the store at {self.location}")
        return self.root.joinpath(*parts)

    def holds_local(self, path: str) -> bool:
        """Whether ``path`` (symbolic links resolved) is inside the directory."""
        return Path(path).resolve().is_relative_to(self.root.resolve())

    def put(self, key: str, data: bytes) -> None:
        """Write atomically: a temporary file in the same folder, then ``os.replace``."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def append(self, key: str, data: bytes) -> None:
        """Append in one ``write`` call."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as handle:
            handle.write(data)

    def get(self, key: str) -> bytes:
        """Read the whole file."""
        return self._path(key).read_bytes()

    def put_file(self, key: str, path: str, content_type: str | None = None) -> None:
        """Copy ``path`` to a temporary file (in the kernel where the OS can), then replace.

        A directory keeps no content type: ``content_type`` is ignored.
        """
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(descriptor)
        try:
            shutil.copyfile(path, temporary)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def list(self, prefix: str) -> list[str]:
        """Names in the folder ``prefix``."""
        folder = self._path(prefix) if prefix else self.root
        try:
            return os.listdir(folder)
        except FileNotFoundError:
            return []

    def create_dir(self, key: str) -> bool:
        """``mkdir``: atomic, fails if the folder exists."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self._path(key).mkdir()
        except FileExistsError:
            return False
        return True

    def exists(self, key: str) -> bool:
        """Whether the file exists."""
        return self._path(key).is_file()


class FileStorageObserver(FolderObserver):
    """Stores runs under ``basedir`` in Sacred's file layout.

    Args:
        basedir: the directory holding run folders (created if missing).
        resource_dir / source_dir: where deduplicated resources and sources go (default
            ``basedir/_resources`` and ``basedir/_sources``; must be inside ``basedir``).
            run.json lists a resource as ``[filename, resource_dir/<stem>_<md5><ext>]``,
            with ``resource_dir`` spelled as given (relative if ``basedir`` is), as Sacred does.
        template: a mako template rendered into ``report<suffix>`` in the run folder when
            the run ends (default: ``basedir/template.html`` if present; see
            :mod:`sacredlike.observers._report`). Needs ``pip install "sacredlike[report]"``.
        priority: observer priority (default 20).
        copy_artifacts / copy_sources: see :class:`FolderObserver`.
    """

    def __init__(
        self,
        basedir: str | os.PathLike[str],
        resource_dir: str | os.PathLike[str] | None = None,
        source_dir: str | os.PathLike[str] | None = None,
        template: str | None = None,
        priority: int = 20,
        copy_artifacts: bool = True,
        copy_sources: bool = True,
    ) -> None:
        store = LocalBlobStore(basedir)
        self.template = find_template(template, store.root)
        super().__init__(
            store,
            resource_dir=_inside(store, resource_dir, "_resources"),
            source_dir=_inside(store, source_dir, "_sources"),
            resource_path=str(Path(resource_dir or Path(basedir) / "_resources")),
            priority=priority,
            copy_artifacts=copy_artifacts,
            copy_sources=copy_sources,
        )
        self.basedir = str(store.root)

    @property
    def dir(self) -> str | None:
        """The current run's folder (Sacred's attribute)."""
        run_id = self.record.run_id
        return None if run_id is None else os.path.join(self.basedir, str(run_id))

    def completed_event(self, stop_time, result):
        """Mark the run COMPLETED, then render the report."""
        super().completed_event(stop_time, result)
        self._write_report()

    def interrupted_event(self, interrupt_time, status):
        """Mark the run interrupted, then render the report."""
        super().interrupted_event(interrupt_time, status)
        self._write_report()

    def failed_event(self, fail_time, fail_trace):
        """Mark the run FAILED, then render the report."""
        super().failed_event(fail_time, fail_trace)
        self._write_report()

    def _write_report(self) -> None:
        if self.template is None or self.dir is None:
            return
        cout_key = f"{self.record.run_id}/cout.txt"
        cout = (
            self.store.get(cout_key).decode(errors="replace") if self.store.exists(cout_key) else ""
        )
        text = render_report(self.template, self.record.fields, cout, self.dir)
        self.store.put(f"{self.record.run_id}/{report_name(self.template)}", text.encode())

    @classmethod
    def from_flag(cls, value: str) -> FileStorageObserver:
        """Build from ``-F BASEDIR``.

        Raises:
            ValueError: an empty directory name.
        """
        if not value.strip():
            raise ValueError("the directory name is empty; give a directory, e.g. -F runs")
        return cls(value)

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> FileStorageObserver:
        """Sacred's old constructor name."""
        return cls(*args, **kwargs)


def _inside(store: LocalBlobStore, folder: str | os.PathLike[str] | None, default: str) -> str:
    if folder is None:
        return default
    path = Path(folder).expanduser().absolute()
    try:
        return path.relative_to(store.root).as_posix()
    except ValueError:
        raise ValueError(
            f"FileStorageObserver: {str(path)!r} must be inside the base directory {store.location}"
        ) from None


class FileStorageReader(FolderReader):
    """Reads runs stored by :class:`FileStorageObserver` (or by Sacred) in a directory."""

    def __init__(self, basedir: str | os.PathLike[str]) -> None:
        super().__init__(LocalBlobStore(basedir))

    @classmethod
    def from_url(cls, url: str) -> FileStorageReader:
        """From a path or a ``file://`` URL.

        Raises:
            FileNotFoundError: no such directory. NotADirectoryError: the path is a file.
        """
        path = url[len("file://") :] if url.startswith("file://") else url
        if not os.path.isdir(path):
            if os.path.exists(path):
                raise NotADirectoryError(f"{path!r} is a file, not a folder of runs")
            raise FileNotFoundError(f"no folder of runs at {path!r}")
        return cls(path)

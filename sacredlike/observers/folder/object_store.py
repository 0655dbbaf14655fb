"""ObjectBlobStore: a :class:`BlobStore` in a bucket under a prefix, for any object store.

Everything but the bucket calls is here, once, for S3 and GCS alike: key names under the
prefix, listing as folders, run-folder claims, appends (:mod:`.appends`), content types,
retries and reads that join appended parts. A cloud adapter implements the eight abstract
methods below, each one call (or one paginated listing) of its SDK, and
:meth:`ObjectBlobStore.driver_errors`, which turns the SDK's errors into
:class:`~sacredlike.errors.SinkUnavailable` (worth retrying) or
:class:`~sacredlike.errors.SinkRejected`.

Run folders: a folder has no object of its own in a bucket, so ``create_dir`` writes a marker
object ``<prefix>/<id>/`` (the console convention for folders) with a conditional write that
fails when the marker exists (S3 ``If-None-Match: *``, GCS ``ifGenerationMatch=0``). The
marker holds a random token that the winner reads back: a server whose conditional write is a
check followed by a write (moto's is) could let two racers both succeed, and only the last
writer's token survives. A folder that already holds objects (e.g. a run written by Sacred,
which writes no markers) is never claimed.
"""

from __future__ import annotations

import abc
import logging
import mimetypes
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

from ...errors import SinkError, SinkUnavailable
from ...sink_table import builtin_sink
from ..retry import RetryPolicy
from .appends import AppendedObject, part_name, part_offset, parts_prefix
from .store import BlobStore

log = logging.getLogger(__name__)

_T = TypeVar("_T")
DEFAULT_RETRY = RetryPolicy(attempts=6, first_delay=0.25, max_delay=4.0)
"""Six tries over about 8 s: a restarting server or a dropped connection is ridden out."""
CHECK_RETRY = RetryPolicy(attempts=2, first_delay=0.5)
"""At observer creation a dead endpoint is reported within about a second."""
_READ_ATTEMPTS = 5  # a read racing a writer's rewrite starts again
OCTET_STREAM = "application/octet-stream"


def content_type_of(key: str) -> str:
    """The MIME type a key's name suggests (``application/octet-stream`` if none)."""
    if key.endswith(".jsonl"):
        return "application/jsonl"
    return mimetypes.guess_type(key)[0] or OCTET_STREAM


class ObjectBlobStore(BlobStore):
    """The folder family's store on a bucket; subclasses supply the bucket calls.

    Args:
        bucket: the bucket name.
        prefix: the folder inside the bucket that holds the runs ("" for the bucket root).
        retry: how often and how long transient errors are retried.

    Attributes:
        scheme: the URL scheme (``s3``, ``gs``); set by subclasses.
        sink: the sink's name in the sink table (its library is checked before use).

    Raises:
        MissingExtra: the sink's library is not installed.
    """

    scheme = ""
    sink = ""

    def __init__(self, bucket: str, prefix: str = "", retry: RetryPolicy | None = None) -> None:
        builtin_sink(self.sink).check_installed()
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.location = f"{self.scheme}://{bucket}/{self.prefix}".rstrip("/")
        self.retry = retry or DEFAULT_RETRY
        self._appended: dict[str, AppendedObject] = {}

    # -- the bucket calls a cloud adapter implements ------------------------------------
    @abc.abstractmethod
    def driver_errors(self, what: str) -> AbstractContextManager[None]:
        """A context that raises the SDK's errors as SinkUnavailable / SinkRejected."""

    @abc.abstractmethod
    def probe_bucket(self) -> None:
        """One cheap request that needs the bucket, the credentials and the endpoint."""

    @abc.abstractmethod
    def write_object(
        self, name: str, data: bytes, content_type: str, if_absent: bool = False
    ) -> bool:
        """Store ``data`` as object ``name``; with ``if_absent``, False if it exists."""

    @abc.abstractmethod
    def upload_object(self, name: str, path: str, content_type: str) -> None:
        """Stream the local file ``path`` to object ``name`` (multipart / resumable)."""

    @abc.abstractmethod
    def read_object(self, name: str) -> bytes:
        """The content of object ``name`` (``FileNotFoundError`` if missing)."""

    @abc.abstractmethod
    def object_exists(self, name: str) -> bool:
        """Whether object ``name`` exists."""

    @abc.abstractmethod
    def list_objects(self, prefix: str, delimiter: str | None) -> tuple[list[str], list[str]]:
        """``(object names, sub-prefixes)`` under ``prefix``, all pages."""

    @abc.abstractmethod
    def delete_objects(self, names: list[str]) -> None:
        """Delete the objects ``names`` (missing ones are no error)."""

    def check_bucket(self) -> None:
        """Fail now, with one clear one-line error, if the bucket cannot be used.

        Raises:
            SinkRejected: no such bucket, or the credentials are missing or refused.
            SinkUnavailable: the endpoint does not answer (after one retry).
        """
        self._call("opening the bucket", self.probe_bucket, CHECK_RETRY)

    # -- BlobStore ------------------------------------------------------------------------
    def put(self, key: str, data: bytes) -> None:
        """One PUT of the whole object (atomic: readers see the old or the new content)."""
        name = self._name(key)
        self._call(f"writing {key}", lambda: self.write_object(name, data, content_type_of(key)))
        self._forget_appends(key)

    def put_file(self, key: str, path: str, content_type: str | None = None) -> None:
        """Stream ``path`` to ``key`` with its content type (guessed from ``key`` if None)."""
        name, kind = self._name(key), content_type or content_type_of(key)
        self._call(f"uploading {key}", lambda: self.upload_object(name, path, kind))
        self._forget_appends(key)

    def append(self, key: str, data: bytes) -> None:
        """Add ``data`` as a new part, or rewrite the base once the parts match its size.

        If this raises, nothing of ``data`` counts as stored: the next call may send it again.
        """
        if not data:
            return
        state = self._appended.get(key) or self._start_appending(key)
        offset = state.add(data)
        name = self._name(key)
        try:
            if state.rewrite_due():
                self._rewrite_base(key, state)
            else:
                part = part_name(name, offset)
                self._call(
                    f"appending to {key}", lambda: self.write_object(part, data, OCTET_STREAM)
                )
                state.parts.append(part)
        except BaseException:
            state.undo(offset)
            raise

    def get(self, key: str) -> bytes:
        """The object, joined with the parts appended after its end."""
        name = self._name(key)
        for _ in range(_READ_ATTEMPTS):
            joined = self._call(f"reading {key}", lambda: self._read_joined(name))
            if joined is not None:
                return joined
        raise SinkUnavailable(f"{self.location}: {key} kept changing while it was read")

    def list(self, prefix: str) -> list[str]:
        """Names of the objects and folders directly under ``prefix``."""
        folder = self._name(prefix) + "/" if prefix else self._root()
        files, folders = self._call(
            f"listing {prefix or 'the runs'}", lambda: self.list_objects(folder, "/")
        )
        names = [n[len(folder) :] for n in files] + [f[len(folder) : -1] for f in folders]
        return [n for n in names if n]

    def create_dir(self, key: str) -> bool:
        """Claim the folder ``key``: a conditional write of its marker, then read back."""
        marker = self._name(key) + "/"
        files, folders = self._call(f"checking {key}/", lambda: self.list_objects(marker, None))
        if files or folders:
            return False
        token = uuid.uuid4().hex.encode()
        written = self._call(
            f"claiming {key}/",
            lambda: self.write_object(marker, token, "application/x-directory", if_absent=True),
        )
        return written and self._call(f"claiming {key}/", lambda: self.read_object(marker)) == token

    def exists(self, key: str) -> bool:
        """Whether the object ``key`` exists."""
        name = self._name(key)
        return self._call(f"looking up {key}", lambda: self.object_exists(name))

    def flush(self) -> None:
        """Rewrite every appended key whole and delete its parts; forget the spools."""
        try:
            for key, state in self._appended.items():
                if state.parts or state.size != state.base_size:
                    self._rewrite_base(key, state, final=True)
                elif state.stale:
                    self._delete(key, state.rebased(), final=True)
        finally:
            for state in self._appended.values():
                state.discard()
            self._appended.clear()

    # -- helpers ----------------------------------------------------------------------------
    def _root(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    def _name(self, key: str) -> str:
        return self._root() + key.strip("/")

    def _call(self, what: str, action: Callable[[], _T], retry: RetryPolicy | None = None) -> _T:
        def translated() -> _T:
            with self.driver_errors(f"{what} in {self.location}"):
                return action()

        return (retry or self.retry).call(translated, f"{self.location}: {what}")

    def _start_appending(self, key: str) -> AppendedObject:
        name = self._name(key)
        base, parts = self._call(f"reading {key}", lambda: self._base_and_parts(name))
        content = self.get(key) if parts else base or b""
        state = AppendedObject.create(content, len(base or b""), parts)
        self._appended[key] = state
        return state

    def _rewrite_base(self, key: str, state: AppendedObject, final: bool = False) -> None:
        name = self._name(key)
        self._call(
            f"rewriting {key}",
            lambda: self.upload_object(name, state.spool, content_type_of(key)),
        )
        self._delete(key, state.rebased(), final)

    def _delete(self, key: str, parts: list[str], final: bool) -> None:
        """Delete parts the base now covers; mid-run a failure only postpones it."""
        if not parts:
            return
        try:
            self._call(f"deleting merged parts of {key}", lambda: self.delete_objects(parts))
        except SinkError:
            if final:
                raise
            log.warning("%s: merged parts of %s stay until the run ends", self.location, key)
            self._appended[key].stale.extend(parts)

    def _forget_appends(self, key: str) -> None:
        """A key written whole: its parts, if any, are no longer part of it."""
        state = self._appended.pop(key, None)
        if state is None:
            return
        state.discard()
        parts = state.parts + state.stale
        if parts:
            self._call(f"deleting parts of {key}", lambda: self.delete_objects(parts))

    def _base_and_parts(self, name: str) -> tuple[bytes | None, list[str]]:
        try:
            base: bytes | None = self.read_object(name)
        except FileNotFoundError:
            base = None
        files, _ = self.list_objects(parts_prefix(name), None)
        size = len(base or b"")
        offsets = {p: part_offset(p) for p in files}
        later = [p for p, offset in offsets.items() if offset is not None and offset >= size]
        return base, sorted(later, key=offsets.__getitem__)

    def _read_joined(self, name: str) -> bytes | None:
        """Base plus later parts; None if a concurrent rewrite left a gap (read again)."""
        base, parts = self._base_and_parts(name)
        if base is None and not parts:
            raise FileNotFoundError(f"{self.scheme}://{self.bucket}/{name} does not exist")
        pieces, end = [base or b""], len(base or b"")
        for part in parts:
            if part_offset(part) != end:
                return None
            try:
                piece = self.read_object(part)
            except FileNotFoundError:
                return None
            pieces.append(piece)
            end += len(piece)
        return b"".join(pieces)

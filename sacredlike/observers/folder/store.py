"""What a folder-family sink implements: :class:`BlobStore`, a tree of keys and bytes.

A local directory, an S3 bucket prefix and a GCS bucket prefix are blob stores; the folder
writer (:mod:`.writer`) and reader (:mod:`.reader`) work on any of them.
"""

from __future__ import annotations

import abc


class BlobStore(abc.ABC):
    """Where a folder of runs lives: a local directory, a bucket prefix, ...

    Keys are ``/``-separated paths relative to the store's root. Implementations raise
    ``FileNotFoundError`` for missing keys and translate other driver errors into
    :class:`~sacredlike.errors.SinkUnavailable` / :class:`~sacredlike.errors.SinkRejected`.

    Attributes:
        location: where the store is, for messages (a path or URL without credentials).
    """

    location: str = ""

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key``, replacing any previous content atomically."""

    @abc.abstractmethod
    def append(self, key: str, data: bytes) -> None:
        """Add ``data`` to the end of ``key`` (creating it)."""

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The content of ``key``."""

    @abc.abstractmethod
    def put_file(self, key: str, path: str, content_type: str | None = None) -> None:
        """Copy the local file ``path`` to ``key`` without loading it whole into memory.

        ``content_type`` is the MIME type to record where the store keeps one.
        """

    @abc.abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Names of the entries directly under ``prefix`` (``""`` for the root)."""

    @abc.abstractmethod
    def create_dir(self, key: str) -> bool:
        """Create the run folder ``key``; False if it already existed (atomic claim)."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` holds content."""

    def holds_local(self, path: str) -> bool:
        """Whether the local file ``path`` already lies inside this store (default: no)."""
        return False

    def flush(self) -> None:
        """Make every key whole before the run's final record is written.

        Called once at the run's terminal event. Stores that emulate ``append`` (object
        stores) merge what they kept aside; the default does nothing.
        """

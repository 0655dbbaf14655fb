"""What the S3 and GCS observers and readers share: URLs, Sacred's folder arguments, shapes.

``S3Observer`` and ``GoogleCloudStorageObserver`` are :class:`BucketObserver` subclasses that
only build their store; their readers are :class:`BucketReader` subclasses likewise.
"""

from __future__ import annotations

from typing import Any

from .object_store import ObjectBlobStore
from .reader import FolderReader
from .writer import FolderObserver


def parse_bucket_url(url: str, scheme: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``scheme://bucket/prefix``.

    Raises:
        ValueError: ``url`` has another scheme or no bucket.
    """
    head, sep, rest = url.partition("://")
    bucket, _, prefix = rest.partition("/")
    if not sep or head.lower() != scheme or not bucket:
        raise ValueError(f"expected {scheme}://BUCKET/PREFIX, got {url!r}")
    return bucket, prefix.strip("/")


def relative_folder(basedir: str, folder: str | None, default: str) -> str:
    """A resource or source folder given as Sacred does (a key inside the bucket), made
    relative to ``basedir``.

    Raises:
        ValueError: the folder is not inside ``basedir``.
    """
    if folder is None:
        return default
    base, inner = basedir.strip("/"), folder.strip("/")
    if not base:
        return inner
    if inner.startswith(base + "/"):
        return inner[len(base) + 1 :]
    raise ValueError(f"{folder!r} must be inside the base directory {basedir!r}")


class BucketObserver(FolderObserver):
    """A :class:`FolderObserver` on an :class:`ObjectBlobStore` with Sacred's arguments.

    Args:
        store: the bucket store (its prefix is the base directory).
        resource_dir / source_dir: keys inside the bucket, under the base directory
            (default ``<basedir>/_resources`` and ``<basedir>/_sources``); run.json names a
            resource by its key in the bucket, as Sacred does.
        priority / copy_artifacts / copy_sources: see :class:`FolderObserver`.
    """

    store: ObjectBlobStore
    store_class: type[ObjectBlobStore] = ObjectBlobStore
    """The store class subclasses build (its ``scheme`` is the flag's URL scheme)."""

    def __init__(
        self,
        store: ObjectBlobStore,
        resource_dir: str | None = None,
        source_dir: str | None = None,
        priority: int = 20,
        copy_artifacts: bool = True,
        copy_sources: bool = True,
    ) -> None:
        super().__init__(
            store,
            resource_dir=relative_folder(store.prefix, resource_dir, "_resources"),
            source_dir=relative_folder(store.prefix, source_dir, "_sources"),
            resource_path=resource_dir or f"{store.prefix}/_resources".lstrip("/"),
            priority=priority,
            copy_artifacts=copy_artifacts,
            copy_sources=copy_sources,
        )
        self.bucket = store.bucket
        self.basedir = store.prefix

    @property
    def dir(self) -> str | None:
        """The current run's folder as a key inside the bucket (Sacred's attribute)."""
        run_id = self.record.run_id
        return None if run_id is None else f"{self.store.prefix}/{run_id}".lstrip("/")

    @classmethod
    def from_flag(cls, value: str) -> Any:
        """Build from the flag's ``SCHEME://BUCKET/PREFIX``."""
        return cls(*parse_bucket_url(value, cls.store_class.scheme))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store.location!r})"


class BucketReader(FolderReader):
    """A :class:`FolderReader` on an :class:`ObjectBlobStore`, built from a URL."""

    store: ObjectBlobStore
    store_class: type[ObjectBlobStore] = ObjectBlobStore
    """The store class subclasses build (its ``scheme`` is the URL scheme)."""

    @classmethod
    def from_url(cls, url: str) -> Any:
        """From ``SCHEME://BUCKET/PREFIX``."""
        return cls(*parse_bucket_url(url, cls.store_class.scheme))

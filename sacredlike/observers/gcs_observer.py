"""GoogleCloudStorageObserver and its reader: runs as folders in a GCS bucket (Sacred's path).

The layout is FileStorage's (:mod:`sacredlike.observers.folder.writer`) under
``gs://<bucket>/<basedir>/``; see ``docs/object-stores.md``. Flag: ``-G/--gcs
gs://BUCKET/PREFIX``. google-cloud-storage is imported only when one is built.
"""

from __future__ import annotations

from typing import Any

from .folder.bucket import BucketObserver, BucketReader
from .folder.gcs_store import GCSBlobStore
from .retry import RetryPolicy

__all__ = ["GCSBlobStore", "GoogleCloudStorageObserver", "GoogleCloudStorageReader"]


class GoogleCloudStorageObserver(BucketObserver):
    """Stores runs in ``gs://bucket/basedir/`` in FileStorage's layout.

    Args:
        bucket: the bucket (it must exist).
        basedir: the folder inside the bucket holding the runs.
        resource_dir / source_dir: keys inside the bucket, under ``basedir`` (default
            ``<basedir>/_resources`` and ``<basedir>/_sources``).
        priority: observer priority (default 20).
        project: the Google Cloud project (default: from the credentials or environment).
        client: a ready ``google.cloud.storage.Client``, instead of ``project``.
        copy_artifacts / copy_sources: see :class:`~sacredlike.observers.folder.FolderObserver`.
        retry: retries of transient errors (default about 8 s).

    Raises:
        MissingExtra: google-cloud-storage is not installed.
        SinkRejected / SinkUnavailable: the bucket cannot be used (checked here, once).
    """

    store_class = GCSBlobStore

    def __init__(
        self,
        bucket: str,
        basedir: str = "",
        resource_dir: str | None = None,
        source_dir: str | None = None,
        priority: int = 20,
        project: str | None = None,
        *,
        client: Any = None,
        copy_artifacts: bool = True,
        copy_sources: bool = True,
        retry: RetryPolicy | None = None,
    ) -> None:
        store = GCSBlobStore(bucket, basedir, client=client, project=project, retry=retry)
        super().__init__(store, resource_dir, source_dir, priority, copy_artifacts, copy_sources)


class GoogleCloudStorageReader(BucketReader):
    """Reads runs stored by :class:`GoogleCloudStorageObserver` in ``gs://bucket/basedir/``."""

    store_class = GCSBlobStore

    def __init__(
        self, bucket: str, basedir: str = "", project: str | None = None, *, client: Any = None
    ) -> None:
        super().__init__(GCSBlobStore(bucket, basedir, client=client, project=project))

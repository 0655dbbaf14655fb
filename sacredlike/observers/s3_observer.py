"""S3Observer and S3Reader: runs as folders of files in an S3 bucket (Sacred's import path).

The layout is FileStorage's (:mod:`sacredlike.observers.folder.writer`) under
``s3://<bucket>/<basedir>/``; see ``docs/object-stores.md``. Flag: ``-S/--s3
s3://BUCKET/PREFIX``. boto3 is imported only when an observer or reader is built.
"""

from __future__ import annotations

from typing import Any

from .folder.bucket import BucketObserver, BucketReader
from .folder.s3_store import S3BlobStore
from .retry import RetryPolicy

__all__ = ["S3BlobStore", "S3Observer", "S3Reader"]


class S3Observer(BucketObserver):
    """Stores runs in ``s3://bucket/basedir/`` in FileStorage's layout.

    Args:
        bucket: the bucket (it must exist).
        basedir: the folder inside the bucket holding the runs.
        resource_dir / source_dir: keys inside the bucket, under ``basedir`` (default
            ``<basedir>/_resources`` and ``<basedir>/_sources``).
        priority: observer priority (default 20).
        region: the AWS region (default: boto3's, from the environment or config files).
        endpoint_url: another S3 endpoint (MinIO, Ceph, R2; default ``AWS_ENDPOINT_URL_S3``).
        client: a ready boto3 S3 client, instead of ``region`` / ``endpoint_url``.
        copy_artifacts / copy_sources: see :class:`~sacredlike.observers.folder.FolderObserver`.
        retry: retries of transient errors (default about 8 s).

    Raises:
        MissingExtra: boto3 is not installed.
        SinkRejected / SinkUnavailable: the bucket cannot be used (checked here, once).
    """

    store_class = S3BlobStore

    def __init__(
        self,
        bucket: str,
        basedir: str = "",
        resource_dir: str | None = None,
        source_dir: str | None = None,
        priority: int = 20,
        region: str | None = None,
        endpoint_url: str | None = None,
        *,
        client: Any = None,
        copy_artifacts: bool = True,
        copy_sources: bool = True,
        retry: RetryPolicy | None = None,
    ) -> None:
        store = S3BlobStore(
            bucket, basedir, client=client, region=region, endpoint_url=endpoint_url, retry=retry
        )
        super().__init__(store, resource_dir, source_dir, priority, copy_artifacts, copy_sources)


class S3Reader(BucketReader):
    """Reads runs stored by :class:`S3Observer` (or Sacred's) in ``s3://bucket/basedir/``."""

    store_class = S3BlobStore

    def __init__(
        self,
        bucket: str,
        basedir: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        *,
        client: Any = None,
    ) -> None:
        super().__init__(
            S3BlobStore(bucket, basedir, client=client, region=region, endpoint_url=endpoint_url)
        )

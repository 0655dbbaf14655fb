"""S3BlobStore: the bucket calls of :class:`ObjectBlobStore` on boto3 (AWS S3 and compatibles).

Configuration is boto3's own: credentials from the usual chain (environment, shared files,
``AWS_PROFILE``, SSO, instance or task roles), the region from ``region`` or the
environment, the endpoint from ``endpoint_url`` or ``AWS_ENDPOINT_URL_S3`` /
``AWS_ENDPOINT_URL`` (MinIO, Ceph, R2, moto; such endpoints get path-style addressing).
botocore's own retries are off: :class:`~sacredlike.observers.retry.RetryPolicy` retries.

boto3 and botocore are imported inside functions only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...errors import SinkRejected, SinkUnavailable
from ...redaction import redact_credentials
from ..retry import RetryPolicy
from .object_store import ObjectBlobStore

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60
PART_BYTES = 8 << 20
"""Files above this go up as multipart uploads of parts this big (never whole in memory)."""
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
_BUSY_CODES = frozenset(
    {"SlowDown", "RequestTimeout", "Throttling", "ThrottlingException", "InternalError"}
)
_DENIED_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "403"}
)
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_TAKEN_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


def make_client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    """A boto3 S3 client: credential chain, ``region``, ``endpoint_url`` or the environment."""
    import boto3
    from botocore.config import Config

    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or None
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL") or None
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"mode": "standard", "total_max_attempts": 1},
        s3={"addressing_style": "path"} if endpoint else None,
    )
    session = boto3.session.Session(region_name=region)
    return session.client("s3", endpoint_url=endpoint, config=config)


def _code(exc: Any) -> tuple[str, int]:
    response = getattr(exc, "response", {}) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return str(response.get("Error", {}).get("Code", "")), int(status)


def _short(exc: BaseException) -> str:
    return redact_credentials(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:300]


class S3BlobStore(ObjectBlobStore):
    """:class:`ObjectBlobStore` on an S3 bucket.

    Args:
        bucket: the bucket.
        prefix: the folder holding the runs.
        client: a ready boto3 S3 client (else one is made from ``region`` / ``endpoint_url``).
        region / endpoint_url: see :func:`make_client`.
        retry: retries of transient errors.
        check: list the bucket once now, so a missing bucket, bad credentials or an
            unreachable endpoint fail here with one clear error.
    """

    scheme = "s3"
    sink = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        retry: RetryPolicy | None = None,
        check: bool = True,
    ) -> None:
        super().__init__(bucket, prefix, retry)
        self.client = client if client is not None else make_client(region, endpoint_url)
        self.endpoint = redact_credentials(str(self.client.meta.endpoint_url))
        if check:
            self.check_bucket()

    @contextmanager
    def driver_errors(self, what: str) -> Iterator[None]:
        """botocore / boto3 errors → SinkUnavailable (retry) or SinkRejected."""
        from boto3.exceptions import S3UploadFailedError
        from botocore import exceptions as bx

        where = f"S3 ({self.endpoint}): {what}"
        try:
            yield
        except (bx.NoCredentialsError, bx.PartialCredentialsError) as exc:
            raise SinkRejected(
                f"{where}: no usable AWS credentials ({_short(exc)}); set AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is available"
            ) from exc
        except bx.ClientError as exc:
            code, status = _code(exc)
            if code == "NoSuchBucket":
                raise SinkRejected(
                    f"{where}: the bucket {self.bucket!r} does not exist; create it or fix its name"
                ) from exc
            if code in _DENIED_CODES or status == 403:
                raise SinkRejected(
                    f"{where}: access denied ({code}); check the AWS credentials and the "
                    "bucket's policy"
                ) from exc
            if status >= 500 or code in _BUSY_CODES:
                raise SinkUnavailable(f"{where}: the server is busy: {_short(exc)}") from exc
            raise SinkRejected(f"{where}: refused: {_short(exc)}") from exc
        except (bx.ConnectionError, bx.HTTPClientError) as exc:
            raise SinkUnavailable(f"{where}: cannot reach {self.endpoint}: {_short(exc)}") from exc
        except S3UploadFailedError as exc:
            raise SinkUnavailable(f"{where}: the upload failed: {_short(exc)}") from exc

    def probe_bucket(self) -> None:
        """List one key of the prefix (listing is the right the store needs most)."""
        self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._root(), MaxKeys=1)

    def write_object(
        self, name: str, data: bytes, content_type: str, if_absent: bool = False
    ) -> bool:
        """PUT; with ``if_absent``, ``If-None-Match: *`` (False when the object exists)."""
        from botocore.exceptions import ClientError

        condition = {"IfNoneMatch": "*"} if if_absent else {}
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type, **condition
            )
        except ClientError as exc:
            if if_absent and _code(exc)[0] in _TAKEN_CODES:
                return False
            raise
        return True

    def upload_object(self, name: str, path: str, content_type: str) -> None:
        """boto3's managed upload: multipart above :data:`PART_BYTES`, streamed from disk."""
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES)
        self.client.upload_file(
            path, self.bucket, name, ExtraArgs={"ContentType": content_type}, Config=config
        )

    def read_object(self, name: str) -> bytes:
        """GET the whole object."""
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _code(exc)[0] in _NOT_FOUND_CODES:
                raise FileNotFoundError(f"s3://{self.bucket}/{name} does not exist") from exc
            raise
        with response["Body"] as body:
            return body.read()

    def object_exists(self, name: str) -> bool:
        """HEAD the object."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _code(exc)[0] in _NOT_FOUND_CODES:
                return False
            raise
        return True

    def list_objects(self, prefix: str, delimiter: str | None) -> tuple[list[str], list[str]]:
        """ListObjectsV2, every page."""
        extra = {"Delimiter": delimiter} if delimiter else {}
        files: list[str] = []
        folders: list[str] = []
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix, **extra):
            files += [item["Key"] for item in page.get("Contents", [])]
            folders += [item["Prefix"] for item in page.get("CommonPrefixes", [])]
        return files, folders

    def delete_objects(self, names: list[str]) -> None:
        """DeleteObjects, 1000 keys per request."""
        for start in range(0, len(names), _DELETE_BATCH):
            batch = [{"Key": name} for name in names[start : start + _DELETE_BATCH]]
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            failed = response.get("Errors") or []
            if failed:
                raise SinkUnavailable(
                    f"S3 ({self.endpoint}): {len(failed)} object(s) not deleted in "
                    f"{self.location}, e.g. {failed[0].get('Key')}: {failed[0].get('Code')}"
                )

"""GCSBlobStore: the bucket calls of :class:`ObjectBlobStore` on google-cloud-storage.

Configuration is Google's own: application-default credentials (``gcloud auth
application-default login``, ``GOOGLE_APPLICATION_CREDENTIALS``, the metadata server), the
project from ``project`` or the environment, and ``STORAGE_EMULATOR_HOST`` for an emulator
(then anonymous credentials). The SDK's own retries are off (``retry=None`` on every call):
:class:`~sacredlike.observers.retry.RetryPolicy` retries.

google-cloud-storage is imported inside functions only.
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

TIMEOUT_S = (5, 60)
"""Connect and read timeouts of each request."""
CHUNK_BYTES = 8 << 20
"""Files above 8 MiB go up as resumable uploads in chunks this big (never whole in memory)."""
_CREDENTIALS_HINT = (
    "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
)


def make_client(project: str | None = None) -> Any:
    """A ``google.cloud.storage.Client`` with application-default credentials.

    Raises:
        SinkRejected: no credentials could be found.
    """
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage

    try:
        return storage.Client(project=project)
    except DefaultCredentialsError as exc:
        message = f"Google Cloud Storage: no credentials found; {_CREDENTIALS_HINT}"
        raise SinkRejected(message) from exc


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return redact_credentials(text)[:300]


class GCSBlobStore(ObjectBlobStore):
    """:class:`ObjectBlobStore` on a Google Cloud Storage bucket.

    Args:
        bucket: the bucket.
        prefix: the folder holding the runs.
        client: a ready ``storage.Client`` (else one is made for ``project``).
        project: the project that bills the requests (default: from the environment).
        retry: retries of transient errors.
        check: list the bucket once now, so a missing bucket, bad credentials or an
            unreachable endpoint fail here with one clear error.
    """

    scheme = "gs"
    sink = "gcs"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any = None,
        project: str | None = None,
        retry: RetryPolicy | None = None,
        check: bool = True,
    ) -> None:
        super().__init__(bucket, prefix, retry)
        self.client = client if client is not None else make_client(project)
        self.endpoint = os.environ.get("STORAGE_EMULATOR_HOST") or "storage.googleapis.com"
        self._bucket = self.client.bucket(bucket)
        if check:
            self.check_bucket()

    @contextmanager
    def driver_errors(self, what: str) -> Iterator[None]:
        """google-api-core / google-auth / requests errors → SinkUnavailable or SinkRejected."""
        import requests
        from google.api_core import exceptions as gx
        from google.auth import exceptions as ax

        where = f"Google Cloud Storage ({self.endpoint}): {what}"
        try:
            yield
        except gx.NotFound as exc:
            raise SinkRejected(
                f"{where}: the bucket {self.bucket!r} does not exist; create it or fix its name"
            ) from exc
        except (gx.Unauthorized, gx.Forbidden, ax.RefreshError) as exc:
            raise SinkRejected(
                f"{where}: access denied ({_short(exc)}); check the credentials: "
                f"{_CREDENTIALS_HINT}"
            ) from exc
        except (gx.TooManyRequests, gx.ServerError) as exc:
            raise SinkUnavailable(f"{where}: the server is busy: {_short(exc)}") from exc
        except gx.GoogleAPICallError as exc:
            raise SinkRejected(f"{where}: refused: {_short(exc)}") from exc
        except (requests.ConnectionError, requests.Timeout, ax.TransportError) as exc:
            raise SinkUnavailable(f"{where}: cannot reach {self.endpoint}: {_short(exc)}") from exc

    def probe_bucket(self) -> None:
        """List one object of the prefix (listing is the right the store needs most)."""
        blobs = self.client.list_blobs(
            self._bucket, prefix=self._root(), max_results=1, retry=None, timeout=TIMEOUT_S
        )
        list(blobs)

    def write_object(
        self, name: str, data: bytes, content_type: str, if_absent: bool = False
    ) -> bool:
        """Upload bytes; with ``if_absent``, ``ifGenerationMatch=0`` (False if it exists)."""
        from google.api_core.exceptions import PreconditionFailed

        try:
            self._bucket.blob(name).upload_from_string(
                data,
                content_type=content_type,
                if_generation_match=0 if if_absent else None,
                retry=None,
                timeout=TIMEOUT_S,
            )
        except PreconditionFailed:
            if if_absent:
                return False
            raise
        return True

    def upload_object(self, name: str, path: str, content_type: str) -> None:
        """One request up to 8 MiB, a resumable upload in 8 MiB chunks above."""
        blob = self._bucket.blob(name, chunk_size=CHUNK_BYTES)
        blob.upload_from_filename(path, content_type=content_type, retry=None, timeout=TIMEOUT_S)

    def read_object(self, name: str) -> bytes:
        """Download the whole object."""
        from google.api_core.exceptions import NotFound

        try:
            return self._bucket.blob(name).download_as_bytes(retry=None, timeout=TIMEOUT_S)
        except NotFound as exc:
            raise FileNotFoundError(f"gs://{self.bucket}/{name} does not exist") from exc

    def object_exists(self, name: str) -> bool:
        """Look the object up."""
        return self._bucket.blob(name).exists(retry=None, timeout=TIMEOUT_S)

    def list_objects(self, prefix: str, delimiter: str | None) -> tuple[list[str], list[str]]:
        """List objects (every page) and, with a delimiter, the sub-prefixes."""
        blobs = self.client.list_blobs(
            self._bucket, prefix=prefix, delimiter=delimiter, retry=None, timeout=TIMEOUT_S
        )
        files = [blob.name for blob in blobs]
        return files, sorted(blobs.prefixes)

    def delete_objects(self, names: list[str]) -> None:
        """Delete each object (a missing one is no error)."""
        from google.api_core.exceptions import NotFound

        for name in names:
            try:
                self._bucket.blob(name).delete(retry=None, timeout=TIMEOUT_S)
            except NotFound:
                continue

"""Pytest fixtures for the object-store sinks: the servers, a fresh bucket, a :class:`Cloud`.

``tests/s3/conftest.py`` and ``tests/gcs/conftest.py`` import these; ``cloud`` there is the
one store their tests run on, so tests shared by both stores (``tests/object_store_cases``)
are written once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.object_servers import (
    REGION,
    ServerProcess,
    environment,
    fake_gcs_server,
    gcs_env,
    moto_server,
    s3_env,
)
from tests.service_helpers import service_missing


def _started(make) -> ServerProcess:
    try:
        server = make()
        server.start()
    except (OSError, RuntimeError) as exc:
        service_missing(f"could not start the object-store server: {exc}")
    return server


@dataclass
class Cloud:
    """One object store under test: its server, environment and a fresh bucket.

    Attributes:
        scheme: ``s3`` or ``gs``.
        server: the server process (restartable).
        env: the environment variables clients (and child processes) need.
        bucket: a bucket made for this test.
    """

    scheme: str
    server: ServerProcess
    env: dict[str, str]
    bucket: str

    def url(self, prefix: str = "runs") -> str:
        """``scheme://bucket/prefix``."""
        return f"{self.scheme}://{self.bucket}/{prefix}"

    def observer(self, prefix: str = "runs", **kwargs: Any) -> Any:
        """The sink's observer on this bucket."""
        return self.observer_class()(self.bucket, prefix, **kwargs)

    def observer_class(self) -> type:
        """S3Observer or GoogleCloudStorageObserver."""
        if self.scheme == "s3":
            from sacredlike.observers.s3_observer import S3Observer

            return S3Observer
        from sacredlike.observers.gcs_observer import GoogleCloudStorageObserver

        return GoogleCloudStorageObserver

    def reader(self, prefix: str = "runs") -> Any:
        """The sink's reader on this bucket (through ``open_store``)."""
        from sacredlike.registry import open_store

        return open_store(self.url(prefix))

    def objects(self, prefix: str = "runs") -> dict[str, bytes]:
        """Every object under ``prefix/``, read with the SDK directly: ``{key: bytes}``."""
        root = prefix.strip("/") + "/"
        if self.scheme == "s3":
            import boto3

            client = boto3.client("s3", region_name=REGION)
            found = {}
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=root
            ):
                for item in page.get("Contents", []):
                    body = client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"]
                    found[item["Key"][len(root) :]] = body.read()
            return found
        from google.cloud import storage

        bucket = storage.Client().bucket(self.bucket)
        return {b.name[len(root) :]: b.download_as_bytes() for b in bucket.list_blobs(prefix=root)}

    def content_type(self, key: str) -> str:
        """The stored content type of ``key`` (a key inside the bucket)."""
        if self.scheme == "s3":
            import boto3

            return boto3.client("s3").head_object(Bucket=self.bucket, Key=key)["ContentType"]
        from google.cloud import storage

        return storage.Client().bucket(self.bucket).get_blob(key).content_type


def _new_bucket(scheme: str) -> str:
    name = f"t-{uuid.uuid4().hex[:16]}"
    if scheme == "s3":
        import boto3

        boto3.client("s3", region_name=REGION).create_bucket(Bucket=name)
    else:
        from google.cloud import storage

        storage.Client().create_bucket(name)
    return name


@pytest.fixture(scope="session")
def moto() -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """moto's S3 server for the session, and the environment that reaches it (set)."""
    pytest.importorskip("boto3")
    server = _started(moto_server)
    env = s3_env(server.url)
    with environment(env):
        yield server, env
    server.stop()


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """fake-gcs-server for the session (on disk: a restart keeps the objects), and its env."""
    pytest.importorskip("google.cloud.storage")
    root: Path = tmp_path_factory.mktemp("fake-gcs")
    server = _started(lambda: fake_gcs_server(root))
    env = gcs_env(server.url)
    with environment(env):
        yield server, env
    server.stop()


@pytest.fixture
def s3_cloud(moto) -> Cloud:
    """A fresh bucket on the session's moto server."""
    server, env = moto
    return Cloud("s3", server, env, _new_bucket("s3"))


@pytest.fixture
def gcs_cloud(fake_gcs) -> Cloud:
    """A fresh bucket on the session's fake-gcs-server."""
    server, env = fake_gcs
    return Cloud("gs", server, env, _new_bucket("gs"))

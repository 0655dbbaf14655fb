"""Pytest fixtures for the object-store sinks: the servers, a fresh bucket, a :class:`Cloud`.

``tests/s3/conftest.py`` and ``tests/gcs/conftest.py`` import these; ``cloud`` there is the
one store their tests run on, so tests shared by both stores (``tests/object_store_cases``)
are written once.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from tests.service_helpers import TcpProxy, service_missing


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

    def options_via(self, endpoint: str) -> dict[str, Any]:
        """Observer arguments that send its requests to ``endpoint`` (a proxy) instead."""
        if self.scheme == "s3":
            return {"endpoint_url": endpoint}
        from google.cloud import storage

        with environment({"STORAGE_EMULATOR_HOST": endpoint}):
            return {"client": storage.Client()}

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


class Outage:
    """Takes a cloud's server away and brings it back, for an observer built here.

    Args:
        cloud: the store under test.
        stop / start: take the server away / bring it back (same port, same objects).
        observer_options: extra observer arguments that route it through ``stop``/``start``.
    """

    def __init__(
        self,
        cloud: Cloud,
        stop: Callable[[], None],
        start: Callable[[], None],
        observer_options: dict[str, Any] | None = None,
    ) -> None:
        self.cloud, self.stop, self.start = cloud, stop, start
        self.options = observer_options or {}
        self._timers: list[threading.Timer] = []

    def observer(self, **kwargs: Any) -> Any:
        """An observer on the cloud's bucket whose requests the outage cuts."""
        return self.cloud.observer(**self.options, **kwargs)

    def start_later(self, delay: float) -> None:
        """Bring the server back after ``delay`` seconds, in the background."""
        timer = threading.Timer(delay, self.start)
        self._timers.append(timer)
        timer.start()

    def settle(self) -> None:
        """Wait for pending restarts (called by the fixture)."""
        for timer in self._timers:
            timer.join()


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
def fake_gcs() -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """fake-gcs-server (in memory) for the session, and the environment that reaches it (set)."""
    pytest.importorskip("google.cloud.storage")
    server = _started(fake_gcs_server)
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


@pytest.fixture
def outage(cloud: Cloud) -> Iterator[Outage]:
    """The ``cloud`` fixture's server behind a proxy that the test stops and restarts.

    moto keeps objects in memory only (and fake-gcs-server's disk backend cannot hold the
    ``<id>/`` folder markers), so the server stays up and the proxy in front of it goes away.
    """
    proxy = TcpProxy(cloud.server.url.removeprefix("http://"))
    proxy.start()
    running = [True]

    def stop() -> None:
        proxy.stop()
        running[0] = False

    def start() -> None:
        proxy.start()
        running[0] = True

    outage = Outage(cloud, stop, start, cloud.options_via(f"http://127.0.0.1:{proxy.port}"))
    yield outage
    outage.settle()
    if running[0]:
        proxy.stop()

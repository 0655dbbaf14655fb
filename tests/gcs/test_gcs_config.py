"""GCS-specific configuration and errors: emulator host, project, credentials, endpoint."""

from __future__ import annotations

import pytest

from sacredlike.errors import SinkRejected, SinkUnavailable
from sacredlike.observers.gcs_observer import GoogleCloudStorageObserver
from tests.object_clouds import environment
from tests.service_helpers import free_port


def test_emulator_host_and_project_come_from_the_environment(gcs_cloud):
    observer = GoogleCloudStorageObserver(gcs_cloud.bucket, "runs", project="other-project")
    assert observer.store.endpoint == gcs_cloud.server.url
    assert observer.store.client.project == "other-project"
    assert GoogleCloudStorageObserver.from_flag(gcs_cloud.url("a/b")).store.prefix == "a/b"


def test_an_unreachable_endpoint_fails_at_creation():
    dead = f"http://127.0.0.1:{free_port()}"
    with (
        environment({"STORAGE_EMULATOR_HOST": dead}),
        pytest.raises(SinkUnavailable, match="cannot reach") as caught,
    ):
        GoogleCloudStorageObserver("bucket", "runs")
    assert "\n" not in str(caught.value)


def test_missing_credentials_are_one_clear_error(gcs_cloud, tmp_path, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(SinkRejected, match=r"no credentials found.*application-default"):
        GoogleCloudStorageObserver(gcs_cloud.bucket, "runs")

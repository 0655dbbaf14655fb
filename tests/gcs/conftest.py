"""The GCS sink's tests run on fake-gcs-server over HTTP (see ``tests/object_clouds.py``)."""

from __future__ import annotations

import pytest

from tests.object_clouds import Cloud, fake_gcs, gcs_cloud, outage

__all__ = ["fake_gcs", "gcs_cloud", "outage"]


@pytest.fixture
def cloud(gcs_cloud: Cloud) -> Cloud:
    """The store the shared cases run on: Google Cloud Storage."""
    return gcs_cloud

"""The S3 sink's tests run on moto's server over HTTP (see ``tests/object_clouds.py``)."""

from __future__ import annotations

import pytest

from tests.object_clouds import Cloud, fake_gcs, gcs_cloud, moto, outage, s3_cloud

__all__ = ["fake_gcs", "gcs_cloud", "moto", "outage", "s3_cloud"]


@pytest.fixture
def cloud(s3_cloud: Cloud) -> Cloud:
    """The store the shared cases run on: S3."""
    return s3_cloud

"""The object-store sinks: S3 on moto's server, GCS on fake-gcs-server (started by the suite)."""

from __future__ import annotations

import pytest

from tests.object_clouds import fake_gcs, gcs_cloud, moto, s3_cloud  # noqa: F401 - fixtures

from ..target import Target


def _target(name, cloud):
    return Target(name, cloud.url(), lambda **kw: cloud.observer(**kw))


@pytest.fixture
def backend_s3(s3_cloud):  # noqa: F811 - the imported fixture
    """A fresh bucket on moto's S3 server."""
    target = _target("s3", s3_cloud)
    yield target
    target.close()


@pytest.fixture
def backend_gcs(gcs_cloud):  # noqa: F811
    """A fresh bucket on fake-gcs-server."""
    target = _target("gcs", gcs_cloud)
    yield target
    target.close()

"""S3-specific configuration and errors: endpoint, region, credentials, unreachable endpoint."""

from __future__ import annotations

import logging

import pytest

from sacredlike.errors import SinkRejected, SinkUnavailable
from sacredlike.observers.s3_observer import S3Observer
from tests.object_clouds import environment
from tests.object_store_cases import start
from tests.service_helpers import free_port

SECRET = "s3cr3t-Value-that-must-stay-hidden"


def test_endpoint_and_region_from_arguments_or_environment(s3_cloud):
    by_env = S3Observer(s3_cloud.bucket, "runs")
    assert by_env.store.endpoint == s3_cloud.server.url
    by_args = S3Observer(
        s3_cloud.bucket, "runs", region="eu-west-1", endpoint_url=s3_cloud.server.url
    )
    assert by_args.store.client.meta.region_name == "eu-west-1"
    assert repr(by_args) == f"S3Observer('s3://{s3_cloud.bucket}/runs')"


def test_sacred_style_folders_are_keys_under_basedir(s3_cloud):
    observer = S3Observer(s3_cloud.bucket, "exp/runs", resource_dir="exp/runs/res")
    assert observer.resource_dir == "res" and observer.source_dir == "_sources"
    with pytest.raises(ValueError, match="inside the base directory"):
        S3Observer(s3_cloud.bucket, "exp/runs", source_dir="elsewhere/src")


def test_an_unreachable_endpoint_fails_at_creation():
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SinkUnavailable, match=f"cannot reach {dead}") as caught:
        S3Observer("bucket", "runs", endpoint_url=dead)
    assert "\n" not in str(caught.value)


def test_missing_credentials_are_one_clear_error(s3_cloud, tmp_path):
    empty = str(tmp_path / "none")
    unset = {
        "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": empty,
        "AWS_CONFIG_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true",
    }  # fmt: skip
    with environment(unset), pytest.raises(SinkRejected, match="no usable AWS credentials"):
        S3Observer(s3_cloud.bucket, "runs")


def test_the_secret_key_is_never_logged_or_stored(s3_cloud, caplog):
    with environment({"AWS_SECRET_ACCESS_KEY": SECRET}), caplog.at_level(logging.DEBUG):
        observer = S3Observer(s3_cloud.bucket, "runs")
        run_id = start(observer)
        observer.log_metrics({"m": {"name": "m", "steps": [0], "values": [1.0], "timestamps": [
            observer.record.fields["start_time"]]}}, {})  # fmt: skip
        observer.heartbeat_event(info={}, captured_out="out\n", beat_time=None, result=None)
        observer.completed_event(stop_time=observer.record.fields["start_time"], result=None)
        with pytest.raises(SinkRejected) as caught:
            S3Observer("no-such-bucket-here", "runs")
    assert run_id == 1
    assert SECRET not in caplog.text and SECRET not in str(caught.value)
    assert all(SECRET.encode() not in data for data in s3_cloud.objects().values())

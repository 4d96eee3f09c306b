"""Servers the end-to-end tests share: a real `mlflow server` on loopback, moto's S3
server with a bucket, and the S3 credentials in the environment."""

from __future__ import annotations

import pytest
from tests.support.servers import S3_ENV, mlflow_server, moto_s3


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory):
    server = mlflow_server(tmp_path_factory.mktemp("mlflow-sqlite"), "sqlite:///mlflow.db")
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    import boto3

    server = moto_s3(tmp_path_factory.mktemp("moto"))
    client = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1",
                          aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
    client.create_bucket(Bucket="wineq")
    yield server.url, client
    server.stop()


@pytest.fixture
def aws(monkeypatch):
    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)

"""What a tracking URI means (adapters/mlflow: `tracking_store`), decided in one place."""

from __future__ import annotations

from winequality.adapters.mlflow import tracking_store


def test_what_each_tracking_uri_means(tmp_path):
    local = tracking_store(None, tmp_path)
    assert (local.kind, local.display) == ("sqlite", f"sqlite:///{tmp_path}/mlflow.db")
    assert local.uri == f"sqlite:///{tmp_path}/mlflow.db?timeout=60"
    assert local.artifact_location == (tmp_path / "mlruns").as_uri()

    server = tracking_store("https://alice:s3cret@mlflow.example.com:5000", tmp_path)
    assert server.is_server and server.artifact_location is None
    assert server.display == "https://mlflow.example.com:5000"  # no credentials shown

    pg = tracking_store("postgresql://mlflow:pw@db:5432/mlflow?sslmode=require", tmp_path)
    assert (pg.kind, pg.display) == ("database", "postgresql://db:5432/mlflow")

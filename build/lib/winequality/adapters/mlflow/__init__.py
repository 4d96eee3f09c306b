"""MLflow through `MlflowClient`: the only package that imports mlflow."""

from winequality.adapters.mlflow.tracker import ExperimentTracker, TrackingStore, tracking_store

__all__ = ["ExperimentTracker", "TrackingStore", "tracking_store"]

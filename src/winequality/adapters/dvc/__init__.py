"""DVC through its Python API and repo commands: the only package that imports dvc."""

from winequality.adapters.dvc.store import ModelStore, RecordedRemotes, fetch_recorded, store_for

__all__ = ["ModelStore", "RecordedRemotes", "fetch_recorded", "store_for"]

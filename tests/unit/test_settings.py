"""Settings (settings.py): which clone a queued DVC experiment belongs to."""

from __future__ import annotations

from winequality.adapters.mlflow import tracking_store
from winequality.settings import load_settings


def test_a_queued_dvc_experiment_belongs_to_the_clone_that_queued_it(tmp_path, monkeypatch):
    """In DVC's temporary copy, the store and .env are those of DVC_ROOT's clone."""
    clone, copy = tmp_path / "clone", tmp_path / "clone" / ".dvc" / "tmp" / "exps" / "tmp1"
    for folder in (clone, copy):
        (folder / ".dvc").mkdir(parents=True)
    (clone / ".env").write_text("WINEQ_EXPERIMENT=team\n")
    for name in ("DVC_ROOT", "DVC_EXP_NAME", "DVC_EXP_BASELINE_REV", "WINEQ_EXPERIMENT"):
        monkeypatch.delenv(name, raising=False)

    alone = load_settings(copy)
    assert alone.home_dir == alone.project_dir == copy.resolve()
    assert alone.experiment == "wine-quality" and alone.dvc_experiment is None

    monkeypatch.setenv("DVC_ROOT", str(clone))
    monkeypatch.setenv("DVC_EXP_NAME", "tonic-fins")
    monkeypatch.setenv("DVC_EXP_BASELINE_REV", "a" * 40)
    queued = load_settings(copy)
    assert queued.project_dir == copy.resolve() and queued.home_dir == clone.resolve()
    assert queued.experiment == "team"  # the clone's .env
    assert (queued.dvc_experiment, queued.dvc_baseline) == ("tonic-fins", "a" * 40)
    store = tracking_store(queued.tracking_uri, queued.home_dir)
    assert store.display == f"sqlite:///{clone.resolve() / 'mlflow.db'}"

    monkeypatch.setenv("DVC_ROOT", str(tmp_path / "not-a-project"))
    assert load_settings(copy).home_dir == copy.resolve()

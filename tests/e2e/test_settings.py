"""Configuration flows one way: flags over WINEQ_* variables over .env over defaults."""

from __future__ import annotations

from winequality.adapters.mlflow import tracking_store
from winequality.settings import load_settings


def test_defaults_come_from_the_project_found_upwards(project):
    nested = project / "some" / "folder"
    nested.mkdir(parents=True)
    settings = load_settings(nested)
    assert settings.project_dir == project
    store = tracking_store(settings.tracking_uri, settings.project_dir)
    assert store.uri == f"sqlite:///{project / 'mlflow.db'}?timeout=60"
    assert store.display == f"sqlite:///{project / 'mlflow.db'}"  # what users see
    assert (settings.experiment, settings.model_name) == ("wine-quality", "wine-quality")
    assert settings.data_source.startswith("https://archive.ics.uci.edu/")


def test_precedence_flag_over_environment_over_dotenv(project, monkeypatch):
    (project / ".env").write_text("WINEQ_EXPERIMENT=from-dotenv\nWINEQ_MODEL_NAME=dotenv-model\n")
    assert load_settings().experiment == "from-dotenv"
    monkeypatch.setenv("WINEQ_EXPERIMENT", "from-env")
    settings = load_settings()
    assert settings.experiment == "from-env" and settings.model_name == "dotenv-model"
    assert load_settings(experiment="from-flag").experiment == "from-flag"


def test_the_experiment_setting_reaches_the_runs(project, cli, monkeypatch):
    monkeypatch.setenv("WINEQ_EXPERIMENT", "trial")
    assert cli("train", "--epochs", "1").exit_code == 0
    result = cli("runs")
    assert "experiment trial" in result.stdout
    monkeypatch.setenv("WINEQ_EXPERIMENT", "other")
    assert "No runs in experiment 'other'" in cli("runs").stdout


def test_a_bad_setting_is_a_one_line_error(project, cli, monkeypatch):
    monkeypatch.setenv("WINEQ_SPLIT_SEED", "abc")
    result = cli("runs")
    assert result.exit_code == 9
    assert result.stderr.startswith(
        "Error: WINEQ_SPLIT_SEED=abc (from the environment) is not accepted: "
    )
    assert len(result.stderr.strip().splitlines()) == 1

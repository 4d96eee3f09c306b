"""Every knob of wineq, its WINEQ_ variable and its default, resolved in one place.

Precedence (highest first): command-line flags, WINEQ_* environment variables,
the project's `.env` file, the defaults below. Nothing else reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from winequality.errors import ConfigError

UCI_BASE_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality/"

# Paths inside the project; they are part of the data and model lineage, not knobs.
DATA_DIR = "data"
DATA_FILE = "data/wine-quality.csv"
MODEL_FILE = "models/model.pt"


class Settings(BaseSettings):
    """wineq configuration; each field is read from WINEQ_<FIELD> or the project's .env."""

    model_config = SettingsConfigDict(env_prefix="WINEQ_", extra="ignore")

    project_dir: Path
    tracking_uri: Optional[str] = None
    """MLflow tracking (and registry) URI; default: SQLite file mlflow.db in the project root
    (what a URI means is decided in one place, `tracking.tracking_store`)."""
    experiment: str = "wine-quality"
    model_name: str = "wine-quality"
    data_source: str = UCI_BASE_URL
    """URL or folder holding winequality-red.csv and winequality-white.csv."""
    dvc_remote: Optional[str] = None
    """Name of the DVC remote to use; default: the repository's default remote."""
    tracking_timeout: float = 10.0
    """Seconds to wait for the MLflow server before giving up with an error."""
    split_seed: int = Field(20091, ge=0)
    """Seed of the held-out test split; fixed so every run is scored on the same wines."""


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding a `.dvc` folder."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".dvc").is_dir():
            return folder
    raise ConfigError(
        f"no wineq project at {start} or above it (no .dvc folder); "
        "run wineq inside a clone of the project"
    )


def load_settings(start: Optional[Path] = None, **overrides: object) -> Settings:
    """Settings for the project found from `start` (default: the current directory).

    Example: `load_settings(experiment="trial")` overrides WINEQ_EXPERIMENT and .env.
    """
    root = find_project_root(start or Path.cwd())
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(_env_file=root / ".env", project_dir=root, **given)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise ConfigError(
            f"setting {field} (WINEQ_{field.upper()}): {problem['msg']}; fix it in the "
            "environment or .env"
        ) from exc

"""Every knob of wineq, its WINEQ_ variable and its default, resolved in one place.

Precedence (highest first): command-line flags, WINEQ_* environment variables,
the project's `.env` file, the defaults below. Nothing else reads the environment
(DVC's own variables, which say that wineq runs as a DVC stage, are read here too).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from winequality.errors import ConfigError
from winequality.schema import DEFAULT_INTERVAL, DEFAULT_PREMIUM

UCI_BASE_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality/"

# The schemes of tracking URIs MLflow can use as a tracking and registry store.
STORE_SCHEMES = ("sqlite", "file", "http", "https", "postgresql", "mysql", "mssql", "databricks")

# Paths inside the project; they are part of the data and model lineage, not knobs.
DATA_DIR = "data"
DATA_FILE = "data/wine-quality.csv"
MODEL_FILE = "models/model.pt"


class Settings(BaseSettings):
    """wineq configuration; each field is read from WINEQ_<FIELD> or the project's .env."""

    model_config = SettingsConfigDict(env_prefix="WINEQ_", extra="ignore")

    project_dir: Path
    """The work tree: code, data.dvc, the DVC repository a run trains from; outside a
    clone (`clone` false), the current folder, which holds none of them."""
    clone: bool = True
    """Whether wineq runs inside a clone. Outside one only the commands that use a model
    work (infer, runs, show, compare), against the tracking URI's store, fetching each
    model from the DVC remote its run recorded into the user's cache."""
    home_dir: Optional[Path] = None
    """The clone whose `.env` and local MLflow store (mlflow.db, mlruns/) are used: the
    project itself, except in an experiment DVC runs in a temporary copy (`dvc exp run
    --queue`), whose runs belong to the clone that queued it."""
    dvc_experiment: Optional[str] = None
    """The DVC experiment this process runs in (DVC_EXP_NAME, set by `dvc exp run`)."""
    dvc_baseline: Optional[str] = None
    """The commit that experiment starts from (DVC_EXP_BASELINE_REV)."""
    tracking_uri: Optional[str] = None
    """MLflow tracking (and registry) URI; default: SQLite file mlflow.db in the project root
    (what a URI means is decided in one place, `adapters.mlflow.connection.tracking_store`)."""
    tracking_username: Optional[str] = Field(None, validation_alias="MLFLOW_TRACKING_USERNAME")
    """The login at an MLflow server with authentication, read as MLflow's own clients read
    it (MLFLOW_TRACKING_USERNAME, from the environment or .env); never a command-line flag."""
    tracking_password: Optional[SecretStr] = Field(
        None, validation_alias="MLFLOW_TRACKING_PASSWORD"
    )
    tracking_token: Optional[SecretStr] = Field(None, validation_alias="MLFLOW_TRACKING_TOKEN")
    experiment: str = "wine-quality"
    model_name: str = "wine-quality"
    """Registered model name; no '/', '@' or ':' (they separate NAME/VERSION, NAME@ALIAS)."""
    data_source: str = Field(UCI_BASE_URL, min_length=1)
    """URL or folder holding winequality-red.csv and winequality-white.csv."""
    dvc_remote: Optional[str] = None
    """Name of the DVC remote to use; default: the repository's default remote."""
    tracking_timeout: float = Field(10.0, gt=0, le=3600)
    """Seconds to wait for the MLflow server before giving up with an error."""
    store_busy_timeout: float = Field(60.0, gt=0, le=3600)
    """Seconds wineq waits for another process's lock when it opens the local SQLite
    store (MLflow itself then waits up to 20 s on each later write)."""
    train_threads: int = Field(1, ge=1, le=256)
    """CPU threads of one training (torch's intra-op threads), fixed so a run trains the
    same on any machine and trainers side by side (`dvc queue start -j 2`) do not
    oversubscribe the cores. The network is small: one thread trains as fast as two."""
    split_seed: int = Field(20091, ge=0, le=2**63 - 1)
    """Seed of the held-out test split; fixed so every run is scored on the same wines."""
    interval: float = Field(DEFAULT_INTERVAL, gt=0, lt=1)
    """Level of the interval `wineq infer` gives each wine (quality_low to quality_high):
    the share of true scores it holds, calibrated on wines the model never trained on."""
    premium: int = Field(DEFAULT_PREMIUM, ge=1, le=10)
    """The score from which a wine counts as premium: `p_premium` is P(quality ≥ premium),
    and each run reports how well calibrated that chance is."""

    def mlflow_credentials(self) -> dict[str, str]:
        """The credentials given, as the environment variables MLflow's client reads."""
        found = {
            "MLFLOW_TRACKING_USERNAME": self.tracking_username,
            "MLFLOW_TRACKING_PASSWORD": self.tracking_password,
            "MLFLOW_TRACKING_TOKEN": self.tracking_token,
        }
        return {
            name: value.get_secret_value() if isinstance(value, SecretStr) else value
            for name, value in found.items()
            if value
        }

    @field_validator("experiment", "model_name")
    @classmethod
    def _a_name(cls, name: str, info) -> str:
        if not name.strip() or name != name.strip():
            raise ValueError("give a name without spaces around it, e.g. wine-quality")
        if info.field_name == "model_name" and any(c in name for c in "/@:"):
            raise ValueError(
                "a model name cannot hold '/', '@' or ':' (they separate NAME/VERSION and "
                "NAME@ALIAS)"
            )
        return name

    @field_validator("tracking_uri")
    @classmethod
    def _a_store_mlflow_knows(cls, uri: Optional[str]) -> Optional[str]:
        if not uri:
            return None  # empty: the project's own store, as when it is not set
        if "://" not in uri and not uri.lower().startswith(("sqlite:", "file:")):
            return uri  # a plain path: a folder store, as MLflow reads it
        if uri.split(":", 1)[0].split("+", 1)[0].lower() not in STORE_SCHEMES:
            raise ValueError(
                "use sqlite:///path/mlflow.db, http(s)://server:port, "
                "postgresql://user@host/db or file:///folder"
            )
        return uri

    @model_validator(mode="after")
    def _home_defaults_to_the_project(self) -> Settings:
        if self.home_dir is None:
            self.home_dir = self.project_dir
        return self


CLONE_FREE = "infer, runs, show and compare"


def find_project_root(start: Path, doing: str = "wineq") -> Path:
    """The nearest folder at or above `start` holding a `.dvc` folder."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".dvc").is_dir():
            return folder
    raise ConfigError(
        f"{doing} needs a clone of the project: there is none at {start} or above it (no "
        f".dvc folder); run it inside a clone ({CLONE_FREE} work anywhere with "
        "MLFLOW_TRACKING_URI set)"
    )


def home_of(root: Path) -> Path:
    """The clone that owns `root`'s runs: DVC_ROOT when DVC runs wineq as a stage of an
    experiment in a temporary copy of that clone (`<clone>/.dvc/tmp/exps/...`), else
    `root` itself. DVC sets DVC_ROOT for every stage; only its own copies are redirected."""
    parent = os.environ.get("DVC_ROOT")
    if not parent:
        return root
    clone = Path(parent).resolve()
    if root.is_relative_to(clone / ".dvc" / "tmp" / "exps"):
        return clone
    return root


def load_settings(
    start: Optional[Path] = None, needs_clone: Optional[str] = "wineq", **overrides: object
) -> Settings:
    """Settings for the project found from `start` (default: the current directory).

    Outside a clone, `needs_clone` (the command, e.g. "wineq train") says in the error that
    it needs one; None means the command also works without one: the settings then come from
    the environment and `.env` of the current folder, and MLflow's own MLFLOW_TRACKING_URI
    is read when WINEQ_TRACKING_URI is not set.

    Example: `load_settings(experiment="trial")` overrides WINEQ_EXPERIMENT and .env.
    """
    start = (start or Path.cwd()).resolve()
    try:
        root = find_project_root(start, needs_clone or "wineq")
    except ConfigError:
        if needs_clone:
            raise
        return _settings_outside_a_clone(start, overrides)
    home = home_of(root)
    given = {
        "dvc_experiment": os.environ.get("DVC_EXP_NAME") or None,
        "dvc_baseline": os.environ.get("DVC_EXP_BASELINE_REV") or None,
        **overrides,
    }
    return _settings(root, home, given)


def _settings_outside_a_clone(folder: Path, overrides: dict) -> Settings:
    given = {key: value for key, value in overrides.items() if value is not None}
    if not os.environ.get("WINEQ_TRACKING_URI") and "tracking_uri" not in given:
        given["tracking_uri"] = os.environ.get("MLFLOW_TRACKING_URI") or None
    found = _settings(folder, folder, {**given, "clone": False})
    if not found.tracking_uri:
        raise ConfigError(
            f"no wineq project at {folder} or above it, and no tracking URI: outside a clone "
            "set MLFLOW_TRACKING_URI (or WINEQ_TRACKING_URI) to the team's MLflow server, or "
            "run wineq inside a clone of the project"
        )
    return found


def _settings(root: Path, home: Path, given: dict) -> Settings:
    given = {key: value for key, value in given.items() if value is not None}
    try:
        # pydantic-settings takes `_env_file` and the fields as keywords its stubs do not list
        settings: Any = Settings
        return settings(_env_file=home / ".env", project_dir=root, home_dir=home, **given)
    except ValidationError as exc:
        raise ConfigError(_setting_problem(exc, home / ".env", set(given))) from exc


def _setting_problem(exc: ValidationError, env_file: Path, given: set[str]) -> str:
    """One line: which variable, where it was set, its value, and what is accepted."""
    problem = exc.errors()[0]
    field = str(problem["loc"][0]) if problem["loc"] else "?"
    info = Settings.model_fields.get(field)
    variable = (
        info.validation_alias
        if info is not None and isinstance(info.validation_alias, str)
        else f"WINEQ_{field.upper()}"
    )
    value = problem.get("input")
    shown = "***" if "PASSWORD" in variable or "TOKEN" in variable else value
    if isinstance(shown, str) and "://" in shown:
        from winequality.records import without_credentials

        shown = without_credentials(shown)  # a URL's password never reaches a log
    reason = str(problem["msg"]).removeprefix("Value error, ")
    if field in given:
        where = "the command line"
    elif variable in os.environ or variable.lower() in os.environ:
        where = "the environment"
    else:
        where = ".env"
        try:
            for number, line in enumerate(env_file.read_text().splitlines(), start=1):
                if line.strip().upper().startswith(f"{variable}="):
                    where = f"{env_file} line {number}"
        except OSError:
            pass
    if not isinstance(shown, str) or not shown or shown != shown.strip() or not shown.isprintable():
        shown = repr(shown)  # an empty value, or spaces around it, made visible
    return f"{variable}={shown} (from {where}) is not accepted: {reason}; fix it there"

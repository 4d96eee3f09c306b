"""The errors wineq reports to users: each says what happened and what to do next."""

from __future__ import annotations


class WineqError(Exception):
    """Base class: the CLI prints `Error: <message>` and exits with `exit_code`."""

    exit_code = 1


class ConfigError(WineqError):
    """Settings or the project layout are not usable."""

    exit_code = 2


class DataError(WineqError):
    """Input data is missing, malformed or fails its checksum."""

    exit_code = 3


class StoreError(WineqError):
    """DVC could not store or fetch bytes (remote missing, unreachable, object absent)."""

    exit_code = 4


class IntegrityError(StoreError):
    """Bytes fetched for a model do not match the hash recorded for it."""

    exit_code = 5


class TrackingError(WineqError):
    """The MLflow store could not be reached or answered with an error."""

    exit_code = 6


class NotFoundError(WineqError):
    """A run, model version or alias that was asked for does not exist."""

    exit_code = 7


class QualityBarError(WineqError):
    """No run reaches the RMSE bar asked for."""

    exit_code = 8


class Interrupted(WineqError):
    """The user pressed Ctrl-C; the work was ended cleanly."""

    exit_code = 130

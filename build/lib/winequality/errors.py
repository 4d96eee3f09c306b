"""The errors wineq reports to users: each says what happened and what to do next.

One exit code per kind of failure, whichever option, input or library caused it; the
docs' table of exit codes (docs/faults.md) is checked against `EXIT_CODES` by the tests.
"""

from __future__ import annotations

from typing import Optional, Union


def first_line(error: Union[BaseException, str], fallback: Optional[str] = None) -> str:
    """The first line of an error's message, for a one-line report; `fallback` (default:
    the error's type name) when the message is empty."""
    text = str(error).strip()
    if text:
        return text.splitlines()[0]
    return fallback if fallback is not None else type(error).__name__


class WineqError(Exception):
    """Something else went wrong (e.g. the model lookup process died); exit 1."""

    exit_code = 1


class UsageError(WineqError):
    """An option or argument has a value wineq cannot use (as click's own usage errors)."""

    exit_code = 2


class DataError(WineqError):
    """Input data is missing, malformed or fails its checksum."""

    exit_code = 3


class NoSharedWines(DataError):
    """No wine is left that none of the compared models trained on."""


class StoreError(WineqError):
    """DVC could not store or fetch bytes (remote missing, unreachable, object absent)."""

    exit_code = 4


class MissingObject(StoreError):
    """An object (a model's or a data version's bytes) is in neither the DVC cache, nor the
    remote, nor wineq's vault there; `md5` names it, so a caller that knows who pushed it
    can say so; `remote` is the remote searched, as `name (url)`."""

    def __init__(self, message: str, md5: str = "", remote: str = ""):
        super().__init__(message)
        self.md5 = md5
        self.remote = remote


class IntegrityError(StoreError):
    """Bytes fetched for a model do not match the hash recorded for it."""

    exit_code = 5


class TrackingError(WineqError):
    """The MLflow store could not be reached or answered with an error."""

    exit_code = 6


class NotFoundError(WineqError):
    """A run, registered model, version or alias that was asked for does not exist."""

    exit_code = 7


class QualityBarError(WineqError):
    """No run reaches the RMSE bar asked for, or the run named did not finish."""

    exit_code = 8


class ConfigError(WineqError):
    """A setting (WINEQ_* or .env) or the project layout is not usable."""

    exit_code = 9


class AccessDenied(TrackingError):
    """The MLflow server knows the user but does not grant the permission an action needs."""

    exit_code = 10


class NotAuthenticated(TrackingError):
    """The MLflow server wants a login: credentials missing, wrong, or of a removed user."""

    exit_code = 11


class Interrupted(WineqError):
    """The user pressed Ctrl-C (or the job got SIGTERM); the work was ended cleanly."""

    exit_code = 130


# Every kind of failure and its exit code, in the order docs/faults.md lists them.
EXIT_CODES: dict[int, type[WineqError]] = {
    cls.exit_code: cls
    for cls in (
        WineqError,
        UsageError,
        DataError,
        StoreError,
        IntegrityError,
        TrackingError,
        NotFoundError,
        QualityBarError,
        ConfigError,
        AccessDenied,
        NotAuthenticated,
        Interrupted,
    )
}

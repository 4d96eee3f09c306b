"""The training hyper-parameters, defined once and torch-free.

`TrainParams` is the single definition: `wineq train`'s options (names, defaults, help)
are generated from its fields, its `as_mlflow()` is what a run logs as params, and the
model's training code reads it directly, and params.yaml (DVC's) holds the same names
under `train:`. Adding a hyper-parameter is one field here, its line in params.yaml, plus
the model code that uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from winequality.errors import UsageError

VAL_FRACTION = 0.2
"""Share of the training split held out for the best epoch, the neighbour blend and the
interval calibration. 0.2 rather than 0.1: twice the calibration wines halve the
variance of the intervals' coverage, and test RMSE did not move (mean of 6 seeds:
0.6671 with 0.1, 0.6669 with 0.2), as the neighbour memory keeps every training wine."""


def _widths(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _format_widths(value: tuple[int, ...]) -> str:
    return ",".join(str(width) for width in value)


@dataclass(frozen=True)
class Knob:
    """How one hyper-parameter is shown, read from text, written as text and checked."""

    help: str
    valid: Callable[[Any], bool]
    rule: str
    """What `valid` demands, as the end of a sentence: '--epochs must be {rule}'."""
    parse: Callable[[str], Any]
    format: Callable[[Any], str] = str


def knob(
    default: Any,
    help: str,
    valid: Callable[[Any], bool],
    rule: str,
    parse: Callable[[str], Any] | None = None,
    format: Callable[[Any], str] = str,
) -> Any:
    """A dataclass field carrying its Knob; `parse` defaults to the default's type."""
    return field(
        default=default,
        metadata={"knob": Knob(help, valid, rule, parse or type(default), format)},
    )


@dataclass(frozen=True)
class TrainParams:
    """Hyper-parameters of one training run. Example: `TrainParams(epochs=80).checked()`."""

    epochs: int = knob(50, "Passes over the training split.", lambda v: v >= 1, "at least 1")
    lr: float = knob(
        5e-4, "AdamW learning rate.", lambda v: 0 < v < 1, "between 0 and 1, e.g. 0.001"
    )
    batch_size: int = knob(64, "Wines per gradient step.", lambda v: v >= 1, "at least 1")
    hidden: tuple[int, ...] = knob(
        (64, 64),
        "Hidden layer widths, comma-separated.",
        lambda v: bool(v) and min(v) >= 1,
        "layer widths separated by commas, e.g. 64,64",
        parse=_widths,
        format=_format_widths,
    )
    weight_decay: float = knob(
        1e-2, "AdamW weight decay.", lambda v: 0 <= v < math.inf, "0 or more, finite"
    )
    members: int = knob(
        8,
        "Networks in the ensemble (trained together, averaged).",
        lambda v: 1 <= v <= 64,
        "between 1 and 64",
    )
    seed: int = knob(
        0, "Seed of the training (the test split stays fixed).", lambda v: v >= 0, "0 or more"
    )
    test_size: float = knob(
        0.2,
        "Share of wines held out for the test metrics.",
        lambda v: 0.05 <= v <= 0.5,
        "between 0.05 and 0.5",
    )
    frequencies: int = knob(
        16,
        "Periodic embedding of each input: sin/cos at this many learned frequencies (0: none).",
        lambda v: v >= 0,
        "0 or more",
    )
    embedding: int = knob(
        16, "Width of each input's periodic embedding.", lambda v: v >= 1, "at least 1"
    )
    sigma: float = knob(
        0.05,
        "Standard deviation of the initial frequencies.",
        lambda v: 0 < v < math.inf,
        "above 0, finite",
    )
    neighbours: int = knob(
        10,
        "Blend in the mean quality of this many nearest training wines (0: network only).",
        lambda v: v >= 0,
        "0 or more",
    )
    neighbour_power: float = knob(
        3.0,
        "Neighbours weigh 1/distance**power: near-identical wines all but decide alone.",
        lambda v: 0 <= v < math.inf,
        "0 or more, finite",
    )

    def checked(self, name_of: Callable[[str], str] | None = None) -> TrainParams:
        """These params, or a UsageError naming the first one out of range (as `name_of`
        says, default: its command-line option)."""
        name_of = name_of or option
        for name, spec in knobs():
            value = getattr(self, name)
            try:
                ok = spec.valid(value)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise UsageError(
                    f"{name_of(name)} {spec.format(value)}: must be {spec.rule} "
                    "(see `wineq train --help`)"
                )
        return self

    def as_mlflow(self) -> dict[str, str]:
        """The params an MLflow run logs, as text (MLflow stores params as strings)."""
        return {name: spec.format(getattr(self, name)) for name, spec in knobs()}

    @classmethod
    def from_text(
        cls,
        values: dict[str, str],
        base: TrainParams | None = None,
        name_of: Callable[[str], str] | None = None,
    ) -> TrainParams:
        """Params from text values (option strings, a params file); checked.

        Names not given keep `base`'s values (default: the defaults); an unknown name or
        a value that does not parse is a UsageError. A run's MLflow params hold more than
        these (split_seed, n_train, ...): pass only the names of `knobs()`.
        """
        name_of = name_of or option
        known = dict(knobs())
        parsed = {}
        for name, text in values.items():
            if name not in known:
                raise UsageError(f"unknown training parameter {name!r}; see `wineq train --help`")
            try:
                parsed[name] = known[name].parse(str(text).strip())
            except ValueError:
                raise UsageError(f"{name_of(name)} {text!r}: must be {known[name].rule}") from None
        return replace(base or cls(), **parsed).checked(name_of)


PARAMS_SECTION = "train"  # the section of params.yaml that holds these (dvc.yaml: params)


def read_params_file(path: Path) -> dict[str, str]:
    """The `train:` section of a YAML params file (DVC's params.yaml) as text values.

    Example: `train: {epochs: 80, hidden: [128, 64]}` gives
    `{"epochs": "80", "hidden": "128,64"}`; check them with `TrainParams.from_text`.
    """
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--params {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--params {path}: cannot read it ({exc})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        problem = f": {exc.problem}" if getattr(exc, "problem", None) else ""
        raise UsageError(f"--params {path}: not valid YAML{line}{problem}") from None
    section = (loaded or {}).get(PARAMS_SECTION) if isinstance(loaded, dict) else None
    if not isinstance(section, dict):
        raise UsageError(
            f"--params {path}: no `{PARAMS_SECTION}:` section of hyper-parameters "
            "(see params.yaml in the wineq repository)"
        )
    known = dict(knobs())
    for name in section:
        if name not in known:
            raise UsageError(
                f"--params {path}: unknown training parameter {PARAMS_SECTION}.{name}; "
                f"known: {', '.join(known)}"
            )
    return {
        str(name): ",".join(map(str, value)) if isinstance(value, list) else str(value)
        for name, value in section.items()
    }


def knobs() -> Iterator[tuple[str, Knob]]:
    """(name, Knob) of every hyper-parameter, in definition order."""
    for f in fields(TrainParams):
        yield f.name, f.metadata["knob"]


def option(name: str) -> str:
    """The command-line option of a hyper-parameter: `batch_size` -> `--batch-size`."""
    return "--" + name.replace("_", "-")


DEFAULTS = TrainParams()

"""The torch network: feature encoding, training loop, and (de)serialising the weights.

Its hyper-parameters are `params.TrainParams`, defined once, torch-free.

A saved model is a plain dict of tensors, numbers and strings, so it loads with
`torch.load(weights_only=True)`: no pickled code ever runs when a model is fetched.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch
from torch import nn

from winequality.domain.calibration import MIN_CALIBRATION_WINES, SIGNS, Calibration
from winequality.domain.calibration import fit as fit_calibration
from winequality.domain.familiarity import PERCENTILES, SHARE, Summary, summarise, unusual
from winequality.domain.params import TrainParams
from winequality.schema import COLOR, FEATURES

FORMAT_VERSION = 7
BLOCK = 32  # wines per block of the nearest-neighbour search
# Right-skewed features are log-transformed before scaling; it evens out their ranges.
LOG_FEATURES = [
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "sulphates",
]


@dataclass
class History:
    """Per-epoch mean squared errors, and the epoch whose weights were kept."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    blend: float = 1.0


def encode(features: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """Raw feature matrix (n, 11) and colours (n,) → model inputs (n, 12) before scaling."""
    x = np.asarray(features, dtype=np.float64).copy()
    for name in LOG_FEATURES:
        col = FEATURES.index(name)
        x[:, col] = np.log1p(np.clip(x[:, col], 0.0, None))
    is_red = (np.asarray(colors) == "red").astype(np.float64)[:, None]
    return np.hstack([x, is_red])


def frame_inputs(frame) -> np.ndarray:
    """Model inputs from a validated DataFrame."""
    return encode(frame[FEATURES].to_numpy(dtype=np.float64), frame[COLOR].to_numpy())


def _empty_summary() -> dict[str, torch.Tensor]:
    """The summary buffers of a model that keeps none (familiarity.py)."""
    n, k = len(FEATURES), PERCENTILES
    return {
        "summary_percentiles": torch.zeros(0, n),
        "summary_cdf": torch.zeros(0, n, dtype=torch.float64),
        "summary_distance": torch.full((), math.inf, dtype=torch.float64),
        "summary_wines": torch.zeros((), dtype=torch.int64),
        "colour_percentiles": torch.zeros(0, n, k),
        "colour_cdf": torch.zeros(0, n, k, dtype=torch.float64),
        "colour_wines": torch.zeros(0, dtype=torch.int64),
    }


class _Familiar(nn.Module):
    """The summary of the training wines a model keeps in its file (familiarity.py): what
    its `unusual` flags and drift reports measure against."""

    summary_percentiles: torch.Tensor
    summary_cdf: torch.Tensor
    summary_distance: torch.Tensor
    summary_wines: torch.Tensor
    colour_percentiles: torch.Tensor
    colour_cdf: torch.Tensor
    colour_wines: torch.Tensor

    def _register_summary(self) -> None:
        """The summary's buffers, empty until fitted."""
        for name, value in _empty_summary().items():
            self.register_buffer(name, value)
        self._summary: Optional[tuple] = None  # (buffers key, Summary)

    def summarise(self, inputs: torch.Tensor, distances: torch.Tensor) -> None:
        """Keep the summary of the training wines `inputs` (familiarity.py)."""
        found = summarise(inputs.numpy(), distances.double().numpy())
        self.summary_percentiles = torch.as_tensor(found.percentiles)
        self.summary_cdf = torch.as_tensor(found.cdf, dtype=torch.float64)
        self.summary_distance.fill_(found.distance)
        self.summary_wines.fill_(found.wines)
        if found.colours:
            self.colour_percentiles = torch.as_tensor(np.stack([c[0] for c in found.colours]))
            self.colour_cdf = torch.as_tensor(np.stack([c[1] for c in found.colours]))
            self.colour_wines = torch.as_tensor([c[2] for c in found.colours], dtype=torch.int64)

    @property
    def summary(self) -> Optional[Summary]:
        """The training wines' summary; None for a model saved before there was one."""
        if not len(self.summary_percentiles):
            return None
        key = (self.summary_percentiles.data_ptr(), self.summary_percentiles._version)
        if self._summary is None or self._summary[0] != key:
            colours = tuple(
                (p.numpy().copy(), c.double().numpy().copy(), int(w))
                for p, c, w in zip(
                    self.colour_percentiles, self.colour_cdf, self.colour_wines, strict=True
                )
            )
            found = Summary(
                self.summary_percentiles.numpy().copy(),
                self.summary_cdf.double().numpy().copy(),
                float(self.summary_distance),
                int(self.summary_wines),
                colours,
            )
            self._summary = (key, found)
        return self._summary[1]


class Regressor(_Familiar):
    """An ensemble of MLPs evaluated as one batched network; the prediction is their mean.

    Inputs are standardised inside the module, so weights and scaler travel together.
    Members differ in initial weights and batch order; batching them (baddbmm) makes
    eight members cost about as much wall time as one.
    """

    # buffers: they travel in the model file with the weights
    mean: torch.Tensor
    std: torch.Tensor
    target_mean: torch.Tensor
    memory_x: torch.Tensor
    memory_y: torch.Tensor
    blend: torch.Tensor
    calib_weights: torch.Tensor
    calib_residuals: torch.Tensor
    calib_floor: torch.Tensor

    def __init__(
        self,
        n_inputs: int,
        hidden: tuple[int, ...],
        members: int = 1,
        frequencies: int = 0,
        embedding: int = 16,
        sigma: float = 0.05,
        neighbours: int = 0,
        neighbour_power: float = 1.0,
    ):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("std", torch.ones(n_inputs))
        self.register_buffer("target_mean", torch.zeros(()))
        # Retrieval part: the standardised training wines and their scores. The prediction
        # is blend * network + (1 - blend) * distance-weighted mean of the nearest wines.
        self.neighbours = neighbours
        self.neighbour_power = neighbour_power
        self._blocked: Optional[tuple] = None  # (memory key, padded memory, squared norms)
        self.register_buffer("memory_x", torch.zeros(0, n_inputs))
        self.register_buffer("memory_y", torch.zeros(0))
        self.register_buffer("blend", torch.ones(()))
        # Interval calibration (calibration.py), fitted on the validation wines; none yet.
        self.register_buffer("calib_weights", torch.zeros(1 + len(SIGNS), dtype=torch.float64))
        self.register_buffer("calib_residuals", torch.zeros(0, dtype=torch.float64))
        self.register_buffer("calib_floor", torch.zeros((), dtype=torch.float64))
        self._calibration: Optional[tuple] = None  # (buffers key, Calibration)
        self._register_summary()
        self.frequencies = frequencies
        self.embedding = embedding if frequencies else 0
        if frequencies:
            # Periodic embeddings (Gorishniy et al. 2022): each standardised input x becomes
            # relu(W [sin 2πcx, cos 2πcx] + b) with learned frequencies c.
            self.freq = nn.Parameter(torch.randn(members, n_inputs, frequencies) * sigma)
            scale = 1.0 / math.sqrt(2 * frequencies)
            self.emb_weight = nn.Parameter(
                torch.randn(members, n_inputs, 2 * frequencies, embedding) * scale
            )
            self.emb_bias = nn.Parameter(torch.zeros(members, n_inputs, embedding))
            dims = [n_inputs * embedding, *hidden, 1]
        else:
            dims = [n_inputs, *hidden, 1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)  # torch.nn.Linear's default initialisation
            self.weights.append(
                nn.Parameter(torch.empty(members, fan_in, fan_out).uniform_(-bound, bound))
            )
            self.biases.append(
                nn.Parameter(torch.empty(members, 1, fan_out).uniform_(-bound, bound))
            )

    @property
    def members(self) -> int:
        return self.weights[0].shape[0]

    def forward_members(self, x: torch.Tensor) -> torch.Tensor:
        """Per-member predictions (members, batch) for x of shape (batch, F) or (members, batch, F)."""
        h = (x - self.mean) / self.std
        if h.dim() == 2:
            h = h.unsqueeze(0).expand(self.members, -1, -1)
        if self.frequencies:
            # laid out (member, feature, batch, ...) so each member's feature is one bmm
            k, b, f = h.shape
            angles = 2 * math.pi * h.transpose(1, 2).unsqueeze(-1) * self.freq.unsqueeze(2)
            periodic = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)  # (k, f, b, 2m)
            h = torch.bmm(
                periodic.reshape(k * f, b, -1), self.emb_weight.reshape(k * f, -1, self.embedding)
            )
            h = torch.relu(h.view(k, f, b, -1) + self.emb_bias.unsqueeze(2))
            h = h.permute(0, 2, 1, 3).reshape(k, b, -1)  # (k, b, f * e)
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(bias, h, weight)
            if i < last:
                h = torch.relu(h)
        return h.squeeze(-1) + self.target_mean

    def nearest(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(index, distance) of the `neighbours` nearest remembered wines, each (batch, k).

        Exact, but pruned: the memory is cut into blocks of `BLOCK` wines, and the k
        nearest lie in the k blocks whose nearest wine is nearest, so only those are
        searched in full. Squared distances come from one matrix product.
        """
        k = min(self.neighbours, len(self.memory_y))
        query = (x - self.mean) / self.std
        memory, sq_norms = self._blocked_memory()
        # |q - m|^2 = |m|^2 - 2 q.m + |q|^2; the last term is the same for a whole row, so
        # the ranking needs only the first two and |q|^2 is added to the k chosen
        part = torch.addmm(sq_norms, query, memory.t(), alpha=-2.0).view(len(query), -1, BLOCK)
        blocks = part.amin(dim=2).topk(min(k, part.shape[1]), dim=1, largest=False).indices
        candidates = torch.gather(part, 1, blocks.unsqueeze(-1).expand(-1, -1, BLOCK))
        part_best, position = candidates.flatten(1).topk(k, dim=1, largest=False)
        index = blocks.gather(1, position // BLOCK) * BLOCK + position % BLOCK
        sq_best = part_best + (query * query).sum(dim=1, keepdim=True)
        return index, sq_best.clamp_min(0).sqrt()

    def _neighbour_weights(self, distance: torch.Tensor) -> torch.Tensor:
        """Unnormalised weights of the neighbours found: 1 / distance**power."""
        return (distance + 1e-6) ** -self.neighbour_power

    def neighbour_mean(self, x: torch.Tensor) -> torch.Tensor:
        """Distance-weighted mean quality of the `neighbours` nearest remembered wines."""
        index, distance = self.nearest(x)
        weight = self._neighbour_weights(distance)
        # sum(w·y) / sum(w), in this order: saved models keep predicting to the last bit
        return (weight * self.memory_y[index]).sum(dim=1) / weight.sum(dim=1)

    def _blocked_memory(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The memory padded to whole blocks, and its squared norms (+inf for padding)."""
        key = (self.memory_x.data_ptr(), self.memory_x._version, tuple(self.memory_x.shape))
        if self._blocked is None or self._blocked[0] != key:
            n = len(self.memory_x)
            padded = torch.zeros(-(-n // BLOCK) * BLOCK, self.memory_x.shape[1])
            padded[:n] = self.memory_x
            sq_norms = torch.full((len(padded),), math.inf)
            sq_norms[:n] = (self.memory_x * self.memory_x).sum(dim=1)
            self._blocked = (key, padded, sq_norms)
        return self._blocked[1], self._blocked[2]

    def remember(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.memory_x = ((x - self.mean) / self.std).detach().clone()
        self.memory_y = y.detach().clone()
        self._blocked = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        network = self.forward_members(x).mean(dim=0)
        if self.neighbours and len(self.memory_y):
            return self.blend * network + (1 - self.blend) * self.neighbour_mean(x)
        return network

    def forward_with_signs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The prediction and each wine's signs of doubt (batch, 3), in `calibration.SIGNS`
        order: the members' spread, the neighbours' spread in quality, their mean distance.

        Signs a model cannot give (one member, no neighbours) are 0.
        """
        members = self.forward_members(x)
        network = members.mean(dim=0)
        spread = members.std(dim=0, correction=0)
        if self.neighbours and len(self.memory_y):
            index, distance = self.nearest(x)
            weight = self._neighbour_weights(distance)
            found = self.memory_y[index]
            total = weight.sum(dim=1)
            mean = (weight * found).sum(dim=1) / total  # exactly as neighbour_mean
            # the weighted variance as E[y²] - E[y]²: one pass less on every batch
            variance = (weight * found * found).sum(dim=1) / total - mean * mean
            signs = torch.stack([spread, variance.clamp_min(0).sqrt(), distance.mean(dim=1)], 1)
            return self.blend * network + (1 - self.blend) * mean, signs
        return network, torch.stack([spread, torch.zeros_like(spread), torch.zeros_like(spread)], 1)

    def calibrate(self, calibration: Calibration) -> None:
        self.calib_weights = torch.as_tensor(calibration.weights, dtype=torch.float64)
        self.calib_residuals = torch.as_tensor(calibration.residuals, dtype=torch.float64)
        self.calib_floor.fill_(calibration.floor)

    @property
    def calibration(self) -> Optional[Calibration]:
        """The fitted interval calibration; None for a model saved before there was one."""
        if not len(self.calib_residuals):
            return None
        buffers = (self.calib_weights, self.calib_residuals, self.calib_floor)
        key = tuple((t.data_ptr(), t._version, tuple(t.shape)) for t in buffers)
        if self._calibration is None or self._calibration[0] != key:
            found = Calibration(
                self.calib_weights.double().numpy().copy(),
                self.calib_residuals.double().numpy().copy(),
                float(self.calib_floor),
            )
            self._calibration = (key, found)
        return self._calibration[1]


@contextmanager
def threads(count: int) -> Iterator[None]:
    """torch's intra-op threads set to `count` for the block, then put back."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    config: TrainParams,
    on_epoch: Optional[Callable[[int, float, float], None]] = None,
) -> tuple[Regressor, History]:
    """Train with AdamW; keep the weights of the epoch with the lowest validation loss."""
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    xt = torch.as_tensor(x_train, dtype=torch.float32)
    yt = torch.as_tensor(y_train, dtype=torch.float32)
    xv = torch.as_tensor(x_val, dtype=torch.float32)
    yv = torch.as_tensor(y_val, dtype=torch.float32)
    model = _new_model(xt, yt, config)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    history = History()
    best_state, best_val = None, math.inf
    for epoch in range(1, config.epochs + 1):
        train_loss = _train_epoch(model, optimiser, xt, yt, config, generator)
        model.eval()
        with torch.no_grad():
            val_loss = float(((model(xv) - yv) ** 2).mean()) if len(xv) else math.nan
        history.train_loss.append(train_loss)
        history.val_loss.append(val_loss)
        if len(xv) == 0 or val_loss < best_val:
            best_val = val_loss
            history.best_epoch = epoch
            best_state = {name: t.detach().clone() for name, t in model.state_dict().items()}
        if on_epoch is not None:
            on_epoch(epoch, train_loss, val_loss)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        distances = _blend_and_calibrate(model, xt, yt, xv, yv, config)
        model.summarise(torch.cat([xt, xv]), distances)
    history.blend = float(model.blend)
    return model, history


def _new_model(xt: torch.Tensor, yt: torch.Tensor, config: TrainParams) -> Regressor:
    """A fresh network whose scaler is fitted on the training split only."""
    model = Regressor(
        xt.shape[1],
        config.hidden,
        config.members,
        config.frequencies,
        config.embedding,
        config.sigma,
        config.neighbours,
        config.neighbour_power,
    )
    std = xt.std(dim=0)  # constant columns keep std 1
    model.mean.copy_(xt.mean(dim=0))
    model.std.copy_(torch.where(std > 0, std, torch.ones_like(std)))
    model.target_mean.fill_(float(yt.mean()))
    return model


def _train_epoch(model, optimiser, xt, yt, config: TrainParams, generator) -> float:
    """One pass over the training wines; the mean training loss per wine."""
    model.train()
    n, k = len(xt), config.members
    # each member sees the training wines in its own order
    order = torch.stack([torch.randperm(n, generator=generator) for _ in range(k)])
    total = 0.0
    for start in range(0, n, config.batch_size):
        idx = order[:, start : start + config.batch_size]
        optimiser.zero_grad()
        # the sum over members of each member's MSE: members train independently
        loss = ((model.forward_members(xt[idx]) - yt[idx]) ** 2).mean(dim=1).sum()
        loss.backward()
        optimiser.step()
        total += loss.item() / k * idx.shape[1]
    return total / n


def _blend_and_calibrate(model: Regressor, xt, yt, xv, yv, config: TrainParams) -> torch.Tensor:
    """The network/neighbour blend and the intervals, both fitted on the validation wines;
    then every wine is remembered. Returns the validation wines' mean distance to their
    nearest fitting wines (empty when the model remembers none or has no intervals)."""
    distances = torch.zeros(0)
    if config.neighbours and len(xv):
        # Choose the blend on the validation wines, remembering only the fitting wines.
        network = model.forward_members(xv).mean(dim=0)
        model.remember(xt, yt)
        neighbours = model.neighbour_mean(xv)
        # the least-squares blend on the validation wines, kept within [0, 1]
        gap = (network - neighbours).double()
        blend = float(gap @ (yv - neighbours).double()) / max(float(gap @ gap), 1e-12)
        model.blend.fill_(min(max(blend, 0.0), 1.0))
    if len(xv) >= MIN_CALIBRATION_WINES:
        # Intervals are calibrated on the validation wines as the blend saw them (their
        # own scores not remembered), so no wine vouches for itself.
        predicted, signs = model.forward_with_signs(xv)
        model.calibrate(
            fit_calibration(predicted.clamp(0.0, 10.0).numpy(), yv.numpy(), signs.numpy())
        )
        if config.neighbours:
            distances = signs[:, SIGNS.index("neighbour_distance")]
    if config.neighbours and len(xv):
        model.remember(torch.cat([xt, xv]), torch.cat([yt, yv]))  # then every wine
    return distances


_ALLOCATOR_TUNED = False


def _keep_freed_memory() -> None:
    """Let glibc reuse freed blocks instead of unmapping them after every batch.

    By default glibc may return a batch's temporaries to the OS and page-fault them back
    in on the next batch, a cost that outweighs the arithmetic (`python -m bench
    infer_scale` shows it; the figures are on the docs' performance page). Blocks under
    64 MB come from the heap, and up to 128 MB of freed heap stays with the process. A
    no-op where the C library is not glibc.
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return
    _ALLOCATOR_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _batches(inputs: np.ndarray, batch: int):
    """(start, rows, tensor of exactly `batch` rows): a last, shorter batch is filled up
    with copies of its last row.

    The matrix kernels pick their summation order by the number of rows, so a wine
    predicted among 300 others could differ in the last bit from the same wine among
    512. With every batch the same size, a wine's prediction is a function of its own
    features alone: the same whether it came from a CSV read in 2 MB chunks, a Parquet
    row group or a single request.
    """
    for start in range(0, len(inputs), batch):
        rows = inputs[start : start + batch]
        n = len(rows)
        if n < batch:
            rows = np.concatenate([rows, np.repeat(rows[-1:], batch - n, axis=0)])
        yield start, n, torch.as_tensor(rows, dtype=torch.float32)


def predict(model: Regressor, inputs: np.ndarray, batch: int = 512) -> np.ndarray:
    """Predicted quality for each row of `inputs`, clipped to the 0–10 scale."""
    _keep_freed_memory()
    out = np.empty(len(inputs), dtype=np.float64)
    with torch.inference_mode():
        for start, n, x in _batches(inputs, batch):
            out[start : start + n] = model(x).clamp(0.0, 10.0).numpy()[:n]
    return out


@dataclass
class Predictions:
    """Predicted quality per wine, and where the model is calibrated, how sure it is."""

    quality: np.ndarray
    low: Optional[np.ndarray] = None
    high: Optional[np.ndarray] = None
    p_premium: Optional[np.ndarray] = None
    scale: Optional[np.ndarray] = None
    """The error the calibrated model expects on each wine (`Calibration.scale`)."""
    unusual: Optional[np.ndarray] = None
    """Whether each wine is unlike the training wines (familiarity.py); None for a model
    saved before it kept their summary."""


def predict_with_scale(
    model: Regressor, inputs: np.ndarray, batch: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """(quality, scale) of each row: the prediction and the error the calibrated model
    expects on it (calibration.Calibration.scale). The model must be calibrated."""
    calibration = model.calibration
    if calibration is None:
        raise ValueError("the model has no interval calibration (saved before wineq had them)")
    quality, signs = _with_signs(model, inputs, batch)
    return quality, calibration.scale(signs)


def _with_signs(model: Regressor, inputs: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """(quality, signs of doubt) of each row."""
    _keep_freed_memory()
    quality = np.empty(len(inputs), dtype=np.float64)
    signs = np.empty((len(inputs), len(SIGNS)), dtype=np.float64)
    with torch.inference_mode():
        for start, n, x in _batches(inputs, batch):
            predicted, found = model.forward_with_signs(x)
            quality[start : start + n] = predicted.clamp(0.0, 10.0).numpy()[:n]
            signs[start : start + n] = found.numpy()[:n]
    return quality, signs


def predict_with_intervals(
    model: Regressor, inputs: np.ndarray, level: float, premium: int, batch: int = 512
) -> Predictions:
    """Quality, the interval at `level` and P(quality ≥ `premium`) for each row of `inputs`.

    A model saved before intervals existed gives the quality alone (`low` etc. None).
    A ValueError when `level` is above what the calibration supports.
    """
    calibration, summary = model.calibration, model.summary
    if calibration is None:
        quality = predict(model, inputs, batch)
        flags = None if summary is None else unusual(summary, inputs, np.zeros(len(inputs)))
        return Predictions(quality, unusual=flags)
    calibration.half_width(level)  # a level the calibration cannot support fails first
    quality, signs = _with_signs(model, inputs, batch)
    scale = calibration.scale(signs)
    low, high = calibration.interval(quality, scale, level)
    p_premium = calibration.p_at_least(quality, scale, premium)
    flags = None
    if summary is not None:
        flags = unusual(summary, inputs, signs[:, SIGNS.index("neighbour_distance")])
    return Predictions(quality, low, high, p_premium, scale, flags)


def to_bytes(model: Regressor, hidden: tuple[int, ...]) -> bytes:
    """Serialise weights, scaler and feature schema: only tensors, numbers and strings."""
    bundle = {
        "format_version": FORMAT_VERSION,
        "features": list(FEATURES),
        "color_input": "is_red",
        "log_features": list(LOG_FEATURES),
        "hidden": list(hidden),
        "members": model.members,
        "frequencies": model.frequencies,
        "embedding": model.embedding,
        "neighbours": model.neighbours,
        "neighbour_power": model.neighbour_power,
        "state_dict": model.state_dict(),
    }
    buffer = io.BytesIO()
    torch.save(bundle, buffer)
    return buffer.getvalue()


def from_bytes(content: bytes) -> Regressor:
    """Rebuild a model from `to_bytes` output without unpickling any code.

    Older formats still load, so models registered with them keep predicting exactly as
    they did: 3 (network only, before the nearest-neighbour blend), 4 (neighbours
    weighted by 1 / distance), 5 (before interval calibration: no intervals) and 6
    (before the training wines' summary: no `unusual` flags).
    """
    bundle = torch.load(io.BytesIO(content), weights_only=True)
    version = bundle.get("format_version")
    if version not in (3, 4, 5, 6, FORMAT_VERSION) or bundle.get("features") != FEATURES:
        raise ValueError("model file has an unknown format or feature schema")
    if bundle.get("log_features") != LOG_FEATURES:
        raise ValueError("model file was trained with another feature transform")
    state = dict(bundle["state_dict"])
    n_inputs = len(state["mean"])
    if version == 3:
        state.setdefault("memory_x", torch.zeros(0, n_inputs))
        state.setdefault("memory_y", torch.zeros(0))
        state.setdefault("blend", torch.ones(()))
    if version < 6:  # no interval calibration yet
        state.setdefault("calib_weights", torch.zeros(1 + len(SIGNS), dtype=torch.float64))
        state.setdefault("calib_residuals", torch.zeros(0, dtype=torch.float64))
        state.setdefault("calib_floor", torch.zeros((), dtype=torch.float64))
    if version < 7:  # no summary of the training wines yet
        for name, value in _empty_summary().items():
            state.setdefault(name, value)
    model = Regressor(
        n_inputs,
        tuple(bundle["hidden"]),
        int(bundle["members"]),
        int(bundle["frequencies"]),
        int(bundle["embedding"]),
        neighbours=int(bundle.get("neighbours", 0)),
        neighbour_power=float(bundle.get("neighbour_power", 1.0)),
    )
    model.memory_x = torch.empty_like(state["memory_x"])
    model.memory_y = torch.empty_like(state["memory_y"])
    model.calib_residuals = torch.empty_like(state["calib_residuals"])
    for name in _empty_summary():  # sized as saved
        setattr(model, name, torch.empty_like(state[name]))
    model.load_state_dict(state)
    model.eval()
    return model


def training_ranges(model: Regressor) -> Optional[dict]:
    """What the model learned from, in each feature's own unit: the training wines' range
    per feature and the unusual-wine distance (familiarity.py); None for a model saved
    before it kept the summary."""
    summary = model.summary
    if summary is None:
        return None
    ranges = {}
    for f, name in enumerate(FEATURES):
        low, high = float(summary.low[f]), float(summary.high[f])
        if name in LOG_FEATURES:  # kept on the log scale the network reads
            low, high = math.expm1(low), math.expm1(high)
        ranges[name] = [float(f"{low:.6g}"), float(f"{high:.6g}")]
    distance = summary.distance if math.isfinite(summary.distance) else None
    return {
        "wines": summary.wines,
        "ranges": ranges,
        "unusual_distance": distance,
        "neighbours": model.neighbours,
        "share": SHARE,
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """rmse, mae, r2 and the share of predictions within 0.5 of the true score."""
    error = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    total = float(np.sum((y_true - np.mean(y_true)) ** 2))
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": 1.0 - float(np.sum(error**2)) / total if total > 0 else float("nan"),
        "within_0_5": float(np.mean(np.abs(error) <= 0.5)),
    }

"""The torch model: saved without code, reloaded exactly, older formats still readable."""

from __future__ import annotations

import io

import numpy as np
import torch

from winequality.domain import model as nn_model
from winequality.domain.params import TrainParams


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12)) + 5
    x[:, -1] = rng.random(n) < 0.3
    y = 5.5 + x[:, 10] - 5 + rng.normal(0, 0.3, n)
    return x, y


def test_a_saved_model_reloads_to_the_same_predictions():
    x, y = _data()
    config = TrainParams(epochs=3, members=2, frequencies=4, embedding=4)
    net, history = nn_model.fit(x[:240], y[:240], x[240:], y[240:], config)
    assert 0.0 <= history.blend <= 1.0
    assert len(net.memory_y) == 300  # every training wine is remembered
    again = nn_model.from_bytes(nn_model.to_bytes(net, config.hidden))
    assert np.array_equal(nn_model.predict(net, x), nn_model.predict(again, x))


def test_format_3_models_still_load_and_predict_as_before():
    x, y = _data(seed=1)
    config = TrainParams(epochs=2, members=2, frequencies=4, embedding=4, neighbours=0)
    net, _ = nn_model.fit(x[:240], y[:240], x[240:], y[240:], config)
    bundle = torch.load(io.BytesIO(nn_model.to_bytes(net, config.hidden)), weights_only=True)
    bundle["format_version"] = 3  # as written before the nearest-neighbour blend
    del bundle["neighbours"]
    for key in ("memory_x", "memory_y", "blend"):
        del bundle["state_dict"][key]
    buffer = io.BytesIO()
    torch.save(bundle, buffer)
    old = nn_model.from_bytes(buffer.getvalue())
    assert np.array_equal(nn_model.predict(old, x), nn_model.predict(net, x))


def test_format_4_models_keep_their_inverse_distance_weights():
    x, y = _data(seed=2)
    config = TrainParams(epochs=2, members=2, frequencies=4, embedding=4, neighbour_power=1.0)
    net, _ = nn_model.fit(x[:240], y[:240], x[240:], y[240:], config)
    bundle = torch.load(io.BytesIO(nn_model.to_bytes(net, config.hidden)), weights_only=True)
    bundle["format_version"] = 4  # as written before the neighbour weights had a power
    del bundle["neighbour_power"]
    buffer = io.BytesIO()
    torch.save(bundle, buffer)
    old = nn_model.from_bytes(buffer.getvalue())
    assert old.neighbour_power == 1.0
    assert np.array_equal(nn_model.predict(old, x), nn_model.predict(net, x))


def test_pruned_neighbour_search_finds_the_true_nearest_wines():
    torch.manual_seed(0)
    for n_memory in (7, 32, 100, 1001):  # fewer than k, one block, ragged blocks
        model = nn_model.Regressor(12, (4,), neighbours=10, neighbour_power=3.0)
        model.remember(torch.randn(n_memory, 12), torch.rand(n_memory) * 10)
        query = torch.randn(300, 12)
        distance, index = torch.cdist(query, model.memory_x).topk(
            min(10, n_memory), dim=1, largest=False
        )
        weight = (distance + 1e-6) ** -3.0
        expected = (weight * model.memory_y[index]).sum(dim=1) / weight.sum(dim=1)
        assert torch.allclose(model.neighbour_mean(query), expected, atol=1e-4)


def test_a_wines_prediction_does_not_depend_on_the_wines_around_it():
    """Readers hand over chunks of any size (a CSV's 2 MB, a Parquet row group): a wine
    must get the same bits whichever chunk and batch it lands in."""
    from pathlib import Path

    import pandas as pd

    from winequality.domain import model as nn_model
    from winequality.schema import FEATURES

    net = nn_model.from_bytes((Path(__file__).parent / "data" / "format5.pt").read_bytes())
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(0.1, 10, (3000, 11)), columns=FEATURES)
    frame["color"] = np.where(rng.uniform(size=3000) < 0.5, "red", "white")
    inputs = nn_model.frame_inputs(frame)
    whole = nn_model.predict(net, inputs)
    # a chunk of 7 costs a whole padded batch: 100 of them make the point at a quarter
    # of the cost of 429
    for size, wines in ((7, 700), (300, 3000), (1000, 3000)):
        pieces = [
            nn_model.predict(net, inputs[i : min(i + size, wines)]) for i in range(0, wines, size)
        ]
        assert np.array_equal(np.concatenate(pieces), whole[:wines]), size

"""Contract tests over every registered aggregator: a new one is covered by adding it to AGGREGATORS."""
import pytest
import torch

from forecast.models.aggregators import AGGREGATORS, MeanPooling
from forecast.models.config import AGGREGATOR_NAMES, ModelConfig
from forecast.models.forecaster import Forecaster

NAMES = sorted(AGGREGATORS)


def _config(aggregator, **kw):
    base = dict(d_model=16, n_heads=2, layers=2, dropout=0.0, seq_len=12, horizon=5, n_features=3, n_known=1,
                aggregator=aggregator)
    return ModelConfig(**{**base, **kw})


def test_registry_and_config_agree():
    assert set(AGGREGATORS) == set(AGGREGATOR_NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_aggregator_shapes_and_finite(name):
    torch.manual_seed(0)
    aggregator = AGGREGATORS[name](_config(name))
    z = aggregator(torch.randn(4, 12, 16))
    assert z.shape == (4, 16) and torch.isfinite(z).all()


@pytest.mark.parametrize("name", NAMES)
def test_forecaster_shapes_no_nan_and_order_sensitive(name):
    torch.manual_seed(0)
    model = Forecaster(_config(name)).eval()
    x, future = torch.randn(8, 12, 3), torch.randn(8, 5, 1)
    y = model(x, future)
    assert y.shape == (8, 5, 9) and torch.isfinite(y).all()     # the nine deciles by default
    shuffled = x[:, torch.randperm(12, generator=torch.Generator().manual_seed(1))]
    # the encoder path itself tells the order (the head's direct read of the target would hide a blind one)
    assert (model.summary(shuffled) - model.summary(x)).abs().max() > 1e-4


def test_uniform_learnable_pooling_equals_mean_at_init():
    h = torch.randn(4, 12, 16)
    learnable = AGGREGATORS["learnable"](_config("learnable"))
    torch.testing.assert_close(learnable(h), MeanPooling(_config("mean"))(h))


def test_without_positions_mean_pooling_is_blind_to_time_order():
    """The counterpart of the order test above: it can fail, and this is the model that makes it fail."""
    torch.manual_seed(0)
    model = Forecaster(_config("mean", positional_encoding=False, instance_norm=False)).eval()
    x = torch.randn(8, 12, 3)
    shuffled = x[:, torch.randperm(12, generator=torch.Generator().manual_seed(1))]
    torch.testing.assert_close(model.summary(shuffled), model.summary(x), atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_the_head_forecasts_the_change_from_the_last_value():
    torch.manual_seed(0)
    model = Forecaster(_config("mean", instance_norm=False, naive_level=True)).eval()
    x, future = torch.randn(8, 12, 3), torch.randn(8, 5, 1)
    shifted = x.clone()
    shifted[:, :, 0] += 10.0   # a level shift of the target moves the forecast by about as much
    moved = (model(shifted, future) - model(x, future)).mean()
    blind = Forecaster(_config("mean", instance_norm=False, naive_level=False)).eval()
    assert abs(float(moved) - 10.0) < abs(float((blind(shifted, future) - blind(x, future)).mean()) - 10.0)

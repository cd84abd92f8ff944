import pytest
import torch

from forecast.models.config import ConfigError, ModelConfig, OptimConfig
from forecast.models.forecaster import Forecaster
from forecast.models.lightning import ForecastModule, warmup_cosine
from forecast.models.losses import pinball_loss


def test_overfits_one_batch():
    """40 steps on one batch of noise more than halve the loss (0.55 of the first here; a network whose gradient
    does not reach the weights stays near 1)."""
    torch.manual_seed(0)
    config = ModelConfig(d_model=32, n_heads=4, layers=2, dropout=0.0, seq_len=16, horizon=4, n_features=2, n_known=1)
    model = Forecaster(config)
    x, future, y = torch.randn(32, 16, 2), torch.randn(32, 4, 1), torch.randn(32, 4)
    q = torch.tensor(config.quantiles)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = pinball_loss(model(x, future), y, q).item()
    for _ in range(40):
        optimizer.zero_grad()
        loss = pinball_loss(model(x, future), y, q)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.65 * first


def test_instance_norm_makes_the_forecast_follow_the_level():
    torch.manual_seed(0)
    config = ModelConfig(d_model=16, n_heads=2, layers=1, dropout=0.0, seq_len=8, horizon=3, n_features=1)
    model = Forecaster(config).eval()
    x, future = torch.randn(4, 8, 1), torch.zeros(4, 3, 0)
    torch.testing.assert_close(model(x + 100.0, future), model(x, future) + 100.0, atol=1e-3, rtol=1e-4)


def test_pinball_loss_matches_pytorch_forecasting():
    from pytorch_forecasting.metrics import QuantileLoss

    quantiles = [0.1, 0.5, 0.9]
    pred, target = torch.randn(6, 4, 3), torch.randn(6, 4)
    ours = pinball_loss(pred, target, torch.tensor(quantiles))
    theirs = QuantileLoss(quantiles).loss(pred, target).mean() / 2.0  # theirs is 2x the pinball loss
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("kwargs, message", [
    ({"d_model": 30, "n_heads": 4}, "multiple of --n-heads"),
    ({"aggregator": "max"}, "--aggregator must be one of"),
    ({"quantiles": (0.1, 0.9)}, "must include 0.5"),
    ({"quantiles": (0.5, 0.1)}, "increasing"),
    ({"spread_floor": 0.0}, "--spread-floor must be positive"),
])
def test_bad_config_fails_fast(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**kwargs)


def test_warmup_then_cosine_schedule():
    values = [warmup_cosine(s, total=100, warmup=10) for s in range(100)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert max(values) == pytest.approx(1.0) and values[-1] < 0.1
    assert all(a >= b for a, b in zip(values[10:], values[11:]))


def test_module_optimiser_excludes_biases_and_norms_from_decay():
    config = ModelConfig(d_model=16, n_heads=2, layers=1, seq_len=8, horizon=2, n_features=1)
    module = ForecastModule(config, OptimConfig(weight_decay=0.1), total_steps=10)
    groups = module.configure_optimizers()["optimizer"].param_groups
    assert groups[0]["weight_decay"] == 0.1 and all(p.ndim >= 2 for p in groups[0]["params"])
    assert groups[1]["weight_decay"] == 0.0 and all(p.ndim < 2 for p in groups[1]["params"])


def test_instance_norm_puts_the_seasonal_lag_channel_on_the_target_scale():
    """Shift and scale the target and its lag channel together (in the window and over the horizon): the
    forecast moves with them exactly, as it does for the target alone. A lag channel left on the global scale
    would break this. (The spread floor, a fixed amount in the series' own units, is not scaled with the
    window, so it is made negligible here.)"""
    torch.manual_seed(0)
    config = ModelConfig(d_model=16, n_heads=2, layers=1, dropout=0.0, seq_len=8, horizon=3, n_features=3,
                         n_known=2, lag_feature=1, spread_floor=1e-6)   # target, lag (known), one calendar feature
    model = Forecaster(config).eval()
    x, future = torch.randn(4, 8, 3), torch.randn(4, 3, 2)
    moved_x, moved_future = x.clone(), future.clone()
    moved_x[:, :, :2] = 3.0 * x[:, :, :2] + 5.0
    moved_future[:, :, 0] = 3.0 * future[:, :, 0] + 5.0
    with torch.no_grad():
        torch.testing.assert_close(model(moved_x, moved_future), 3.0 * model(x, future) + 5.0, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("floor, bounded", [(ModelConfig.spread_floor, True), (1e-5, False)])
def test_a_flat_window_does_not_blow_up_its_seasonal_lag(floor, bounded):
    """A stuck sensor: the target is flat over the window, its lag channel (yesterday) is not. With the spread
    floor the normalised lag stays within |lag - level| / floor; with the old 1e-5 it reaches ~1e5 (so the
    test can fail), and that is what the encoder and the head were fed."""
    torch.manual_seed(0)
    config = ModelConfig(d_model=16, n_heads=2, layers=1, dropout=0.0, seq_len=8, horizon=3, n_features=2,
                         n_known=1, lag_feature=1, spread_floor=floor)   # target, lag (known)
    model = Forecaster(config).eval()
    x, future = torch.full((4, 8, 2), 2.0), 2.0 + torch.randn(4, 3, 1)
    x[:, :, 1] += torch.randn(4, 8)
    deviation = max((x[:, :, 1] - 2.0).abs().max(), (future - 2.0).abs().max())
    nx, nfuture, loc, spread = model.normalise(x, future)
    largest = max(nx[:, :, 1].abs().max(), nfuture.abs().max())
    assert largest <= deviation / floor * (1 + 1e-5) and (largest < 100.0) == bounded
    torch.testing.assert_close(spread, torch.full_like(spread, floor))
    with torch.no_grad():
        assert torch.isfinite(model(x, future)).all()


@pytest.mark.parametrize("covariate_norm", [True, False])
def test_covariate_norm_sees_each_past_covariate_relative_to_its_window(covariate_norm):
    """Shift a past covariate's level in every window (a drifting sensor) and flatten another at a huge level:
    with covariate_norm the forecast does not move; without it, it does (so the test can fail)."""
    torch.manual_seed(0)
    config = ModelConfig(d_model=16, n_heads=2, layers=1, dropout=0.0, seq_len=8, horizon=3, n_features=4,
                         n_known=1, covariate_norm=covariate_norm)  # target, two past covariates, one known
    model = Forecaster(config).eval()
    x, future = torch.randn(4, 8, 4), torch.randn(4, 3, 1)
    x[:, :, 2] = 0.0
    moved = x.clone()
    moved[:, :, 1] += torch.randn(4, 1) * 5.0    # each window's covariate level shifted by its own amount
    moved[:, :, 2] = 1e4                         # a flat covariate, far from its training range
    with torch.no_grad():
        same = torch.allclose(model(moved, future), model(x, future), rtol=1e-4, atol=1e-4)
        assert torch.isfinite(model(moved, future)).all()
    assert same == covariate_norm


def test_covariate_dropout_hides_whole_covariate_blocks_in_training_only():
    torch.manual_seed(0)
    config = ModelConfig(d_model=16, n_heads=2, layers=1, dropout=0.0, seq_len=8, horizon=3, n_features=4,
                         n_known=1, covariate_dropout=0.5)  # target, two past covariates, one known feature
    model = Forecaster(config)
    x = torch.randn(2000, 8, 4)
    hidden = model.hide_covariates(x)
    gone = (hidden[:, :, 1:3] == 0).all(dim=(1, 2))
    assert 0.45 < gone.float().mean() < 0.55                                 # about half the windows ...
    torch.testing.assert_close(hidden[~gone], x[~gone])                      # ... the others untouched
    torch.testing.assert_close(hidden[:, :, [0, 3]], x[:, :, [0, 3]])        # never the target or known features
    model.eval()
    future = torch.randn(5, 3, 1)
    torch.testing.assert_close(model(x[:5], future), model(x[:5], future))   # nothing random when forecasting
    with pytest.raises(ConfigError, match="--covariate-dropout"):
        ModelConfig(covariate_dropout=1.0)


def _seasonal_windows(n=64, T=8, H=6, m=4, seed=0):
    """Windows of a series with season m: x (target, its lag), future (the lag over the horizon, the last
    season repeated) and y; with `noise` 0 the target repeats its season exactly."""
    g = torch.Generator().manual_seed(seed)
    season = torch.randn(n, m, generator=g) * 3.0
    level = torch.randn(n, 1, generator=g) * 10.0
    rows = torch.arange(-m, T + H)
    series = level + season[:, rows % m]                                 # (n, m + T + H)
    x = torch.stack([series[:, m:m + T], series[:, :T]], dim=-1)        # the target and one season earlier
    future = series[:, m + T - m + torch.arange(H) % m][:, :, None]      # the last season, repeated
    return x, future, series[:, m + T:]


SEASONAL = dict(d_model=16, n_heads=2, layers=1, dropout=0.0, seq_len=8, horizon=6, n_features=2, n_known=1,
                lag_feature=1)


def test_the_anchored_forecast_starts_at_the_naive_seasonal_blend():
    """Before training, every quantile is the anchor (within a few thousandths of the window's spread):
    naive + share * (seasonal naive - naive) per step, on the window's own scale."""
    torch.manual_seed(0)
    model = Forecaster(ModelConfig(**SEASONAL)).eval()
    x, future, _ = _seasonal_windows()
    with torch.no_grad():
        model.blend.share.copy_(torch.linspace(0.0, 1.0, 6))
        out = model(x, future)                                                      # (B, H, Q)
    last = x[:, -1:, 0]
    expected = last + torch.linspace(0.0, 1.0, 6) * (future[:, :, 0] - last)        # (B, H)
    spread = x[:, :, 0].std(dim=1, unbiased=False, keepdim=True) + model.config.spread_floor
    assert ((out - expected[:, :, None]).abs() / spread[:, :, None]).max() < 0.01
    # without the lag channel the anchor is the last value (naive level); with neither, no anchor
    plain = Forecaster(ModelConfig(**{**SEASONAL, "n_features": 1, "n_known": 0, "lag_feature": -1})).eval()
    assert plain.blend is None
    with torch.no_grad():
        assert ((plain(x[:, :, :1], future[:, :, :0]) - last[:, :, None]).abs() / spread[:, :, None]).max() < 0.01


@pytest.mark.parametrize("truth, share", [("seasonal", 1.0), ("naive", 0.0)])
def test_the_anchor_blend_is_fitted_on_training_windows(truth, share):
    model = Forecaster(ModelConfig(**SEASONAL))
    x, future, y = _seasonal_windows()
    if truth == "naive":
        y = x[:, -1:, 0].expand_as(y)
    model.fit_anchor(x, future, y)
    # step 4 (index 3) of season 4: seasonal naive is the last value itself, the blend is moot and kept at 1
    expected = torch.tensor([share, share, share, 1.0, share, share])
    torch.testing.assert_close(model.blend.share.detach(), expected, atol=1e-4, rtol=0)
    old = Forecaster(ModelConfig(**SEASONAL, seasonal_anchor=False))   # bundles from before: no blend at all
    assert old.blend is None and not any(k.startswith("blend") for k in old.state_dict())


def test_the_anchor_carries_the_change_over_the_last_season_into_a_trend():
    """A season plus a straight line: each step's target is its seasonal naive plus the last season's change
    scaled to the step (h / m seasons on), which the fitted drift per step recovers exactly."""
    model = Forecaster(ModelConfig(**SEASONAL))
    x, future, y = _seasonal_windows()
    slope = torch.randn(len(x), 1, generator=torch.Generator().manual_seed(1))          # per window, per row
    m, T, H = 4, 8, 6
    x = x.clone()
    x[:, :, 0] += slope * torch.arange(T)
    x[:, :, 1] += slope * (torch.arange(T) - m)                                          # one season earlier
    future = future + slope[:, :, None] * (T - m + torch.arange(H) % m)[None, :, None]  # the last season
    y = y + slope * (T + torch.arange(H))
    model.fit_anchor(x, future, y)
    seasons_on = (torch.arange(H) // m + 1).float()      # seasonal naive lags a trend by m rows per season on
    torch.testing.assert_close(model.blend.drift.detach(), seasons_on, atol=1e-3, rtol=1e-3)
    with torch.no_grad():
        model.head.net[-1].weight.zero_()
        torch.testing.assert_close(model.eval()(x, future)[:, :, 1], y, atol=1e-3, rtol=1e-3)

"""Pretrained weights into a forecaster of other inputs, horizon and quantiles: copied by role, never by position."""
import torch

from forecast.models.config import ModelConfig
from forecast.models.forecaster import Forecaster
from forecast.models.pretrained import mismatches, roles, transfer

DECILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SMALL = dict(d_model=16, n_heads=2, layers=2)


def _source() -> Forecaster:
    torch.manual_seed(0)
    # the seasonal layout: the target and its lag channel (known over the horizon), 8 steps, nine deciles
    return Forecaster(ModelConfig(**SMALL, quantiles=DECILES, horizon=8, n_features=2, n_known=1, lag_feature=1))


def _target(**changes) -> tuple[Forecaster, list[str]]:
    """A user's model: target, a past covariate, the lag, two calendar features; 4 steps; three quantiles."""
    torch.manual_seed(1)
    names = ["load", "temp", "load_lag24", "cal_hour_sin", "cal_hour_cos"]
    config = ModelConfig(**{**SMALL, "quantiles": (0.1, 0.5, 0.9), **changes}, horizon=4, n_features=5, n_known=3,
                         lag_feature=2)
    return Forecaster(config), roles(names, 2)


def test_roles_name_the_target_the_lag_the_calendar_and_the_users_covariates():
    assert roles(["load", "temp", "load_lag24", "cal_hour_sin"], 2) == ["target", "covariate:temp", "lag",
                                                                        "cal_hour_sin"]


def test_the_shared_parts_are_copied_and_the_users_own_inputs_keep_their_initialisation():
    source, (target, target_roles) = _source(), _target()
    fresh = {k: v.clone() for k, v in target.state_dict().items()}
    share = transfer(target, source.state_dict(), source.config, ["target", "lag"], target_roles)
    s, t = source.state_dict(), target.state_dict()
    for name in s:
        if name.startswith("encoder."):
            assert torch.equal(t[name], s[name]), name
    w_s, w_t = s["temporal_projection.linear.weight"], t["temporal_projection.linear.weight"]
    assert torch.equal(w_t[:, 0], w_s[:, 0]) and torch.equal(w_t[:, 2], w_s[:, 1])     # target, lag by role
    for j in (1, 3, 4):                                                                 # covariate, calendar
        assert torch.equal(w_t[:, j], fresh["temporal_projection.linear.weight"][:, j])
    # the output layer keeps its near-zero start: the fine-tuned forecast starts at the anchor
    assert torch.equal(t["head.net.3.weight"], fresh["head.net.3.weight"])
    # the head's input: the summary's columns, and the lag's column of each step (target known index 0 <- 0)
    in_s, in_t, d = s["head.net.0.weight"], t["head.net.0.weight"], 16
    assert torch.equal(in_t[:, :d], in_s[:, :d])
    assert torch.equal(in_t[:, d + 3 * 3 + 0], in_s[:, d + 3 * 1 + 0])
    assert torch.equal(in_t[:, d + 3 * 3 + 1], fresh["head.net.0.weight"][:, d + 3 * 3 + 1])   # calendar: fresh
    assert torch.equal(t["blend.share"], fresh["blend.share"])          # the anchor is the user's own fit
    assert 0.5 < share < 1.0


def test_the_whole_checkpoint_for_a_zero_shot_forecast_keeps_its_function_and_silences_unseen_inputs():
    """Zero-shot: the output layer (step h, quantile 0.5 <- decile 0.5) and the anchor are copied too, and the
    columns of inputs the checkpoint never saw are zero, so they cannot move the forecast."""
    source, (target, target_roles) = _source(), _target()
    with torch.no_grad():
        source.blend.share.copy_(torch.linspace(0.1, 0.8, 8))
    transfer(target, source.state_dict(), source.config, ["target", "lag"], target_roles, whole=True)
    s, t = source.state_dict(), target.state_dict()
    out_s, out_t = s["head.net.3.weight"], t["head.net.3.weight"]
    for h in range(4):
        assert torch.equal(out_t[h * 3 + 1], out_s[h * 9 + 4]) and torch.equal(out_t[h * 3 + 2], out_s[h * 9 + 8])
    assert torch.equal(t["blend.share"], s["blend.share"][:4])
    assert not t["temporal_projection.linear.weight"][:, [1, 3, 4]].any()
    target.eval()
    x, future = torch.randn(2, 20, 5), torch.randn(2, 4, 3)
    moved_x, moved_future = x.clone(), future.clone()
    moved_x[:, :, 3:] += 5.0                        # the calendar inputs, in the past and over the horizon
    moved_future[:, :, 1:] += 5.0
    torch.testing.assert_close(target(x, future), target(moved_x, moved_future))


def test_the_transferred_model_forecasts_finite_values_of_its_own_shape():
    source, (target, target_roles) = _source(), _target()
    transfer(target, source.state_dict(), source.config, ["target", "lag"], target_roles)
    target.eval()
    y = target(torch.randn(3, 20, 5), torch.randn(3, 4, 3))
    assert y.shape == (3, 4, 3) and torch.isfinite(y).all()


def test_a_different_architecture_is_named_field_by_field():
    source = _source()
    assert mismatches(source.config, _target()[0].config) == []
    differ = mismatches(source.config, _target(layers=3, aggregator="attention")[0].config)
    assert differ == ["layers=3 (checkpoint 2)", "aggregator=attention (checkpoint mean)"]

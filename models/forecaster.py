"""The forecaster, in data-flow order: projection -> encoder -> aggregator -> head.

    forward(x (B, T, F), future (B, H, K)) -> (B, H, Q) quantiles of the target, in the input's scale.

Feature 0 of x is the target; the last K features of x are known for the future, and `future` holds their
values over the horizon (calendar features, known covariates, the seasonal lag channel: the target one
season earlier, which instance normalisation puts on the target's scale). The features in between are past
covariates, each normalised by its own window mean/std with `covariate_norm`; in training, `covariate_dropout`
hides them from a share of the windows. From the pooled summary and the known future, the head
forecasts the correction to an anchor: with
`seasonal_anchor` (where the lag channel exists) a per-step blend of the naive and seasonal-naive forecasts,
else with `naive_level` the window's last value. The head's last layer starts near zero, so before training
the forecast is the anchor: a small step budget starts from a strong baseline, not from noise. The health
monitor's order check therefore looks at the encoder path (`summary`) alone.
"""
import math

import numpy as np
import torch
from torch import nn

from forecast.models.aggregators import AGGREGATORS
from forecast.models.config import ModelConfig
from forecast.models.encoder import Dropout, EncoderLayer

# floor on a past covariate's window spread, in the panel's scaled units (1 = one training-part std): a
# covariate that barely moves within a window stays near zero instead of having its noise blown up
COVARIATE_SPREAD_FLOOR = 0.1
# the head's last layer starts at this share of its default scale: the forecast starts within a few thousandths
# of a window's spread of its anchor, and the gradient still reaches every layer at the first step (an exactly
# zero layer would leave all upstream gradients zero there: dead columns in the gradient-health checks)
ANCHOR_START = 0.01


class TemporalProjection(nn.Module):
    """Linear(F -> d_model) plus fixed sinusoidal positions, so the model can tell new steps from old."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.linear = nn.Linear(config.n_features, config.d_model)
        position = torch.arange(config.seq_len).unsqueeze(1)                   # (T, 1)
        freq = torch.exp(torch.arange(0, config.d_model, 2) * (-math.log(10000.0) / config.d_model))
        pe = torch.zeros(config.seq_len, config.d_model)
        pe[:, 0::2] = torch.sin(position * freq)
        pe[:, 1::2] = torch.cos(position * freq[: config.d_model // 2])
        self.register_buffer("pe", pe if config.positional_encoding else torch.zeros_like(pe))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + self.pe  # (B, T, d_model)


class Head(nn.Module):
    """(z (B, d_model), future (B, H, K)) -> (B, H, Q): an MLP over the summary and the known future."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.horizon, self.n_quantiles = config.horizon, len(config.quantiles)
        n_in = config.d_model + config.horizon * config.n_known
        self.net = nn.Sequential(nn.Linear(n_in, config.d_model), nn.GELU(), Dropout(config.dropout),
                                 nn.Linear(config.d_model, config.horizon * self.n_quantiles))
        if config.naive_level or config.seasonal_anchor:   # the forecast starts at its anchor (module docstring)
            with torch.no_grad():
                self.net[-1].weight.mul_(ANCHOR_START)
                self.net[-1].bias.zero_()

    def forward(self, z: torch.Tensor, future: torch.Tensor) -> torch.Tensor:
        z = torch.cat([z, future.flatten(1)], dim=1)                                # (B, d_model + H*K)
        return self.net(z).view(-1, self.horizon, self.n_quantiles)                   # (B, H, Q)


class SeasonalBlend(nn.Module):
    """The anchor where the seasonal lag channel exists, on normalised inputs -> (B, H, 1): per horizon step,

        naive + share * (seasonal naive - naive) + drift * (last value - the value a season before it)

    share (0 = naive, 1 = seasonal naive) and drift (the year-over-year change carried into the horizon, the
    trend that neither naive forecast has) are fitted by least squares on training windows before training,
    then learned with the rest."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.column = config.lag_feature - config.n_past              # the lag's column in `future`
        self.lag_column = config.lag_feature                          # and in x
        self.share = nn.Parameter(torch.ones(config.horizon))
        self.drift = nn.Parameter(torch.zeros(config.horizon))

    def _parts(self, x: torch.Tensor, future: torch.Tensor) -> tuple[torch.Tensor, ...]:
        last = x[:, -1:, 0]                                           # (B, 1) the naive forecast
        seasonal = future[:, :, self.column]                          # (B, H) the seasonal naive
        change = last - x[:, -1:, self.lag_column]                    # (B, 1) the change over the last season
        return last, seasonal - last, change

    def forward(self, x: torch.Tensor, future: torch.Tensor) -> torch.Tensor:
        last, seasonal, change = self._parts(x, future)
        return (last + self.share * seasonal + self.drift * change)[:, :, None]

    @torch.no_grad()
    def fit(self, x: torch.Tensor, future: torch.Tensor, y: torch.Tensor) -> None:
        """Least squares per step on normalised windows, share within [0, 1] (kept where the two naive forecasts
        agree: step m of season m, whose seasonal naive is the last value itself)."""
        last, d, g = self._parts(x, future)
        g = g.expand_as(d)
        r = y - last                                                  # (B, H)
        a, b, c = (d * d).sum(0), (d * g).sum(0), (g * g).sum(0) + 1e-6 * len(g)   # a small ridge on drift
        u, v = (d * r).sum(0), (g * r).sum(0)
        det = a * c - b * b
        share = torch.where(a > 1e-12, ((c * u - b * v) / det.clamp_min(1e-12)).clamp(0.0, 1.0), self.share)
        self.share.copy_(share)
        self.drift.copy_((v - share * b) / c)


class Forecaster(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.temporal_projection = TemporalProjection(config)
        layer = EncoderLayer(config.d_model, config.n_heads, config.ff_mult * config.d_model, config.dropout,
                             activation=config.activation, batch_first=True, norm_first=config.norm_first)
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False,
                                             norm=nn.LayerNorm(config.d_model) if config.norm_first else None)
        self.aggregator = AGGREGATORS[config.aggregator](config)
        self.head = Head(config)
        self.blend = SeasonalBlend(config) if config.seasonal_anchor and config.lag_feature >= 0 else None

    def anchor(self, x: torch.Tensor, future: torch.Tensor) -> torch.Tensor | None:
        """On normalised inputs: the forecast before any correction, (B, H, 1), or None (forecast the level)."""
        if self.blend is not None:
            return self.blend(x, future)
        return x[:, -1:, :1] if self.config.naive_level else None

    @torch.no_grad()
    def fit_anchor(self, x: torch.Tensor, future: torch.Tensor, y: torch.Tensor) -> None:
        """Fit the seasonal blend (if any) on raw training windows: x (B, T, F), future (B, H, K), y (B, H)."""
        if self.blend is not None:
            x, future, loc, spread = self.normalise(x, future)
            self.blend.fit(x, future, (y - loc[:, :, 0]) / spread[:, :, 0])

    def normalise(self, x: torch.Tensor, future: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Each window's target (and its seasonal lag, in x and over the horizon) on the window's own scale
        (instance normalisation: its mean, and its std plus `spread_floor`), and with `covariate_norm` each past
        covariate on its own: (x, future, loc, spread), loc and spread to undo it on the output."""
        c = self.config
        loc, spread = torch.zeros_like(x[:, :1, :1]), torch.ones_like(x[:, :1, :1])
        x, future = x.clone(), future.clone()
        n_past = c.n_past                                                       # the target and the past covariates
        if c.covariate_norm and n_past > 1:
            cov = x[:, :, 1:n_past]
            x[:, :, 1:n_past] = ((cov - cov.mean(dim=1, keepdim=True))
                                 / (cov.std(dim=1, keepdim=True, unbiased=False) + COVARIATE_SPREAD_FLOOR))
        if not c.instance_norm:
            return x, future, loc, spread
        loc = x[:, :, :1].mean(dim=1, keepdim=True)                             # (B, 1, 1)
        spread = x[:, :, :1].std(dim=1, keepdim=True, unbiased=False) + c.spread_floor   # (B, 1, 1)
        j = c.lag_feature
        target_like = [0, j] if j >= 0 else [0]                                 # the target and its lag
        x[:, :, target_like] = (x[:, :, target_like] - loc) / spread
        if j >= 0:
            k = j - n_past                                                      # the lag's column in `future`
            future[:, :, k:k + 1] = (future[:, :, k:k + 1] - loc) / spread
        return x, future, loc, spread

    def hide_covariates(self, x: torch.Tensor) -> torch.Tensor:
        """Training only: zero the past covariates (their window mean, once normalised) in a random share
        `covariate_dropout` of the windows, so the model also learns to forecast from the target alone."""
        n_past = self.config.n_past
        if n_past < 2 or not self.config.covariate_dropout:
            return x
        keep = (torch.rand(x.shape[0], 1, 1, device=x.device) >= self.config.covariate_dropout).to(x.dtype)
        x = x.clone()
        x[:, :, 1:n_past] = x[:, :, 1:n_past] * keep
        return x

    def summary(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder path on a normalised window: projection (positions added) -> encoder -> aggregator."""
        return self.aggregator(self.encoder(self.temporal_projection(x)))     # (B, d_model)

    def forward(self, x: torch.Tensor, future: torch.Tensor) -> torch.Tensor:
        x, future, loc, spread = self.normalise(x, future)
        if self.training:
            x = self.hide_covariates(x)
        y = self.head(self.summary(x), future)                                # (B, H, Q)
        anchor = self.anchor(x, future)
        if anchor is not None:                                                  # the head forecasts the correction
            y = y + anchor
        return y * spread + loc


@torch.no_grad()
def predict_quantiles(model: Forecaster, batches) -> np.ndarray:
    """(N, H, Q) quantile forecasts of (x, future) batches, in order, quantiles sorted (no crossing): the one
    inference path of evaluation, backtest, predict and serving. Puts the model in eval mode once."""
    if model.training:      # eval() walks every module: not at every request of a loaded model
        model.eval()
    out = [model(x, future).numpy() for x, future in batches]
    if not out:
        return np.zeros((0, model.config.horizon, len(model.config.quantiles)), dtype=np.float32)
    return np.sort(np.concatenate(out), axis=-1)

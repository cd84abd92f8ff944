"""The forecaster, in data-flow order: projection -> encoder -> aggregator -> head.

    forward(x (B, T, F), future (B, H, K)) -> (B, H, Q) quantiles of the target, in the input's scale.

Feature 0 of x is the target; the last K features of x are known for the future, and `future` holds their
values over the horizon (calendar features, known covariates, the seasonal lag channel: the target one
season earlier, which instance normalisation puts on the target's scale). The features in between are past
covariates, each normalised by its own window mean/std with `covariate_norm`; in training, `covariate_dropout`
hides them from a share of the windows. Besides the pooled summary, the head reads the
window's normalised target itself (`target_skip`) and, with `naive_level`, forecasts the change from its last
value; the health monitor's order check therefore looks at the encoder path (`summary`) alone.
"""
import math

import torch
from torch import nn

from models.aggregators import AGGREGATORS
from models.config import ModelConfig


# floor on a past covariate's window spread, in the panel's scaled units (1 = one training-part std): a
# covariate that barely moves within a window stays near zero instead of having its noise blown up
COVARIATE_SPREAD_FLOOR = 0.1


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
    """(z (B, d_model), future (B, H, K), target (B, T)) -> (B, H, Q): an MLP over the summary, the known
    future and (with `target_skip`) the window's target values themselves; with `known_skip`, plus a linear
    map of each step's own known features, shared by the steps and zero at the start (the MLP sees the
    H*K flattened values through one hidden layer, which blurs "this step, one season ago")."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.horizon, self.n_quantiles, self.skip = config.horizon, len(config.quantiles), config.target_skip
        n_in = config.d_model + config.horizon * config.n_known + (config.seq_len if self.skip else 0)
        self.net = nn.Sequential(nn.Linear(n_in, config.d_model), nn.GELU(), nn.Dropout(config.dropout),
                                 nn.Linear(config.d_model, config.horizon * self.n_quantiles))
        self.known = None
        if config.known_skip and config.n_known:
            self.known = nn.Linear(config.n_known, self.n_quantiles)              # (B, H, K) -> (B, H, Q)
            nn.init.zeros_(self.known.weight)
            nn.init.zeros_(self.known.bias)

    def forward(self, z: torch.Tensor, future: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        z = torch.cat([z, future.flatten(1), *([target] if self.skip else [])], dim=1)  # (B, d_model + H*K [+ T])
        y = self.net(z).view(-1, self.horizon, self.n_quantiles)                        # (B, H, Q)
        return y if self.known is None else y + self.known(future)


class Forecaster(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.temporal_projection = TemporalProjection(config)
        layer = nn.TransformerEncoderLayer(config.d_model, config.n_heads, config.ff_mult * config.d_model,
                                           config.dropout, activation=config.activation, batch_first=True,
                                           norm_first=config.norm_first)
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False,
                                             norm=nn.LayerNorm(config.d_model) if config.norm_first else None)
        self.aggregator = AGGREGATORS[config.aggregator](config)
        self.head = Head(config)

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
        y = self.head(self.summary(x), future, x[:, :, 0])                    # (B, H, Q)
        if self.config.naive_level:       # the head forecasts the change from the last value
            y = y + x[:, -1:, :1]
        return y * spread + loc

"""The forecaster, in data-flow order: projection -> encoder -> aggregator -> head.

    forward(x (B, T, F), future (B, H, K)) -> (B, H, Q) quantiles of the target, in the input's scale.

Feature 0 of x is the target; the last K features of x are known for the future, and `future` holds their
values over the horizon (calendar features, known covariates).
"""
import math

import torch
from torch import nn

from models.aggregators import AGGREGATORS
from models.config import ModelConfig


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
        self.net = nn.Sequential(nn.Linear(n_in, config.d_model), nn.GELU(), nn.Dropout(config.dropout),
                                 nn.Linear(config.d_model, config.horizon * self.n_quantiles))

    def forward(self, z: torch.Tensor, future: torch.Tensor) -> torch.Tensor:
        z = torch.cat([z, future.flatten(1)], dim=1)                          # (B, d_model + H*K)
        return self.net(z).view(-1, self.horizon, self.n_quantiles)           # (B, H, Q)


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

    def forward(self, x: torch.Tensor, future: torch.Tensor) -> torch.Tensor:
        if self.config.instance_norm:  # each window's target on its own scale, undone on the output
            loc = x[:, :, :1].mean(dim=1, keepdim=True)                             # (B, 1, 1)
            spread = x[:, :, :1].std(dim=1, keepdim=True, unbiased=False) + 1e-5    # (B, 1, 1)
            x = torch.cat([(x[:, :, :1] - loc) / spread, x[:, :, 1:]], dim=2)
        h = self.temporal_projection(x)   # (B, T, d_model), positions added
        h = self.encoder(h)               # (B, T, d_model)
        z = self.aggregator(h)            # (B, d_model)
        y = self.head(z, future)          # (B, H, Q)
        if self.config.instance_norm:
            y = y * spread + loc
        return y

"""Aggregators over time: (B, T, d_model) -> (B, d_model). The four options the product started with
(docs/gradient_health.md, "Where it comes from").

A new aggregator is one class taking ModelConfig and one line in AGGREGATORS. Each exposes
`time_weights(h) -> (B, T)`, the weight it gives each timestep, which the gradient-health monitor reads.
"""
import torch
from torch import nn

from forecast.models.config import ModelConfig


class MeanPooling(nn.Module):
    """z = mean_t h_t. Each timestep gets exactly 1/T of the pooled gradient: a pure scale, never a zero."""

    def __init__(self, config: ModelConfig):
        super().__init__()

    def time_weights(self, h: torch.Tensor) -> torch.Tensor:
        return torch.full(h.shape[:2], 1.0 / h.shape[1], dtype=h.dtype, device=h.device)  # (B, T)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.mean(dim=1)  # (B, d_model)


class LearnablePooling(nn.Module):
    """z = sum_t softmax(w)_t h_t with one learnable weight per timestep, initialised uniform (= mean)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(config.seq_len))

    def time_weights(self, h: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.weight, dim=0).expand(h.shape[0], -1)  # (B, T)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bt,btd->bd", self.time_weights(h), h)  # (B, d_model)


class WeightedTemporalAggregator(LearnablePooling):
    """Learnable pooling, then a sigmoid gate: z = p * sigmoid(W p + b), p = sum_t softmax(w)_t h_t."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.gate = nn.Linear(config.d_model, config.d_model)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        pooled = super().forward(h)               # (B, d_model)
        gate = torch.sigmoid(self.gate(pooled))   # (B, d_model)
        return pooled * gate


class AttentionAggregator(nn.Module):
    """Score each timestep with Linear(d_model, 1), scale by d_model ** -0.5, softmax over time, weighted sum."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.score = nn.Linear(config.d_model, 1)
        self.scale = config.d_model ** -0.5

    def time_weights(self, h: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.score(h).squeeze(-1) * self.scale, dim=1)  # (B, T)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bt,btd->bd", self.time_weights(h), h)  # (B, d_model)


AGGREGATORS = {"mean": MeanPooling, "learnable": LearnablePooling,
               "weighted": WeightedTemporalAggregator, "attention": AttentionAggregator}

"""ModelConfig and OptimConfig: the network's shape and how it is optimised. Invariants fail fast."""
import math
from dataclasses import dataclass, field

AGGREGATOR_NAMES = ("mean", "learnable", "weighted", "attention")
DECILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)   # the default quantiles (docs/benchmarks.md: "Nine deciles")


class ConfigError(ValueError):
    """An impossible model or optimiser setting; the message names the option."""


@dataclass(frozen=True)
class ModelConfig:
    d_model: int = field(default=64, metadata={"help": "Width of the transformer."})
    n_heads: int = field(default=4, metadata={"help": "Attention heads (must divide --d-model)."})
    layers: int = field(default=8, metadata={"help": "Transformer encoder layers."})
    ff_mult: int = field(default=2, metadata={"help": "Feed-forward width as a multiple of --d-model."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout in the encoder and head."})
    aggregator: str = field(default="mean", metadata={
        "help": "Aggregation over time: mean|learnable|weighted|attention."})
    quantiles: tuple[float, ...] = field(default=DECILES, metadata={
        "help": "Comma-separated quantiles to forecast (the median is the point forecast; default the nine deciles, "
                "as the field's WQL tables score)."})
    instance_norm: bool = field(default=True, metadata={
        "help": "Normalise each input window's target by its own mean/std (and undo it on the output)."})
    covariate_norm: bool = field(default=True, metadata={
        "help": "Normalise each past covariate by its own window mean/std too: robust to covariate levels that drift; "
                "turn off when a covariate's level itself is the signal."})
    covariate_dropout: float = field(default=0.75, metadata={
        "help": "In training, the share of windows whose past covariates are hidden (set to their window mean), so the "
                "forecast never leans on them alone."})
    norm_first: bool = field(default=True, metadata={"help": "Pre-LN encoder layers (post-LN when off)."})
    activation: str = field(default="gelu", metadata={"help": "Feed-forward activation: gelu|relu."})
    naive_level: bool = field(default=True, metadata={
        "help": "Forecast the change from the window's last value (the naive forecast, as NHiTS does) rather than the "
                "level itself."})
    seasonal_anchor: bool = field(default=True, metadata={
        "help": "Where the seasonal lag channel exists, start each horizon step from a blend of the naive and "
                "seasonal-naive forecasts (the blend per step fitted on the training windows, then learned) and "
                "forecast the correction; the forecast equals that blend before training."})
    spread_floor: float = field(default=0.1, metadata={
        "help": "Added to each window's target spread in instance normalisation, in units of the series' training-part "
                "spread: a flat or quiet window (a stuck sensor, a calm night) no longer has its noise, its seasonal "
                "lag and its forecast's change blown up."})
    positional_encoding: bool = field(default=True, metadata={
        "help": "Add sinusoidal positions in temporal_projection (off makes mean/attention pooling blind to time "
                "order)."})
    # set from the data, not by the user
    seq_len: int = field(default=20, metadata={"derived": True})
    horizon: int = field(default=24, metadata={"derived": True})
    n_features: int = field(default=1, metadata={"derived": True})
    n_known: int = field(default=0, metadata={"derived": True})
    lag_feature: int = field(default=-1, metadata={"derived": True})  # the seasonal lag channel's column, -1 = none

    def __post_init__(self):
        if self.d_model < 1 or self.n_heads < 1 or self.d_model % self.n_heads:
            raise ConfigError(f"--d-model ({self.d_model}) must be a positive multiple of --n-heads ({self.n_heads})")
        if self.layers < 1:
            raise ConfigError(f"--layers must be at least 1, got {self.layers}")
        if self.ff_mult < 1:
            raise ConfigError(f"--ff-mult must be at least 1, got {self.ff_mult}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"--dropout must be in [0, 1), got {self.dropout}")
        if self.spread_floor <= 0.0:
            raise ConfigError(f"--spread-floor must be positive, got {self.spread_floor}")
        if not 0.0 <= self.covariate_dropout < 1.0:
            raise ConfigError(f"--covariate-dropout must be in [0, 1), got {self.covariate_dropout}")
        if self.aggregator not in AGGREGATOR_NAMES:
            raise ConfigError(f"--aggregator must be one of {', '.join(AGGREGATOR_NAMES)}, got {self.aggregator!r}")
        if self.activation not in ("gelu", "relu"):
            raise ConfigError(f"--activation must be gelu or relu, got {self.activation!r}")
        q = self.quantiles
        if not q or any(not 0.0 < x < 1.0 for x in q) or list(q) != sorted(set(q)):
            raise ConfigError(f"--quantiles must be increasing values in (0, 1), got {','.join(map(str, q))}")
        if 0.5 not in q:
            raise ConfigError("--quantiles must include 0.5: the median is the point forecast")
        if min(self.seq_len, self.horizon, self.n_features) < 1 or self.n_known < 0:
            raise ConfigError("seq_len, horizon and n_features must be positive")
        if self.lag_feature >= 0 and not self.n_past <= self.lag_feature < self.n_features:
            raise ConfigError("the seasonal lag channel must be one of the known features")

    @property
    def n_past(self) -> int:
        """Features observed only up to the origin: the target (column 0), then the past covariates."""
        return self.n_features - self.n_known

    @property
    def median_index(self) -> int:
        return self.quantiles.index(0.5)


@dataclass(frozen=True)
class OptimConfig:
    lr: float = field(default=1e-3, metadata={"help": "Peak learning rate (AdamW)."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    warmup_frac: float = field(default=0.05, metadata={
        "help": "Share of the steps spent warming the learning rate up."})
    grad_clip: float = field(default=1.0, metadata={"help": "Clip the global gradient norm to this (0 = off)."})

    def __post_init__(self):
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise ConfigError(f"--lr must be a positive number, got {self.lr}")
        if not 0.0 <= self.warmup_frac < 1.0:
            raise ConfigError(f"--warmup-frac must be in [0, 1), got {self.warmup_frac}")
        if not (math.isfinite(self.weight_decay) and math.isfinite(self.grad_clip)) \
                or self.weight_decay < 0 or self.grad_clip < 0:
            raise ConfigError("--weight-decay and --grad-clip must be non-negative")


@dataclass(frozen=True)
class HealthConfig:
    health_every: int = field(default=50, metadata={"help": "Gradient-health check every N optimiser steps (0 = off)."})
    health_persistence: int = field(default=3, metadata={
        "help": "Consecutive checks a condition must hold before it is diagnosed."})
    attention_samples: int = 8

    def __post_init__(self):
        if self.health_every < 0 or self.health_persistence < 1:
            raise ConfigError("--health-every must be >= 0 and --health-persistence >= 1")

"""A pretrained checkpoint's weights into a forecaster built for other data: by role, not by position.

A checkpoint is pretrained on a fixed input layout (the target, and in the seasonal one its lag channel) and a
long horizon with nine deciles. A user's forecaster may have more inputs (covariates, calendar features),
another horizon, other quantiles. `transfer` copies every tensor whose meaning is the same:

- the encoder, the aggregator and the head's hidden layer's bias: as they are (the same architecture);
- temporal_projection's columns of the inputs both have, by role (`roles`: the target, its lag, a calendar
  feature by name); the user's other columns keep their fresh initialisation;
- the head's input columns of the pooled summary, and of each known future input both have, for the first
  min(H, H') steps.

Not copied: the head's output layer, which keeps its near-zero start (models/forecaster.py: ANCHOR_START), so that
fine-tuning starts from the anchor's forecast and learns the corrections from pretrained features; and the
seasonal blend (the anchor itself), fitted on the user's own windows before training. Copying the output layer
too made the fine-tuned forecast worse on 5 of 6 suite datasets (docs/pretraining.md).
"""
from dataclasses import asdict

import torch

from forecast.models.config import ModelConfig

# fields that fix what the weights compute: any difference and the checkpoint does not apply
ARCHITECTURE = ("d_model", "n_heads", "layers", "ff_mult", "aggregator", "activation", "norm_first",
                "positional_encoding", "instance_norm", "naive_level", "seasonal_anchor", "seq_len")


def roles(feature_names: list[str], lag_feature: int) -> list[str]:
    """Each input's role: `target` (column 0), `lag` (the seasonal lag channel), a calendar feature by its name
    (`cal_...`), and the user's own covariates as `covariate:<name>` (never in a checkpoint)."""
    out = []
    for i, name in enumerate(feature_names):
        if i == 0:
            out.append("target")
        elif i == lag_feature:
            out.append("lag")
        elif name.startswith("cal_"):
            out.append(name)
        else:
            out.append(f"covariate:{name}")
    return out


def mismatches(source: ModelConfig, target: ModelConfig) -> list[str]:
    """The architecture fields where the checkpoint differs from the model to be trained, as `name=value`."""
    s, t = asdict(source), asdict(target)
    return [f"{k}={t[k]} (checkpoint {s[k]})" for k in ARCHITECTURE if s[k] != t[k]]


def _known_roles(config: ModelConfig, feature_roles: list[str]) -> list[str]:
    return feature_roles[config.n_features - config.n_known:]


@torch.no_grad()
def transfer(model: torch.nn.Module, state: dict, source: ModelConfig, source_roles: list[str],
             target_roles: list[str], whole: bool = False) -> float:
    """Copy the checkpoint `state` (a Forecaster's state_dict built with `source`) into `model` (see the module
    docstring); returns the share of the model's parameters that came from the checkpoint. `whole` (a zero-shot
    forecast, no training): the checkpoint's function as it is, its output layer and its anchor included, and
    the inputs it has never seen silenced (their weights zero) rather than left at random."""
    target: ModelConfig = model.config
    d = target.d_model
    columns = [(j, source_roles.index(r)) for j, r in enumerate(target_roles) if r in source_roles]
    known_t, known_s = _known_roles(target, target_roles), _known_roles(source, source_roles)
    known = [(j, known_s.index(r)) for j, r in enumerate(known_t) if r in known_s]
    quantiles = [(j, source.quantiles.index(q)) for j, q in enumerate(target.quantiles) if q in source.quantiles]
    steps = range(min(target.horizon, source.horizon))
    copied = 0
    for name, param in model.state_dict().items():
        if name not in state or (name.startswith(("blend.", "head.net.3.")) and not whole):
            continue   # the anchor and the output layer start afresh for fine-tuning (module docstring)
        src = state[name]
        if name == "temporal_projection.linear.weight":
            if whole:
                param.zero_()
            for j, i in columns:
                param[:, j] = src[:, i]
            copied += param.shape[0] * len(columns)
        elif name == "head.net.0.weight":
            if whole:
                param[:, d:] = 0.0
            param[:, :d] = src[:, :d]
            for h in steps:
                for j, i in known:
                    param[:, d + h * target.n_known + j] = src[:, d + h * source.n_known + i]
            copied += param.shape[0] * (d + len(steps) * len(known))
        elif name.startswith("head.net.3."):
            q_t, q_s = len(target.quantiles), len(source.quantiles)
            for h in steps:
                for j, i in quantiles:
                    param[h * q_t + j] = src[h * q_s + i]
            copied += param[0].numel() * len(steps) * len(quantiles)
        elif name.startswith("blend."):
            param[:len(steps)] = src[:len(steps)]
            copied += len(steps)
        elif param.shape == src.shape:
            param.copy_(src)
            copied += param.numel()
    total = sum(p.numel() for n, p in model.state_dict().items() if whole or not n.startswith("blend."))
    return copied / max(total, 1)

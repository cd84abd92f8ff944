"""`forecast train` starts from the shipped pretrained checkpoint (`forecast pretrain` wrote it; it ships in the
package as models/checkpoints/<layout>.pt): `plain` where the data has no seasonal lag channel, `seasonal` where
it has. The weights are mapped by role (models/pretrained.py); an architecture option that differs from the
checkpoint's keeps random weights, and the log says so in one line."""
from dataclasses import replace
from importlib import resources
from pathlib import Path

import torch

from forecast.data.prepare import DataSpec
from forecast.models.config import ModelConfig
from forecast.models.pretrained import mismatches, roles, transfer
from forecast.pipelines.config import TrainConfig

# the step budget of a run that starts from the checkpoint, unless --max-steps says otherwise: on the suite's
# fifteen datasets 200 steps from it beat 500 from random weights (docs/benchmarks.md, 2026-12-07)
PRETRAINED_STEPS = 200


def checkpoint_path(layout: str) -> Path:
    return Path(str(resources.files("forecast.models") / "checkpoints" / f"{layout}.pt"))


def read_checkpoint(path: Path) -> tuple[dict, ModelConfig]:
    """The checkpoint's contents (pipelines/training/pretrain.py: save) and its architecture."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    settings = dict(checkpoint["model_config"])
    settings["quantiles"] = tuple(settings["quantiles"])
    return checkpoint, ModelConfig(**settings)


def fits(model: ModelConfig, spec: DataSpec) -> bool:
    """Whether training `model` on `spec`'s data starts from a checkpoint: one is installed for its layout and its
    architecture is the checkpoint's."""
    path = checkpoint_path("seasonal" if spec.lag else "plain")
    return path.exists() and not mismatches(read_checkpoint(path)[1], replace(model, seq_len=spec.seq_len))


def with_steps(config: TrainConfig, spec: DataSpec) -> TrainConfig:
    """`config` with its step budget resolved: --max-steps as given, else `PRETRAINED_STEPS` where training starts
    from the pretrained checkpoint, else no bound (the epoch cap, early stopping and the time budget decide)."""
    if config.max_steps is not None:
        return config
    pretrained = config.pretrained and not config.init_from and fits(config.model, spec)
    return replace(config, max_steps=PRETRAINED_STEPS if pretrained else -1)


def start_from_pretrained(model: torch.nn.Module, spec: DataSpec) -> tuple[str, bool]:
    """Load the matching checkpoint into `model` (built for `spec`'s data). Returns where the weights started, in
    words (the run's `forecast.start` tag; training logs it once the run's store is known to work), and whether
    that is worth a warning (the checkpoint missing, or not fitting the architecture asked for)."""
    layout = "seasonal" if spec.lag else "plain"
    path = checkpoint_path(layout)
    if not path.exists():
        return f"random weights: no pretrained {layout} checkpoint in this installation ({path})", True
    checkpoint, source = read_checkpoint(path)
    differ = mismatches(source, model.config)
    if differ:
        return (f"random weights: the pretrained {layout} checkpoint does not fit {', '.join(differ)} (leave those "
                "options at their defaults to start from it)"), True
    share = transfer(model, checkpoint["state_dict"], source, checkpoint["roles"],
                     roles(spec.feature_names, spec.lag_feature))
    return f"the pretrained {layout} checkpoint ({share:.0%} of the weights)", False

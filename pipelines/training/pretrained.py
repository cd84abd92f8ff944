"""`forecast train` starts from the shipped pretrained checkpoint (`forecast pretrain` wrote it; it ships in the
package as models/checkpoints/<layout>.pt): `plain` where the data has no seasonal lag channel, `seasonal` where
it has. `start_for` decides once, reading the checkpoint once, where a run's weights start; that decides its
step budget (`with_steps`) and, after the model is built, its weights (`Start.apply`: mapped by role,
models/pretrained.py). An architecture option that differs from the checkpoint's keeps random weights, and the
log says so in one line."""
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import torch

from forecast.data.prepare import DataSpec
from forecast.models.config import ModelConfig
from forecast.models.pretrained import mismatches, roles, transfer
from forecast.pipelines.config import TrainConfig
from forecast.pipelines.errors import ForecastError

# the step budget of a run that starts from the checkpoint, unless --max-steps says otherwise: on the suite's
# fifteen datasets 200 steps from it beat 500 from random weights (docs/benchmarks.md, 2026-12-07)
PRETRAINED_STEPS = 200


def layout_of(spec: DataSpec) -> str:
    """The checkpoint for `spec`'s inputs: with the seasonal lag channel or without."""
    return "seasonal" if spec.lag else "plain"


def checkpoint_path(layout: str) -> Path:
    return Path(str(resources.files("forecast.models") / "checkpoints" / f"{layout}.pt"))


def read_checkpoint(path: Path) -> tuple[dict, ModelConfig]:
    """The checkpoint's contents (pipelines/training/pretrain.py: save) and its architecture; one line where the
    installation lacks it."""
    if not path.exists():
        raise ForecastError(f"no pretrained checkpoint in this installation ({path}); reinstall the package, or "
                            "write one with forecast pretrain --output <that folder>")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    settings = dict(checkpoint["model_config"])
    settings["quantiles"] = tuple(settings["quantiles"])
    return checkpoint, ModelConfig(**settings)


@dataclass(frozen=True)
class Start:
    """Where a run's weights start: `said` in words (the run's `forecast.start` tag, logged once the store is known
    to work), `warning` where the pretrained start was asked for and not possible, and the checkpoint to load."""
    said: str = "random weights"
    warning: bool = False
    checkpoint: dict | None = None
    source: ModelConfig | None = None

    @property
    def pretrained(self) -> bool:
        return self.checkpoint is not None

    def apply(self, model: torch.nn.Module, spec: DataSpec) -> str:
        """Load the checkpoint (if any) into `model`, built for `spec`'s data; returns `said`, with the share of
        the weights that came from it."""
        if not self.pretrained:
            return self.said
        share = transfer(model, self.checkpoint["state_dict"], self.source, self.checkpoint["roles"],
                         roles(spec.feature_names, spec.lag_feature))
        return f"{self.said} ({share:.0%} of the weights)"


def start_for(config: TrainConfig, spec: DataSpec) -> Start:
    """The pretrained checkpoint where `config` asks for it (and no warm start) and it fits the architecture."""
    if config.init_from:
        return Start(f"warm start from {config.init_from}")
    if not config.pretrained:
        return Start()
    layout = layout_of(spec)
    path = checkpoint_path(layout)
    if not path.exists():
        return Start(f"random weights: no pretrained {layout} checkpoint in this installation ({path})", True)
    checkpoint, source = read_checkpoint(path)
    differ = mismatches(source, replace(config.model, seq_len=spec.seq_len))
    if differ:
        return Start(f"random weights: the pretrained {layout} checkpoint does not fit {', '.join(differ)} (leave "
                     "those options at their defaults to start from it)", True)
    return Start(f"the pretrained {layout} checkpoint", False, checkpoint, source)


def with_steps(config: TrainConfig, start: Start) -> TrainConfig:
    """`config` with its step budget resolved: --max-steps as given, else `PRETRAINED_STEPS` where training starts
    from the pretrained checkpoint, else no bound (the epoch cap, early stopping and the time budget decide)."""
    if config.max_steps is not None:
        return config
    return replace(config, max_steps=PRETRAINED_STEPS if start.pretrained else -1)

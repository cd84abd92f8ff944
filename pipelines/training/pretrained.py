"""`forecast train` starts from the shipped pretrained checkpoint (`forecast pretrain` wrote it; it ships in the
package as models/checkpoints/<layout>.pt): `plain` where the data has no seasonal lag channel, `seasonal` where
it has. The weights are mapped by role (models/pretrained.py); an architecture option that differs from the
checkpoint's keeps random weights, and the log says so in one line."""
from importlib import resources
from pathlib import Path

import torch

from forecast.data.prepare import DataSpec
from forecast.models.config import ModelConfig
from forecast.models.pretrained import mismatches, roles, transfer


def checkpoint_path(layout: str) -> Path:
    return Path(str(resources.files("forecast.models") / "checkpoints" / f"{layout}.pt"))


def read_checkpoint(path: Path) -> tuple[dict, ModelConfig]:
    """The checkpoint's contents (pipelines/training/pretrain.py: save) and its architecture."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    settings = dict(checkpoint["model_config"])
    settings["quantiles"] = tuple(settings["quantiles"])
    return checkpoint, ModelConfig(**settings)


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

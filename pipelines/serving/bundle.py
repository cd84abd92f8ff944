"""The model bundle: what a logged model carries besides code. Config + weights (model.pt), data spec with
scalers (spec.json), the network's combination with statistical members chosen in training (combination.json,
weights by member name; a bundle from before it has none: the network alone; an older one a Theta weight), the
short-series forecast chosen in training (fallback.json; none: the old rule, seasonal naive). Plain tensors and
JSON: nothing pickled by class reference."""
import json
from dataclasses import asdict
from pathlib import Path

import torch

from forecast.data.prepare import DataSpec
from forecast.models.combination import Combination
from forecast.models.config import ModelConfig
from forecast.models.forecaster import Forecaster
from forecast.models.short_series import Fallback
from forecast.pipelines.errors import ForecastError

# options added after bundles were first saved, with what the code computed before each existed: an older
# bundle keeps computing that, whatever the option's default is now
BEFORE_OPTION = {"covariate_norm": False, "naive_level": False, "spread_floor": 1e-5, "seasonal_anchor": False}
# options since removed, with the value every bundle that can still be loaded has (they were never defaults)
REMOVED_OPTION = {"target_skip": False, "known_skip": False}


def save_bundle(directory: Path, model: Forecaster, spec: DataSpec, combination: Combination = Combination(),
                fallback: Fallback = Fallback()) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    torch.save({"config": asdict(model.config), "state_dict": model.state_dict()}, directory / "model.pt")
    (directory / "spec.json").write_text(json.dumps(spec.to_dict()))
    (directory / "combination.json").write_text(json.dumps(combination.to_dict()))
    (directory / "fallback.json").write_text(json.dumps(fallback.to_dict()))
    return directory


def load_bundle(directory: str | Path) -> tuple[Forecaster, DataSpec, Combination, Fallback]:
    """(model, spec, combination, fallback)."""
    directory = Path(directory)
    checkpoint = torch.load(directory / "model.pt", map_location="cpu", weights_only=True)
    config = {**BEFORE_OPTION, **{k: tuple(v) if isinstance(v, list) else v for k, v in checkpoint["config"].items()}}
    for name, value in REMOVED_OPTION.items():
        if config.pop(name, value) != value:
            raise ForecastError(f"this model was trained with --{name.replace('_', '-')}, an option since removed: "
                                "retrain it with this version")
    model = Forecaster(ModelConfig(**config))
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    spec = DataSpec.from_dict(json.loads((directory / "spec.json").read_text()))
    combination = directory / "combination.json"
    combination = Combination.from_dict(json.loads(combination.read_text())) if combination.exists() else Combination()
    fallback = directory / "fallback.json"
    fallback = Fallback.from_dict(json.loads(fallback.read_text())) if fallback.exists() else Fallback()
    return model, spec, combination, fallback

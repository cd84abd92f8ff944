"""Warm start: a new training run that starts from a logged model's weights (`--init-from models:/forecaster@champion`).

The source model fixes what its weights mean, so the new run takes from it the architecture (every ModelConfig
field) and the data settings that shape the inputs (seq_len, horizon, season, the seasonal lag channel, the fill,
and the columns: id, time, target, covariates). A setting the user gives that differs from the source's is refused
by name. The split (validation share, test windows), the optimiser and the budget stay the user's.

The scalers are refitted on the new data, not kept: a series' level and spread move over time (that is why one
retrains), and scaling the new history with the old statistics would feed the network inputs off the scale it
learned; refitted, the inputs keep the distribution the weights were trained on. The combination weights and the
short-series fallback are chosen again on the new validation windows.
"""
from dataclasses import asdict, fields

import torch

from forecast.data.prepare import DataSpec
from forecast.models.config import ModelConfig
from forecast.pipelines.config import TrainConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.serving.loading import load_predictor
from forecast.pipelines.tracking import use_store

LINEAGE_TAG = "forecast.init_from"


def train_config(data_path: str, options: dict) -> TrainConfig:
    """A training run's config from flat options (the CLI's train, compare and benchmark, and the Python API's
    `fit`: one resolution for both): with `init_from`, the source model's architecture and data settings."""
    if options.get("init_from"):
        use_store(options.get("tracking_uri"), reads=options["init_from"])
        options = {**options, **settings_from_source(options["init_from"], options)}
    return TrainConfig.from_options(data_path, options)


def source_settings(model_uri: str) -> tuple[dict, dict]:
    """The source model's data settings (DataConfig field -> value) and architecture (ModelConfig field -> value)."""
    source = load_predictor(model_uri)
    model, spec = source.model, source.spec
    s = spec.schema
    data = {"seq_len": spec.seq_len, "horizon": spec.horizon, "season_length": spec.freq.season_length,
            "seasonal_lag": bool(spec.lag), "fill": spec.fill, "target": s.target, "time_col": s.time_col,
            "id_col": ",".join(s.id_parts) if s.id_parts else s.id_col, "covariates": tuple(s.covariates),
            "known_covariates": tuple(s.known_covariates), "time_unit": s.time_unit, "holidays": spec.holidays}
    derived = {f.name for f in fields(ModelConfig) if f.metadata.get("derived")}
    architecture = {k: v for k, v in asdict(model.config).items() if k not in derived}
    return data, architecture


def settings_from_source(model_uri: str, given: dict) -> dict:
    """The data and model options for a warm start: the source's, where `given` (the options the user set, by
    field name) agrees or is silent; one ForecastError naming every option that conflicts."""
    data, architecture = source_settings(model_uri)
    source = {**data, **architecture}
    conflicts = [f"--{name.replace('_', '-')} {_shown(value)} (the source has {_shown(source[name])})"
                 for name, value in given.items() if name in source and value is not None
                 and _normal(value) != _normal(source[name])]
    if conflicts:
        raise ForecastError(f"--init-from {model_uri}: " + "; ".join(conflicts) + ": a warm start takes the "
                            "architecture and the data settings from the source model; leave these out")
    return source


def _normal(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _shown(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def load_weights(model: torch.nn.Module, spec: DataSpec, model_uri: str) -> None:
    """The source's weights into `model`, built for the new data; refused in one line where the inputs differ."""
    source = load_predictor(model_uri)
    source, source_spec = source.model, source.spec
    if source_spec.freq.alias != spec.freq.alias:   # its season, lag and calendar would mean other spans of time
        raise ForecastError(f"--init-from {model_uri}: the new data steps every {spec.freq.alias!r}, the source "
                            f"model's every {source_spec.freq.alias!r} (its season of "
                            f"{source_spec.freq.season_length} steps would span another time here); warm-start from a "
                            "model of the same frequency, or train from scratch")
    if source_spec.feature_names != spec.feature_names:
        raise ForecastError(f"--init-from {model_uri}: the new data's inputs {spec.feature_names} differ from the "
                            f"source model's {source_spec.feature_names}")
    model.load_state_dict(source.state_dict())

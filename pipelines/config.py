"""TrainConfig: one training run, owning the data, model and optimiser configs."""
import math
import os
import re
from dataclasses import asdict, dataclass, field, fields

from forecast.data.config import DataConfig
from forecast.models.config import DECILES, ConfigError, HealthConfig, ModelConfig, OptimConfig

UNITS = {"s": 1, "m": 60, "h": 3600}


def given(cls, options: dict, **extra):
    """An instance of the config `cls` from flat options by field name (the CLI's, the Python API's; None = not
    given, so the field keeps its default) plus `extra`."""
    names = {f.name for f in fields(cls) if not f.metadata.get("derived")}
    return cls(**{k: v for k, v in options.items() if k in names and v is not None}, **extra)


def _registrable(name: str) -> None:
    """A --model-name the registry takes, checked by MLflow's own rule before any training (it refused a name with
    '/' or ':', an empty one or '..' only at registration, after the whole training, the run FAILED)."""
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_model_name  # the registry's own check (no public one)

    try:
        _validate_model_name(name)
    except MlflowException:
        raise ConfigError(f"--model-name {name!r}: not a registered model name (not empty, no '/' or ':', not a "
                          "path such as '..'); give another, or --no-register") from None


def parse_duration(text: str) -> float:
    """'90s', '15m', '1.5h' or '0' (no budget) -> seconds; anything else is a ConfigError line."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(text).lower())
    if not match or (float(match.group(1)) > 0 and not match.group(2)):
        raise ConfigError(f"--time-budget must be a duration such as 90s, 15m or 2h (0: no budget), got {text!r}")
    seconds = float(match.group(1)) * UNITS[match.group(2) or "s"]
    if not math.isfinite(seconds) or seconds > 366 * 86400:
        raise ConfigError(f"--time-budget must be at most a year, got {text!r}")
    return seconds


@dataclass(frozen=True)
class Budget:
    """What every trained model gets (ours and the benchmark's peers): the benchmark's fairness contract."""
    max_epochs: int
    max_steps: int
    patience: int
    batch_size: int
    seed: int
    grad_clip: float
    progress: bool = False
    time_budget: float = 0.0    # seconds of training (0 = no limit)


@dataclass(frozen=True)
class Placement:
    """Where our training runs (the peers train in one process)."""
    accelerator: str = "cpu"
    devices: int = 1
    num_nodes: int = 1
    strategy: str = "auto"


@dataclass(frozen=True)
class TrainConfig:
    data_path: str
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    optim: OptimConfig = OptimConfig()
    health: HealthConfig = HealthConfig()
    max_epochs: int = field(default=30, metadata={
        "help": "Upper bound on epochs (early stopping usually ends sooner)."})
    max_steps: int | None = field(default=None, metadata={
        "help": "Upper bound on optimiser steps (-1 = no bound; auto: 200 where training starts from the pretrained "
                "checkpoint, which on the suite matched 500 from random weights at half the time: docs/benchmarks.md; "
                "else no bound)."})
    batch_size: int | None = field(default=None, metadata={
        "help": "Windows per batch (auto: 256, or fewer so that an epoch has at least 32 steps on small data)."})
    ema_decay: float = field(default=0.99, metadata={
        "help": "Validate, keep and log an exponential moving average of the weights, updated every step with this "
                "decay (0.99: about the last 100 steps; 0 = off): a steadier model than the last step's."})
    time_budget: str = field(default="15m", metadata={
        "help": "Stop training after this long (90s, 15m, 2h; 0 = no limit), keeping the best checkpoint so far; the "
                "log says at the start how long training will take."})
    combination: bool = field(default=True, metadata={
        "help": "Combine the network's forecast with the statistical members (Theta, ETS, drift, seasonal naive, "
                "naive) where that is better on the validation windows (the weights chosen there and saved with the "
                "model; models/combination.py).", "aliases": ("theta-combination",)})
    patience: int = field(default=5, metadata={"help": "Epochs without validation improvement before stopping."})
    seed: int = field(default=0, metadata={"help": "Seed for weights, shuffling and dropout."})
    experiment: str | None = field(default="forecast", metadata={"help": "MLflow experiment name."})
    model_name: str = field(default="forecaster", metadata={
        "help": "Registered model name (a new version per run, aliased `challenger`; the name's first version is also "
                "`champion`)."})
    register: bool = field(default=True, metadata={
        "help": "Register the model as a new version of --model-name (--no-register: log it in the run only, as for a "
                "smoke test)."})
    tracking_uri: str | None = field(default=None, metadata={
        "help": "MLflow tracking URI ($MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).",
        "envvar": "MLFLOW_TRACKING_URI"})
    progress: bool = field(default=True, metadata={
        "help": "Show a progress bar on a terminal (written to a file, or with --no-progress: one line per epoch)."})
    accelerator: str = field(default="cpu", metadata={"help": "Lightning accelerator: cpu|gpu|auto."})
    devices: int = field(default=1, metadata={"help": "Processes (CPU) or devices per node; > 1 trains data-parallel."})
    num_nodes: int = field(default=1, metadata={
        "help": "Machines taking part (launched with torchrun or SLURM: docs/reference.md)."})
    strategy: str = field(default="auto", metadata={
        "help": "Lightning strategy: auto|ddp (not ddp_spawn, which splits the MLflow run)."})
    checkpoint_every: int = field(default=500, metadata={
        "help": "Also save the training state every N steps within long epochs (0 = only at epoch ends)."})
    resume: str | None = field(default=None, metadata={
        "help": "Continue this run (killed, failed or interrupted) from its last checkpoint, with the same data and "
                "settings."})
    pretrained: bool = field(default=True, metadata={
        "help": "Start from the pretrained network that ships with the package (trained by `forecast pretrain` on "
                "synthetic series: docs/pretraining.md) and fine-tune it; --no-pretrained starts from random "
                "weights. A warm start (--init-from) starts from its source instead."})
    init_from: str | None = field(default=None, metadata={
        "help": "Warm start: begin from this logged model's weights (models:/forecaster@champion, runs:/ID/model), "
                "with its architecture and data settings; the scalers are refitted on the new data."})

    @classmethod
    def from_options(cls, data_path: str, options: dict) -> "TrainConfig":
        """A run's config from flat option names (the CLI's, the Python API's: `layers`, `season_length`,
        `max_steps`, ...), each given to the config that has it; None = not given."""
        return given(cls, options, data_path=data_path, data=given(DataConfig, options),
                     model=given(ModelConfig, options), optim=given(OptimConfig, options),
                     health=given(HealthConfig, options))

    def __post_init__(self):
        if not isinstance(self.data_path, (str, os.PathLike)):
            raise ConfigError(f"data_path must be a file's path, got a {type(self.data_path).__name__}; from Python, "
                              "train on a DataFrame with forecast.Forecaster(...).fit(df)")
        if self.max_steps is not None and (self.max_steps == 0 or self.max_steps < -1):
            raise ConfigError(f"--max-steps must be a positive integer (or -1: no bound), got {self.max_steps}")
        if self.max_epochs < 1 and not (self.max_epochs == -1 and (self.max_steps or 0) > 0):
            raise ConfigError(f"--max-epochs must be a positive integer (or -1 with --max-steps: no bound), "
                              f"got {self.max_epochs}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError(f"--batch-size must be positive, got {self.batch_size}")
        if self.strategy.startswith("ddp_spawn"):
            raise ConfigError("--strategy ddp_spawn splits the MLflow run in two; use --strategy ddp")
        if self.devices < 1 or self.num_nodes < 1:
            raise ConfigError("--devices and --num-nodes must be positive")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"--ema-decay must be in [0, 1), got {self.ema_decay}")
        parse_duration(self.time_budget)
        if self.init_from and self.resume:
            raise ConfigError("--init-from and --resume exclude each other: --resume continues a run, --init-from "
                              "starts a new one from a finished model")
        if self.patience < 1:
            raise ConfigError(f"--patience must be positive, got {self.patience}")
        if self.register:
            _registrable(self.model_name)

    def resolved_batch_size(self, n_train_windows: int) -> int:
        """The given batch size, or 256 capped so that an epoch has at least 32 steps (and at least 8): small
        data gets enough optimiser steps within the epoch budget (README)."""
        if self.batch_size is not None:
            return self.batch_size
        return max(8, min(256, n_train_windows // 32))

    def budget(self, batch_size: int) -> Budget:
        steps = -1 if self.max_steps is None else self.max_steps   # auto, unresolved (training resolves it)
        return Budget(self.max_epochs, steps, self.patience, batch_size, self.seed, self.optim.grad_clip,
                      self.progress, self.time_budget_seconds)

    @property
    def placement(self) -> Placement:
        return Placement(self.accelerator, self.devices, self.num_nodes, self.strategy)

    @property
    def time_budget_seconds(self) -> float:
        return parse_duration(self.time_budget)

    @property
    def world_size(self) -> int:
        return self.devices * self.num_nodes

    def flat(self) -> dict:
        """Every setting as one flat dict, `section.field` for the nested configs: the run's params."""
        out = {}
        for key, value in asdict(self).items():
            if isinstance(value, dict):
                out.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                out[key] = value
        return out


# ---- the other commands: one small config each, passed whole (app/options.py makes the options) -----------
# every option of a training run, by the name the CLI's flag and the Python API's keyword share
TRAIN_OPTIONS = frozenset(f.name for c in (DataConfig, ModelConfig, OptimConfig, HealthConfig, TrainConfig)
                          for f in fields(c) if not f.metadata.get("derived") and f.name not in
                          ("data_path", "data", "model", "optim", "health"))
CHAMPION = "models:/forecaster@champion"   # what `forecast promote` moves; a name's first version starts as it
PRETRAINED = "pretrained"   # `forecast predict --model pretrained`: the shipped network, no training
_MODEL = {"option": "model", "help": "Any MLflow model URI: models:/forecaster@champion, models:/forecaster/3, "
                                     "runs:/<id>/model, ..."}
_PREDICT_MODEL = {**_MODEL, "help": _MODEL["help"] + " Or `pretrained`: the network that ships with the package, "
                  "with no training (zero-shot, combined with Theta and ETS at a third each: docs/pretraining.md)."}
_TRACKING = TrainConfig.__dataclass_fields__["tracking_uri"].metadata
_EXPERIMENT = {"help": "MLflow experiment for the run."}


def _at_least(name: str, value, low, *, open_low: bool = False) -> None:
    if value is not None and (value <= low if open_low else value < low):
        raise ConfigError(f"--{name.replace('_', '-')} must be {'above' if open_low else 'at least'} {low}, got "
                          f"{value}")


@dataclass(frozen=True)
class PredictConfig:
    data_path: str = field(metadata={
        "help": "History rows (CSV or Parquet), same columns as in training.", "option": "data"})
    output: str = field(metadata={"help": "Where to write forecasts (.csv or .parquet; with --spark a folder)."})
    model_uri: str = field(default=CHAMPION, metadata=_PREDICT_MODEL)
    batch_size: int = field(default=1024, metadata={"help": "Series per inference batch.", "min": 1})
    horizon: int | None = field(default=None, metadata={
        "help": "Forecast the first N steps (auto: the trained horizon; at most that).", "min": 1})
    quantiles: tuple[float, ...] | None = field(default=None, metadata={
        "help": "Comma-separated quantile levels (auto: the trained ones); levels between trained ones are "
                "interpolated linearly."})
    tracking_uri: str | None = field(default=None, metadata=_TRACKING)
    spark: bool = field(default=False, metadata={
        "help": "Score on Spark, one task per series group; --data and --output may be any Spark path, and the output "
                "is a folder of part files."})
    spark_master: str | None = field(default=None, metadata={
        "help": "Spark master URL (auto: $SPARK_MASTER, else spark-defaults.conf, else local[*]).",
        "envvar": "SPARK_MASTER"})
    target: str | None = field(default=None, metadata={
        "help": "With --model pretrained only (a trained model knows its columns): the target column (auto: "
                "value|y|target, or the only numeric column)."})
    id_col: str | None = field(default=None, metadata={
        "help": "With --model pretrained only: the series id column(s) (auto: series_id|unique_id|id|item_id)."})
    time_col: str | None = field(default=None, metadata={
        "help": "With --model pretrained only: the time column (auto: timestamp|ds|date|time|month|quarter|week)."})
    progress: bool = field(default=False, metadata={"derived": True})   # a bar on a terminal only (app/cli.py)

    def __post_init__(self):
        _at_least("batch_size", self.batch_size, 1)
        named = [f"--{k.replace('_', '-')}" for k in ("target", "id_col", "time_col") if getattr(self, k)]
        if named and self.model_uri != PRETRAINED:
            raise ConfigError(f"{', '.join(named)}: for --model pretrained only; a trained model reads the columns "
                              "it was trained on")
        _at_least("horizon", self.horizon, 1)
        if self.quantiles is not None and not self.quantiles:
            raise ConfigError("--quantiles: give at least one level")


@dataclass(frozen=True)
class ServeConfig:
    model_uri: str = field(default=CHAMPION, metadata=_MODEL)
    host: str = field(default="127.0.0.1", metadata={"help": "Interface to listen on (loopback by default)."})
    port: int = field(default=5000, metadata={"help": "Port to listen on."})
    workers: int = field(default=1, metadata={"help": "Server worker processes.", "min": 1})
    max_request_mb: float = field(default=16.0, metadata={
        "help": "Larger request bodies get HTTP 413.", "min": 0, "min_open": True})
    api_docs: bool = field(default=False, metadata={
        "help": "Also serve FastAPI's interactive API docs (/docs, /redoc, /openapi.json); off, they answer 404."})
    tracking_uri: str | None = field(default=None, metadata=_TRACKING)

    def __post_init__(self):
        _at_least("workers", self.workers, 1)
        _at_least("max_request_mb", self.max_request_mb, 0, open_low=True)

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * 2**20)


@dataclass(frozen=True)
class BacktestConfig:
    data_path: str = field(metadata={
        "help": "History rows (CSV or Parquet), same columns as in training.", "option": "data"})
    model_uri: str = field(default=CHAMPION, metadata=_MODEL)
    windows: int | None = field(default=None, metadata={
        "help": "Forecast origins per series, one horizon apart at the end (auto: up to 3, as many as lie after the "
                "model's training data where the data goes on after it).", "min": 1, "auto": True})
    experiment: str | None = field(default="forecast", metadata=_EXPERIMENT)
    tracking_uri: str | None = field(default=None, metadata=_TRACKING)

    def __post_init__(self):
        _at_least("windows", self.windows, 1)


@dataclass(frozen=True)
class PromoteConfig:
    data_path: str = field(metadata={
        "help": "Recent history (CSV or Parquet) that goes on after both models' training data.", "option": "data"})
    model_name: str = field(default="forecaster", metadata={
        "help": "Registered model whose champion and challenger are compared."})
    min_gain: float = field(default=0.01, metadata={
        "help": "Promote only if the challenger's MASE is lower by at least this share, and significantly (2 standard "
                "errors over the windows). 0.01: retraining the same model with another seed moves its MASE by about 1 "
                "% (docs/benchmarks.md).", "min": 0.0, "max": 1.0, "max_open": True})
    force: bool = field(default=False, metadata={
        "help": "Move champion to the challenger whatever the comparison says (it is still run and logged)."})
    experiment: str | None = field(default="forecast", metadata=_EXPERIMENT)
    tracking_uri: str | None = field(default=None, metadata=_TRACKING)

    def __post_init__(self):
        if not 0.0 <= self.min_gain < 1.0:
            raise ConfigError(f"--min-gain must be in [0, 1), got {self.min_gain}")


LAYOUTS = ("plain", "seasonal")   # the shipped checkpoints: the target alone; the target and its seasonal lag


@dataclass(frozen=True)
class PretrainConfig:
    series: int = field(default=6000, metadata={
        "help": "Synthetic series in the corpus (data/synthetic.py; lengths 10-2,000).", "min": 1})
    corpus_seed: int = field(default=0, metadata={"help": "Seed of the synthetic corpus."})
    layouts: tuple[str, ...] = field(default=LAYOUTS, metadata={
        "help": "Checkpoints to pretrain: plain (target only: panels without a season), seasonal (target and its "
                "seasonal lag channel)."})
    horizon: int = field(default=48, metadata={
        "help": "Horizon pretrained (a model of a shorter horizon takes the first steps).", "min": 1})
    max_steps: int = field(default=3000, metadata={"help": "Optimiser steps per checkpoint.", "min": 1})
    batch_size: int = field(default=256, metadata={"help": "Windows per batch.", "min": 1})
    time_budget: str = field(default="30m", metadata={
        "help": "Stop each checkpoint's training after this long (0 = no limit), keeping the best so far."})
    output: str = field(default="pretrained", metadata={
        "help": "Folder for the checkpoints (<layout>.pt; the shipped ones are in the package's "
                "models/checkpoints)."})
    seed: int = field(default=0, metadata={"help": "Seed for weights, batches and dropout."})
    experiment: str | None = field(default="forecast-pretraining", metadata=_EXPERIMENT)
    tracking_uri: str | None = field(default=None, metadata=_TRACKING)
    progress: bool = field(default=False, metadata={"derived": True})
    model: ModelConfig = field(default=ModelConfig(quantiles=DECILES), metadata={"derived": True})
    optim: OptimConfig = field(default=OptimConfig(), metadata={"derived": True})
    health: HealthConfig = field(default=HealthConfig(), metadata={"derived": True})

    def __post_init__(self):
        unknown = [x for x in self.layouts if x not in LAYOUTS]
        if unknown or not self.layouts:
            raise ConfigError(f"--layouts must be some of {', '.join(LAYOUTS)}, got {','.join(self.layouts)}")
        parse_duration(self.time_budget)

    @property
    def time_budget_seconds(self) -> float:
        return parse_duration(self.time_budget)

    def budget(self) -> Budget:
        return Budget(-1, self.max_steps, 10**6, self.batch_size, self.seed, self.optim.grad_clip, self.progress,
                      self.time_budget_seconds)

"""`forecast compare`: the question the product started from (docs/gradient_health.md) - does learnable
aggregation converge faster or forecast better than mean pooling? - answered on the user's data. One parent
MLflow run, one nested run per (aggregator, seed), each a full training run with gradient health; models are
logged, not registered."""
import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import pandas as pd

from forecast.models.config import AGGREGATOR_NAMES, ConfigError
from forecast.pipelines.config import TrainConfig
from forecast.pipelines.evaluation.plots import log_figure, validation_curves_figure
from forecast.pipelines.tracking import use_store
from forecast.pipelines.training.train import train


@dataclass
class CompareResult:
    run_id: str
    runs: pd.DataFrame      # one row per (aggregator, seed)
    summary: pd.DataFrame   # one row per aggregator: means and spreads over seeds


def _row(aggregator: str, seed: int, result) -> dict:
    health = result.health or {}
    return {"aggregator": aggregator, "seed": seed, "run_id": result.run_id,
            "test_mase": result.metrics.get("test_mase"), "snaive_mase": result.metrics.get("snaive_mase"),
            "steps_to_converge": health.get("steps_to_converge"),
            "projection_zero_frac": (health.get("projection_zero_frac") or {}).get("final"),
            "last_quarter_share": (health.get("last_quarter_share") or {}).get("final"),
            "train_seconds": result.seconds, "epochs": result.epochs}


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    grouped = runs.groupby("aggregator", sort=False)
    summary = grouped.agg(test_mase_mean=("test_mase", "mean"), test_mase_std=("test_mase", "std"),
                          snaive_mase=("snaive_mase", "mean"), steps_to_converge=("steps_to_converge", "mean"),
                          projection_zero_frac=("projection_zero_frac", "mean"),
                          last_quarter_share=("last_quarter_share", "mean"), train_seconds=("train_seconds", "mean"),
                          seeds=("seed", "count"))
    return summary.reset_index()


def compare(config: TrainConfig, aggregators: tuple[str, ...], seeds: int) -> CompareResult:
    unknown = [a for a in aggregators if a not in AGGREGATOR_NAMES]
    if unknown or not aggregators:
        raise ConfigError(f"--aggregators must name some of {', '.join(AGGREGATOR_NAMES)} (got "
                          f"{','.join(aggregators) or 'none'})")
    use_store(config.tracking_uri, config.experiment)
    with mlflow.start_run(tags={"forecast.kind": "compare"}) as parent:
        mlflow.log_params({"aggregators": ",".join(aggregators), "seeds": seeds, "data_path": str(config.data_path)})
        rows, curves = [], {}
        for aggregator in aggregators:
            for k in range(seeds):
                run_config = replace(config, seed=config.seed + k, model=replace(config.model, aggregator=aggregator))
                result = train(run_config, nested=True, register=False, tags={"forecast.kind": "compare"})
                rows.append(_row(aggregator, config.seed + k, result))
                curves.setdefault(aggregator, []).append(result.history)
        runs = pd.DataFrame(rows)
        summary = summarise(runs)
        for r in summary.itertuples():
            mlflow.log_metrics({f"{r.aggregator}/{k}": float(v) for k, v in r._asdict().items()
                                if k not in ("Index", "aggregator") and v is not None and not math.isnan(float(v))})
        with tempfile.TemporaryDirectory() as tmp:
            runs.to_csv(Path(tmp) / "runs.csv", index=False)
            summary.to_csv(Path(tmp) / "summary.csv", index=False)
            mlflow.log_artifacts(tmp, "compare")
        log_figure(validation_curves_figure(curves), "plots/validation_curves.png")
    return CompareResult(parent.info.run_id, runs, summary)

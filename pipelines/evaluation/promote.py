"""promote(...): the registered model's `champion` and `challenger` backtested on the same rolling origins, all
after both models' training data; `champion` moves to the challenger only where it is better by `min_gain` (or
`force`). The decision is logged as a run.

Origins after both models' training data: each model's bundle knows the last time of its training file
(`DataSpec.trained_until`); the backtest windows are the most, one horizon apart at the end of every series, that
all lie after the later of the two. A model logged before it kept that time cannot be compared this way: said in
one line.
"""
from dataclasses import dataclass, replace

import mlflow
import numpy as np

from forecast.data.errors import DataError
from forecast.data.io import read_validated
from forecast.data.schema import ID, TIME
from forecast.pipelines.config import BacktestConfig, PromoteConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.evaluation.backtest import backtest, trained_until
from forecast.pipelines.serving.inference import Predictor
from forecast.pipelines.tracking import load_predictor, registry_lock, use_store


@dataclass
class PromoteResult:
    run_id: str
    champion: str          # versions
    challenger: str
    champion_mase: float
    challenger_mase: float
    windows: int
    promoted: bool
    reason: str


def _version(client, name: str, alias: str):
    try:
        return client.get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        raise ForecastError(f"registered model {name!r} has no {alias!r} alias in {mlflow.get_tracking_uri()}; "
                            "train a version first") from None


def _windows(data_path: str, champion: Predictor, challenger: Predictor, labels: tuple[str, str]) -> int:
    """Backtest windows that all lie after both models' training data; one line where there are none."""
    ends = [trained_until(p.spec) for p in (champion, challenger)]
    for end, label in zip(ends, labels):
        if end is None:
            raise ForecastError(f"{label} was logged before models kept where their training data ended: retrain it "
                                "to compare it on origins after its training data")
    if champion.spec.horizon != challenger.spec.horizon:
        raise ForecastError(f"the two versions forecast different horizons ({champion.spec.horizon} and "
                            f"{challenger.spec.horizon}): they cannot be scored on the same windows")
    cutoff, H = max(ends), champion.spec.horizon
    for predictor, label in zip((challenger, champion), labels[::-1]):   # the champion's frame is the one kept
        try:
            frame, _ = read_validated(data_path, predictor.history_of, predictor.spec.text_columns)
        except DataError as err:   # e.g. a target the other version does not read
            raise ForecastError(f"{label}: {err}") from None
    after = (frame[TIME] > cutoff).groupby(frame[ID]).sum()
    windows = int(after.min()) // H
    if windows < 1:
        raise ForecastError(f"{data_path}: no backtest window lies after both models' training data (it ends "
                            f"{cutoff}): each series needs at least {H} points after it (the fewest has "
                            f"{int(after.min())}, series {after.idxmin()!r})")
    return windows


def promote(config: PromoteConfig) -> PromoteResult:
    model_name, data_path, min_gain, force = config.model_name, config.data_path, config.min_gain, config.force
    use_store(config.tracking_uri, reads=f"models:/{model_name}@champion")
    client = mlflow.MlflowClient()
    champion, challenger = _version(client, model_name, "champion"), _version(client, model_name, "challenger")
    if champion.version == challenger.version:
        raise ForecastError(f"{model_name}: the challenger is version {champion.version}, already the champion; "
                            "train a new version first")
    uris = [f"models:/{model_name}/{v.version}" for v in (champion, challenger)]
    predictors = [load_predictor(uri) for uri in uris]
    windows = _windows(data_path, *predictors, (f"version {champion.version}", f"version {challenger.version}"))
    test = BacktestConfig(data_path, windows=windows, experiment=config.experiment, tracking_uri=config.tracking_uri)
    scores = [backtest(replace(test, model_uri=uri), predictor).metrics["backtest_mase"]
              for uri, predictor in zip(uris, predictors)]
    if not all(np.isfinite(scores)) and not force:
        raise ForecastError(f"the backtest MASE is undefined ({scores[0]:g} and {scores[1]:g}): the series do "
                            "not change over the history that scales the errors (constant series); compare on data "
                            "that varies, or --force")
    better = scores[1] < scores[0] * (1.0 - min_gain)
    promoted = better or force
    reason = ("forced" if force and not better else f"challenger MASE {scores[1]:.4f} {'<' if better else '>='} "
              f"champion's {scores[0]:.4f}" + (f" x (1 - {min_gain:g})" if min_gain else ""))
    if promoted:
        with registry_lock():   # not between a new version's alias updates
            client.set_registered_model_alias(model_name, "champion", challenger.version)
    with mlflow.start_run(run_name=f"promote-{model_name}", tags={"forecast.kind": "promote"}) as run:
        mlflow.log_params({"model_name": model_name, "data_path": str(data_path), "champion": champion.version,
                           "challenger": challenger.version, "windows": windows, "min_gain": min_gain,
                           "force": force, "promoted": promoted})
        mlflow.log_metrics({"champion_mase": scores[0], "challenger_mase": scores[1]})
        mlflow.set_tag("mlflow.note.content", ("promoted: " if promoted else "kept the champion: ") + reason)
    return PromoteResult(run.info.run_id, champion.version, challenger.version, scores[0], scores[1], windows,
                         promoted, reason)

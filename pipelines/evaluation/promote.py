"""promote(...): the registered model's `champion` and `challenger` backtested on the same rolling origins, all
after the data both models saw; `champion` moves to the challenger only where its gain is both large enough
(`min_gain`) and significant (a paired t over the windows), or where `force` says so. The decision is logged as
a run, the parent of its two backtest runs.

The data a model saw is its training file less the held-out test part (`DataSpec.seen_until`; a model from
before that was kept: its whole file). So "retrain on everything, then promote on the same file" compares the two
on the challenger's own test windows, which neither model's weights saw. The backtest windows are the most, one
horizon apart at the end of every series, that all lie after the later of the two ends.

Significance: each (series, window) is a case, its error the median's MAE over the horizon in the series' MASE
scale; the champion's error less the challenger's, over its standard error (models/ensemble.py: `paired_t`, the
test the combination's rule uses; windows one horizon apart share no target), must reach `SIGNIFICANCE`.
"""
from dataclasses import dataclass, replace

import mlflow
import numpy as np

from forecast.data.errors import DataError
from forecast.data.io import read_validated
from forecast.data.schema import ID, TIME
from forecast.models.ensemble import paired_t
from forecast.pipelines.config import BacktestConfig, PromoteConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.evaluation.accuracy import logged
from forecast.pipelines.evaluation.backtest import backtest, seen_until
from forecast.pipelines.serving.inference import Predictor
from forecast.pipelines.serving.loading import load_predictor
from forecast.pipelines.tracking import registry_lock, use_store

SIGNIFICANCE = 2.0   # standard errors of the paired gain: replacing a serving champion needs evidence


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
    t: float = float("nan")   # the challenger's paired gain over its standard error (positive: it is better)
    cases: int = 0            # (series, window) pairs compared


def _version(client, name: str, alias: str):
    try:
        return client.get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        raise ForecastError(f"registered model {name!r} has no {alias!r} alias in {mlflow.get_tracking_uri()}; "
                            "train a version first") from None


def _windows(data_path: str, champion: Predictor, challenger: Predictor, labels: tuple[str, str]) -> int:
    """Backtest windows that all lie after the data both models saw; one line where there are none."""
    ends = [seen_until(p.spec) for p in (champion, challenger)]
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
        raise ForecastError(f"{data_path}: no backtest window lies after the data both models saw (it ends "
                            f"{cutoff}): each series needs at least {H} points after it (the fewest has "
                            f"{int(after.min())}, series {after.idxmin()!r}); give data that goes on after it, or "
                            "train the challenger on this file: its held-out test part (--test-windows) is then "
                            "after what its weights saw")
    return windows


def _decision(scores: list[float], t: float, cases: int, min_gain: float, force: bool) -> tuple[bool, str]:
    """Whether the challenger takes the champion's place, and the reason in words."""
    if not all(np.isfinite(scores)):
        if force:
            return True, "forced"
        raise ForecastError(f"the backtest MASE is undefined ({scores[0]:g} and {scores[1]:g}): the series do not "
                            "change over the history that scales the errors (constant series); compare on data "
                            "that varies, or --force")
    gain = 1.0 - scores[1] / scores[0] if scores[0] > 0 else 0.0
    stats = (f"challenger MASE {scores[1]:.4f}, champion's {scores[0]:.4f}: a gain of {gain:.2%} at t = {t:.2f} "
             f"over {cases} window(s)")
    if gain < min_gain:
        verdict = f"{stats}; --min-gain {min_gain:g} needs {min_gain:.1%}"
    elif not t >= SIGNIFICANCE:
        verdict = f"{stats}; not significant ({SIGNIFICANCE:g} standard errors needed: more windows may show it)"
    else:
        return True, stats
    return force, ("forced: " if force else "") + verdict


def promote(config: PromoteConfig) -> PromoteResult:
    model_name, data_path = config.model_name, config.data_path
    use_store(config.tracking_uri, reads=f"models:/{model_name}@champion")
    client = mlflow.MlflowClient()
    champion, challenger = _version(client, model_name, "champion"), _version(client, model_name, "challenger")
    if champion.version == challenger.version:
        raise ForecastError(f"{model_name}: the challenger is version {champion.version}, already the champion; "
                            "train a new version first")
    uris = [f"models:/{model_name}/{v.version}" for v in (champion, challenger)]
    predictors = [load_predictor(uri) for uri in uris]
    windows = _windows(data_path, *predictors, (f"version {champion.version}", f"version {challenger.version}"))
    use_store(config.tracking_uri, config.experiment)
    test = BacktestConfig(data_path, windows=windows, experiment=config.experiment, tracking_uri=config.tracking_uri)
    with mlflow.start_run(run_name=f"promote-{model_name}", tags={"forecast.kind": "promote"}) as run:
        results = [backtest(replace(test, model_uri=uri), predictor, nested=True,
                            run_name=f"backtest-{role}-v{version.version}")
                   for uri, predictor, role, version in zip(uris, predictors, ("champion", "challenger"),
                                                            (champion, challenger))]
        scores = [r.metrics["backtest_mase"] for r in results]
        errors = [r.errors for r in results]
        common = errors[0].index.intersection(errors[1].index)
        cases = len(common)
        t = (-paired_t(errors[1][common].to_numpy(), errors[0][common].to_numpy(), np.arange(cases))
             if cases > 1 and np.isfinite(scores).all() else float("nan"))   # (constant series: no scale)
        promoted, reason = _decision(scores, t, cases, config.min_gain, config.force)
        if promoted:
            with registry_lock():   # not between a new version's alias updates
                client.set_registered_model_alias(model_name, "champion", challenger.version)
                if challenger.description:   # the registered model describes its champion
                    client.update_registered_model(model_name, description=challenger.description)
        mlflow.log_params({"model_name": model_name, "data_path": str(data_path), "champion": champion.version,
                           "challenger": challenger.version, "windows": windows, "min_gain": config.min_gain,
                           "force": config.force, "promoted": promoted})
        mlflow.log_metrics({**logged({"champion_mase": scores[0], "challenger_mase": scores[1]}),
                            **({"gain_t": t} if np.isfinite(t) else {}), "cases": cases})
        mlflow.set_tag("mlflow.note.content", ("promoted: " if promoted else "kept the champion: ") + reason)
    return PromoteResult(run.info.run_id, champion.version, challenger.version, scores[0], scores[1], windows,
                         promoted, reason, t, cases)

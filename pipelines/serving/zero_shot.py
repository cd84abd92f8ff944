"""`forecast predict --model pretrained`: a forecast with no training at all. The shipped pretrained network
(pipelines/training/pretrained.py) as it is, on the file's own scalers, season and lag channel, combined with
Theta and ETS fitted on each series' history at a weight fixed in advance: a third each (equal weights, the
combination the forecasting competitions found hard to beat; nothing is validated, so nothing is chosen). Series
shorter than the network's context get Theta and ETS at a half each. Past covariates are not used (the network was
pretrained on the target alone) and calendar features are silenced: the baseline every fine-tuned run is compared
with, and a fast path."""
import logging
from dataclasses import replace

import pandas as pd

from forecast.data.config import DataConfig
from forecast.data.errors import DataError
from forecast.data.io import check_writable, read_table, write_table
from forecast.data.prepare import describe
from forecast.models.combination import Combination
from forecast.models.forecaster import Forecaster
from forecast.models.pretrained import roles, transfer
from forecast.models.short_series import Bucket, Fallback
from forecast.pipelines.config import PredictConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.serving.inference import Predictor
from forecast.pipelines.training.pretrained import checkpoint_path, layout_of, read_checkpoint

log = logging.getLogger("forecast")
WEIGHTS = {"network": 1 / 3, "theta": 1 / 3, "ets": 1 / 3}
SHORT = Fallback((Bucket(weights={"theta": 0.5, "ets": 0.5}),))


def zero_shot_predictor(frame: pd.DataFrame, horizon: int | None = None,
                        columns: DataConfig = DataConfig()) -> Predictor:
    """A Predictor for `frame`'s series from the shipped checkpoint, with no training (module docstring); `columns`
    names the id, time and target columns where they are not found by name."""
    spec = describe(frame, replace(columns, covariates=(), known_covariates=(), horizon=horizon))
    layout = layout_of(spec)
    checkpoint, source = read_checkpoint(checkpoint_path(layout))
    if spec.horizon > source.horizon:
        raise ForecastError(f"the pretrained network forecasts at most {source.horizon} steps; ask --horizon "
                            f"{source.horizon} or less, or train a model (forecast train) for {spec.horizon}")
    config = replace(source, horizon=spec.horizon, n_features=len(spec.feature_names), n_known=spec.n_known,
                     lag_feature=spec.lag_feature)
    model = Forecaster(config)
    transfer(model, checkpoint["state_dict"], source, checkpoint["roles"], roles(spec.feature_names,
                                                                                 spec.lag_feature), whole=True)
    model.eval()
    log.info(f"zero-shot: the pretrained {layout} network, no training; season {spec.freq.season_length}, horizon "
             f"{spec.horizon}; combined with Theta and ETS at a third each")
    return Predictor(model, spec, Combination(dict(WEIGHTS)), SHORT)


def predict_zero_shot(config: PredictConfig) -> pd.DataFrame:
    """`forecast predict --model pretrained`: read, forecast with `zero_shot_predictor`, write; no MLflow store."""
    check_writable(config.output)
    frame = read_table(config.data_path, ())
    try:
        columns = DataConfig(target=config.target, id_col=config.id_col, time_col=config.time_col)
        predictor = zero_shot_predictor(frame, config.horizon, columns)
        forecasts = predictor.predict(frame, config.batch_size, config.progress, quantiles=config.quantiles)
    except DataError as err:
        raise ForecastError(f"{config.data_path}: {err}") from None
    write_table(forecasts, config.output)
    return forecasts

"""predict_file(config) -> forecast rows, through the logged pyfunc (the same code MLflow serves)."""
import pandas as pd

from forecast.data.io import check_writable, read_table, write_table
from forecast.pipelines.config import PredictConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.tracking import load_pyfunc, model_columns, use_store


def params_for(model, config: PredictConfig) -> dict:
    """The pyfunc params of a request (`horizon` and `quantiles` as asked, else as trained), those the model
    knows: a model logged before --horizon existed is told so in one line."""
    params = {"batch_size": config.batch_size}
    schema = model.metadata.get_params_schema()
    known = {p.name for p in schema.params} if schema else set()
    if "progress" in known:  # models logged before it had no such param
        params["progress"] = config.progress
    for name, value in (("horizon", config.horizon), ("quantiles", config.quantiles)):
        if value is not None:
            if name not in known:
                raise ForecastError(f"this model was logged before --{name} existed: it forecasts its trained "
                                    "horizon and quantiles; retrain it to choose them at predict time")
            params[name] = list(value) if name == "quantiles" else value
    return params


def forecast_with(model, frame: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
    """Forecast rows from a loaded pyfunc with `params` (params_for); a bad input is one ForecastError line."""
    import mlflow

    try:
        return model.predict(frame, params=params or {})
    except mlflow.exceptions.MlflowException as err:  # bad input, raised inside the model or by its schema
        lines = [line for line in err.message.strip().splitlines() if line.strip()]
        raise ForecastError(lines[-1] if lines else "the model rejected the input") from None


def predict_file(config: PredictConfig) -> pd.DataFrame:
    check_writable(config.output)   # before any work: a forecast computed and then lost is worse than a refusal
    use_store(config.tracking_uri, reads=config.model_uri)
    model = load_pyfunc(config.model_uri)
    frame = read_table(config.data_path, model_columns(model)["text_columns"])
    try:
        forecasts = forecast_with(model, frame, params_for(model, config))
    except ForecastError as err:
        raise ForecastError(f"{config.data_path}: {err}") from None
    write_table(forecasts, config.output)
    return forecasts

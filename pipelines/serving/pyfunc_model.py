"""The MLflow pyfunc model, logged as code (MLflow's "models from code"): MLflow executes this file when it
loads the model, in any process, with this repository nowhere in sight.

The project's package `forecast` (without its CLI) travels as the artifact `code` and is imported in isolation:
the loading process may hold another version of `forecast` (this project installed, or another model's code),
and MLflow's `code_paths` would only prepend to sys.path and collide. Here the model's modules are imported
under their names, kept by reference, and every module of that name that was there before is put back, so
neither side sees the other's. (Models logged before the package was named `forecast` carry their own copy of
this file, which does the same for the names `data`, `models` and `pipelines`.)
"""
import importlib
import sys

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

PACKAGES = ("forecast",)


def import_isolated(code_dir: str, module: str):
    """Import `module` from the packages under `code_dir` without disturbing sys.modules or sys.path."""
    ours = lambda name: name.split(".")[0] in PACKAGES  # noqa: E731
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if ours(name)}
    sys.path.insert(0, code_dir)
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(code_dir)
        for name in [n for n in sys.modules if ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


class ForecastModel(PythonModel):
    def load_context(self, context):
        inference = import_isolated(context.artifacts["code"], "forecast.pipelines.serving.inference")
        self.predictor = inference.Predictor.load(context.artifacts["bundle"])
        self.input_error, self.batch_size = inference.DataError, inference.BATCH_SIZE

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """Bad requests raise MlflowException(INVALID_PARAMETER_VALUE): one message, HTTP 400 when served. Params:
        batch_size, progress, horizon (up to the trained one), quantiles (levels within the trained ones)."""
        params = params or {}
        batch_size = params.get("batch_size", self.batch_size)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise MlflowException(f"params.batch_size must be a positive integer, got {batch_size!r}",
                                  error_code=INVALID_PARAMETER_VALUE)
        quantiles = params.get("quantiles")
        try:
            return self.predictor.predict(model_input, batch_size=batch_size,
                                          progress=bool(params.get("progress", False)),
                                          horizon=params.get("horizon"),
                                          quantiles=None if quantiles is None else tuple(quantiles))
        except self.input_error as err:
            raise MlflowException(str(err), error_code=INVALID_PARAMETER_VALUE) from None


mlflow.models.set_model(ForecastModel())

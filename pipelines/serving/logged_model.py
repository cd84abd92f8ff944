"""Log the trained forecaster as an MLflow pyfunc (code + bundle + signature + example) and register it."""
import shutil
import warnings
from importlib.metadata import version as installed
from pathlib import Path

import mlflow
from mlflow.models import ModelSignature, infer_signature
from mlflow.types.schema import AnyType, ColSpec, Schema

import forecast.data
import forecast.models
import forecast.pipelines
from forecast.data.prepare import DataSpec, Prepared
from forecast.models.combination import Combination
from forecast.models.forecaster import Forecaster
from forecast.models.members import STATSMODELS
from forecast.models.short_series import Fallback
from forecast.pipelines.serving import pyfunc_model
from forecast.pipelines.serving.bundle import save_bundle
from forecast.pipelines.serving.inference import BATCH_SIZE, Predictor

REQUIREMENTS = ("torch", "numpy", "pandas", "mlflow", "pyarrow")
RUNTIME = (forecast.data, forecast.models, forecast.pipelines)   # everything below app/: what a loaded model runs


def _stage_code(directory: Path) -> Path:
    """The model's `code` artifact: the package `forecast` without its CLI (sources only), imported in isolation
    by the pyfunc (pyfunc_model.py)."""
    (directory / "forecast").mkdir(parents=True)
    (directory / "forecast" / "__init__.py").write_text("")   # a regular package: it wins over any namespace portion
    for package in RUNTIME:
        name = package.__name__.split(".")[-1]
        shutil.copytree(Path(package.__file__).parent, directory / "forecast" / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "checkpoints"))   # pretraining's, 2.5 MB
    return directory


def packages(combination: Combination, fallback: Fallback, holidays: str | None = None) -> tuple[str, ...]:
    """What the logged model needs installed: statsmodels only where a member with a weight fits with it, the
    `holidays` package only where the model reads holiday flags."""
    used = {*combination.statistical, *(m for b in fallback.buckets for m in b.used)}
    return (*REQUIREMENTS, *(("statsmodels",) if used & STATSMODELS else ()), *(("holidays",) if holidays else ()))


def log_forecaster(model: Forecaster, spec: DataSpec, prepared: Prepared, model_name: str | None, tmp: Path,
                   combination: Combination = Combination(), fallback: Fallback = Fallback(),
                   step: int = 0) -> str | None:
    """Log the pyfunc under the active run as `model`; with a `model_name`, register a new version and return it.
    The logged model links the run's metrics logged at `step` (MLflow's rule): the test score."""
    bundle = save_bundle(tmp / "bundle", model, spec, combination, fallback)
    code = _stage_code(tmp / "code")
    example = prepared.example
    output = Predictor(model, spec, combination, fallback).predict(example)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow\.")
        signature = infer_signature(example, output, params={"batch_size": BATCH_SIZE, "progress": False,
                                                              "horizon": spec.horizon,
                                                              "quantiles": list(model.config.quantiles)})
    # the input columns typed Any: the signature lists them (the registry's "Inputs"), and MLflow's enforcement
    # checks that the required ones are there without casting (a double column typed as such would refuse an
    # int64 count target: "Can not safely convert int64 to float64"). The model checks the values itself
    # (data/schema.py: the column, series and row of what is wrong). The scoring server's CSV bodies are read
    # by the guard (pipelines/serving/guard.py) and reach MLflow as JSON.
    s = spec.schema
    required = {c for c in (*s.id_columns, s.time_col, s.target, *s.covariates, *s.known_covariates) if c}
    inputs = Schema([ColSpec(AnyType(), c, required=c in required) for c in example.columns])
    signature = ModelSignature(inputs=inputs, outputs=signature.outputs, params=signature.params)
    needed = packages(combination, fallback, spec.holidays)
    requirements = [f"{name}=={installed(name).split('+')[0]}" for name in needed]
    with warnings.catch_warnings():  # MLflow's hints about integer columns and predict() type hints
        warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow\.")
        info = mlflow.pyfunc.log_model(name="model", python_model=pyfunc_model.__file__,
                                       artifacts={"bundle": str(bundle), "code": str(code)}, signature=signature,
                                       input_example=example, pip_requirements=requirements,
                                       registered_model_name=model_name, step=step,
                                       metadata={"forecast": {"text_columns": list(spec.text_columns),
                                                              "id_columns": list(s.id_columns)}})
    return str(info.registered_model_version) if model_name else None

"""Log the trained forecaster as an MLflow pyfunc (code + bundle + signature + example) and register it."""
import shutil
import warnings
from importlib.metadata import version as installed
from pathlib import Path

import mlflow
from mlflow.models import ModelSignature, infer_signature

import data
import models
import pipelines
from data.prepare import DataSpec, Prepared
from models.fallback import Fallback
from models.forecaster import Forecaster
from pipelines.serving import pyfunc_model
from pipelines.serving.bundle import save_bundle
from pipelines.serving.inference import Predictor

REQUIREMENTS = ("torch", "numpy", "pandas", "mlflow", "pyarrow")
# what pipelines/serving/inference.py imports from `pipelines` (the pyfunc imports it in isolation)
SERVING_MODULES = ("pipelines/__init__.py", "pipelines/serving/__init__.py", "pipelines/serving/inference.py",
                   "pipelines/serving/bundle.py")


def _stage_code(directory: Path) -> Path:
    """The model's `code` artifact: `data` and `models` (sources only), and of `pipelines` only what loading a
    model needs (SERVING_MODULES; a test loads a logged model in a fresh process)."""
    for package in (data, models):
        source = Path(package.__file__).parent
        shutil.copytree(source, directory / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    root = Path(pipelines.__file__).parent.parent
    for name in SERVING_MODULES:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / name, directory / name)
    return directory


def log_forecaster(model: Forecaster, spec: DataSpec, prepared: Prepared, model_name: str | None, tmp: Path,
                   theta_weight: float = 0.0, fallback: Fallback = Fallback()) -> str | None:
    """Log the pyfunc under the active run as `model`; with a `model_name`, register a new version and return it."""
    bundle = save_bundle(tmp / "bundle", model, spec, theta_weight, fallback)
    code = _stage_code(tmp / "code")
    example = prepared.example
    output = Predictor(model, spec, theta_weight, fallback).predict(example)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow\.")
        signature = infer_signature(example, output, params={"batch_size": 1024, "progress": False,
                                                              "horizon": spec.horizon,
                                                              "quantiles": list(model.config.quantiles)})
    # no input schema: MLflow enforces one before the model sees the frame and refuses int64 for a double column
    # ("Can not safely convert int64 to float64": it upcasts only ints of <= 6 bytes), so a count target or a
    # weekday covariate read from the training file itself could not be forecast; typing the columns Any instead
    # breaks the scoring server's CSV parsing (it needs a type per column). The model checks its own input
    # (data/schema.py: the column, series and row of what is wrong); the input example shows the request.
    signature = ModelSignature(inputs=None, outputs=signature.outputs, params=signature.params)
    needed = (*REQUIREMENTS, "statsmodels") if theta_weight or not fallback.is_default else REQUIREMENTS  # Theta
    requirements = [f"{name}=={installed(name).split('+')[0]}" for name in needed]
    with warnings.catch_warnings():  # MLflow's hints about integer columns and predict() type hints
        warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow\.")
        info = mlflow.pyfunc.log_model(name="model", python_model=pyfunc_model.__file__,
                                       artifacts={"bundle": str(bundle), "code": str(code)}, signature=signature,
                                       input_example=example, pip_requirements=requirements,
                                       registered_model_name=model_name)
    return str(info.registered_model_version) if model_name else None

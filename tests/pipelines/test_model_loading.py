"""Reading a logged forecaster back (backtest, promote, warm start): anything else is refused in one line."""
import mlflow
import pytest

from forecast.pipelines.errors import ForecastError
from forecast.pipelines.serving.loading import load_predictor
from forecast.pipelines.tracking import load_pyfunc


def test_a_folder_that_is_not_a_forecaster_is_refused_naming_what_to_give(tmp_path):
    (tmp_path / "artifacts").mkdir()
    with pytest.raises(ForecastError, match="is not a forecaster logged by this tool .*models:/<name>@<alias>"):
        load_predictor(str(tmp_path))


def test_a_broken_bundle_is_refused_not_a_traceback(tmp_path):
    bundle = tmp_path / "artifacts" / "bundle"
    bundle.mkdir(parents=True)
    (bundle / "model.pt").write_bytes(b"not a torch file")
    (bundle / "spec.json").write_text("{")
    with pytest.raises(ForecastError, match=str(tmp_path)):
        load_predictor(str(tmp_path))


def test_an_alias_the_model_lacks_is_refused_naming_its_versions_and_aliases(tmp_path, tracking_uri):
    """A training killed between registering its version and labelling it leaves a version without an alias."""
    client = mlflow.MlflowClient(tracking_uri)
    client.create_registered_model("unlabelled")
    client.create_model_version("unlabelled", str(tmp_path))
    mlflow.set_tracking_uri(tracking_uri)
    with pytest.raises(ForecastError, match="alias champion not found; 'unlabelled' has versions 1 and aliases: "
                                            "none; give models:/unlabelled/<version>$"):
        load_pyfunc("models:/unlabelled@champion")

"""Reading a logged forecaster back (backtest, promote, warm start): anything else is refused in one line."""
import pytest

from forecast.pipelines.errors import ForecastError
from forecast.pipelines.tracking import load_predictor


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

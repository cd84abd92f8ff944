"""What a logged model asks to be installed where it is served: statsmodels exactly where a member fits with it."""
from forecast.models.combination import Combination
from forecast.models.short_series import Bucket, Fallback
from forecast.pipelines.serving.logged_model import REQUIREMENTS, packages


def _combination(**weights) -> Combination:
    return Combination(weights)


def _fallback(**weights) -> Fallback:
    return Fallback((Bucket(1, weights),))


def test_statsmodels_is_required_where_theta_or_ets_has_a_weight_and_only_there():
    assert packages(Combination(), Fallback()) == REQUIREMENTS            # the network alone, the old rule
    assert packages(_combination(network=0.5, drift=0.5), _fallback(naive=1.0)) == REQUIREMENTS
    for fitted in ("theta", "ets"):
        assert "statsmodels" in packages(_combination(network=0.75, **{fitted: 0.25}), Fallback())
        assert "statsmodels" in packages(Combination(), _fallback(drift=0.5, **{fitted: 0.5}))
    assert packages(Combination(), Fallback(), holidays="AU-VIC") == (*REQUIREMENTS, "holidays")


def test_the_logged_code_is_sources_only_without_the_pretrained_checkpoints(tmp_path):
    """The model's `code` artifact carries the package's modules, not pretraining's checkpoints (2.5 MB a model):
    a served model never reads them."""
    from forecast.pipelines.serving.logged_model import _stage_code

    code = _stage_code(tmp_path / "code")
    assert (code / "forecast" / "models" / "forecaster.py").exists()
    assert not list(code.rglob("*.pt")) and not list(code.rglob("checkpoints"))

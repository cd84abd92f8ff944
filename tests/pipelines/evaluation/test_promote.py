"""promote's decision: a gain both large enough and significant, or forced; the reason in words."""
import pytest

from forecast.pipelines.errors import ForecastError
from forecast.pipelines.evaluation.promote import _decision


def test_the_challenger_needs_a_gain_of_min_gain_and_two_standard_errors():
    promoted, reason = _decision([1.0, 0.9], t=3.1, cases=40, min_gain=0.01, force=False)
    assert promoted
    assert reason == "challenger MASE 0.9000, champion's 1.0000: a gain of 10.00% at t = 3.10 over 40 window(s)"
    promoted, reason = _decision([1.0, 0.9], t=1.2, cases=4, min_gain=0.01, force=False)
    assert not promoted and reason.endswith("not significant (2 standard errors needed: more windows may show it)")
    promoted, reason = _decision([1.0, 0.995], t=5.0, cases=400, min_gain=0.01, force=False)
    assert not promoted
    assert reason.endswith("a gain of 0.50% at t = 5.00 over 400 window(s); --min-gain 0.01 needs 1.0%")
    promoted, reason = _decision([1.0, 1.1], t=-2.0, cases=40, min_gain=0.01, force=True)
    assert promoted and reason.startswith("forced: challenger MASE 1.1000")


def test_an_undefined_mase_is_refused_unless_forced():
    with pytest.raises(ForecastError, match=r"the backtest MASE is undefined \(nan and nan\)"):
        _decision([float("nan")] * 2, t=float("nan"), cases=4, min_gain=0.01, force=False)
    assert _decision([float("nan")] * 2, t=float("nan"), cases=4, min_gain=0.01, force=True) == (True, "forced")

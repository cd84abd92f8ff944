"""A version's caution: no test part, or an interval whose coverage a test finds incompatible with its level."""
from forecast.pipelines.evaluation.caution import caution

Q = (0.1, 0.5, 0.9)


def test_coverage_is_judged_by_a_test_over_the_windows_not_a_margin():
    assert caution({"test_coverage_q0.1_q0.9": 0.90}, Q, 3) is None            # 3 windows cannot tell
    assert caution({"test_coverage_q0.1_q0.9": 0.75}, Q, 200) is None          # within what 200 allow
    far = caution({"test_coverage_q0.1_q0.9": 0.056}, Q, 36)                   # the probe's 5-step model
    assert far.startswith("the 0.1-0.9 interval covered 5.6% of the test values, nominal 80% (95 % interval ")
    assert far.endswith("over 36 window(s)): its quantiles are not calibrated")
    assert caution({"test_coverage_q0.1_q0.9": 0.60}, Q, 400) is not None      # many windows: a real gap


def test_no_test_part_is_a_caution_and_a_point_model_has_no_interval_to_judge():
    assert caution(None, Q, 0).startswith("no test part: this version was not scored")
    assert caution({"test_mase": 0.9}, (0.5,), 10) is None

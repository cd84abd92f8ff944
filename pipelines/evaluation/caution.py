"""Why a registered version may not deserve trust, in one line (None: no reason found): no test part to score it
on, or an interval whose coverage on the test part is incompatible with its nominal level. The training summary
says it and the version carries it as the tag `caution`; a first version still becomes champion (there is no
other), and the tag says why it may not deserve that.

Coverage is judged by a test, not a margin: the 95 % Wilson interval of the observed coverage, counted over the
test windows (the steps of one window share an origin and are not independent), must contain the nominal level.
A 5-step model covering 5.6 % of the values with a nominal 80 % interval fails it; 0.90 over 3 windows passes.
"""
from statsmodels.stats.proportion import proportion_confint


def caution(metrics: dict[str, float] | None, quantiles: tuple[float, ...], windows: int) -> str | None:
    if metrics is None or windows < 1:
        return "no test part: this version was not scored (forecast backtest scores it on later data)"
    key = f"test_coverage_q{quantiles[0]}_q{quantiles[-1]}"
    if len(quantiles) < 2 or key not in metrics:
        return None
    covered, nominal = metrics[key], quantiles[-1] - quantiles[0]
    low, high = proportion_confint(round(covered * windows), windows, alpha=0.05, method="wilson")
    if low <= nominal <= high:
        return None
    return (f"the {quantiles[0]:g}-{quantiles[-1]:g} interval covered {covered:.1%} of the test values, nominal "
            f"{nominal:.0%} (95 % interval {low:.1%}-{high:.1%} over {windows} window(s)): its quantiles are not "
            "calibrated")

"""The forecast of the network's series: the network's median combined with statistical members
(models/members.py: Theta, ETS, drift, seasonal naive, naive), with weights chosen on validation windows in
training and saved with the model.

Combinations are the steadiest accuracy gain the forecasting competitions found (M3, M4), but not everywhere: on
the suite's long monthly panels and hourly data the network alone is better, and a fixed half of Theta costs them
11-24 % (docs/benchmarks.md). So the weights are chosen (`choose`): Caruana's greedy ensemble selection
(models/ensemble.py: `greedy_weights`, weights in twentieths) over the network and the members, on each validation
window's median in MASE's units (each series' errors over its mean absolute change over a season, as the short
series' forecast is chosen and as accuracy is reported). The evidence decides how far that choice is trusted:
- with at least `MIN_GROUPS` independent groups of windows (windows whose targets overlap form one group), the greedy
  weights are cross-fitted (`cross_fitted`): fitted on the windows of four of `FOLDS` folds of the groups (series and
  origins) and scored on the fifth, so that every window's error is one the weights were not fitted on, and the five
  folds' weights averaged. That averaged combination is chosen where its out-of-fold error is lower than the network
  alone's (the mean gain over groups: models/ensemble.py `paired_t` < 0), else the network alone. Over groups, not
  over windows: a series with many windows would otherwise decide for the rest; where the groups differ in size the
  two can disagree (ansett: lower over windows, higher over groups), and the choice by windows scored worse there on
  two seeds (docs/benchmarks.md). One split's winner, fitted and judged on the same windows, is what the forecasting
  literature's combination puzzle warns of; out of fold, the comparison is fair to both sides, so neither is favoured.
  A margin of 2 standard errors for the combination (the rule before) favoured the network: on all fifteen suite
  datasets, with two training seeds, dropping it lowered the aggregate by 0.4 % and 1.0 %, at a 7 % cost on
  us_employment (docs/benchmarks.md, "The combination without a margin for the network");
- with fewer (one long series forecast a season ahead: us_gasoline's 52-week horizon leaves two groups), no test
  can tell a weight from noise, and five free weights fitted on so few windows overfit them. So the choice narrows
  to what few windows can choose: the network alone, or the network halfway with one member (the equal-weight
  pair of different methods the competitions favour), whichever validated best.
Every quantile moves with the median: the interval keeps its width. The measurements behind each rule are in
docs/benchmarks.md ("The figures behind the members' rules").

A bundle from before this existed has `theta_weight`: the network at 1 - w and Theta at w (`from_theta`).
"""
from dataclasses import dataclass, field

import numpy as np

from forecast.models.ensemble import greedy_weights, paired_t

NETWORK = "network"
MIN_GROUPS = 10    # independent groups of validation windows the cross-fitted choice needs (five folds of two)
FOLDS = 5          # cross-fitting: weights fitted on four fifths of the groups, scored on the fifth


@dataclass(frozen=True)
class Combination:
    """Weights by name, summing to 1: the network's and its statistical members' (models/members.py); those
    without a weight are left out."""
    weights: dict[str, float] = field(default_factory=lambda: {NETWORK: 1.0})

    @classmethod
    def of(cls, names: tuple[str, ...], weights) -> "Combination":
        """From weights in the order of `names`."""
        return cls({name: float(w) for name, w in zip(names, weights) if w > 0})

    @classmethod
    def from_theta(cls, weight: float) -> "Combination":
        return cls.of((NETWORK, "theta"), (1.0 - weight, weight))

    @property
    def is_network(self) -> bool:
        return self.weights.get(NETWORK, 0.0) == 1.0

    @property
    def statistical(self) -> dict[str, float]:
        """The statistical members with a weight."""
        return {name: w for name, w in self.weights.items() if name != NETWORK and w > 0}

    def apply(self, q: np.ndarray, median_index: int, member_forecasts) -> np.ndarray:
        """(N, H, Q) quantiles moved so that the median is the combination; `member_forecasts(names)` gives those
        members' (N, M, H) forecasts on q's scale."""
        if self.is_network:
            return q
        median = q[:, :, median_index]
        used = self.statistical
        f = member_forecasts(tuple(used))
        combined = self.weights.get(NETWORK, 0.0) * median + sum(w * f[:, i] for i, w in enumerate(used.values()))
        return q + (combined - median)[:, :, None]

    def to_dict(self) -> dict:
        return {"weights": dict(self.weights)}

    @classmethod
    def from_dict(cls, d: dict) -> "Combination":
        if "weights" in d:
            return cls({name: float(w) for name, w in d["weights"].items() if w})
        return cls.from_theta(float(d.get("theta_weight", 0.0)))


def pairs(size: int, shares: tuple[float, ...]) -> list[np.ndarray]:
    """The network (index 0) with one member at each share, as weights over `size` forecasts."""
    network = np.eye(size)[0]
    return [(1 - share) * network + share * np.eye(size)[i] for i in range(1, size) for share in shares]


def cross_fitted(forecasts: np.ndarray, y: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy weights cross-fitted over `FOLDS` folds of the groups (`index` (N,): each window's group, 0..G-1,
    at least `FOLDS` of them): the folds' weights averaged, and each window's absolute error (N,) under the weights
    fitted without its fold."""
    folds = index % FOLDS
    fitted, out_of_fold = [], np.empty(len(y))
    for k in range(FOLDS):
        held = folds == k
        w = greedy_weights(forecasts[~held], y[~held], np.ones(int((~held).sum())))
        out_of_fold[held] = np.abs(np.einsum("m,nmh->nh", w, forecasts[held]) - y[held]).mean(axis=1)
        fitted.append(w)
    return np.mean(fitted, axis=0), out_of_fold


def choose(median: np.ndarray, forecasts: np.ndarray, names: tuple[str, ...], y: np.ndarray,
           groups: np.ndarray) -> tuple[Combination, dict]:
    """median (N, H) of the network, forecasts (N, M, H) of the members `names`, y (N, H), all in each series'
    units of error (MASE's, in training); groups (N,) of windows that share targets. With `MIN_GROUPS` groups: the
    cross-fitted greedy combination where its out-of-fold error is lower than the network alone's (averaged per
    group), else the network alone; with fewer, the best of the network alone and its halves with one member (module
    docstring).
    Also returns the validation error of each member and of the combination (out of fold where cross-fitted), and
    the t statistic of the combination's gain."""
    names = (NETWORK, *names)
    forecasts = np.concatenate([median[:, None], forecasts], axis=1)                   # (N, M + 1, H)
    error = lambda w: np.abs(np.einsum("m,nmh->nh", w, forecasts) - y).mean(axis=1)    # noqa: E731  (N,)
    network = np.eye(len(names))[0]
    errors = {name: float(error(np.eye(len(names))[i]).mean()) for i, name in enumerate(names)}
    labels, index = np.unique(groups, return_inverse=True)
    if len(labels) < MIN_GROUPS:
        errors["combination"] = float(error(greedy_weights(forecasts, y, np.ones(len(y)))).mean())   # reported only
        best = min([network, *pairs(len(names), (0.5,))], key=lambda w: error(w).mean())
        return Combination.of(names, best), errors
    weights, out_of_fold = cross_fitted(forecasts, y, index)
    errors["combination"] = float(out_of_fold.mean())
    if weights[0] == 1.0:              # the network alone in every fold
        return Combination(), errors
    errors["t"] = paired_t(out_of_fold, error(network), index)
    return (Combination.of(names, weights) if errors["t"] < 0 else Combination()), errors

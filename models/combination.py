"""The forecast of the network's series: the network's median combined with statistical members (Theta, ETS, drift,
seasonal naive, naive), with weights chosen on validation windows in training and saved with the model.

Combinations are the steadiest accuracy gain the forecasting competitions found (M3, M4), but not everywhere: on
the suite's long monthly panels and hourly data the network alone is better, and a fixed half of Theta costs them
11-24 % (docs/benchmarks.md). So the weights are chosen (`choose`): Caruana's greedy ensemble selection
(models/fallback.py: `greedy_weights`, weights in twentieths) over the network and the members, on each validation
window's median in the series' scaled units. The evidence decides how far that choice is trusted:
- with at least `MIN_GROUPS` independent groups of windows (windows whose targets overlap form one group), the
  candidates are the greedy combination and the network with a single member at a quarter or a half (the family
  the earlier Theta-only rule tested, for every member); a candidate counts only where its gain over the network
  alone is at least `SIGNIFICANCE` standard errors of the paired difference over groups, and the one with the
  lowest validation error among those is chosen, else the network alone (on us_employment a 1.6 % validation
  gain at 0.8 standard errors came with a 7 % test loss). The single pairs stay candidates because the greedy
  weights, fine-grained, can miss the test where a simple pair passes it (ETTh1: greedy t -1.92, test MASE 0.5163;
  ETS at a quarter passes at -2.85, 0.5069; m1_quarterly: ETS at a quarter, -2.75);
- with fewer (one long series forecast a season ahead: us_gasoline's 52-week horizon leaves two groups), no test
  can tell a weight from noise, and five free weights fitted on so few windows overfit them (on us_gasoline the
  greedy choice, ETS 0.75 + naive 0.2 + seasonal naive 0.05, scored 1.014 on the test part against the network
  alone's 1.002). So the choice narrows to what few windows can choose: the network alone, or the network halfway
  with one member (the equal-weight pair of different methods the competitions favour), whichever validated best.
Every quantile moves with the median: the interval keeps its width.

A bundle from before this existed has `theta_weight`: the network at 1 - w and Theta at w (`from_theta`).
"""
from dataclasses import dataclass

import numpy as np

from forecast.models.fallback import greedy_weights

MEMBERS = ("network", "theta", "ets", "drift", "seasonal_naive", "naive")
SIGNIFICANCE = 2.0
MIN_GROUPS = 10    # independent groups of validation windows a significance test needs
PAIR_SHARES = (0.25, 0.5)   # a single member's shares tested beside the greedy combination (the old Theta rule's)
NETWORK = np.eye(len(MEMBERS))[0]   # the network alone, as weights


@dataclass(frozen=True)
class Combination:
    weights: tuple[float, ...] = tuple(float(m == "network") for m in MEMBERS)   # MEMBERS order, summing to 1

    @classmethod
    def from_theta(cls, weight: float) -> "Combination":
        return cls(tuple({"network": 1.0 - weight, "theta": weight}.get(m, 0.0) for m in MEMBERS))

    @property
    def is_network(self) -> bool:
        return self.weights[0] == 1.0

    @property
    def statistical(self) -> dict[str, float]:
        """The statistical members with a weight."""
        return {name: w for name, w in zip(MEMBERS[1:], self.weights[1:]) if w > 0}

    def apply(self, q: np.ndarray, median_index: int, member) -> np.ndarray:
        """(N, H, Q) quantiles moved so that the median is the combination; `member(name)` gives that member's
        (N, H) forecasts on q's scale."""
        if self.is_network:
            return q
        median = q[:, :, median_index]
        combined = self.weights[0] * median + sum(w * member(name) for name, w in self.statistical.items())
        return q + (combined - median)[:, :, None]

    def to_dict(self) -> dict:
        return {"weights": dict(zip(MEMBERS, self.weights))}

    @classmethod
    def from_dict(cls, d: dict) -> "Combination":
        if "weights" in d:
            return cls(tuple(float(d["weights"].get(m, 0.0)) for m in MEMBERS))
        return cls.from_theta(float(d.get("theta_weight", 0.0)))


def pairs(shares: tuple[float, ...]) -> list[np.ndarray]:
    """The network with one member at each share (weights in MEMBERS order)."""
    return [(1 - share) * NETWORK + share * np.eye(len(MEMBERS))[i] for i in range(1, len(MEMBERS)) for share in shares]


def choose(median: np.ndarray, members: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[Combination, dict]:
    """median (N, H) of the network, members (N, M-1, H) in MEMBERS[1:] order, y (N, H), all in each series'
    scaled units; groups (N,) of windows that share targets. With `MIN_GROUPS` groups: among the greedy
    combination and the network with one member at `PAIR_SHARES`, the lowest validation error of those whose gain
    over the network alone is `SIGNIFICANCE` standard errors, else the network alone; with fewer, the best of the
    network alone and its halves with one member (module docstring). Also returns the validation error of each
    member and of the greedy combination, and the t statistic of the chosen (or, where none passed, the greedy)
    combination's gain."""
    forecasts = np.concatenate([median[:, None], members], axis=1)                     # (N, M, H)
    error = lambda w: np.abs(np.einsum("m,nmh->nh", w, forecasts) - y).mean(axis=1)    # noqa: E731  (N,)
    greedy = greedy_weights(forecasts, y, np.ones(len(y)))
    errors = {**{name: float(error(np.eye(len(MEMBERS))[i]).mean()) for i, name in enumerate(MEMBERS)},
              "combination": float(error(greedy).mean())}
    labels, index = np.unique(groups, return_inverse=True)
    if len(labels) < MIN_GROUPS:
        best = min([NETWORK, *pairs((0.5,))], key=lambda w: error(w).mean())
        return Combination(tuple(float(w) for w in best)), errors
    alone = error(NETWORK)

    def t(w: np.ndarray) -> float:          # the gain's mean over its standard error, over groups
        gain = np.bincount(index, error(w) - alone) / np.bincount(index)              # (G,) mean per group
        return float(gain.mean() / max(gain.std(ddof=1) / np.sqrt(len(gain)), 1e-12))

    tested = [(error(w).mean(), w, t(w)) for w in [greedy, *pairs(PAIR_SHARES)] if w[0] < 1.0]
    passed = [c for c in tested if c[2] < -SIGNIFICANCE]
    if not passed:
        if greedy[0] < 1.0:
            errors["t"] = tested[0][2]
        return Combination(), errors
    _, best, errors["t"] = min(passed, key=lambda p: p[0])
    return Combination(tuple(float(w) for w in best)), errors

"""The suite's scores, in plain NumPy so that the project's venv (benchmarks/score_suite.py) and the peers'
(benchmarks/peers_prob.py) compute them alike:

- MASE's scale: a series' in-sample seasonal-naive MAE on its training part (lag m; 1 where the series is not
  longer than m), as the team's harness scales it;
- WQL over levels q (the field's definition: Chronos Benchmark II, GluonTS): the mean over q of
  2 * sum(pinball_q) / sum(|y|), each sum over every test point of the dataset (all series, all windows): a
  dataset's large series weigh more, as in the published tables;
- coverage: the share of test points inside [lowest level, highest level] (q0.1-q0.9: nominal 0.8).
"""
import numpy as np

DECILES = tuple(round(0.1 * k, 1) for k in range(1, 10))


def mase_scale(values: np.ndarray, season: int) -> float:
    """The mean absolute seasonal difference of a training part (lag `season`; 1 where it is not longer)."""
    lag = season if len(values) > season else 1
    return float(np.mean(np.abs(values[lag:] - values[:-lag])))


def wql(y: np.ndarray, q: np.ndarray, levels=DECILES) -> float:
    """y (N,), q (N, Q) at `levels`."""
    e = y[:, None] - q
    tau = np.asarray(levels)
    pinball = np.maximum(tau * e, (tau - 1.0) * e).sum(axis=0)          # (Q,)
    return float(np.mean(2.0 * pinball / np.abs(y).sum()))


def coverage(y: np.ndarray, q: np.ndarray) -> float:
    """The share of y inside [q[:, 0], q[:, -1]]."""
    return float(np.mean((y >= q[:, 0]) & (y <= q[:, -1])))

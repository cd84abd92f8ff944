"""The suite's probabilistic scores, the field's definitions (Chronos Benchmark II, GluonTS), in plain NumPy so that
the project's venv (benchmarks/score_suite.py) and the peers' (benchmarks/peers_prob.py) compute them alike.

- WQL over levels q: the mean over q of 2 * sum(pinball_q) / sum(|y|), each sum over every test point of the
  dataset (all series, all windows): a dataset's large series weigh more, as in the published tables;
- coverage: the share of test points inside [lowest level, highest level] (q0.1-q0.9: nominal 0.8).
"""
import numpy as np

DECILES = tuple(round(0.1 * k, 1) for k in range(1, 10))


def wql(y: np.ndarray, q: np.ndarray, levels=DECILES) -> float:
    """y (N,), q (N, Q) at `levels`."""
    e = y[:, None] - q
    tau = np.asarray(levels)
    pinball = np.maximum(tau * e, (tau - 1.0) * e).sum(axis=0)          # (Q,)
    return float(np.mean(2.0 * pinball / np.abs(y).sum()))


def coverage(y: np.ndarray, q: np.ndarray) -> float:
    """The share of y inside [q[:, 0], q[:, -1]]."""
    return float(np.mean((y >= q[:, 0]) & (y <= q[:, -1])))

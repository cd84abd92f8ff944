"""The statistical references users reach for first on short panels, ETS and Theta (statsmodels), scored on
our test windows: each window's forecast comes from a fit on its own series' history up to the origin (the
statistical peers' protocol: refitted before every origin), in original units, then scaled like ours so that
`pipelines.evaluation.evaluate.score` scores every model with the same code.

statsforecast's AutoETS/AutoTheta are the field's reference, but statsforecast 2.1.1 needs pandas < 3 and the
product pins pandas 3.0.6; statsmodels 0.15 installs beside it and has both methods (docs/benchmarks.md).
- ETS: additive errors; no trend or a damped additive trend, times no season or an additive one (where two
  seasons of history exist); the four fits compared by AICc, as AutoETS selects.
- Theta: `ThetaModel`, deseasonalised where two seasons of history exist (models/theta.py, the same function
  the product's combination uses).
- The combination's own members (models/members.py) that are not already here: `ets_fast` (the member `ets`,
  models/ets.py: `fast_ets`, the grid-fitted ETS) and `drift`; seasonal naive and naive are in every table.
All give point forecasts: every quantile is the point forecast (as pytorch-forecasting's Baseline's are), so
their pinball loss is a point forecast's. They have no trained weights: `n_parameters` is 0.
Every one runs through the members' windows helper (models/members.py: `window_forecasts`), so a fit sees at most
the last `HISTORY` (1,000) points (a seasonal ETS fit on 17,000 hourly points takes ~20 s).
"""
import time
import warnings

import numpy as np

from forecast.data.prepare import Prepared
from forecast.models import members
from forecast.models.ets import ets
from forecast.models.members import HISTORY
from forecast.pipelines.evaluation.evaluate import statistical_scaled
from forecast.pipelines.experiments.peers import PeerResult

STATISTICAL = ("ets", "theta", "ets_fast", "drift")
LABELS = {"ets": "statsmodels ETS", "theta": "statsmodels Theta", "ets_fast": "member: fast ETS",
          "drift": "member: drift"}
# the peers by their names in `forecast benchmark`: statsmodels' ETS, and members of the combination
METHODS = {"ets": ets, "theta": members.MEMBERS["theta"], "ets_fast": members.MEMBERS["ets"],
           "drift": members.MEMBERS["drift"]}


def run_statistical(name: str, prepared: Prepared, quantiles: tuple[float, ...]) -> PeerResult:
    """Fit and forecast every test window (N, H, Q, scaled, in the order of the test starts); the fits happen
    at forecast time, so their seconds are predict seconds."""
    starts, season = prepared.starts["test"], prepared.spec.freq.season_length
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # statsmodels' convergence and frequency warnings, per fit
        scaled = statistical_scaled(prepared, starts, (name,), METHODS)[:, 0]
    return PeerResult(name, np.repeat(scaled[..., None], len(quantiles), axis=-1), 0.0,
                      time.perf_counter() - started, 0, 0, {"history": HISTORY, "season_length": season})

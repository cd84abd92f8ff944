"""The backtest never shows the model a target at or after its origin, and scores baselines on the same origins."""
import numpy as np
import pandas as pd

from forecast.data.config import DataConfig
from forecast.data.prepare import prepare_training
from forecast.models.config import ModelConfig
from forecast.models.forecaster import Forecaster
from forecast.pipelines.evaluation.backtest import backtest_table
from forecast.pipelines.serving.inference import Predictor


class Spy(Predictor):
    def __init__(self, *args):
        super().__init__(*args)
        self.requests = []

    def forecast(self, request, batch_size=1024, progress=False):
        self.requests.append(pd.concat([request.history, request.future], ignore_index=True))
        return super().forecast(request, batch_size, progress)


def test_origins_and_no_look_ahead(make_frame):
    H, W, n = 6, 3, 120
    frame = make_frame(n_series=2, length=n, covariates=2).rename(columns={"cov1": "promo"})
    # a future-only signal: every value says where it stands, so any look-ahead shows as a value >= the origin's
    frame["value"] = np.tile(np.arange(n, dtype=float), 2) + np.repeat([0.0, 10_000.0], n)
    prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=H, known_covariates=("promo",)))
    config = ModelConfig(d_model=8, n_heads=2, layers=1, seq_len=10, horizon=H,
                         n_features=prepared.panel.values.shape[1], n_known=prepared.spec.n_known)
    spy = Spy(Forecaster(config), prepared.spec)
    table, scales, _ = backtest_table(spy, frame, W)

    assert len(spy.requests) == W and len(table) == 2 * W * H
    for k, request in enumerate(spy.requests):                     # canonical columns: series_id, timestamp, target
        origin = n - (W - k) * H                                   # position of the first forecast step
        for sid, offset in (("s0", 0.0), ("s1", 10_000.0)):
            rows = request[request["series_id"] == sid]
            seen = rows["target"].dropna() - offset
            assert seen.max() == origin - 1                        # everything before the origin, nothing after
            future = rows[rows["target"].isna()]
            assert len(future) == H and future["promo"].notna().all() and future["cov0"].isna().all()
    origins = sorted(table["origin"].unique())
    assert len(origins) == W and (np.diff(origins) == pd.Timedelta(hours=H)).all()
    first = table[(table["series_id"] == "s0") & (table["origin"] == origins[0])]
    assert first["actual"].tolist() == list(np.arange(n - W * H, n - W * H + H, dtype=float))
    assert (first["naive"] == n - W * H - 1).all()                   # the last value before the origin
    assert first["seasonal_naive"].tolist() == list(np.arange(n - W * H - 24, n - W * H - 24 + H, dtype=float))
    assert scales["s0"] == 24.0                         # mean |y_t - y_{t-24}| of a unit ramp, before the first origin


def test_by_default_the_origins_lie_after_the_data_the_model_saw_where_the_data_allows(make_frame, caplog):
    """The model saw its training file less the held-out test part (the last 6 rows of each series): windows after
    that are the default, its own test part included."""
    H, n, trained = 6, 120, 100
    frame = make_frame(n_series=2, length=n, covariates=0)
    rank = frame.groupby("series_id").cumcount()
    cut = frame[rank < trained]                                       # the model's training file: 100 rows each
    prepared = prepare_training(cut, DataConfig(seq_len=10, horizon=H))
    config = ModelConfig(d_model=8, n_heads=2, layers=1, seq_len=10, horizon=H,
                         n_features=prepared.panel.values.shape[1], n_known=prepared.spec.n_known,
                         lag_feature=prepared.spec.lag_feature)
    predictor = Predictor(Forecaster(config), prepared.spec)
    until = pd.Timestamp(prepared.spec.seen_until)
    assert until == frame["timestamp"].iloc[trained - H - 1]          # 94 rows seen, the test part's 6 not

    table, _, _ = backtest_table(predictor, frame, None)            # 26 rows after: 3 windows of 6 fit
    assert table["origin"].nunique() == 3 and (table["origin"] > until).all()
    with caplog.at_level("INFO", logger="forecast"):               # 13 rows after: 2 windows, and it says so
        table, _, _ = backtest_table(predictor, frame[rank < trained + 7], None)
    assert table["origin"].nunique() == 2 and (table["origin"] > until).all()
    assert "2 window(s) per series after the data the model saw" in caplog.text
    table, _, _ = backtest_table(predictor, cut, None)                # the training file: its own test window
    assert table["origin"].nunique() == 1 and (table["origin"] > until).all()
    table, _, _ = backtest_table(predictor, frame[rank < trained - H], None)   # nothing after: 3, inside (warned)
    assert table["origin"].nunique() == 3 and (table["origin"] <= until).all()
    table, _, _ = backtest_table(predictor, frame, 5)                 # asked for: as asked
    assert table["origin"].nunique() == 5

import numpy as np
import pytest
import torch

from forecast.models.naive import naive_forecasts, seasonal_scale
from forecast.pipelines.evaluation.metrics import coverage, mae, mase, pinball, rmse, smape


def test_metrics_on_hand_computed_values():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[2.0, 2.0], [1.0, 4.0]])
    assert mae(y, p) == pytest.approx(0.75)                       # (1 + 0 + 2 + 0) / 4
    assert rmse(y, p) == pytest.approx(np.sqrt(5 / 4))
    assert smape(y, p) == pytest.approx(100 * (2 / 3 + 0 + 1 + 0) / 4)  # 2|e|/(|y|+|p|): 2/3, 0, 4/4, 0
    assert mase(y, p, np.array([0.5, 2.0])) == pytest.approx(np.mean([0.5 / 0.5, 1.0 / 2.0]))
    q = np.stack([p - 1, p, p + 1], axis=-1)
    # e = y - q; max(tau e, (tau - 1) e) averaged over all entries
    e = y[..., None] - q
    tau = np.array([0.1, 0.5, 0.9])
    assert pinball(y, q, tau) == pytest.approx(np.mean(np.maximum(tau * e, (tau - 1) * e)))
    assert coverage(y, q[..., 0], q[..., 2]) == pytest.approx(0.75)  # y = 3 lies outside [0, 2]
    assert seasonal_scale(np.array([1.0, 2.0, 4.0, 7.0]), 2) == pytest.approx((3 + 5) / 2)
    assert seasonal_scale(np.array([1.0, 3.0]), 24) == pytest.approx(2.0)  # short history: lag 1


def test_metrics_agree_with_pytorch_forecasting():
    from pytorch_forecasting.metrics import MAE, RMSE, SMAPE

    rng = np.random.default_rng(0)
    y, p = rng.uniform(1, 5, (5, 4)), rng.uniform(1, 5, (5, 4))
    ty, tp = torch.tensor(y), torch.tensor(p)
    assert mae(y, p) == pytest.approx(MAE().loss(tp, ty).mean().item())
    assert rmse(y, p) == pytest.approx(np.sqrt(RMSE().loss(tp, ty).mean().item()))
    assert smape(y, p) == pytest.approx(100 * SMAPE().loss(tp, ty).mean().item(), rel=1e-6)


def test_naive_and_seasonal_naive_baselines():
    raw = np.arange(100, 130, dtype=float)          # two series: rows 0..14 and 15..29
    origins = np.array([10, 27])
    naive, seasonal, is_seasonal = naive_forecasts(raw, origins, np.array([0, 15]), horizon=6, season=4)
    assert naive.tolist() == [[109.0] * 6, [126.0] * 6] and is_seasonal.tolist() == [True, True]
    # step h takes the value one season before its own time (origin + h - 4); the last season repeats after it
    assert seasonal.tolist() == [[106.0, 107.0, 108.0, 109.0, 106.0, 107.0], [123.0, 124.0, 125.0, 126.0, 123.0, 124.0]]
    # history shorter than a season inside its own series falls back to naive
    _, short, is_seasonal = naive_forecasts(raw, np.array([17]), np.array([15]), horizon=2, season=4)
    assert short.tolist() == [[116.0, 116.0]] and is_seasonal.tolist() == [False]


def test_accuracy_breaks_down_by_step_and_series():
    import pandas as pd

    from forecast.pipelines.evaluation.accuracy import accuracy, flat_metrics

    table = pd.DataFrame({"series_id": ["a", "a", "b", "b"], "origin": [0, 0, 0, 0], "step": [1, 2, 1, 2],
                          "actual": [1.0, 2.0, 10.0, 10.0], "prediction": [1.0, 4.0, 9.0, 10.0],
                          "q0.1": [0.0, 3.0, 8.0, 9.0], "q0.5": [1.0, 4.0, 9.0, 10.0], "q0.9": [2.0, 5.0, 10.0, 11.0],
                          "naive": [0.0, 0.0, 10.0, 10.0], "seasonal_naive": [1.0, 1.0, 12.0, 12.0]})
    result = accuracy(table, {"a": 1.0, "b": 2.0}, (0.1, 0.5, 0.9))
    assert result.overall["model"].mae == pytest.approx((0 + 2 + 1 + 0) / 4)
    assert result.overall["model"].mase == pytest.approx((0 / 1 + 2 / 1 + 1 / 2 + 0 / 2) / 4)
    assert result.overall["model"].coverage == pytest.approx(3 / 4)  # 2 is outside [3, 5]
    assert result.by_step[1]["model"].mae == pytest.approx(0.5) and result.by_step[2]["naive"].mae == 1.0
    by_series = result.by_series.set_index("series_id")
    assert by_series.loc["a", "model_mae"] == 1.0 and by_series.loc["b", "snaive_mae"] == 2.0
    flat = flat_metrics(result.overall, "test", (0.1, 0.5, 0.9))
    assert {"test_mae", "test_coverage_q0.1_q0.9", "naive_mase", "snaive_rmse"} <= set(flat)

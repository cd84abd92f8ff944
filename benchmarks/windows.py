"""Data-path throughput: windows/s for windowing + batching, our WindowDataset vs pytorch-forecasting.

    python benchmarks/windows.py [--repeats 5] [--with-pf]

50 series x 2,000 points, 6 features, seq_len 20, horizon 24, batch 256, shuffled, one full epoch per repeat.
Reports the median over repeats (timings on shared 2-core machines are noisy).
"""
import argparse
import statistics
import time

import numpy as np
import pandas as pd

from forecast.data.config import DataConfig
from forecast.data.prepare import prepare_training
from forecast.data.windows import WindowDataset

N_SERIES, LENGTH, SEQ_LEN, HORIZON, BATCH = 50, 2000, 20, 24, 256


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = pd.date_range("2020-01-01", periods=LENGTH, freq="h")
    return pd.DataFrame({"series_id": np.repeat([f"s{i}" for i in range(N_SERIES)], LENGTH),
                         "timestamp": np.tile(t, N_SERIES), "value": rng.normal(size=N_SERIES * LENGTH),
                         "cov": rng.normal(size=N_SERIES * LENGTH)})


def epoch_rate(loader) -> float:
    start, n = time.perf_counter(), 0
    for batch in loader:
        n += len(batch[0]) if isinstance(batch, (tuple, list)) else len(batch)
    return n / (time.perf_counter() - start)


def ours(raw: pd.DataFrame, repeats: int) -> tuple[float, float]:
    start = time.perf_counter()
    prepared = prepare_training(raw, DataConfig(seq_len=SEQ_LEN, horizon=HORIZON))
    prep_s = time.perf_counter() - start
    p = prepared.panel
    dataset = WindowDataset(p.values, prepared.starts["train"], SEQ_LEN, HORIZON, p.n_known)
    rates = [epoch_rate(dataset.loader(BATCH, shuffle=True, seed=r)) for r in range(repeats)]
    return statistics.median(rates), prep_s


def pytorch_forecasting(raw: pd.DataFrame, repeats: int) -> float:
    from pytorch_forecasting import TimeSeriesDataSet

    df = raw.assign(time_idx=raw.groupby("series_id").cumcount())
    dataset = TimeSeriesDataSet(df, time_idx="time_idx", target="value", group_ids=["series_id"],
                                max_encoder_length=SEQ_LEN, max_prediction_length=HORIZON,
                                time_varying_unknown_reals=["value", "cov"])
    loader = dataset.to_dataloader(train=True, batch_size=BATCH, num_workers=0)
    rates = []
    for _ in range(repeats):
        start, n = time.perf_counter(), 0
        for x, _ in loader:
            n += len(x["encoder_cont"])
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--with-pf", action="store_true", help="also time pytorch-forecasting (slow)")
    args = parser.parse_args()
    raw = frame()
    rate, prep_s = ours(raw, args.repeats)
    print(f"ours: {rate:,.0f} windows/s (median of {args.repeats} epochs); preparation {prep_s:.2f}s")
    if args.with_pf:
        pf = pytorch_forecasting(raw, max(1, args.repeats // 2))
        print(f"pytorch-forecasting TimeSeriesDataSet: {pf:,.0f} windows/s; ratio {rate / pf:.0f}x")

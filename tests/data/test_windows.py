import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.data.config import DataConfig
from forecast.data.prepare import prepare_training
from forecast.data.scaling import SeriesScaler
from forecast.data.schema import ID, TARGET
from forecast.data.windows import (
    Panel,
    WindowDataset,
    evenly_spaced,
    min_length,
    ranges,
    split_points,
    validation_sized_test_windows,
    window_starts,
)


@given(st.lists(st.tuples(st.integers(-5, 20), st.integers(-5, 20)), max_size=8))
def test_ranges_equals_a_loop(pairs):
    lo = np.array([a for a, _ in pairs], dtype=np.int64)
    hi = np.array([b for _, b in pairs], dtype=np.int64)
    expected = [i for a, b in pairs for i in range(a, b)]
    assert ranges(lo, hi).tolist() == expected


def _panel(lengths, n_features=4, n_known=2, seed=0):
    rng = np.random.default_rng(seed)
    n = int(sum(lengths))
    offsets = np.append(0, np.cumsum(lengths)).astype(np.int64)
    return Panel(np.array([f"s{i}" for i in range(len(lengths))]), offsets, np.arange(n),
                 rng.normal(size=(n, n_features)).astype(np.float32), rng.normal(size=n), n_known)


def test_windows_equal_a_naive_loop():
    T, H = 5, 3
    lengths = np.array([40, 31, 57])
    panel = _panel(lengths)
    split = split_points(lengths, H, 0.1, 2)
    starts = window_starts(panel, split, T, H)
    for part, s in starts.items():
        expected = []
        for i, n in enumerate(lengths):
            off = panel.offsets[i]
            if part == "train":
                expected += [off + t0 - T for t0 in range(T, split.val_start[i] - H + 1)]
            elif part == "val":
                expected += [off + t0 - T for t0 in range(split.val_start[i], split.test_start[i] - H + 1)]
            else:
                expected += [off + t0 - T for t0 in range(split.test_start[i], n - H + 1, H)]
        assert s.tolist() == expected, part
    dataset = WindowDataset(panel.values, starts["train"], T, H, panel.n_known)
    idx = [0, 7, len(dataset) - 1]
    x, y, future = dataset.__getitems__(idx)
    for b, i in enumerate(idx):
        s = starts["train"][i]
        np.testing.assert_array_equal(x[b].numpy(), panel.values[s:s + T])
        np.testing.assert_array_equal(y[b].numpy(), panel.values[s + T:s + T + H, 0])
        np.testing.assert_array_equal(future[b].numpy(), panel.values[s + T:s + T + H, -2:])
    batches = list(dataset.loader(batch_size=16, shuffle=False))
    assert sum(len(b[0]) for b in batches) == len(dataset)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(10, 80), min_size=1, max_size=5), st.integers(1, 8), st.integers(1, 6),
       st.integers(1, 3))
def test_no_window_sees_targets_of_a_later_part(lengths, T, H, test_windows):
    lengths = np.array(lengths)
    panel = _panel(lengths)
    split = split_points(lengths, H, 0.1, test_windows)
    starts = window_starts(panel, split, T, H)
    series = {k: panel.series_of(v) for k, v in starts.items()}
    rel = {k: v - panel.offsets[series[k]] for k, v in starts.items()}
    # the last row a window reads (inputs and targets) lies before the next part begins
    assert np.all(rel["train"] + T + H <= split.val_start[series["train"]])
    assert np.all(rel["val"] + T >= split.val_start[series["val"]])
    assert np.all(rel["val"] + T + H <= split.test_start[series["val"]])
    assert np.all(rel["test"] + T >= split.test_start[series["test"]])
    assert np.all(rel["test"] + T + H <= lengths[series["test"]])
    assert np.all(rel[("train")] >= 0) and np.all(rel["val"] >= 0) and np.all(rel["test"] >= 0)
    long_enough = lengths >= min_length(T, H, 0.1, test_windows)
    assert set(series["train"].tolist()) >= set(np.flatnonzero(long_enough).tolist())


@settings(max_examples=60, deadline=None)
@given(st.integers(20, 3000), st.integers(1, 30), st.integers(1, 48), st.sampled_from([0.05, 0.1, 0.2, 0.45]),
       st.sampled_from([0, 7, 24]))
def test_the_benchmark_test_part_is_the_most_validation_sized_origins_that_fit(length, T, H, val_fraction, lag):
    w = validation_sized_test_windows(length, T, H, val_fraction, lag)
    val_len = max(H, int(np.ceil(val_fraction * length)))
    assert w >= 1
    assert w == 1 or w * H <= val_len                                          # never longer than validation
    assert w == 1 or min_length(T, H, val_fraction, w, lag) <= length           # and the series still trains
    more = w + 1                                                                # one more origin breaks a rule
    assert more * H > np.ceil(val_fraction * length) or min_length(T, H, val_fraction, more, lag) > length


def test_etth_gets_72_test_origins():  # 17,420 hourly rows: validation 1,742 rows, 72 whole days of origins
    assert validation_sized_test_windows(17420, 20, 24, 0.1, 24) == 72


def test_scalers_see_only_the_training_part(make_frame):
    frame = make_frame(n_series=2, length=150)
    config = DataConfig(seq_len=10, horizon=6)
    before = prepare_training(frame, config)
    changed = frame.copy()
    for sid, n_train in zip(before.panel.ids, before.split_val_start):
        rows = changed.index[changed[ID] == sid][n_train:]      # validation and test rows of that series
        changed.loc[rows, "value"] *= 100.0
        changed.loc[rows, "cov0"] += 50.0
    after = prepare_training(changed, config)
    np.testing.assert_allclose(after.spec.scaler.mean, before.spec.scaler.mean)
    np.testing.assert_allclose(after.spec.scaler.scale, before.spec.scaler.scale)
    # and the statistics are those of the training rows
    first = frame[frame[ID] == "s0"].head(int(before.split_val_start[0]))
    np.testing.assert_allclose(before.spec.scaler.mean[0, 0], first["value"].mean())
    np.testing.assert_allclose(before.spec.scaler.scale[0, 0], first["value"].std(ddof=0))


def test_constant_column_scales_to_zero_not_nan():
    frame = pd.DataFrame({ID: ["a"] * 4 + ["b"] * 4, TARGET: [1.0, 2, 3, 4, 5, 5, 5, 5]})
    scaler = SeriesScaler.fit(frame, ID, [TARGET])
    out = scaler.transform(frame[[TARGET]].to_numpy(), scaler.rows_for(frame[ID].to_numpy()))
    assert np.isfinite(out).all() and (out[4:] == 0).all()
    assert scaler.rows_for(np.array(["b", "zz"])).tolist() == [1, -1]


@given(st.integers(1, 50_000), st.integers(2, 9_000))
def test_evenly_spaced_reaches_the_last_window_and_keeps_the_limit(n, limit):
    """The anchor's sample spans every series: it starts at the first window, ends at the last, never repeats."""
    picked = evenly_spaced(n, limit)
    assert len(picked) == min(n, limit) and picked[0] == 0 and picked[-1] == n - 1
    assert (np.diff(picked) > 0).all()
    if n > limit:   # no stretch of windows is skipped by much more than the average step
        assert np.diff(picked).max() <= math.ceil((n - 1) / (limit - 1))


def test_series_are_held_out_only_where_no_series_validates_by_time():
    from forecast.data.windows import hold_out_series

    lengths = np.array([48] * 20)
    split = split_points(lengths, 24, 0.1, 1, 24)
    held, n = hold_out_series(split, lengths, 0.1, 24)
    assert n == 2 and (held.val_start == 24).sum() == 2 and (held.test_start == lengths).all()
    assert hold_out_series(split, lengths[:1], 0.1, 24)[1] == 0            # one series: nothing to hold out
    long = split_points(np.array([48, 200]), 24, 0.1, 1, 24)
    assert hold_out_series(long, np.array([48, 200]), 0.1, 24) == (long, 0)  # validation by time exists

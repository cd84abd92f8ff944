"""Windowing: every series in one contiguous array, windows as start rows, batches by one gather.

Hand-written rather than pytorch-forecasting's TimeSeriesDataSet: on 50 series x 2,000 points that
dataset yields ~3,000 windows/s against >150,000/s here (benchmarks/windows.py), and its batches carry the
normalised future target in `decoder_cont`, which this model must never see.

A window starting at global row s reads inputs rows [s, s+T) and targets rows [s+T, s+T+H) of one series.
With a seasonal lag channel (the target one season, `lag` rows, earlier) a window's first target must be at least
a season into its series, so that the lag of every horizon step is observed; over a horizon longer than the
season the channel repeats the last observed season (the seasonal-naive forecast), never a target of the window.
"""
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Panel:
    """All series, regular and scaled, in one array. Series i owns rows offsets[i]:offsets[i+1]."""
    ids: np.ndarray         # (S,) series ids
    offsets: np.ndarray     # (S+1,) int64
    timestamps: np.ndarray  # (N,)
    values: np.ndarray      # (N, F) float32 model inputs; feature 0 is the scaled target
    raw_target: np.ndarray  # (N,) float64, original units
    n_known: int            # the last n_known features are known for the future

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def series_of(self, rows: np.ndarray) -> np.ndarray:
        """Series index of each global row."""
        return np.searchsorted(self.offsets, rows, side="right") - 1


def ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of arange(lo[i], hi[i]) over i (empty where hi <= lo), without a Python loop."""
    lengths = np.maximum(hi - lo, 0)
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    return np.repeat(lo - (ends - lengths), lengths) + np.arange(total)


@dataclass(frozen=True)
class Split:
    """Per series, relative row where validation targets start and where test targets start (= the series'
    length where it has no such part)."""
    val_start: np.ndarray   # (S,)
    test_start: np.ndarray  # (S,)


def first_origin(seq_len: int, lag: int = 0) -> int:
    """The first target row of a series that a window can forecast: a full input window before it, and with the
    seasonal lag channel a whole season, so that the lag of every horizon step is observed."""
    return max(seq_len, lag)


def split_points(lengths: np.ndarray, horizon: int, val_fraction: float, test_windows: int,
                 first: int = 0) -> Split:
    """Test = the last `test_windows * horizon` points; validation = max(horizon, val_fraction * n) before.

    A series keeps one training window (targets ending at least `first` + horizon rows in) before all else: one
    too short for a test part too has only validation, one too short for that trains on all its windows."""
    val_len = np.maximum(horizon, np.ceil(val_fraction * lengths).astype(np.int64))
    full_test = lengths - test_windows * horizon
    has_test = full_test - val_len - horizon >= first
    has_val = ~has_test & (lengths - val_len - horizon >= first)
    test_start = np.where(has_test, full_test, lengths)
    val_start = np.where(has_test, full_test - val_len, np.where(has_val, lengths - val_len, lengths))
    return Split(val_start, test_start)


def hold_out_series(split: Split, lengths: np.ndarray, val_fraction: float, first: int) -> tuple[Split, int]:
    """Validation by series, for a panel where no series is long enough for a validation part after its training
    window (short competition series, a few hourly days): a `val_fraction` share of the series (at least one,
    evenly spread over the panel) is held out of training, and all of its windows validate. A single series cannot
    be split so: it trains without validation. Returns the split and the number of series held out."""
    if (split.val_start < lengths).any() or len(lengths) < 2:
        return split, 0
    held = evenly_spaced(len(lengths), max(1, int(val_fraction * len(lengths))))
    val_start = split.val_start.copy()
    val_start[held] = first
    return Split(val_start, split.test_start), len(held)


def min_length(seq_len: int, horizon: int, val_fraction: float, test_windows: int, lag: int = 0) -> int:
    """Shortest series that yields a training window, a validation part and the test windows."""
    first = first_origin(seq_len, lag)
    n = first + horizon
    while split_points(np.array([n]), horizon, val_fraction, test_windows, first).test_start[0] == n:
        n += 1
    return n


def validation_sized_test_windows(length: int, seq_len: int, horizon: int, val_fraction: float, lag: int = 0) -> int:
    """Test origins for a test part as long as the validation part of a series of `length` (the benchmark's
    default: more origins, a steadier score), fewer where the series could not also hold a training window; >= 1."""
    windows = max(1, int(np.ceil(val_fraction * length)) // horizon)
    while windows > 1 and min_length(seq_len, horizon, val_fraction, windows, lag) > length:
        windows -= 1
    return windows


def window_starts(panel: Panel, split: Split, seq_len: int, horizon: int, lag: int = 0) -> dict[str, np.ndarray]:
    """Global start rows of the train, val and test windows.

    train: targets end before validation starts; val: targets inside the validation part; test: origins at
    test_start, test_start + H, ... . No window's targets cross into a later part, and no window forecasts a
    row before `first_origin` (a series shorter than that plus a horizon has no windows).
    """
    off = panel.offsets[:-1]
    n = panel.lengths
    first = first_origin(seq_len, lag)
    train = ranges(off + first - seq_len, off + split.val_start - horizon + 1 - seq_len)
    val = ranges(off + np.maximum(split.val_start, first) - seq_len, off + split.test_start - horizon + 1 - seq_len)
    k = np.where(split.test_start >= first, (n - split.test_start) // horizon, 0)  # origins per series
    series = np.repeat(np.arange(len(n)), k)
    test = off[series] + split.test_start[series] + ranges(np.zeros_like(k), k) * horizon - seq_len
    return {"train": train, "val": val, "test": test}


def _identity(batch):
    return batch


def evenly_spaced(n: int, limit: int) -> np.ndarray:
    """Up to `limit` of the indices 0..n-1, evenly spaced from the first to the last. Windows are ordered by
    series, then time: the first `limit` would be the first series only, and their early years."""
    return np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(np.int64))


class WindowDataset(torch.utils.data.Dataset):
    """Windows of a panel, fetched a batch at a time (`__getitems__`: one gather per batch, no collation).

    A batch is (x, y, future): x (B, T, F) inputs, y (B, H) scaled targets, future (B, H, n_known) the known
    features of the horizon.
    """
    collate_fn = staticmethod(_identity)

    def __init__(self, values: np.ndarray, starts: np.ndarray, seq_len: int, horizon: int, n_known: int,
                 lag_column: int = -1, lag: int = 0):
        self.values = torch.as_tensor(values, dtype=torch.float32)
        self.starts = torch.as_tensor(starts, dtype=torch.int64)
        self.seq_len, self.horizon, self.n_known = seq_len, horizon, n_known
        self._span = torch.arange(seq_len + horizon)
        # the seasonal lag channel over a horizon longer than the season: step h reads the lag of step h mod m
        self._lag = (lag_column, seq_len + torch.arange(horizon) % lag) if lag_column >= 0 and horizon > lag else None

    def __len__(self) -> int:
        return len(self.starts)

    def __getitems__(self, indices):
        rows = self.starts[torch.as_tensor(indices)][:, None] + self._span  # (B, T+H)
        block = self.values[rows]                                           # (B, T+H, F)
        x = block[:, : self.seq_len]                                        # (B, T, F)
        y = block[:, self.seq_len:, 0]                                      # (B, H)
        future = block[:, self.seq_len:, block.shape[-1] - self.n_known:]   # (B, H, K)
        if self._lag is not None:
            column, steps = self._lag
            future[:, :, column - (block.shape[-1] - self.n_known)] = block[:, steps, column]
        return x, y, future

    def __getitem__(self, index):
        return tuple(t[0] for t in self.__getitems__([index]))

    def loader(self, batch_size: int, shuffle: bool, seed: int = 0) -> torch.utils.data.DataLoader:
        generator = torch.Generator().manual_seed(seed)
        return torch.utils.data.DataLoader(self, batch_size=batch_size, shuffle=shuffle,
                                           collate_fn=self.collate_fn, generator=generator)

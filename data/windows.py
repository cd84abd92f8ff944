"""Windowing: every series in one contiguous array, windows as start rows, batches by one gather.

Hand-written rather than pytorch-forecasting's TimeSeriesDataSet: on 50 series x 2,000 points that
dataset yields ~3,000 windows/s against >150,000/s here (benchmarks/windows.py), and its batches carry the
normalised future target in `decoder_cont`, which this model must never see.

A window starting at global row s reads inputs rows [s, s+T) and targets rows [s+T, s+T+H) of one series.
With a seasonal lag channel (the target `lag` rows earlier) a window's first row must be at least `lag` rows
into its series, so that every input row's lag is observed.
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
    """Per series, relative row where validation targets start and where test targets start."""
    val_start: np.ndarray   # (S,)
    test_start: np.ndarray  # (S,)


def split_points(lengths: np.ndarray, horizon: int, val_fraction: float, test_windows: int) -> Split:
    """Test = the last `test_windows * horizon` points; validation = max(horizon, val_fraction * n) before."""
    test_start = lengths - test_windows * horizon
    val_len = np.maximum(horizon, np.ceil(val_fraction * lengths).astype(np.int64))
    return Split(test_start - val_len, test_start)


def min_length(seq_len: int, horizon: int, val_fraction: float, test_windows: int, lag: int = 0) -> int:
    """Shortest series that yields one training window, a validation part and the test windows."""
    n = seq_len + lag + horizon
    while True:
        split = split_points(np.array([n]), horizon, val_fraction, test_windows)
        if split.val_start[0] - horizon >= seq_len + lag:
            return n
        n += 1


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
    test_start, test_start + H, ... . No window's targets cross into a later part.
    """
    off = panel.offsets[:-1]
    n = panel.lengths
    first = np.full_like(n, seq_len + lag)  # first target row with a full input window (and its lags)
    train = ranges(off + first - seq_len, off + split.val_start - horizon + 1 - seq_len)
    val = ranges(off + np.maximum(split.val_start, first) - seq_len, off + split.test_start - horizon + 1 - seq_len)
    k = np.where(split.test_start >= seq_len + lag, (n - split.test_start) // horizon, 0)  # origins per series
    series = np.repeat(np.arange(len(n)), k)
    test = off[series] + split.test_start[series] + ranges(np.zeros_like(k), k) * horizon - seq_len
    return {"train": train, "val": val, "test": test}


def _identity(batch):
    return batch


class WindowDataset(torch.utils.data.Dataset):
    """Windows of a panel, fetched a batch at a time (`__getitems__`: one gather per batch, no collation).

    A batch is (x, y, future): x (B, T, F) inputs, y (B, H) scaled targets, future (B, H, n_known) the known
    features of the horizon.
    """
    collate_fn = staticmethod(_identity)

    def __init__(self, values: np.ndarray, starts: np.ndarray, seq_len: int, horizon: int, n_known: int):
        self.values = torch.as_tensor(values, dtype=torch.float32)
        self.starts = torch.as_tensor(starts, dtype=torch.int64)
        self.seq_len, self.horizon, self.n_known = seq_len, horizon, n_known
        self._span = torch.arange(seq_len + horizon)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitems__(self, indices):
        rows = self.starts[torch.as_tensor(indices)][:, None] + self._span  # (B, T+H)
        block = self.values[rows]                                           # (B, T+H, F)
        x = block[:, : self.seq_len]                                        # (B, T, F)
        y = block[:, self.seq_len:, 0]                                      # (B, H)
        future = block[:, self.seq_len:, block.shape[-1] - self.n_known:]   # (B, H, K)
        return x, y, future

    def __getitem__(self, index):
        return tuple(t[0] for t in self.__getitems__([index]))

    def loader(self, batch_size: int, shuffle: bool, seed: int = 0) -> torch.utils.data.DataLoader:
        generator = torch.Generator().manual_seed(seed)
        return torch.utils.data.DataLoader(self, batch_size=batch_size, shuffle=shuffle,
                                           collate_fn=self.collate_fn, generator=generator)

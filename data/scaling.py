"""Per-series standard scaling, fitted on the training part of each series only.

Hand-written over pandas groupby rather than scikit-learn's StandardScaler: that scaler is one matrix-wide
object, so per-series scaling would need one fitted object per series (10,000 pickled objects for 10,000
series). The convention is scikit-learn's: a constant column gets scale 1, so it maps to 0, not to NaN.
"""
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SeriesScaler:
    columns: tuple[str, ...]
    ids: tuple[str, ...]
    mean: np.ndarray   # (n_series, n_columns)
    scale: np.ndarray  # (n_series, n_columns), > 0

    @classmethod
    def fit(cls, frame: pd.DataFrame, id_col: str, columns: list[str]) -> "SeriesScaler":
        grouped = frame.groupby(id_col, sort=False)[columns]
        mean, std = grouped.mean(), grouped.std(ddof=0)
        std = std.where(std > 1e-8 * np.maximum(mean.abs(), 1.0), 1.0).fillna(1.0)
        return cls(tuple(columns), tuple(mean.index.astype(str)), mean.fillna(0.0).to_numpy(np.float64),
                   std.to_numpy(np.float64))

    @cached_property
    def _lookup(self) -> pd.Index:   # built once: every prediction request looks its series up
        return pd.Index(self.ids)

    def rows_for(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id in `mean`/`scale`; -1 for ids this scaler has not seen."""
        return self._lookup.get_indexer(ids)

    def transform(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """values (n, n_columns) of the series at `rows` (n,) -> scaled values."""
        return (values - self.mean[rows]) / self.scale[rows]

    def inverse(self, values: np.ndarray, rows: np.ndarray, column: int = 0) -> np.ndarray:
        """values (n, ...) of one column, scaled -> original units. `rows` (n,)."""
        shape = (-1,) + (1,) * (values.ndim - 1)
        return values * self.scale[rows, column].reshape(shape) + self.mean[rows, column].reshape(shape)

    def forward(self, values: np.ndarray, rows: np.ndarray, column: int = 0) -> np.ndarray:
        """values (n, ...) of one column, original units -> scaled: `inverse` undone. `rows` (n,)."""
        shape = (-1,) + (1,) * (values.ndim - 1)
        return (values - self.mean[rows, column].reshape(shape)) / self.scale[rows, column].reshape(shape)

    def extend(self, other: "SeriesScaler") -> "SeriesScaler":
        """This scaler plus the series of `other` (same columns) that this one has not seen."""
        seen = set(self.ids)
        new = np.array([i not in seen for i in other.ids], dtype=bool)
        return SeriesScaler(self.columns, self.ids + tuple(np.asarray(other.ids)[new]),
                            np.vstack([self.mean, other.mean[new]]), np.vstack([self.scale, other.scale[new]]))

    def to_dict(self) -> dict:
        return {"columns": list(self.columns), "ids": list(self.ids),
                "mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "SeriesScaler":
        n = len(d["columns"])
        return cls(tuple(d["columns"]), tuple(d["ids"]), np.asarray(d["mean"], np.float64).reshape(-1, n),
                   np.asarray(d["scale"], np.float64).reshape(-1, n))

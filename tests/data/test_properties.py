"""Property test: any small table either prepares and forecasts, or fails with a DataError - never anything else."""
import string

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast.data.config import DataConfig
from forecast.data.errors import DataError
from forecast.data.io import read_table
from forecast.data.prepare import prepare_training
from forecast.models.config import ModelConfig
from forecast.models.forecaster import Forecaster
from forecast.pipelines.serving.inference import Predictor

CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.integers(-10**6, 10**6),
                  st.sampled_from(["", "n/a", "abc", "1,5", " 7 ", "1e400"]))
TIMES = st.sampled_from(["hourly", "daily", "int", "shuffled", "gappy", "text", "duplicated"])


@st.composite
def tables(draw):
    n_series = draw(st.integers(1, 3))
    length = draw(st.integers(1, 40))
    kind = draw(TIMES)
    rows = []
    for s in range(n_series):
        n = draw(st.integers(max(1, length // 2), length))
        if kind == "int":
            times = list(range(n))
        elif kind == "text":
            times = draw(st.lists(st.text(string.printable, max_size=8), min_size=n, max_size=n))
        else:
            times = list(pd.date_range("2024-01-01", periods=n,
                                       freq="D" if kind == "daily" else "h").strftime("%Y-%m-%dT%H:%M:%S"))
            if kind == "gappy" and n > 3:
                del times[1:3]
            if kind == "shuffled":
                times = draw(st.permutations(times))
            if kind == "duplicated" and n > 1:
                times[-1] = times[0]
        clean = draw(st.booleans())
        for t in times:
            value = float(np.sin(len(rows))) if clean else draw(CELLS)
            rows.append({"series_id": f"s{s}", "timestamp": t, "value": value,
                         "x": draw(CELLS) if draw(st.booleans()) else 1.0})
    columns = draw(st.sampled_from([["series_id", "timestamp", "value", "x"], ["timestamp", "value"],
                                    ["series_id", "value"], ["series_id", "timestamp", "x"]]))
    return pd.DataFrame(rows, columns=["series_id", "timestamp", "value", "x"])[columns]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables())
def test_any_table_prepares_and_forecasts_or_fails_with_a_data_error(tmp_path_factory, table):
    path = tmp_path_factory.mktemp("prop") / "t.csv"
    table.to_csv(path, index=False)
    try:
        prepared = prepare_training(read_table(path), DataConfig(seq_len=3, horizon=2))
    except DataError as err:
        assert str(err) and "\n" not in str(err)
        return
    spec = prepared.spec
    config = ModelConfig(d_model=8, n_heads=2, layers=1, seq_len=3, horizon=2,
                         n_features=prepared.panel.values.shape[1], n_known=spec.n_known)
    assert np.isfinite(prepared.panel.values).all()
    try:
        out = Predictor(Forecaster(config), spec).predict(read_table(path))
    except DataError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert len(out) == 2 * out["series_id"].nunique() and np.isfinite(out["prediction"]).all()


@st.composite
def clean_tables(draw):
    """Well-formed tables: every column present, regular unique times, finite values, long enough to train."""
    kind = draw(st.sampled_from(["h", "D", "MS", "int"]))
    rows = []
    for s in range(draw(st.integers(1, 3))):
        n = draw(st.integers(80, 120))
        times = (list(range(n)) if kind == "int" else
                 list(pd.date_range("2024-01-01", periods=n, freq=kind).strftime("%Y-%m-%dT%H:%M:%S")))
        level, noise = draw(st.floats(-1e3, 1e3)), draw(st.floats(0, 10))
        values = level + noise * np.sin(np.arange(n) * draw(st.floats(0.1, 3.0)))
        rows += [{"series_id": f"s{s}", "timestamp": t, "value": v, "x": float(k % 5)}
                 for k, (t, v) in enumerate(zip(times, values))]
    return pd.DataFrame(rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clean_tables())
def test_any_clean_table_prepares_and_forecasts(tmp_path_factory, table):
    """The other half of the property above: a table with nothing wrong must succeed, so a data path that
    refused everything would fail here."""
    path = tmp_path_factory.mktemp("clean") / "t.csv"
    table.to_csv(path, index=False)
    prepared = prepare_training(read_table(path), DataConfig(seq_len=3, horizon=2))
    spec = prepared.spec
    assert len(prepared.starts["train"]) > 0 and np.isfinite(prepared.panel.values).all()
    config = ModelConfig(d_model=8, n_heads=2, layers=1, seq_len=3, horizon=2,
                         n_features=prepared.panel.values.shape[1], n_known=spec.n_known)
    out = Predictor(Forecaster(config), spec).predict(read_table(path))
    assert len(out) == 2 * table["series_id"].nunique() and np.isfinite(out["prediction"]).all()


@st.composite
def row_orders(draw):
    """Rows of several series (ids of any text, unicode included) with unique times, in any order."""
    ids = draw(st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=4, unique=True))
    rows = [(sid, t) for sid in ids for t in draw(st.lists(st.integers(-50, 50), min_size=1, max_size=6, unique=True))]
    return pd.DataFrame([{"series_id": s, "t": t, "value": float(k)} for k, (s, t) in
                         enumerate(draw(st.permutations(rows)))])


@settings(max_examples=200, deadline=None)
@given(row_orders())
def test_canonical_orders_rows_as_pandas_sorts_them(table):
    """canonical numbers the series by a hash and sorts only rows out of order (data/schema.py): whatever the
    order in, the rows out are pandas' own stable sort by (id, time), values with them."""
    from forecast.data.schema import ID, TARGET, TIME, canonical, detect

    out = canonical(table, detect(table, DataConfig(time_col="t")))
    expected = table.sort_values(["series_id", "t"], kind="stable")
    assert out[ID].tolist() == expected["series_id"].tolist() and out[TIME].tolist() == expected["t"].tolist()
    assert out[TARGET].tolist() == expected["value"].tolist()

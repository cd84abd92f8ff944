"""ETTh1/ETTh2 (the Electricity Transformer Temperature data, github.com/zhouhaoyi/ETDataset, folder ETT-small)
in the long format README's benchmark rows use: one series, `value` = the oil temperature (OT), the six load
columns as covariates.

    python benchmarks/ett.py ETTh1.csv etth1.csv       # then: forecast benchmark --data etth1.csv --seeds 3
"""
import argparse

import pandas as pd

LOADS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL")


def long_format(original: pd.DataFrame, name: str) -> pd.DataFrame:
    """ETDataset's columns (date, the six loads, OT) -> series_id, timestamp, value, hufl, ..., lull."""
    missing = [c for c in ("date", *LOADS, "OT") if c not in original.columns]
    if missing:
        raise SystemExit(f"not an ETDataset file: no column(s) {', '.join(missing)}")
    out = pd.DataFrame({"series_id": name, "timestamp": pd.to_datetime(original["date"]), "value": original["OT"]})
    for column in LOADS:
        out[column.lower()] = original[column]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("original", help="ETTh1.csv or ETTh2.csv as ETDataset ships it")
    parser.add_argument("output", help="the long-format CSV to write")
    args = parser.parse_args()
    name = args.original.rsplit("/", 1)[-1].removesuffix(".csv")         # ETTh1
    long_format(pd.read_csv(args.original), name).to_csv(args.output, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

"""Warm start against cold start, measured: how many optimiser steps a warm start on the full history needs to
reach the best validation loss that a cold start reaches, when the source model was trained on all but the last
`--hold` points of every series (a year of monthly data: new data arrived, the model is retrained).

    python benchmarks/warm_start.py --data FILE [--hold 12] [--max-steps 500]

It trains three models with `forecast train` (one torch thread each) into a temporary store: the source on the
shortened history, a cold start and a warm start (`--init-from`) on the full one, both with the same budget and
split; then it reads both runs' validation loss per epoch from MLflow.
"""
import argparse
import os
import subprocess
import tempfile
from pathlib import Path

import pandas as pd


def _train(data: Path, store: str, name: str, steps: int, *extra: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(["forecast", "train", "--data", str(data), "--tracking-uri", store, "--model-name", name,
                    "--max-steps", str(steps), "--no-progress", *extra], check=True, env=env,
                   capture_output=True, text=True)
    import mlflow

    return mlflow.MlflowClient(store).get_model_version(name, "1").run_id


def _curve(store: str, run_id: str) -> pd.Series:
    import mlflow

    history = mlflow.MlflowClient(store).get_metric_history(run_id, "val_loss")
    return pd.Series({m.step: m.value for m in history}).sort_index()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--hold", type=int, default=12)
    parser.add_argument("--max-steps", type=int, default=500)
    args = parser.parse_args()
    frame = pd.read_csv(args.data, dtype={"series_id": str})
    with tempfile.TemporaryDirectory() as tmp:
        store = f"sqlite:///{tmp}/mlflow.db"
        old = Path(tmp) / "old.csv"
        frame[frame.groupby("series_id").cumcount(ascending=False) >= args.hold].to_csv(old, index=False)
        _train(old, store, "source", args.max_steps)
        cold = _curve(store, _train(Path(args.data), store, "cold", args.max_steps))
        warm = _curve(store, _train(Path(args.data), store, "warm", args.max_steps,
                                    "--init-from", "models:/source@champion"))
    best = cold.min()
    cold_at, warm_at = int(cold.idxmin()), warm[warm <= best]
    print(f"cold: best validation loss {best:.4f} at step {cold_at} (of {int(cold.index.max())})")
    print(f"warm: first validation loss {warm.iloc[0]:.4f} at step {int(warm.index[0])}; best {warm.min():.4f}")
    if len(warm_at):
        print(f"warm reaches the cold best at step {int(warm_at.index[0])}: {warm_at.index[0] / cold_at:.2f} of "
              "the cold start's steps")
    else:
        print("warm never reaches the cold best within the budget")


if __name__ == "__main__":
    main()

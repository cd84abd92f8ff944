"""Gradient-health monitor overhead: training step time with the monitor at its default cadence vs off.

    python benchmarks/health_overhead.py [--steps 150] [--repeats 3] [--every 50]

The default model (d_model 64, 8 layers) on ETTh1-sized inputs (11 features, seq_len 20, horizon 24,
batch 256), metrics going to a real MLflow sqlite store through the training logger. Runs alternate
on/off; the figure is the median over repeats of (time with monitor) / (time without).
"""
import argparse
import statistics
import tempfile
import time

import lightning as L
import mlflow
import torch

from forecast.models.config import HealthConfig, ModelConfig, OptimConfig
from forecast.models.forecaster_health import ForecasterHealthMonitor
from forecast.models.lightning import ForecastModule
from forecast.pipelines.training.logger import RunLogger

T, H, F, K, BATCH = 20, 24, 11, 4, 256


def run(steps: int, every: int) -> float:
    torch.manual_seed(0)
    n = BATCH * 8
    data = torch.utils.data.TensorDataset(torch.randn(n, T, F), torch.randn(n, H), torch.randn(n, H, K))
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True)
    config = ModelConfig(seq_len=T, horizon=H, n_features=F, n_known=K)
    module = ForecastModule(config, OptimConfig(), steps)
    monitor = ForecasterHealthMonitor([f"f{i}" for i in range(F)], HealthConfig(health_every=every)) if every else None
    callbacks = [monitor] if monitor else []
    with mlflow.start_run() as active:
        trainer = L.Trainer(max_steps=steps, logger=RunLogger(active.info.run_id), callbacks=callbacks,
                            enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                            limit_val_batches=0, accelerator="cpu", devices=1, log_every_n_steps=50)
        start = time.perf_counter()
        trainer.fit(module, loader)
        mlflow.flush_async_logging()
        return (time.perf_counter() - start) / steps


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--every", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
        mlflow.set_experiment("health-overhead")
        run(10, 0)  # warm-up: imports, allocator, store
        ratios, on_times, off_times = [], [], []
        for _ in range(args.repeats):
            off_times.append(run(args.steps, 0))
            on_times.append(run(args.steps, args.every))
            ratios.append(on_times[-1] / off_times[-1])
    print(f"step time off {statistics.median(off_times) * 1e3:.1f} ms, on (every {args.every}) "
          f"{statistics.median(on_times) * 1e3:.1f} ms; overhead ratio median {statistics.median(ratios):.3f} "
          f"(repeats: {', '.join(f'{r:.3f}' for r in ratios)})")

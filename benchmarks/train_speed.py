"""Training speed: the product's training step against a bare PyTorch loop of the same network, and both
against the machine's measured matmul peak (MFU).

    python benchmarks/train_speed.py --data etth1.csv [--threads N] [--batch 256]
                                     [--steps 60] [--repeats 5] [--compile]

On the data's real windows (ETTh1 by default: 11 features, seq_len 20, horizon 24) with the default model:
- bare: fwd + pinball loss + bwd + gradient clipping + AdamW over batches gathered beforehand (no data loading,
  no Lightning, no callbacks); with --compile, also the same loop over `torch.compile(model)` (Inductor);
- product: `ForecastModule` through the Trainer `pipelines/training/train.py` builds (`build_trainer`: its
  callbacks, the gradient-health monitor, the weight average, the window loader), timed per step by a callback.
Each is timed over `--steps` steps after 10 warm-up steps; runs alternate; the figures are medians over
`--repeats`. FLOPs per window come from `torch.utils.flop_counter` on one fwd + bwd; the peak is the best of
a few 1024 x 1024 fp32 matmuls on the same threads.
"""
import argparse
import statistics
import tempfile
import time
from dataclasses import replace

import torch
from lightning.pytorch.callbacks import Callback

from forecast.data.config import DataConfig
from forecast.data.io import read_table
from forecast.data.prepare import prepare_training
from forecast.models.config import HealthConfig, ModelConfig, OptimConfig
from forecast.models.forecaster import Forecaster
from forecast.models.forecaster_health import ForecasterHealthMonitor
from forecast.models.lightning import ForecastModule
from forecast.models.losses import pinball_loss
from forecast.pipelines.config import TrainConfig
from forecast.pipelines.training.trainer import build_trainer

WARMUP = 10


def matmul_peak(threads: int, n: int = 1024, reps: int = 20) -> float:
    """FLOP/s of the best of `reps` n x n fp32 matmuls."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def flops_per_window(model: Forecaster, x, y, future, quantiles) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        pinball_loss(model(x, future), y, quantiles).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(x)


def bare(config: ModelConfig, batches: list, steps: int, compiled: bool) -> float:
    """Windows per second of fwd + loss + bwd + clip + AdamW, the data already in memory."""
    torch.manual_seed(0)
    model = Forecaster(config)
    model.train()
    step_model = torch.compile(model) if compiled else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    quantiles = torch.tensor(config.quantiles)
    start = None
    for i in range(WARMUP + steps):
        if i == WARMUP:
            start = time.perf_counter()
        x, y, future = batches[i % len(batches)]
        loss = pinball_loss(step_model(x, future), y, quantiles)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return steps * len(batches[0][0]) / (time.perf_counter() - start)


class StepClock(Callback):
    """Wall time of training batches WARMUP .. WARMUP + steps (validation passes are not inside it)."""

    def __init__(self, steps: int):
        self.steps, self.started, self.seconds = steps, None, None

    def on_train_batch_start(self, trainer, *args):
        if trainer.global_step == WARMUP and self.started is None:
            self.started = time.perf_counter()

    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step == WARMUP + self.steps and self.seconds is None:
            self.seconds = time.perf_counter() - self.started


def product(prepared, config: ModelConfig, batch: int, steps: int) -> float:
    """Windows per second of the product's training step through Lightning and its own callbacks."""
    torch.manual_seed(0)
    train_loader = prepared.spec.dataset(prepared.panel, prepared.starts["train"]).loader(batch, shuffle=True, seed=0)
    val_loader = prepared.spec.dataset(prepared.panel, prepared.starts["val"]).loader(batch, shuffle=False)
    module = ForecastModule(config, OptimConfig(), WARMUP + steps)
    clock = StepClock(steps)
    monitor = ForecasterHealthMonitor(prepared.spec.feature_names, HealthConfig())
    train_config = TrainConfig(data_path="unused", max_steps=WARMUP + steps, progress=False, time_budget="0")
    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(train_config.budget(batch), [clock, monitor], tmp, len(train_loader),
                                ema_decay=train_config.ema_decay)
        trainer.fit(module, train_loader, val_loader)
    return steps * batch / clock.seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="a long-format CSV (the figures in docs: etth1.csv, from "
                                                      "benchmarks/ett.py)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    prepared = prepare_training(read_table(args.data), DataConfig())
    spec = prepared.spec
    config = replace(ModelConfig(), seq_len=spec.seq_len, horizon=spec.horizon,
                     n_features=prepared.panel.values.shape[1], n_known=spec.n_known, lag_feature=spec.lag_feature)
    dataset = spec.dataset(prepared.panel, prepared.starts["train"])
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))
    batches = [dataset.__getitems__(order[i:i + args.batch]) for i in range(0, 32 * args.batch, args.batch)]
    peak = matmul_peak(args.threads)
    flops = flops_per_window(Forecaster(config), *batches[0][:2], batches[0][2], torch.tensor(config.quantiles))
    kinds = ["bare", "product"] + (["compiled"] if args.compile else [])
    rates = {k: [] for k in kinds}
    for _ in range(args.repeats):
        for kind in kinds:
            rates[kind].append(product(prepared, config, args.batch, args.steps) if kind == "product"
                               else bare(config, batches, args.steps, compiled=kind == "compiled"))
    print(f"threads {args.threads}, batch {args.batch}, {args.steps} steps x {args.repeats} repeats; "
          f"{flops / 1e6:.1f} MFLOP per window (fwd + bwd); matmul peak {peak / 1e9:.0f} GFLOP/s")
    median = {k: statistics.median(v) for k, v in rates.items()}
    for kind in kinds:
        print(f"{kind:<9} {median[kind]:8.0f} windows/s (runs: {', '.join(f'{r:.0f}' for r in rates[kind])}); "
              f"MFU {median[kind] * flops / peak:.1%}")
    print(f"product / bare: {median['product'] / median['bare']:.2f}"
          + (f"; compiled / bare: {median['compiled'] / median['bare']:.2f}" if args.compile else ""))


if __name__ == "__main__":
    main()

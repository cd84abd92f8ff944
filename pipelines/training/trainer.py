"""One Lightning Trainer factory for every trained model, ours and the benchmark's peers, so they train under
the same rules: the `Budget` (epochs, steps, time, patience, clipping), early stopping on the validation
loss, a validation pass even when a step budget ends before the first epoch does, deterministic kernels."""
from datetime import timedelta

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, EMAWeightAveraging, TQDMProgressBar

from forecast.pipelines.config import Budget, Placement


def build_trainer(budget: Budget, callbacks: list, root: str, steps_per_epoch: int, logger=False,
                  ema_decay: float = 0.0, placement: Placement = Placement(), validate: bool = True) -> L.Trainer:
    """A Trainer under `budget` with early stopping (where there are validation windows: `validate`), an
    optional weight average (validated, checkpointed and kept instead of the last step's weights) and a progress
    bar where asked."""
    stop = [EarlyStopping(monitor="val_loss", mode="min", patience=budget.patience)] if validate else []
    callbacks = [*callbacks, *stop]
    if ema_decay:
        callbacks.append(EMAWeightAveraging(decay=ema_decay))
    if budget.progress:
        callbacks.append(TQDMProgressBar(refresh_rate=max(1, steps_per_epoch // 20)))
    # a step budget shorter than an epoch still ends on a validation pass (the best checkpoint needs one)
    val_every = min(steps_per_epoch, budget.max_steps) if budget.max_steps > 0 and validate else None
    return L.Trainer(max_epochs=budget.max_epochs, max_steps=budget.max_steps,
                     max_time=timedelta(seconds=budget.time_budget) if budget.time_budget else None,
                     accelerator=placement.accelerator, devices=placement.devices, num_nodes=placement.num_nodes,
                     strategy=placement.strategy, val_check_interval=val_every, logger=logger, callbacks=callbacks,
                     default_root_dir=root, gradient_clip_val=budget.grad_clip or None, deterministic=True,
                     enable_progress_bar=budget.progress, enable_model_summary=False,
                     log_every_n_steps=max(1, min(50, steps_per_epoch)), num_sanity_val_steps=0)

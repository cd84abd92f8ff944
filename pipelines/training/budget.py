"""How long training will take, said at its start; the time budget (`--time-budget 15m`, parsed by
pipelines/config.py) that may end it sooner.

The budget itself is Lightning's (`Trainer(max_time=...)`, its Timer callback: the time is shared by every
process, kept in checkpoints, and a stop mid-epoch still ends on a validation pass, so the best checkpoint
exists). `TrainingTime` measures the step time over the first steps and says, once, how long the whole run
will take: planned steps x step time, plus the validation passes, or the budget where that binds.
"""
import logging
import math
import time

from lightning.pytorch.callbacks import Callback

log = logging.getLogger("forecast")
WARMUP, MEASURED = 5, 20      # steps skipped (first batches are slow), then steps timed


def minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


class TrainingTime(Callback):
    """Logs, after the first WARMUP + MEASURED steps, how long training will take; `announced` keeps it."""

    def __init__(self, total_steps: int, steps_per_epoch: int, val_batches: int, budget_seconds: float):
        self.total, self.per_epoch = total_steps, steps_per_epoch
        self.val_batches, self.budget = val_batches, budget_seconds
        self.announced: float | None = None
        self._started = self._mark = None

    def on_train_start(self, trainer, module):
        self._started = time.monotonic()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        step = trainer.global_step
        if self.announced is not None or trainer.sanity_checking:
            return
        if step == WARMUP or (self._mark is None and step > WARMUP):
            self._mark = (step, time.monotonic())
        elif self._mark and (step - self._mark[0] >= MEASURED or step >= self.total):
            self._announce(step, time.monotonic())

    def _announce(self, step: int, now: float) -> None:
        per_step = (now - self._mark[1]) / (step - self._mark[0])
        # a validation batch is a forward pass of a training batch's size: about a third of a training step
        epochs = math.ceil(self.total / self.per_epoch)
        planned = self.total * per_step + epochs * self.val_batches * per_step / 3
        elapsed = now - self._started
        if self.budget and planned > self.budget:
            self.announced = self.budget
            log.info(f"training will stop at its time budget, {minutes(self.budget)} from the start (the "
                     f"{self.total:,} planned steps would take about {minutes(planned)} at {per_step * 1000:.0f} ms "
                     "a step); the best checkpoint so far is kept")
        else:
            self.announced = planned
            log.info(f"training will take about {minutes(planned)} ({self.total:,} steps at "
                     f"{per_step * 1000:.0f} ms a step, validation included; {minutes(elapsed)} so far), or less "
                     "if early stopping ends it")

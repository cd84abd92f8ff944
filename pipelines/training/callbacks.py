"""The Lightning callbacks of our training run that Lightning has no equivalent for: the loss history per
epoch, a line per epoch for logs written to files, Ctrl-C that stops after the current batch, and why training
stopped."""
import logging
import math
import signal
import threading
import time

from lightning.pytorch.callbacks import Callback, EarlyStopping, Timer

from forecast.pipelines.training.budget import minutes

log = logging.getLogger("forecast")


class EpochHistory(Callback):
    """Train and validation loss per epoch (read when each epoch ends): the loss plot, steps to converge. A run
    without validation windows records NaN validation losses."""

    def __init__(self):
        self.rows: list[dict] = []

    def state_dict(self) -> dict:  # saved in checkpoints, so a resumed run keeps its whole loss history
        return {"rows": self.rows}

    def load_state_dict(self, state: dict) -> None:
        self.rows = list(state["rows"])

    def on_train_epoch_end(self, trainer, module):
        m = trainer.callback_metrics
        if "train_loss_epoch" in m and ("val_loss" in m or not trainer.num_val_batches):
            self.rows.append({"epoch": trainer.current_epoch, "step": trainer.global_step,
                              "train_loss": float(m["train_loss_epoch"]),
                              "val_loss": float(m.get("val_loss", float("nan")))})


class StopOnCtrlC(Callback):
    """Ctrl-C (SIGINT) asks training to stop after the current batch, instead of raising KeyboardInterrupt at
    whatever the interpreter is doing (inside MLflow's asynchronous logging or a checkpoint write, which once
    left a process hanging); a second Ctrl-C interrupts at once. Installed for single-process training in the
    main thread only: data-parallel ranks must stop on the same batch, so they keep Lightning's handling."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.requested, self._previous = False, None

    def __enter__(self):
        if self.enabled:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self.enabled:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def on_train_batch_end(self, trainer, *args):
        if self.requested:
            trainer.should_stop = True


class EpochLine(Callback):
    """One line per epoch where there is no progress bar (a log file, a scheduler, `--no-progress`): the epoch,
    the losses, the time so far and the time left at this pace (within the time budget, if one binds)."""

    def __init__(self, planned_steps: int, steps_per_epoch: int, budget_seconds: float):
        self.epochs = max(1, math.ceil(planned_steps / max(1, steps_per_epoch)))
        self.budget, self.started, self.best = budget_seconds, None, math.inf

    def on_train_start(self, trainer, module):
        self.started = time.monotonic()

    def on_train_epoch_end(self, trainer, module):
        m, epoch = trainer.callback_metrics, trainer.current_epoch + 1
        elapsed = time.monotonic() - (self.started or time.monotonic())
        left = elapsed / epoch * max(0, self.epochs - epoch)
        if self.budget:
            left = min(left, max(0.0, self.budget - elapsed))
        val = float(m["val_loss"]) if "val_loss" in m else None
        best = val is not None and val < self.best
        self.best = min(self.best, val) if val is not None else self.best
        losses = f"train loss {float(m['train_loss_epoch']):.4f}" if "train_loss_epoch" in m else "train loss -"
        if val is not None:
            losses += f", val loss {val:.4f}{' (best)' if best else ''}"
        log.info(f"epoch {epoch}/{self.epochs}: {losses}; {minutes(elapsed)} so far, about {minutes(left)} left "
                 "at most")


def stop_reason(trainer, history_rows: list[dict], max_epochs: int, max_steps: int,
                steps_option: str = "--max-steps") -> str:
    """Why training stopped, in words: early stopping, the time budget, or the epoch/step cap (saying so when the
    validation loss was still falling at the last epoch: a longer budget may help). `steps_option` names where the
    step cap came from (`--max-steps auto`: the pretrained start's budget, chosen on the suite's aggregate)."""
    stopper = next((c for c in trainer.callbacks if isinstance(c, EarlyStopping)), None)
    timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)
    if stopper is not None and stopper.stopped_epoch > 0:
        return f"early stopping: no validation gain for {stopper.patience} epoch(s)"
    if timer is not None and timer.time_remaining() is not None and timer.time_remaining() <= 0:
        return "the time budget (--time-budget)"
    by_steps = max_steps > 0 and trainer.global_step >= max_steps
    cap = (f"the step cap ({max_steps}, {steps_option})" if by_steps else f"the epoch cap ({max_epochs}, --max-epochs)")
    losses = [r["val_loss"] for r in history_rows if not math.isnan(r["val_loss"])]
    if len(losses) >= 2 and losses[-1] <= min(losses):
        cap += (" while the validation loss was still falling: a larger --max-steps may help" if by_steps
                else " while the validation loss was still falling: more epochs may help")
    return cap

"""The Lightning callbacks of our training run that Lightning has no equivalent for: the loss history per
epoch, and Ctrl-C that stops after the current batch."""
import signal
import threading

from lightning.pytorch.callbacks import Callback


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

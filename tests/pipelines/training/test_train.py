"""Parts of pipelines/training/: the Trainer factory and train()'s set-up, on their own."""
from dataclasses import replace

import numpy as np
from lightning.pytorch.callbacks import EarlyStopping, EMAWeightAveraging

from forecast.pipelines.config import Budget, TrainConfig
from forecast.pipelines.training.train import _setup
from forecast.pipelines.training.trainer import build_trainer


def test_the_weight_average_is_on_by_default_and_off_at_zero(tmp_path):
    """By default validation, the best checkpoint and the logged model are the exponential moving average of the
    weights (decay 0.99), Lightning's own callback; --ema-decay 0 trains and keeps the plain weights."""
    config = TrainConfig(data_path="unused.csv", progress=False)
    budget = config.budget(64)
    averaging = [c for c in build_trainer(budget, [], str(tmp_path), 10, ema_decay=config.ema_decay).callbacks
                 if isinstance(c, EMAWeightAveraging)]
    assert len(averaging) == 1
    plain = build_trainer(budget, [], str(tmp_path), 10, ema_decay=0.0)
    assert not any(isinstance(c, EMAWeightAveraging) for c in plain.callbacks)


def test_a_step_budget_shorter_than_an_epoch_validates_at_its_end_for_every_model(tmp_path):
    """The peers get the same Trainer: a 3-step budget on 10-step epochs still ends on a validation pass (the best
    checkpoint needs one); without a step budget, validation is at each epoch's end."""
    short = build_trainer(Budget(30, 3, 5, 64, 0, 1.0), [], str(tmp_path), steps_per_epoch=10)
    assert short.val_check_interval == 3 and short.max_steps == 3
    whole = build_trainer(Budget(30, -1, 5, 64, 0, 1.0), [], str(tmp_path), steps_per_epoch=10)
    assert whole.val_check_interval == 1.0
    stop = next(c for c in whole.callbacks if isinstance(c, EarlyStopping))
    assert stop.patience == 5 and stop.monitor == "val_loss"


def test_setup_seeds_the_model_and_sizes_the_epoch(tmp_path, make_frame):
    """Training's set-up, before any run exists: the same seed gives the same weights and anchor; the batch is
    capped so an epoch has at least 32 steps on small data; the step budget covers every epoch."""
    path = tmp_path / "data.csv"
    make_frame(n_series=2, length=400).to_csv(path, index=False)
    config = TrainConfig(data_path=str(path), max_epochs=3, progress=False)
    one, two = _setup(config), _setup(config)
    windows = len(one.prepared.starts["train"])
    assert one.batch_size == max(8, min(256, windows // 32))
    assert one.steps_per_epoch == -(-windows // one.batch_size) and one.total_steps == 3 * one.steps_per_epoch
    for (name, a), b in zip(one.module.state_dict().items(), two.module.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy()), name
    assert one.n_parameters == sum(p.numel() for p in one.module.parameters()) > 0
    other = _setup(replace(config, seed=1))
    assert not np.array_equal(one.module.state_dict()["model.temporal_projection.linear.weight"].numpy(),
                              other.module.state_dict()["model.temporal_projection.linear.weight"].numpy())


def test_why_training_stopped_is_said_in_words():
    from types import SimpleNamespace

    from lightning.pytorch.callbacks import EarlyStopping

    from forecast.pipelines.training.callbacks import stop_reason

    stopper = EarlyStopping(monitor="val_loss", patience=5)
    rows = [{"val_loss": v} for v in (0.5, 0.4, 0.3)]
    trainer = SimpleNamespace(callbacks=[stopper], global_step=90)
    assert stop_reason(trainer, rows, 30, -1) == ("the epoch cap (30, --max-epochs) while the validation loss was "
                                                  "still falling: more epochs may help")
    assert stop_reason(trainer, rows[::-1], 30, -1) == "the epoch cap (30, --max-epochs)"
    assert stop_reason(trainer, rows, 30, 90) == ("the step cap (90, --max-steps) while the validation loss was still "
                                                  "falling: a larger --max-steps may help")
    budget = SimpleNamespace(callbacks=[stopper], global_step=200)      # the pretrained start's auto budget
    assert stop_reason(budget, rows[::-1], 30, 200, "--max-steps auto") == "the step cap (200, --max-steps auto)"
    stopper.stopped_epoch = 12
    assert stop_reason(trainer, rows, 30, -1) == "early stopping: no validation gain for 5 epoch(s)"

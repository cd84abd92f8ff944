"""Parts of pipelines/train.py on their own."""
from dataclasses import replace

from lightning.pytorch.callbacks import EMAWeightAveraging

from pipelines.config import TrainConfig
from pipelines.train import _trainer


def test_the_weight_average_is_on_by_default_and_off_at_zero(tmp_path):
    """By default validation, the best checkpoint and the logged model are the exponential moving average of the
    weights (decay 0.99), Lightning's own callback; --ema-decay 0 trains and keeps the plain weights."""
    config = TrainConfig(data_path="unused.csv", progress=False)
    averaging = [c for c in _trainer(config, None, str(tmp_path), [], 10).callbacks
                 if isinstance(c, EMAWeightAveraging)]
    assert len(averaging) == 1 and config.ema_decay == 0.99
    plain = _trainer(replace(config, ema_decay=0.0), None, str(tmp_path), [], 10)
    assert not any(isinstance(c, EMAWeightAveraging) for c in plain.callbacks)

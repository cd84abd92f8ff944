"""The peers' fairness contract: pytorch-forecasting's batches hold exactly our windows and inputs."""
import numpy as np
import pytest

from forecast.data.config import DataConfig
from forecast.data.prepare import prepare_training
from forecast.pipelines.experiments.peers import _dataset, _order, _windows


@pytest.mark.parametrize("part", ["train", "val", "test"])
def test_peer_windows_are_ours_with_the_same_inputs(make_frame, part):
    frame = make_frame(n_series=3, length=130, covariates=2)
    frame = frame[~((frame["series_id"] == "s1") & (frame.index % 130 < 20))]  # series of different lengths
    prepared = prepare_training(frame, DataConfig(seq_len=12, horizon=6, test_windows=2))
    dataset = _dataset(prepared)
    windows = _windows(dataset, prepared, part)
    starts, values, T, H = prepared.starts[part], prepared.panel.values, prepared.spec.seq_len, prepared.spec.horizon
    order = _order(windows, prepared, part)
    assert len(windows) == len(starts) and sorted(order) == list(range(len(starts)))

    x, (y, _) = next(iter(windows.to_dataloader(train=False, batch_size=len(starts), num_workers=0)))
    past, future = starts[:, None] + np.arange(T), starts[:, None] + T + np.arange(H)
    assert np.allclose(x["encoder_target"].numpy()[order], values[past, 0], atol=1e-5)
    assert np.allclose(y.numpy()[order], values[future, 0], atol=1e-5)
    # the known-future features of the horizon (seasonal lag channel, calendar) reach the peer unchanged (they
    # arrive scaled: its scalers are off)
    assert prepared.spec.lag == 24
    known = [dataset.reals.index(f"x{k}") for k in range(values.shape[1] - prepared.panel.n_known, values.shape[1])]
    assert len(known) == 5 and np.allclose(x["decoder_cont"].numpy()[order][:, :, known],
                                           values[future][:, :, -prepared.panel.n_known:], atol=1e-5)

"""The network's combination with statistical members (models/combination.py), chosen on validation windows in
training and saved with the model; evaluation and predict apply it (pipelines/serving/inference.py)."""
import numpy as np

from forecast.data.prepare import Prepared
from forecast.data.windows import evenly_spaced
from forecast.models.forecaster import Forecaster
from forecast.models.combination import MEMBERS, Combination, choose
from forecast.models.fallback import FUNCTIONS
from forecast.pipelines.evaluation.evaluate import predict_scaled, statistical_scaled

VALIDATION_SAMPLE = 400   # validation windows the combination is chosen on (a Theta fit per window)


def choose_combination(model: Forecaster, prepared: Prepared, batch_size: int,
                       limit: int = VALIDATION_SAMPLE) -> tuple[Combination, dict]:
    """The combination, chosen on up to `limit` validation windows spread over every series; the network alone
    where there are none. Returns it and the validation error of each member and of the combination."""
    starts = prepared.starts["val"]
    starts = starts[evenly_spaced(len(starts), limit)]
    if not len(starts):
        return Combination(), {}
    dataset = prepared.spec.dataset(prepared.panel, starts)
    _, y, _ = dataset.__getitems__(np.arange(len(starts)))
    q = predict_scaled(model, dataset, batch_size)
    series = prepared.panel.series_of(starts)
    # windows whose origins lie within one horizon of each other share targets: one group, for the test
    block = (starts - prepared.panel.offsets[series]) // prepared.spec.horizon
    groups = series.astype(np.int64) * (int(block.max()) + 1) + block
    members = np.stack([statistical_scaled(prepared, starts, FUNCTIONS[name]) for name in MEMBERS[1:]], axis=1)
    return choose(q[:, :, model.config.median_index], members, y.numpy(), groups)

"""Weighting by validation errors: greedy ensemble selection and the paired test of a gain over groups."""
import numpy as np

from forecast.models.ensemble import greedy_weights, paired_t


def test_greedy_selection_weighs_the_member_that_fits_and_mixes_where_a_mix_fits_better():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(50, 4))
    exact = np.stack([y, y + 1.0, y - 3.0], axis=1)                 # member 0 is right
    assert np.allclose(greedy_weights(exact, y, np.ones(50)), [1, 0, 0])
    halves = np.stack([y + 1.0, y - 1.0, y + 5.0], axis=1)          # the average of members 0 and 1 is right
    assert np.allclose(greedy_weights(halves, y, np.ones(50)), [0.5, 0.5, 0])


def test_the_paired_t_averages_within_groups_before_it_counts_them():
    """Cases that share targets share their gain: 400 windows in 4 groups are 4 numbers, not 400."""
    rng = np.random.default_rng(1)
    baseline = rng.uniform(1, 2, 400)
    groups = np.arange(400) % 4
    errors = baseline + np.array([-0.3, 0.1, -0.2, 0.05])[groups] + rng.normal(0, 0.01, 400)
    assert paired_t(errors, baseline, np.arange(400)) < -5          # counted as independent: "significant"
    assert -2 < paired_t(errors, baseline, groups) < 0              # as 4 groups: within the noise
    assert paired_t(baseline + 0.1 + rng.normal(0, 0.01, 400), baseline, np.arange(400) % 7) > 0   # a loss

"""The network's combination with statistical members: greedy weights on validation windows, kept where they beat
the network alone out of fold, or as chosen where too few independent groups of windows allow a test."""
import numpy as np

from forecast.models.combination import FOLDS, MIN_GROUPS, NETWORK, Combination, choose, cross_fitted
from forecast.models.members import names

NAMES = names()
MEMBERS = (NETWORK, *NAMES)

rng = np.random.default_rng(0)
N, H = 200, 6
Y = rng.normal(size=(N, H))
EACH = np.arange(N)                                # every window its own group


def by_name(**weights) -> dict[str, float]:
    return {m: weights[m] for m in MEMBERS if weights.get(m)}


def members(theta: np.ndarray, **given: np.ndarray) -> np.ndarray:
    """(N, M, H): Theta and any member `given` by name as given, the other members far off (never chosen)."""
    given = {"theta": theta, **given}
    return np.stack([given.get(name, Y + 50.0) for name in NAMES], axis=1)


def test_apply_moves_the_centre_and_keeps_the_interval():
    q = np.stack([Y - 1, Y, Y + 1], axis=-1)
    half = Combination.from_theta(0.25)
    out = half.apply(q, 1, lambda used: np.zeros((N, len(used), H)) if used == ("theta",) else None)
    np.testing.assert_allclose(out[:, :, 1], 0.75 * Y)
    np.testing.assert_allclose(out[:, :, 2] - out[:, :, 0], 2.0)
    assert Combination().apply(q, 1, None) is q


def test_a_worse_member_gets_no_weight_and_a_complementary_one_gets_half():
    chosen, errors = choose(Y, members(Y + rng.normal(size=Y.shape)), NAMES, Y, EACH)   # the network is exact
    assert chosen.is_network and set(errors) == {*MEMBERS, "combination"}
    off = rng.normal(size=Y.shape)                                               # two independent errors:
    chosen, errors = choose(Y + off, members(Y - off), NAMES, Y, EACH)                   # their average is exact
    assert chosen.weights == by_name(network=0.5, theta=0.5)
    assert errors["combination"] < errors["network"]
    assert errors["t"] < -2


def test_out_of_fold_the_lower_error_wins_with_no_margin_for_either_side():
    """Theta halfway helps 52 % of the windows as much as it hurts the other 48 %: a small gain, far from 2 standard
    errors, and the combination is chosen all the same; where it helps half of them, no gain, the network alone;
    where it helps fewer, no fold's weights give Theta any."""
    def halfway_helps(share: float):
        sign = np.where(np.arange(N) < share * N, 1.0, -1.0)[:, None]
        return choose(Y + 1.0, members(Y + 1.0 - 1.8 * sign), NAMES, Y, EACH)
    chosen, errors = halfway_helps(0.52)
    assert not chosen.is_network and chosen.statistical["theta"] > 0
    assert errors["combination"] < errors["network"] and -2 < errors["t"] < 0
    chosen, errors = halfway_helps(0.5)
    assert chosen.is_network and errors["t"] == 0
    chosen, errors = halfway_helps(0.44)
    assert chosen.is_network and errors["combination"] == errors["network"]


def test_with_too_few_groups_to_test_the_choice_narrows_to_the_network_alone_or_halfway_with_one_member():
    """One long series forecast a season ahead: its windows fall in a handful of groups, a standard error over
    them says nothing, and free weights would fit their noise: the network alone, or halfway with the member
    that validated best halfway."""
    off = rng.normal(size=Y.shape)
    few = np.arange(N) % (MIN_GROUPS - 1)
    theta_far = members(Y - off, ets=Y + 3.0 * off)   # ETS: worse halfway
    chosen, errors = choose(Y + off, theta_far, NAMES, Y, few)
    assert chosen.weights == by_name(network=0.5, theta=0.5) and "t" not in errors
    # a member best alone, and the greedy weights would drop the network: still only halfway
    ets_best = members(Y + 2.0 * off, ets=Y + 0.1 * off)
    chosen, _ = choose(Y + off, ets_best, NAMES, Y, few)
    assert chosen.weights == by_name(network=0.5, ets=0.5)
    chosen, _ = choose(Y, members(Y + rng.normal(size=Y.shape)), NAMES, Y, few)
    assert chosen.is_network
    # with one group more, the test applies again (and this gain passes it)
    assert not choose(Y + off, members(Y - off), NAMES, Y, np.arange(N) % MIN_GROUPS)[0].is_network


def test_a_saved_combination_round_trips_and_an_old_theta_weight_loads():
    chosen = Combination(by_name(network=0.6, theta=0.25, ets=0.15))
    assert Combination.from_dict(chosen.to_dict()) == chosen
    assert Combination.from_dict({"theta_weight": 0.25}) == Combination(by_name(network=0.75, theta=0.25))
    assert Combination.from_dict({"theta_weight": 0.0}).is_network


def test_cross_fitting_scores_each_window_with_weights_fitted_without_it():
    """Theta exact on one fold's windows and a little worse than the network elsewhere: fitted with that fold, the
    greedy weights take Theta alone (in-sample it looks better); fitted without it, the network alone. So that
    fold's out-of-fold error is the network's, the others' Theta's, and the averaged combination loses to the
    network alone, which is chosen."""
    index = np.arange(N)
    fold0 = index % FOLDS == 0
    network = Y + 0.5
    theta = np.where(fold0[:, None], Y, Y + 0.6)
    forecasts = np.stack([network, theta, *[Y + 50.0] * (len(MEMBERS) - 2)], axis=1)
    weights, out_of_fold = cross_fitted(forecasts, Y, index)
    np.testing.assert_allclose(out_of_fold[fold0], 0.5)
    np.testing.assert_allclose(out_of_fold[~fold0], 0.6)
    np.testing.assert_allclose(weights[:2], [1 / FOLDS, 1 - 1 / FOLDS])
    chosen, errors = choose(network, forecasts[:, 1:], NAMES, Y, index)
    assert chosen.is_network and errors["combination"] > errors["network"] > errors["theta"]

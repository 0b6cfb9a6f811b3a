"""experiments._bounds: bisection, margin choice, and every bound on a small trained-like network."""

import math

import numpy as np
import pytest
from networks import relu_forward

from experiments._bounds import bisect_strength, choose_gamma, compute_bounds, prune_network, rigorous_note


def test_bisection_finds_the_root_of_an_increasing_function():
    res = bisect_strength(lambda d: d**2, 4.0, lo=1e-6, hi=10.0, rtol=1e-6)
    assert res.status == "root" and res.d == pytest.approx(2.0, rel=1e-5)
    assert bisect_strength(lambda d: d, 20.0).status == "below-target-at-max"
    assert bisect_strength(lambda d: d + 5, 1.0).status == "above-target-at-min"


def test_choose_gamma():
    assert choose_gamma(np.array([0.5, 1.0, 2.0]))[0] == 0.5
    g, rule = choose_gamma(np.r_[-0.1, np.linspace(0.1, 1, 99)])
    assert g > 0 and "percentile" in rule
    with pytest.raises(ValueError, match="misclassifies"):
        choose_gamma(np.linspace(-1, 0.1, 10))


def test_no_margin_is_its_own_error_and_gives_no_advice():
    from experiments._bounds import NoMarginError

    with pytest.raises(NoMarginError) as info:
        choose_gamma(np.r_[-np.ones(3), np.ones(7)])
    # the network may have been trained elsewhere (--checkpoint, experiments.evaluate): no "train longer (--epochs)"
    assert str(info.value) == (
        "the network misclassifies 30.0% of its training points (more than 10%), so no positive margin is left to "
        "bound with"
    )


def test_pruning_is_monotone_in_d_with_common_random_numbers():
    w = [np.random.default_rng(0).normal(size=(30, 20))]
    masks = [prune_network(w, d, seed=1)[0] != 0 for d in (0.1, 1.0, 5.0)]
    assert (masks[1] <= masks[0]).all() and (masks[2] <= masks[1]).all()


def _toy_network(seed=0):
    rng = np.random.default_rng(seed)
    ws = [rng.normal(size=(20, 8)) / 3, rng.normal(size=(20, 20)) / 4, rng.normal(size=(4, 20)) / 4]
    x = rng.normal(size=(200, 8))
    forward = lambda weights: relu_forward(weights, x)  # noqa: E731
    logits = forward(ws)
    y = logits.argmax(1)  # labels the net gets right: all margins > 0

    def margins_of(weights):
        lg = forward(weights)
        true = lg[np.arange(len(y)), y]
        lg2 = lg.copy()
        lg2[np.arange(len(y)), y] = -np.inf
        return true - lg2.max(1)

    return ws, x, margins_of


def test_compute_bounds_on_a_toy_network():
    ws, x, margins_of = _toy_network()
    res = compute_bounds(
        ws,
        None,
        margins_of(ws),
        margins_of,
        float(np.linalg.norm(x, axis=1).max()),
        float(np.linalg.norm(x)),
        m=len(x),
        delta=0.01,
        seed=0,
    )
    for key in (
        "neyshabur_2015_code_log10",
        "bartlett_2017_code_log10",
        "neyshabur_2017_code_log10",
        "ours_paper_compatible_log10",
        "theorem_5_2_log10",
        "lemma_d_1_log10",
        "neyshabur_2015_literature_log10",
        "bartlett_2017_literature_log10",
        "neyshabur_2017_literature_log10",
    ):
        assert math.isfinite(res[key]), key
    # gamma* at the chosen d does not exceed the target margin (bisection keeps the lower end)
    assert res["gamma_star"] <= res["gamma"] * (1 + 1e-9)
    # every rigorous bound is at least the training error of the pruned network's margin loss at 0
    assert 10 ** res["theorem_5_2_log10"] >= res["train_error"]
    assert res["expected_survivors"] > 0 and res["survivors"] > 0
    # Lemma D.1 asks for Theorem 5.2's margin: its flag sits beside its number too
    assert res["lemma_d_1_margin_condition_met"] == res["theorem_5_2_margin_condition_met"]


def test_rigorous_note_says_when_the_bound_is_vacuous():
    fails = {
        "gamma": 3.75,
        "theorem_5_2_required_margin": 6500.0,
        "theorem_5_2_log10": 0.22,
        "theorem_5_2_margin_condition_met": False,
        "lemma_d_1_log10": 0.1,  # an old record: no flag of its own, Theorem 5.2's condition applies
    }
    assert rigorous_note(fails, "theorem_5_2") == "vacuous: needs margin 6.5e+03, has 3.75"
    assert rigorous_note(fails, "lemma_d_1") == "vacuous: needs margin 6.5e+03, has 3.75"
    below_one = {**fails, "theorem_5_2_log10": -0.5}
    assert "evaluated at the required margin" in rigorous_note(below_one, "theorem_5_2")
    met = {**fails, "theorem_5_2_margin_condition_met": True, "lemma_d_1_margin_condition_met": True}
    assert rigorous_note({**met, "theorem_5_2_log10": -1.0}, "theorem_5_2") is None
    assert rigorous_note(met, "theorem_5_2") == "vacuous: above 1"
    assert rigorous_note({**met, "theorem_5_2_log10": None}, "theorem_5_2") is None


def test_pruning_error_curve_tracks_lemma_4_2_and_5_1():
    from experiments._bounds import pruning_error_curve
    from experiments._measures import layer_measures

    rng = np.random.default_rng(3)
    ws = [rng.normal(size=(120, 80)), rng.normal(size=(60, 120)) * 0.5]
    psi = [layer_measures(w)["psi"] for w in ws]
    cur = pruning_error_curve(ws, psi, d_star=0.3, seed=0, grid=(1e-6, 1e-2, 1.0, 10.0))
    assert cur["d"] == [1e-6, 1e-2, 0.3, 1.0, 10.0]
    surv, exp = np.array(cur["survivors"]), np.array(cur["expected_survivors"])
    assert (np.diff(surv, axis=0) <= 0).all()  # common random numbers: nested masks
    # survivors are a sum of independent Bernoullis: within 6 standard deviations of Lemma 5.1's mean
    n = np.array([w.size for w in ws])
    assert (np.abs(surv - exp) <= 6 * np.sqrt(n / 4) + 1).all()
    meas, gam = np.array(cur["delta_spectral"]), np.array(cur["gamma_latala_C1"])
    assert (np.diff(gam, axis=0) > 0).all()  # Gamma_l grows with d
    assert meas[-1].min() > 10 * meas[0].max()  # and so does the measured error

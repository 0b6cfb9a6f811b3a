"""The authors' protocol, piece by piece, against small independent references written here: the split, the
float32 preprocessing, the optimiser as their code executes it, kappa of Condition C.1, the tie rule, and
their search for the pruning strength."""

import math

import numpy as np
import pytest
import scipy.optimize
import torch

import theory
from experiments._authors import authors_kappa, authors_search, authors_t
from experiments._bounds import choose_gamma
from experiments._data import authors_split, train_val_split
from experiments._measures import margin_loss
from experiments._settings import AUTHORS, TOOLKIT
from experiments._train import TrainConfig, make_optimizer
from experiments.bounds import build_parser, settings_from


def test_split_is_torch_random_split_with_seed_1():
    # reference: random_split draws randperm(n) from a generator seeded 1 and cuts it at n - int(0.2 n)
    perm = torch.randperm(60000, generator=torch.Generator().manual_seed(1)).numpy()
    train, val = authors_split(60000, 1)
    assert np.array_equal(train, perm[:48000]) and np.array_equal(val, perm[48000:])
    # the toolkit's own split shares only part of it (the issue measured 38,374 images)
    ours, _ = train_val_split(60000, 0)
    assert len(np.intersect1d(ours, train)) == 38374


def test_preprocessing_is_torchvision_order_in_float32():
    from experiments._data import _load_idx  # noqa: F401  (the reader applies it; check the arithmetic)

    raw = np.arange(256, dtype=np.uint8)
    # reference: ToTensor (float32 x / 255) then Normalize(0.5, 0.5): (t - 0.5) / 0.5, in torch
    ref = ((torch.from_numpy(raw).float().div(255)) - 0.5).div(0.5).numpy()
    ours = raw.astype(np.float32)
    ours /= np.float32(255.0)
    ours -= np.float32(0.5)
    ours /= np.float32(0.5)
    assert np.array_equal(ours, ref)
    toolkit = raw.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)
    assert np.max(np.abs(toolkit - ref)) < 1e-6 and not np.array_equal(toolkit, ref)  # ULP-level difference


def test_optimizer_as_the_released_code_executes_it():
    # reference: their Model.configure_optimizers builds SGD(lr, weight_decay) and then sets an *attribute*
    # optimizer.momentum = 0.9, which never reaches param_groups: the step runs without momentum
    net = torch.nn.Linear(3, 2)
    theirs = torch.optim.SGD(net.parameters(), lr=0.02, weight_decay=1e-4)
    theirs.momentum = 0.9
    assert theirs.param_groups[0]["momentum"] == 0
    s = settings_from(build_parser().parse_args(["--protocol", "authors"]))
    assert (s.optimizer, s.lr, s.momentum, s.weight_decay, s.batch_size, s.seeds) == ("sgd", 0.02, 0.0, 1e-4, 256, (1,))
    ours = make_optimizer(
        net, TrainConfig(optimizer=s.optimizer, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)
    )
    for key in ("lr", "momentum", "weight_decay", "dampening", "nesterov"):
        assert ours.param_groups[0][key] == theirs.param_groups[0][key], key
    assert s.prune_diagonal and s.protocol is AUTHORS


def _reference_bisect(f, a, b, xtol):
    """The bisection the released code calls (scipy's): halve [a, b] from a until the step is below xtol."""
    fa = f(a)
    dm = b - a
    for _ in range(100):
        dm *= 0.5
        xm = a + dm
        fm = f(xm)
        if fm * fa >= 0:
            a = xm
        if fm == 0 or abs(dm) < xtol + 4 * np.finfo(float).eps * abs(xm):
            return xm
    raise AssertionError("no convergence")


def test_kappa_for_a_10_by_200_layer():
    m = 48000
    # the equation 1 - m exp(-t^2 d_in) = 0.99 has the exact root sqrt(ln(100 m) / d_in)
    exact = math.sqrt(math.log(100 * m) / 200)
    t = authors_t(m, 200)
    ref = _reference_bisect(lambda s: 1 - m * math.exp(-s * s * 200) - 0.99, 0.0, 1.0, 0.01)
    assert t == pytest.approx(ref, abs=1e-15) and abs(t - exact) < 0.01
    kappa = authors_kappa([(10, 200)], m)
    assert kappa[0] == pytest.approx(min(1.0, ref * math.sqrt(10)), rel=1e-12)
    assert 0.8 < kappa[0] < 0.95  # < 1: gamma* is multiplied by it
    # a layer with at least as many outputs as inputs has kappa = 1, and so does one whose t sqrt(out) > 1
    assert list(authors_kappa([(200, 200), (500, 784)], m)) == [1.0, 1.0]


def test_tie_rule():
    margins = np.array([-0.5, 0.0, 0.3, 1.0, 1.0])
    assert margin_loss(margins, 0.0, tie_is_error=True) == pytest.approx(2 / 5)  # a tie at 0 is an error
    assert margin_loss(margins, 0.0, tie_is_error=False) == pytest.approx(1 / 5)  # the released code: < 0
    assert margin_loss(margins, 1.0, tie_is_error=False) == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="NaN"):
        margin_loss(np.array([np.nan, 1.0]), 0.0)


def test_gamma_rule_of_each_protocol():
    good = np.array([0.5, 1.0, 2.0])
    assert choose_gamma(good, AUTHORS)[0] == choose_gamma(good, TOOLKIT)[0] == 0.5
    bad = np.concatenate([[-1.0], np.linspace(0.1, 2, 99)])
    assert choose_gamma(bad, AUTHORS)[0] == 0.0  # the released code sets the margin to 0
    assert choose_gamma(bad, TOOLKIT)[0] == pytest.approx(np.quantile(bad, 0.1))
    with pytest.raises(ValueError, match="not finite"):
        choose_gamma(np.array([np.nan, 1.0]), TOOLKIT)


def test_authors_search_is_scipy_bisect_on_0_10_with_fresh_draws():
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((30, 40)), rng.standard_normal((10, 30))]
    S = np.array([np.linalg.norm(a, 2) for a in w])

    def gamma_star_of(pruned):
        dn = [np.linalg.norm(a - p, 2) for a, p in zip(w, pruned)]
        return theory.paper_ours_margin(Delta_l=dn, S_l=S, kappa_l=np.ones(2), x_max=1.0)

    target = gamma_star_of([p for p in w]) + 0.3 * S.prod()  # a margin some moderate pruning reaches
    res = authors_search(w, gamma_star_of, target, np.random.default_rng(5))
    # reference: the same draws (same generator, same order) through scipy's bisect directly
    import numerics

    ref_rng = np.random.default_rng(5)

    def f(a):
        pr = (
            [x.copy() for x in w]
            if a == 0
            else [numerics.algorithm_1(x, a, prune_diagonal=True, generator=ref_rng)[0] for x in w]
        )
        return target - gamma_star_of(pr)

    assert res.alpha == scipy.optimize.bisect(f, 0.0, 10.0, xtol=1e-3)
    assert 0 < res.alpha < 10 and res.evaluations >= 14

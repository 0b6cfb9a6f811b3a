"""The real code of a pruned, quantised MLP: decodes to the identical network, is self-delimiting, and its length
matches the ideal code lengths derived in theory (claim occam-code-length)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import theory
from numerics import (
    CompressedMLP,
    Task,
    canonical_form,
    decode_network,
    encode_network,
    is_canonical,
    quantise_scale,
    read_code,
    scale_value,
)

MNIST = Task(784, 10, 28)
VECTOR = Task(12, 3, None)


def random_net(rng, task, pool, hidden, density, k_max=4, bias=(True, False, True)):
    dims = [task.pooled_dim(pool)] + list(hidden) + [task.n_classes]
    levels, scales, biases, bias_scales = [], [], [], []
    for k, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        mask = rng.random((b, a)) < density
        q = rng.integers(1, k_max + 1, (b, a)) * rng.choice([-1, 1], (b, a))
        levels.append(q * mask)
        scales.append(quantise_scale(float(rng.uniform(0.01, 2.0))))
        if bias[k % len(bias)]:
            biases.append(rng.integers(-5, 6, b))
            bias_scales.append(quantise_scale(float(rng.uniform(0.01, 1.0))))
        else:
            biases.append(None)
            bias_scales.append(None)
    return CompressedMLP(task, pool, levels, scales, biases, bias_scales)


@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3, 4]),
    st.lists(st.integers(1, 12), min_size=0, max_size=3),
    st.floats(0.0, 1.0),
    st.integers(1, 9),
)
def test_round_trip_is_bit_identical(seed, pool, hidden, density, k_max):
    rng = np.random.default_rng(seed)
    net = canonical_form(random_net(rng, MNIST, pool, hidden, density, k_max))
    code = encode_network(net)
    back = decode_network(code.bits, MNIST)
    assert back.same_as(net)
    for a, b in zip(back.weights(), net.weights()):
        assert np.array_equal(a, b)
    for a, b in zip(back.biases(), net.biases()):
        assert np.array_equal(a, b)
    x = rng.uniform(-1, 1, (64, 784))
    assert np.array_equal(back.logits(x), net.logits(x))
    assert code.n_bits == len(code.bits) and set(np.unique(code.bits)) <= {0, 1}
    assert sum(code.parts.values()) == pytest.approx(code.n_bits)
    assert -8 <= code.parts["overhead"] <= 100  # range-coder termination, word padding, Elias prefix


def test_self_delimiting_and_truncation():
    rng = np.random.default_rng(1)
    a = canonical_form(random_net(rng, VECTOR, 1, [5, 4], 0.5))
    b = canonical_form(random_net(rng, VECTOR, 1, [7], 0.3))
    stream = np.concatenate([encode_network(a).bits, encode_network(b).bits, rng.integers(0, 2, 50)])
    first, used = read_code(stream, VECTOR)
    second, used2 = read_code(stream[used:], VECTOR)
    assert first.same_as(a) and second.same_as(b)
    assert used == encode_network(a).n_bits and used2 == encode_network(b).n_bits
    with pytest.raises(ValueError, match="truncated"):
        read_code(stream[: used - 40], VECTOR)
    with pytest.raises(ValueError, match="left over"):
        decode_network(stream[: used + 3], VECTOR)


def test_levels_part_is_the_dirichlet_multinomial_of_theory():
    rng = np.random.default_rng(2)
    net = canonical_form(random_net(rng, VECTOR, 1, [30], 0.4, k_max=3, bias=(False,)))
    code = encode_network(net)
    expected = 0.0
    for q in net.levels:
        k = int(np.abs(q).max())
        counts = [int(np.count_nonzero(q == v)) for v in range(-k, k + 1) if v != 0]
        expected += theory.dirichlet_multinomial_bits(n_sym=counts, alpha=0.5)
    assert code.parts["levels"] == pytest.approx(expected, rel=1e-9)


def test_unstructured_mask_costs_about_the_enumerative_code_structured_much_less():
    rng = np.random.default_rng(3)
    task = Task(900, 2, 30)
    n_units = 40
    # unstructured: independent positions; the adaptive context code pays ~ log2 C(N, J) plus learning costs
    mask = rng.random((n_units, 900)) < 0.05
    net = canonical_form(
        CompressedMLP(task, 1, [mask.astype(int), np.ones((2, n_units), int)], [(0, 0)] * 2, [None] * 2, [None] * 2)
    )
    code = encode_network(net)
    n_slots, n_ones = mask.size, int(mask.sum())
    enum = theory.log2_binomial(n_slots, n_ones)
    sorted_saving_cap = theory.permutation_bits(n_units)
    assert enum - sorted_saving_cap - 20 < code.parts["mask"] < enum + 80
    # structured: each unit uses one 8x8 square of pixels -- the left/up contexts make it far cheaper
    blob = np.zeros((n_units, 30, 30), bool)
    for i in range(n_units):
        r, c = rng.integers(0, 22, 2)
        blob[i, r : r + 8, c : c + 8] = True
    blob = blob.reshape(n_units, 900)
    net2 = canonical_form(
        CompressedMLP(task, 1, [blob.astype(int), np.ones((2, n_units), int)], [(0, 0)] * 2, [None] * 2, [None] * 2)
    )
    code2 = encode_network(net2)
    assert code2.parts["mask"] < 0.25 * theory.log2_binomial(blob.size, int(blob.sum()))


def test_canonical_form_keeps_the_function_and_is_required():
    rng = np.random.default_rng(4)
    net = random_net(rng, MNIST, 2, [20, 10], 0.2)
    canon = canonical_form(net)
    assert is_canonical(canon)
    x = rng.uniform(-1, 1, (200, 784))
    np.testing.assert_allclose(canon.logits(x), net.logits(x), rtol=1e-12, atol=1e-12)
    assert not is_canonical(net)  # a random order (this seed)
    with pytest.raises(ValueError, match="canonical"):
        encode_network(net)


def test_prior_masks_variant():
    rng = np.random.default_rng(5)
    net = canonical_form(random_net(rng, MNIST, 3, [16], 0.3))
    masks = [q != 0 for q in net.levels]
    code = encode_network(net, prior_masks=masks)
    assert "mask" not in code.parts
    assert code.n_bits < encode_network(net).n_bits
    assert decode_network(code.bits, MNIST, prior_masks=masks).same_as(net)
    wrong = [m.copy() for m in masks]
    wrong[0][0, 0] = not wrong[0][0, 0]
    with pytest.raises(ValueError, match="differs from prior_masks"):
        encode_network(net, prior_masks=wrong)


def test_scales_and_validation():
    for v in (1e-7, 0.013, 0.5, 1.0, 3.3, 100.0):
        code = quantise_scale(v)
        assert abs(scale_value(code) - v) <= v * 2.0**-(5) or v < 2.0**-24 or v > 2**8
        assert np.float32(scale_value(code)) == scale_value(code)  # exact in float32
    with pytest.raises(ValueError, match="scale"):
        quantise_scale(-1.0)
    with pytest.raises(ValueError, match="outputs"):
        CompressedMLP(VECTOR, 1, [np.ones((4, 12), int)], [(0, 0)], [None], [None])
    with pytest.raises(ValueError, match="pool"):
        CompressedMLP(VECTOR, 2, [np.ones((3, 12), int)], [(0, 0)], [None], [None])
    with pytest.raises(ValueError, match="shape"):
        CompressedMLP(VECTOR, 1, [np.ones((3, 11), int)], [(0, 0)], [None], [None])
    assert math.isclose(scale_value((0, 0)), 1.0)


def test_prior_levels_context():
    rng = np.random.default_rng(6)
    net = canonical_form(random_net(rng, MNIST, 2, [24, 12], 0.2, k_max=3))
    masks = [q != 0 for q in net.levels]
    same = encode_network(net, prior_masks=masks, prior_levels=net.levels)
    plain = encode_network(net, prior_masks=masks)
    # levels equal to their context: each context learns one symbol, far cheaper than the context-free code
    assert same.parts["levels"] < 0.3 * plain.parts["levels"]
    back = decode_network(same.bits, MNIST, prior_masks=masks, prior_levels=net.levels)
    assert back.same_as(net)
    # unrelated prior levels cost at most the learning of more contexts
    other = [np.where(m, rng.choice([-1, 1], m.shape), 0) for m in masks]
    assert decode_network(encode_network(net, masks, other).bits, MNIST, masks, other).same_as(net)
    with pytest.raises(ValueError, match="prior_levels"):
        encode_network(net, prior_levels=net.levels)

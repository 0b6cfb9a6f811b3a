"""A real prefix-free code for pruned, quantised MLPs: the code whose length the Occam bound charges.

Claims ``occam-code-length`` (the ideal lengths of its parts) and ``occam-kl`` (|code(h)| enters the bound).
The network is serialised into a bitstring by the range coder of ``constriction`` (32-bit words); the adaptive
models inside are deterministic functions of the symbols decoded before, so the code is fixed before any data is
seen.  The bitstring is an Elias-delta code of the number of words followed by the words, hence prefix-free: two
code words with the same prefix have the same word count, hence the same length, hence are equal (the range code
of a message is decodable, so different networks have different words).  Kraft's inequality then makes
P(h) = 2^-len(h) a prior.

What is coded, in order (``Task`` -- input size, image side, number of classes -- is part of the code's
definition, not of the message):

1. header: the input pooling factor (uniform over :data:`POOLS`), the depth (uniform over 1..16) and each hidden
   width (universal integer code: bit length uniform over 0..24, then the bits below the leading one);
2. per layer: the scale (a minifloat: exponent uniform over :data:`EXPONENTS`, :data:`MANTISSA_BITS` mantissa
   bits), the largest |level| K (universal integer), the mask, the levels of the survivors and the biases.

Weights are ``scale * level`` with integer levels in [-K, K] \\ {0}; biases ``bias_scale * bias_level`` with
levels in [-Kb, Kb] (a 1-bit flag says whether a layer has biases).  All these products are exact in float32 and
float64, so the decoded network is bit-identical to the encoded one.

The mask of a layer is coded entry by entry in row-major order (rows: output units) with a Krichevsky–Trofimov
(Dirichlet 1/2) estimator per context; the context is the number of earlier rows that use the same input
(bucketed 0, 1, 2-3, 4-7, 8+), the number of survivors of the row so far (0, 1, 2+) and, for a first layer over
image pixels, the mask bits of the left and upper neighbouring pixels of the same unit.  (These contexts were
compared on networks trained on the 12,000-image validation part of MNIST only, never on the 48,000 examples that
the MNIST certificate is evaluated on.)  Hidden units are interchangeable: the code requires the rows of each hidden
layer to be sorted in descending lexicographic order of their mask rows (:func:`canonical_form` permutes them,
which does not change the function) and skips every bit that this order forces -- coding modulo the permutation
of hidden units (theory: at most log2 h! bits can be saved).  Levels are coded with an adaptive Dirichlet(1/2)
model over the 2K nonzero levels per layer, bias levels over 2Kb + 1 levels.  With ``prior_masks`` (the
data-dependent-prior variant) the masks are part of the code's definition and are not transmitted; with
``prior_levels`` as well, each level is coded with the counts of its prior network's level as context.

Lengths are in bits.  ``Code.parts`` gives the ideal information (-log2 of the model probability, bits) of each
part; ``overhead`` is the rest of the real length (range-coder termination and word padding, Elias prefix).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import cast

import numpy as np
import sympy as sp

import theory

#: input pooling factors the header can express (average pooling over pool x pool pixels)
POOLS = (1, 2, 3, 4)
#: mantissa bits of a stored scale: value = (2^M + mantissa) * 2^(exponent - M)
MANTISSA_BITS = 4
#: exponents a stored scale can have
EXPONENTS = tuple(range(-24, 8))
#: depth is coded uniformly over 1..MAX_DEPTH
MAX_DEPTH = 16
#: the universal integer code covers 0 <= n < 2^MAX_INT_BITS
MAX_INT_BITS = 24
#: Dirichlet pseudo-count of every adaptive model (1/2: Krichevsky–Trofimov)
ALPHA = 0.5
#: column-popularity buckets of the mask context: earlier rows using the input, 0, 1, 2-3, 4-7, 8+
_BUCKETS = 5


@dataclass(frozen=True)
class Task:
    """occam-code-length: what the code knows before any data: ``input_dim`` raw features, ``image_side`` (the raw input is an
    image_side x image_side image, or None for plain vectors, then only pool 1 is allowed), ``n_classes`` outputs."""

    input_dim: int
    n_classes: int
    image_side: int | None = None

    def __post_init__(self) -> None:
        if self.input_dim < 1 or self.n_classes < 2:
            raise ValueError(f"task needs input_dim >= 1 and n_classes >= 2 (got {self.input_dim}, {self.n_classes})")
        if self.image_side is not None and self.image_side**2 != self.input_dim:
            raise ValueError(f"image_side {self.image_side} does not match input_dim {self.input_dim}")

    def pooled_side(self, pool: int) -> int | None:
        """Side of the pooled image (None without geometry)."""
        return None if self.image_side is None else self.image_side // pool

    def pooled_dim(self, pool: int) -> int:
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS} (got {pool})")
        if self.image_side is None:
            if pool != 1:
                raise ValueError("a task without image geometry only allows pool 1")
            return self.input_dim
        side = self.image_side // pool
        if side < 1:
            raise ValueError(f"pool {pool} is larger than the image side {self.image_side}")
        return side * side


def pool_inputs(x: np.ndarray, task: Task, pool: int) -> np.ndarray:
    """occam-code-length: the network's input: raw inputs (n, task.input_dim) averaged over pool x pool pixel blocks of the top-left
    (side // pool) * pool square, float64 (n, task.pooled_dim(pool)).  Raises ValueError on a shape mismatch."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != task.input_dim:
        raise ValueError(f"inputs must have shape (n, {task.input_dim}) (got {x.shape})")
    task.pooled_dim(pool)
    if pool == 1:
        return x
    s = task.image_side
    assert s is not None  # pooled_dim() allows pool > 1 only with image geometry
    k = s // pool
    img = x.reshape(-1, s, s)[:, : k * pool, : k * pool].reshape(-1, k, pool, k, pool)
    return img.mean(axis=(2, 4)).reshape(-1, k * k)


def scale_value(code: tuple[int, int]) -> float:
    """occam-code-length: the float of a stored scale ``(exponent, mantissa)``: (2^M + mantissa) * 2^(exponent - M), exact in float32."""
    e, mant = code
    if e not in EXPONENTS or not 0 <= mant < 2**MANTISSA_BITS:
        raise ValueError(f"scale code {code!r} outside exponent {EXPONENTS[0]}..{EXPONENTS[-1]}, mantissa < 16")
    return math.ldexp(2**MANTISSA_BITS + mant, e - MANTISSA_BITS)


def quantise_scale(value: float) -> tuple[int, int]:
    """occam-code-length: the stored scale nearest to ``value`` > 0 (relative error <= 2^-(M+1)), clipped to the
    exponent range; returns (exponent, mantissa).  Raises ValueError for a value that is not finite and > 0."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"a scale must be a finite number > 0 (got {value!r})")
    frac, exp = math.frexp(value)  # value = frac * 2^exp, 0.5 <= frac < 1
    e = exp - 1
    mant = round((2 * frac - 1) * 2**MANTISSA_BITS)
    if mant == 2**MANTISSA_BITS:
        e, mant = e + 1, 0
    if e < EXPONENTS[0]:
        return (EXPONENTS[0], 0)
    if e > EXPONENTS[-1]:
        return (EXPONENTS[-1], 2**MANTISSA_BITS - 1)
    return (e, mant)


@dataclass(eq=False)
class CompressedMLP:
    """occam-kl: a pruned, quantised ReLU MLP on pooled inputs -- the hypothesis that is coded and certified.

    ``levels[l]``: int64 array (d_out, d_in), 0 where pruned; weights are ``scale_value(scales[l]) * levels[l]``.
    ``bias_levels[l]``: int64 (d_out,) or None (no bias); biases are ``scale_value(bias_scales[l]) * bias_levels[l]``.
    ``pool``: average pooling factor of the raw image (the top-left (side // pool) * pool square is used).
    """

    task: Task
    pool: int
    levels: list[np.ndarray]
    scales: list[tuple[int, int]]
    bias_levels: list[np.ndarray | None]
    bias_scales: list[tuple[int, int] | None]
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.levels = [np.asarray(q, dtype=np.int64) for q in self.levels]
        self.bias_levels = [None if b is None else np.asarray(b, dtype=np.int64) for b in self.bias_levels]
        # (exponent, mantissa) pairs: validate() rejects a scale of another length (scale_value unpacks two)
        self.scales = [cast(tuple[int, int], tuple(int(v) for v in s)) for s in self.scales]
        self.bias_scales = [
            None if s is None else cast(tuple[int, int], tuple(int(v) for v in s)) for s in self.bias_scales
        ]
        self.validate()

    # -- structure ----------------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ValueError unless shapes chain from the pooled input to ``n_classes`` and every code is in range."""
        n = len(self.levels)
        if not 1 <= n <= MAX_DEPTH:
            raise ValueError(f"depth must be 1..{MAX_DEPTH} (got {n})")
        if not (len(self.scales) == len(self.bias_levels) == len(self.bias_scales) == n):
            raise ValueError("levels, scales, bias_levels and bias_scales need one entry per layer")
        d_in = self.task.pooled_dim(self.pool)
        for k, q in enumerate(self.levels):
            if q.ndim != 2 or q.shape[1] != d_in:
                raise ValueError(f"layer {k}: levels must have shape (d_out, {d_in}) (got {q.shape})")
            if q.shape[0] < 1 or q.shape[0] >= 2**MAX_INT_BITS:
                raise ValueError(f"layer {k}: width must be 1..{2**MAX_INT_BITS - 1} (got {q.shape[0]})")
            scale_value(self.scales[k])
            b = self.bias_levels[k]
            if b is not None:
                if b.shape != (q.shape[0],):
                    raise ValueError(f"layer {k}: bias_levels must have shape ({q.shape[0]},) (got {b.shape})")
                bias_scale = self.bias_scales[k]
                if bias_scale is None:
                    raise ValueError(f"layer {k}: a bias needs a bias scale")
                scale_value(bias_scale)
                if np.abs(b).max(initial=0) >= 2 ** (MAX_INT_BITS - 1):
                    raise ValueError(f"layer {k}: bias levels too large")
            if np.abs(q).max(initial=0) >= 2 ** (MAX_INT_BITS - 1):
                raise ValueError(f"layer {k}: levels too large")
            d_in = q.shape[0]
        if d_in != self.task.n_classes:
            raise ValueError(f"the last layer must have {self.task.n_classes} outputs (got {d_in})")

    @property
    def dims(self) -> list[int]:
        return [self.levels[0].shape[1]] + [q.shape[0] for q in self.levels]

    @property
    def nonzeros(self) -> int:
        return int(sum(int(np.count_nonzero(q)) for q in self.levels))

    def weights(self) -> list[np.ndarray]:
        """float64 weight matrices (d_out, d_in), exactly scale * level."""
        return [scale_value(s) * q.astype(np.float64) for s, q in zip(self.scales, self.levels)]

    def biases(self) -> list[np.ndarray]:
        """float64 bias vectors (zeros for a layer without bias)."""
        out = []
        for q, b, s in zip(self.levels, self.bias_levels, self.bias_scales):
            if b is None:
                out.append(np.zeros(q.shape[0]))
            else:
                assert s is not None  # validate(): a bias has a bias scale
                out.append(scale_value(s) * b.astype(np.float64))
        return out

    # -- the function -------------------------------------------------------------------------------------------
    def features(self, x: np.ndarray) -> np.ndarray:
        """Pooled inputs, float64 (n, pooled_dim), from raw inputs (n, task.input_dim) (see :func:`pool_inputs`)."""
        return pool_inputs(x, self.task, self.pool)

    def logits(self, x: np.ndarray, batch: int = 8192) -> np.ndarray:
        """Outputs (n, n_classes) in float64: ReLU between layers, none after the last."""
        ws = [np.ascontiguousarray(w.T) for w in self.weights()]  # (d_in, d_out): faster products than w.T views
        bs = self.biases()
        outs = []
        for start in range(0, len(x), batch):
            h = self.features(x[start : start + batch])
            for k, (wt, b) in enumerate(zip(ws, bs)):
                h = h @ wt + b
                if k < len(ws) - 1:
                    h = np.maximum(h, 0.0)
            outs.append(h)
        return np.concatenate(outs) if outs else np.zeros((0, self.task.n_classes))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted classes (n,), int64; ties go to the lowest class index."""
        return np.argmax(self.logits(x), axis=1).astype(np.int64)

    def errors(self, x: np.ndarray, y: np.ndarray) -> int:
        """Number of misclassified examples (the 0-1 loss summed)."""
        return int(np.count_nonzero(self.predict(x) != np.asarray(y)))

    def same_as(self, other: CompressedMLP) -> bool:
        """True when both describe exactly the same stored network (same task, pool, levels, scales, biases)."""
        if self.task != other.task or self.pool != other.pool or len(self.levels) != len(other.levels):
            return False
        for a, b in zip(self.levels, other.levels):
            if a.shape != b.shape or not np.array_equal(a, b):
                return False
        for ba, bb in zip(self.bias_levels, other.bias_levels):
            if ba is None or bb is None:
                if (ba is None) != (bb is None):
                    return False
            elif not np.array_equal(ba, bb):
                return False
        mine = [s for s, b in zip(self.bias_scales, self.bias_levels) if b is not None]
        theirs = [s for s, b in zip(other.bias_scales, other.bias_levels) if b is not None]
        return self.scales == other.scales and mine == theirs


def _row_order(mask: np.ndarray) -> np.ndarray:
    """Indices sorting the rows of a 0/1 matrix in descending lexicographic order (stable)."""
    keys = [tuple(int(v) for v in row) for row in mask]
    return np.array(sorted(range(len(keys)), key=lambda i: keys[i], reverse=True), dtype=np.int64)


def canonical_form(net: CompressedMLP) -> CompressedMLP:
    """occam-code-length: the same function with the units of every hidden layer sorted so that their mask rows descend
    lexicographically (the order :func:`encode_network` requires).  Layers are processed from the first to the
    last, each permutation also applied to the columns of the next layer."""
    levels = [q.copy() for q in net.levels]
    biases = [None if b is None else b.copy() for b in net.bias_levels]
    for k in range(len(levels) - 1):
        order = _row_order(levels[k] != 0)
        levels[k] = levels[k][order]
        bias = biases[k]
        if bias is not None:
            biases[k] = bias[order]
        levels[k + 1] = levels[k + 1][:, order]
    return CompressedMLP(net.task, net.pool, levels, list(net.scales), biases, list(net.bias_scales))


def is_canonical(net: CompressedMLP) -> bool:
    """occam-code-length: True when every hidden layer's mask rows descend lexicographically."""
    for q in net.levels[:-1]:
        rows = [tuple(int(v) for v in r) for r in (q != 0)]
        if any(rows[i] < rows[i + 1] for i in range(len(rows) - 1)):
            return False
    return True


# ------------------------------------------------------------------------------------------------- the coder
@cache
def _predictive():
    """theory.dirichlet_predictive lambdified once (arguments n_k, n_tot, K, alpha; validated by construction)."""
    f = theory.dirichlet_predictive
    return sp.lambdify(f.args, f.expr, modules="math")


def _elias_delta(n: int) -> list[int]:
    """Elias delta code of n >= 1 (a prefix-free code of the positive integers)."""
    length = n.bit_length()
    ll = length.bit_length()
    return [0] * (ll - 1) + [int(b) for b in bin(length)[2:]] + [int(b) for b in bin(n)[3:]]


def _read_elias_delta(bits: np.ndarray, pos: int) -> tuple[int, int]:
    zeros = 0
    while pos + zeros < len(bits) and bits[pos + zeros] == 0:
        zeros += 1
    pos += zeros
    if pos + zeros + 1 > len(bits):
        raise ValueError("truncated code: the length prefix is incomplete")
    length = int("".join(str(int(b)) for b in bits[pos : pos + zeros + 1]), 2)
    pos += zeros + 1
    if pos + length - 1 > len(bits) or length < 1:
        raise ValueError("truncated code: the length prefix is incomplete")
    n = int("1" + "".join(str(int(b)) for b in bits[pos : pos + length - 1]), 2)
    return n, pos + length - 1


class _Stream:
    """One pass over the message, shared by the encoder and the decoder so that both compute the same models.

    In encode mode each ``*`` method codes the given symbol and returns it; in decode mode the symbol argument is
    ignored and the decoded symbol is returned.  ``parts`` accumulates -log2 P(symbol) per named part (bits)."""

    def __init__(self, words: np.ndarray | None = None):
        import constriction

        self._model = constriction.stream.model
        self.decoding = words is not None
        q = constriction.stream.queue
        self._coder = q.RangeDecoder(words) if self.decoding else q.RangeEncoder()
        self.parts: dict[str, float] = {}
        self._pred = _predictive()

    def _add(self, part: str, prob: float) -> None:
        self.parts[part] = self.parts.get(part, 0.0) - math.log2(prob)

    def uniform(self, part: str, size: int, symbol: int = 0) -> int:
        if size == 1:
            return 0
        model = self._model.Uniform(size)
        if self.decoding:
            symbol = int(self._coder.decode(model))
        else:
            if not 0 <= symbol < size:
                raise ValueError(f"{part}: symbol {symbol} outside 0..{size - 1}")
            self._coder.encode(int(symbol), model)
        self._add(part, 1.0 / size)
        return symbol

    def integer(self, part: str, n: int = 0) -> int:
        """Universal code of 0 <= n < 2^MAX_INT_BITS: the bit length (uniform), then the bits below the top one."""
        length = self.uniform(part, MAX_INT_BITS + 1, int(n).bit_length() if not self.decoding else 0)
        if length <= 1:
            return length  # 0 -> 0, 1 -> 1
        low = self.uniform(part, 2 ** (length - 1), (int(n) - 2 ** (length - 1)) if not self.decoding else 0)
        return 2 ** (length - 1) + low

    def bit(self, part: str, p1: float, symbol: int = 0) -> int:
        model = self._model.Bernoulli(p1, perfect=False)
        if self.decoding:
            symbol = int(self._coder.decode(model))
        else:
            self._coder.encode(int(symbol), model)
        self._add(part, p1 if symbol else 1.0 - p1)
        return symbol

    def categorical(self, part: str, counts: list[int], total: int, symbol: int = 0) -> int:
        """One symbol of an adaptive Dirichlet(ALPHA) model with the given counts (not updated here)."""
        k = len(counts)
        probs = np.array([self._pred(c, total, k, ALPHA) for c in counts])
        model = self._model.Categorical(probs, perfect=False)
        if self.decoding:
            symbol = int(self._coder.decode(model))
        else:
            self._coder.encode(int(symbol), model)
        self._add(part, float(probs[symbol]))
        return symbol

    def words(self) -> np.ndarray:
        return self._coder.get_compressed()


def _bucket(count: int) -> int:
    return 0 if count == 0 else 1 if count == 1 else 2 if count <= 3 else 3 if count <= 7 else 4


def _code_mask(
    st: _Stream, mask: np.ndarray | None, shape: tuple[int, int], side: int | None, sorted_rows: bool, part: str
) -> np.ndarray:
    """Code a 0/1 mask of ``shape`` (d_out, d_in) entry by entry (contexts: module docstring).  Returns it."""
    assert (mask is None) == st.decoding, "the mask is given exactly when encoding"
    d_out, d_in = shape
    out = np.zeros((d_out, d_in), dtype=bool)
    n0 = [0] * (4 * _BUCKETS * 3)
    n1 = [0] * (4 * _BUCKETS * 3)
    col = [0] * d_in
    pred = st._pred
    for i in range(d_out):
        row = out[i]
        src = None if mask is None else mask[i]
        tied = sorted_rows and i > 0  # row i must not exceed row i-1 while their prefixes agree
        prev = out[i - 1] if i > 0 else row  # read only while ``tied``, which needs i > 0
        ones = 0  # survivors of this row so far (capped at 2 in the context)
        for j in range(d_in):
            if tied and not prev[j]:
                continue  # forced 0: a 1 here would put row i above row i-1
            if side is not None:
                r, c = divmod(j, side)
                left = int(row[j - 1]) if c else 0
                up = int(row[j - side]) if r else 0
                ctx = ((2 * left + up) * _BUCKETS + _bucket(col[j])) * 3 + min(ones, 2)
            else:
                ctx = _bucket(col[j]) * 3 + min(ones, 2)
            a, b = n0[ctx], n1[ctx]
            p1 = pred(b, a + b, 2, ALPHA)
            s = st.bit(part, p1, 0 if src is None else int(src[j]))
            if s:
                n1[ctx] = b + 1
                row[j] = True
                col[j] += 1
                ones += 1
            else:
                n0[ctx] = a + 1
                if tied and prev[j]:
                    tied = False  # row i is now strictly below row i-1: no constraint on the rest
    return out


def _code_levels(
    st: _Stream, values: np.ndarray, k_max: int, nonzero: bool, part: str, contexts: np.ndarray | None = None
) -> np.ndarray:
    """Code integer levels with an adaptive Dirichlet(ALPHA) model over [-K, K] \\ {0} (``nonzero``) or [-K, K]; with
    ``contexts`` (one integer per value, known to the decoder) each context value has its own counts."""
    alphabet = [v for v in range(-k_max, k_max + 1) if v != 0 or not nonzero]
    index = {v: t for t, v in enumerate(alphabet)}
    counts: dict[int, list[int]] = {}
    out = np.zeros(len(values), dtype=np.int64)
    for t in range(len(values)):
        ctx = 0 if contexts is None else int(contexts[t])
        c = counts.setdefault(ctx, [0] * len(alphabet))
        sym = 0 if st.decoding else index[int(values[t])]
        s = 0 if len(alphabet) == 1 else st.categorical(part, c, sum(c), sym)
        c[s] += 1
        out[t] = alphabet[s]
    return out


def _code_scale(st: _Stream, code: tuple[int, int] | None, part: str) -> tuple[int, int]:
    e, mant = code if code is not None else (EXPONENTS[0], 0)
    e = EXPONENTS[0] + st.uniform(part, len(EXPONENTS), e - EXPONENTS[0])
    mant = st.uniform(part, 2**MANTISSA_BITS, mant)
    return (e, mant)


def _run(
    st: _Stream,
    task: Task,
    net: CompressedMLP | None,
    prior_masks: Sequence[np.ndarray] | None,
    prior_levels: Sequence[np.ndarray] | None = None,
) -> CompressedMLP:
    """The message, in order; encodes ``net`` or (decoding) builds the network from the stream.

    ``net`` is given exactly when encoding, so ``net is None`` below means decoding (the symbols passed to the
    stream are then ignored)."""
    assert (net is None) == st.decoding, "a network is given exactly when encoding"
    pool = POOLS[st.uniform("header", len(POOLS), 0 if net is None else POOLS.index(net.pool))]
    depth = 1 + st.uniform("header", MAX_DEPTH, 0 if net is None else len(net.levels) - 1)
    widths = [1 + st.integer("header", 0 if net is None else net.levels[k].shape[0] - 1) for k in range(depth - 1)]
    dims = [task.pooled_dim(pool)] + widths + [task.n_classes]
    if prior_masks is not None:
        if len(prior_masks) != depth or any(np.shape(pm) != (dims[k + 1], dims[k]) for k, pm in enumerate(prior_masks)):
            raise ValueError("prior_masks do not match the coded architecture")
    if prior_levels is not None:
        if prior_masks is None or any(
            np.shape(pl) != np.shape(pm) or not np.array_equal(np.asarray(pl) != 0, np.asarray(pm, dtype=bool))
            for pl, pm in zip(prior_levels, prior_masks)
        ):
            raise ValueError("prior_levels need prior_masks and must be nonzero exactly on them")
    levels: list[np.ndarray] = []
    scales: list[tuple[int, int]] = []
    biases: list[np.ndarray | None] = []
    bias_scales: list[tuple[int, int] | None] = []
    for k in range(depth):
        d_out, d_in = dims[k + 1], dims[k]
        q = None if net is None else net.levels[k]
        scales.append(_code_scale(st, None if net is None else net.scales[k], "scales"))
        k_max = 1 + st.integer("scales", 0 if q is None else max(int(np.abs(q).max(initial=0)), 1) - 1)
        if prior_masks is not None:
            mask = np.asarray(prior_masks[k], dtype=bool)
            if q is not None and not np.array_equal(mask, q != 0):
                raise ValueError(f"layer {k}: the network's mask differs from prior_masks[{k}]")
        else:
            side = task.pooled_side(pool) if k == 0 else None
            mask = _code_mask(
                st, None if q is None else (q != 0), (d_out, d_in), side, sorted_rows=k < depth - 1, part="mask"
            )
        ctx = None if prior_levels is None else np.asarray(prior_levels[k])[mask]
        vals = _code_levels(st, np.zeros(int(mask.sum())) if q is None else q[mask], k_max, True, "levels", ctx)
        full = np.zeros((d_out, d_in), dtype=np.int64)
        full[mask] = vals
        levels.append(full)
        b = None if net is None else net.bias_levels[k]
        has_bias = st.uniform("biases", 2, 0 if net is None else int(b is not None))
        if has_bias:
            # encoding: has_bias is (b is not None); decoding: net and b are None
            bias_scales.append(_code_scale(st, None if net is None else net.bias_scales[k], "biases"))
            kb = st.integer("biases", 0 if b is None else int(np.abs(b).max(initial=0)))
            biases.append(_code_levels(st, np.zeros(d_out) if b is None else b, kb, False, "biases"))
        else:
            bias_scales.append(None)
            biases.append(None)
    return CompressedMLP(task, pool, levels, scales, biases, bias_scales)


@dataclass(eq=False)
class Code:
    """occam-code-length: a code word: ``bits`` (uint8 0/1 array; its length is |code(h)|), the ideal bits of each part
    (``parts``: header, scales, mask, levels, biases -- -log2 of the model probability -- and ``overhead``, the
    rest of the real length) and the ``network`` it encodes."""

    bits: np.ndarray
    parts: dict[str, float]
    network: CompressedMLP

    @property
    def n_bits(self) -> int:
        return int(len(self.bits))

    def to_bytes(self) -> bytes:
        return np.packbits(self.bits).tobytes()


def encode_network(
    net: CompressedMLP,
    prior_masks: Sequence[np.ndarray] | None = None,
    prior_levels: Sequence[np.ndarray] | None = None,
) -> Code:
    """occam-code-length: the code word of ``net`` (which must be in :func:`canonical_form` unless ``prior_masks``
    fixes the masks).  Returns a :class:`Code`; its ``n_bits`` is the length the Occam bound charges.

    ``prior_masks``: the data-dependent-prior variant -- one 0/1 array per layer, known to the decoder, equal to
    the network's masks; the masks are then not transmitted.  ``prior_levels`` (with ``prior_masks``): integer
    levels of a prior network on the same masks; each weight's level is then coded with the counts of its prior
    level as context.  Raises ValueError for a network that is not canonical, whose masks differ from
    ``prior_masks``, or prior levels that do not fit the masks."""
    net.validate()
    if prior_masks is None and not is_canonical(net):
        raise ValueError("hidden units are not in canonical order: encode canonical_form(net) (the same function)")
    st = _Stream()
    _run(st, net.task, net, prior_masks, prior_levels)
    words = np.asarray(st.words(), dtype=np.uint32)
    n_words = max(len(words), 1)
    if len(words) == 0:
        words = np.zeros(1, dtype=np.uint32)
    prefix = np.array(_elias_delta(n_words), dtype=np.uint8)
    payload = np.unpackbits(words.astype(">u4").view(np.uint8))
    bits = np.concatenate([prefix, payload])
    parts = dict(st.parts)
    parts["overhead"] = len(bits) - sum(parts.values())
    return Code(bits=bits, parts=parts, network=net)


def read_code(
    bits,
    task: Task,
    prior_masks: Sequence[np.ndarray] | None = None,
    prior_levels: Sequence[np.ndarray] | None = None,
) -> tuple[CompressedMLP, int]:
    """occam-code-length: decode one code word from the start of ``bits`` (0/1 array-like); returns (network, bits used).  The code is
    self-delimiting: whatever follows the code word is left unread.  Raises ValueError on a truncated code."""
    bits = np.asarray(bits, dtype=np.uint8)
    if bits.ndim != 1 or np.any(bits > 1):
        raise ValueError("bits must be a 1-D array of 0/1 values")
    n_words, pos = _read_elias_delta(bits, 0)
    end = pos + 32 * n_words
    if end > len(bits):
        raise ValueError(f"truncated code: {n_words} words announced, {len(bits) - pos} bits present")
    words = np.packbits(bits[pos:end]).view(">u4").astype(np.uint32)
    st = _Stream(words)
    net = _run(st, task, None, prior_masks, prior_levels)
    return net, end


def decode_network(
    bits,
    task: Task,
    prior_masks: Sequence[np.ndarray] | None = None,
    prior_levels: Sequence[np.ndarray] | None = None,
) -> CompressedMLP:
    """occam-code-length: the network of a complete code word (ValueError if bits are missing or left over); the
    priors must be those the word was encoded with."""
    net, used = read_code(bits, task, prior_masks, prior_levels)
    if used != len(np.asarray(bits)):
        raise ValueError(f"{len(np.asarray(bits)) - used} bits left over after the code word")
    return net

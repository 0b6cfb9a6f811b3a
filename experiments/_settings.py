"""Typed settings, validated once at the edge: the measurement protocol and the settings of a run.

A :class:`Protocol` fixes every choice that changes a number without being a hyper-parameter of training:
how the training set is split and preprocessed, whether Algorithm 1 prunes the diagonal, how the Condition
C.1 constants kappa_l are computed, what counts as an error at a tie, how the pruning strength is searched
and which margin the baselines use.  Two protocols exist:

- ``toolkit`` (:data:`TOOLKIT`): the paper's text, with the toolkit's choices where the text is silent
  (a margin equal to gamma is an error, kappa_l = 1, a geometric bisection with common random numbers).
- ``authors`` (:data:`AUTHORS`): the released code as it executes (split by ``torch.utils.data.random_split``
  with seed 1, ``(x/255 - 0.5)/0.5`` in float32, the diagonal pruned, kappa_l from their bisection, a margin
  equal to gamma counted correct, their linear bisection on [0, 10] with fresh draws).

:class:`RunSettings` holds everything ``python -m experiments.bounds`` and :func:`experiments.evaluate`
need; it is frozen and validated in ``__post_init__`` (a :class:`UsageError` naming the option).
:meth:`RunSettings.identity` is what a checkpoint or a summary record must match to be reused.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = ["AUTHORS", "PROTOCOLS", "TOOLKIT", "Protocol", "RunSettings", "UsageError", "DATASETS", "SEED_MAX"]

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
#: the largest seed accepted (numpy, torch and the checkpoint identity all take it)
SEED_MAX = 2**31 - 1


class UsageError(ValueError):
    """Bad input from the command line or the API: printed as one line, exit code 2."""


@dataclass(frozen=True)
class Protocol:
    """The measurement choices of one protocol (see the module docstring).

    ``split``: ``"toolkit"`` (a numpy-seeded permutation, parts sorted) or ``"authors"``
    (``torch.utils.data.random_split`` of the official training set, validation fraction 0.2);
    ``preprocessing``: ``"toolkit"`` (``x * (2/255) - 1``) or ``"authors"`` (``(x/255 - 0.5)/0.5``);
    ``tie_is_error``: a margin equal to gamma counts as an error (``margin <= gamma``) when True, as correct
    (``margin < gamma``, the released code) when False; ``kappa``: ``"one"`` or ``"authors"`` (their bisection
    for t, Lemma C.1); ``search``: ``"toolkit"`` (geometric bisection with common random numbers) or
    ``"authors"`` (``scipy.optimize.bisect`` on [0, 10], xtol 1e-3, a fresh Algorithm 1 draw per evaluation);
    ``gamma_fallback``: use the 10th-percentile training margin when the minimum is <= 0 (toolkit) or report
    the margin as 0 and the bounds as infinite (authors).
    """

    name: str
    split: str
    preprocessing: str
    prune_diagonal: bool
    tie_is_error: bool
    kappa: str
    search: str
    gamma_fallback: bool

    def describe(self) -> dict[str, Any]:
        return asdict(self)


TOOLKIT = Protocol(
    name="toolkit",
    split="toolkit",
    preprocessing="toolkit",
    prune_diagonal=False,
    tie_is_error=True,
    kappa="one",
    search="toolkit",
    gamma_fallback=True,
)
AUTHORS = Protocol(
    name="authors",
    split="authors",
    preprocessing="authors",
    prune_diagonal=True,
    tie_is_error=False,
    kappa="authors",
    search="authors",
    gamma_fallback=False,
)
PROTOCOLS = {"toolkit": TOOLKIT, "authors": AUTHORS}


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise UsageError(message)


def _finite_positive(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@dataclass(frozen=True)
class RunSettings:
    """Everything that defines a run of ``experiments.bounds`` (validated on construction).

    Training: ``epochs`` is the number of epochs, or the most epochs when ``until_positive_margin`` (stop as
    soon as every training point has a positive margin, under the protocol's tie rule); ``optimizer`` is
    ``adam`` or ``sgd`` with ``momentum`` and ``weight_decay`` exactly as passed to ``torch.optim``;
    ``threads`` pins torch's CPU threads (None: torch's default, recorded in the summary) because summation
    order, hence the last digits, depends on it.  Bounds: ``every`` (bounds every N epochs, 0 = only at the
    end), ``delta`` (failure probability of the rigorous bounds), ``imp_rounds``/``imp_fraction`` (lottery
    tickets, Theorem 6.2; each round trains the network once more).  ``widths`` and ``seeds`` (and
    ``datasets``) span the tasks of a sweep.
    """

    datasets: tuple[str, ...] = ("digits",)
    data_dir: str | None = None
    widths: tuple[int, ...] = (64, 128)
    seeds: tuple[int, ...] = (0,)
    depth: int = 5
    epochs: int = 40
    until_positive_margin: bool = False
    every: int = 10
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    batch_size: int = 64
    device: str = "cpu"
    threads: int | None = None
    delta: float = 0.01
    imp_rounds: int = 0
    imp_fraction: float = 0.5
    protocol: Protocol = field(default=TOOLKIT)
    prune_diagonal: bool = False
    preset: str = "quick"

    def __post_init__(self) -> None:
        _check(
            len(self.datasets) > 0 and all(d in DATASETS for d in self.datasets),
            f"--dataset must be one of {', '.join(DATASETS)} (got {' '.join(self.datasets)})",
        )
        _check(
            len(self.widths) > 0 and all(isinstance(w, int) and w >= 1 for w in self.widths),
            f"--widths must all be integers >= 1 (got {' '.join(map(str, self.widths))})",
        )
        _check(
            len(self.seeds) > 0 and all(isinstance(s, int) and 0 <= s <= SEED_MAX for s in self.seeds),
            f"--seed must be an integer from 0 to {SEED_MAX} (got {' '.join(map(str, self.seeds))})",
        )
        _check(isinstance(self.depth, int) and self.depth >= 2, f"--depth must be >= 2 (got {self.depth})")
        _check(isinstance(self.epochs, int) and self.epochs >= 1, f"--epochs must be >= 1 (got {self.epochs})")
        _check(isinstance(self.every, int) and self.every >= 0, f"--every must be >= 0 (got {self.every})")
        _check(self.optimizer in ("adam", "sgd"), f"--optimizer must be adam or sgd (got {self.optimizer})")
        _check(_finite_positive(self.lr), f"--lr must be a positive finite number (got {self.lr})")
        _check(
            math.isfinite(self.momentum) and 0 <= self.momentum < 1,
            f"--momentum must lie in [0, 1) (got {self.momentum})",
        )
        _check(
            math.isfinite(self.weight_decay) and self.weight_decay >= 0,
            f"--weight-decay must be >= 0 (got {self.weight_decay})",
        )
        _check(
            isinstance(self.batch_size, int) and self.batch_size >= 1,
            f"--batch-size must be >= 1 (got {self.batch_size})",
        )
        _check(
            self.threads is None or (isinstance(self.threads, int) and self.threads >= 1),
            f"--threads must be >= 1 (got {self.threads})",
        )
        _check(
            isinstance(self.delta, float | int) and 0 < self.delta < 1,
            f"--delta must lie strictly between 0 and 1 (got {self.delta})",
        )
        _check(
            isinstance(self.imp_rounds, int) and self.imp_rounds >= 0,
            f"--imp-rounds must be >= 0 (got {self.imp_rounds})",
        )
        _check(0 < self.imp_fraction < 1, f"--imp-fraction must lie strictly between 0 and 1 (got {self.imp_fraction})")
        _check(
            self.device == "cpu" or self.device.startswith("cuda"),
            f"--device must be auto, cpu or cuda[:N] (got {self.device})",
        )

    # ------------------------------------------------------------------------------------------------
    def replace(self, **changes: Any) -> RunSettings:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)

    def train_identity(self, dataset: str, width: int, seed: int) -> dict[str, Any]:
        """What defines the trained weights of one task: a checkpoint is continued only when it matches this
        exactly (the device, the thread count, the output folder, ``every``, ``delta`` and the pruning choices
        do not change the weights)."""
        return {
            "dataset": dataset,
            "width": int(width),
            "depth": self.depth,
            "seed": int(seed),
            "protocol": self.protocol.name,
            "optimizer": self.optimizer,
            "lr": float(self.lr),
            "momentum": float(self.momentum),
            "weight_decay": float(self.weight_decay),
            "batch_size": self.batch_size,
            "until_positive_margin": self.until_positive_margin,
        }

    def record_identity(self, dataset: str, width: int, seed: int) -> dict[str, Any]:
        """What defines a finished summary record: the training identity plus everything the bounds use."""
        return {
            **self.train_identity(dataset, width, seed),
            "epochs": self.epochs,
            "every": self.every,
            "delta": float(self.delta),
            "prune_diagonal": self.prune_diagonal,
            "imp_rounds": self.imp_rounds,
            "imp_fraction": float(self.imp_fraction) if self.imp_rounds else None,
        }

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["protocol"] = self.protocol.name
        out["datasets"] = list(self.datasets)
        out["widths"] = list(self.widths)
        out["seeds"] = list(self.seeds)
        return out


def differing(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``key old (now new)`` for every key whose value differs (keys missing on either side included)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if a != b:
            out.append(f"{key} {a} (now {b})")
    return out

"""The certificate pipeline: train -> prune -> quantise -> code -> Occam bound, over a grid whose size is charged.

Claims ``occam-kl`` and ``occam-binomial`` (the bound), ``occam-code-length`` (the code), ``algorithm-1`` (one of the
pruning methods).  Every certificate is a probability of error.  The paper-style bounds of the dense network the
compressed one came from are computed by ``experiments._bounds.compute_bounds`` (which returns log10 values) and
converted to probabilities of error with 10**x for the table; above 1 they are vacuous.

Data-independent certificate: the code is fixed before the data; the m examples of the bound are the training
split (MNIST: 48,000), on which the networks are also trained; every hypothesis evaluated on them is one of the G
grid points charged by ln G.  Data-dependent-prior variant (labelled as such): the masks are chosen on the
validation split (the prior part), the code then transmits only header, scales, levels and biases, and the bound is
evaluated on the training split (m = its size), independent of the prior part.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

import numerics

from ._compress import PruneSpec, Schedule, SparseMLP, error_rate, features, prune_path, quantise, train

#: paper-style bounds reported beside the certificate: (record key of compute_bounds, column label)
PAPER_BOUNDS = (
    ("ours_paper_compatible_log10", 'paper "Ours" (authors\' code)'),
    ("theorem_5_2_log10", "Theorem 5.2"),
    ("neyshabur_2015_literature_log10", "Neyshabur 2015"),
    ("bartlett_2017_literature_log10", "Bartlett 2017"),
    ("neyshabur_2017_literature_log10", "Neyshabur 2017"),
)
PARTS = ("header", "scales", "mask", "levels", "biases", "overhead")


@dataclass(frozen=True)
class Arch:
    """One family of networks: input pooling, hidden widths before pruning, hidden units kept, input features kept."""

    name: str
    pool: int
    hidden: tuple[int, ...]
    units: tuple[int, ...]
    inputs: int | None = None
    smooth: float = 0.0  # magnitude pruning of the first layer favours pixels next to kept ones (0: plain magnitude)
    methods: tuple[str, ...] | None = None  # pruning methods for this family (None: the plan's)
    seeds: tuple[int, ...] = (0,)  # seed offsets: one dense network and pruning path per seed (each charged)


@dataclass(frozen=True)
class Plan:
    """Everything a run tries.  For every arch: its seeds x methods x ``targets`` x ``levels`` are data-independent
    grid points, and so are the paper's MLP's (G = their number); ``dd_*`` the data-dependent-prior variants (their
    own grid, their own m)."""

    archs: tuple[Arch, ...]
    methods: tuple[str, ...]
    targets: tuple[int, ...]
    levels: tuple[int, ...]
    bias_levels: int
    schedule: Schedule
    zeros: bool = True  # survivors rounding to level 0 are pruned at quantisation
    paper_arch: Arch | None = None  # the paper's MLP on its own line (magnitude pruning, paper_targets)
    paper_targets: tuple[int, ...] = ()
    paper_schedule: Schedule | None = None
    dd_arch: Arch | None = None
    dd_targets: tuple[int, ...] = ()
    dd_levels: tuple[int, ...] = ()
    dd_schedule: Schedule | None = None

    def methods_of(self, arch: Arch) -> tuple[str, ...]:
        return arch.methods if arch.methods is not None else self.methods

    @property
    def grid_size(self) -> int:
        main = sum(len(a.seeds) * len(self.methods_of(a)) for a in self.archs) * len(self.targets) * len(self.levels)
        paper = len(self.paper_targets) * len(self.levels) if self.paper_arch is not None else 0
        return main + paper

    @property
    def dd_grid_size(self) -> int:
        """targets x levels x the two data-dependent codes (masks; masks and value model)."""
        return 2 * len(self.dd_targets) * len(self.dd_levels) if self.dd_arch is not None else 0


def preset(dataset: str, quick: bool = False) -> Plan:
    """The default plan per dataset (digits: seconds; MNIST: minutes on 2 CPU cores; ``quick``: a smoke test)."""
    if dataset == "digits":
        sched = Schedule(dense_epochs=30, rounds=8, round_epochs=3, final_epochs=20, qat_epochs=10, batch_size=64)
        if quick:
            sched = Schedule(dense_epochs=25, rounds=3, round_epochs=2, final_epochs=6, qat_epochs=3, batch_size=64)
        return Plan(
            archs=(Arch("MLP 64-64-32-10", 1, (64, 32), (16, 12), smooth=1.0),),
            methods=("magnitude", "algorithm-1"),
            targets=(400, 250),
            levels=(2, 4),
            bias_levels=3,
            schedule=sched,
            dd_arch=Arch("MLP 64-64-32-10", 1, (64, 32), (24, 16)),
            dd_targets=(800,),
            dd_levels=(3,),
            dd_schedule=sched,
        )
    sched = Schedule(dense_epochs=10, rounds=30, round_epochs=3, final_epochs=30, qat_epochs=10)
    paper_sched = Schedule(dense_epochs=4, rounds=20, round_epochs=1, final_epochs=20, qat_epochs=8)
    dd_sched = Schedule(dense_epochs=40, rounds=20, round_epochs=6, final_epochs=15, qat_epochs=10)
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    if quick:
        sched = Schedule(dense_epochs=1, rounds=4, round_epochs=1, final_epochs=1, qat_epochs=1)
        paper_sched = dd_sched = sched
        seeds = (0,)
    main = Arch("2x2-pooled MLP 196-300-100-10", 2, (300, 100), (40, 20), smooth=2.0)
    return Plan(
        archs=(
            replace(main, methods=("magnitude",), seeds=seeds),
            replace(main, methods=("algorithm-1",), seeds=(0,)),  # the paper's pruning, for comparison
        ),
        methods=("magnitude", "algorithm-1"),
        targets=(900, 750),
        levels=(4, 6),
        bias_levels=3,
        schedule=sched,
        paper_arch=Arch("paper's MLP 784-500x4-10", 1, (500, 500, 500, 500), (60, 30, 20, 20), smooth=2.0),
        paper_targets=(1500, 1200),
        paper_schedule=paper_sched,
        dd_arch=Arch("2x2-pooled MLP 196-300-100-10", 2, (300, 100), (60, 30), smooth=2.0),
        dd_targets=(2500, 2000, 1500),
        dd_levels=(2,),
        dd_schedule=dd_sched,
    )


# ------------------------------------------------------------------------------------------------- paper bounds
def paper_style_bounds(
    net: SparseMLP, init: list[np.ndarray], x: torch.Tensor, y: torch.Tensor, delta: float, seed: int
) -> dict:
    """compute_bounds on a dense trained network (the one that was compressed), as log10 values and converted to
    probabilities of error (10**x).  ``x`` are the (pooled) inputs of the bound sample."""
    from ._bounds import compute_bounds
    from ._measures import margins

    ws = [(w * m).detach().double().numpy() for w, m in zip(net.weight, net.masks)]
    bs = [b.detach().double() for b in net.bias]
    xd = x.double()

    def logits_with(weights) -> torch.Tensor:
        h = xd
        for k, (w, b) in enumerate(zip(weights, bs)):
            h = h @ torch.as_tensor(w, dtype=torch.float64).T + b
            if k < len(weights) - 1:
                h = torch.relu(h)
        return h

    x_np = xd.numpy()
    res = compute_bounds(
        ws,
        init,
        margins(logits_with(ws), y),
        lambda p: margins(logits_with(p), y),
        float(np.linalg.norm(x_np, axis=1).max()),
        float(np.linalg.norm(x_np)),
        m=len(y),
        delta=delta,
        seed=seed,
    )
    out = {key: float(res[key]) for key, _ in PAPER_BOUNDS}
    out.update({key.replace("_log10", "_probability"): 10.0 ** float(res[key]) for key, _ in PAPER_BOUNDS})
    out["gamma"] = float(res["gamma"])
    out["gamma_rule"] = res["gamma_rule"]
    out["d_star"] = float(res["d_star"])
    return out


# ------------------------------------------------------------------------------------------------- one hypothesis
def certify_network(
    network: numerics.CompressedMLP,
    x_bound: np.ndarray,
    y_bound: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    delta: float,
    grid: int,
    prior_masks=None,
    prior_levels=None,
) -> dict:
    """Code ``network`` (for real), decode it, check the decoded network is identical and predicts the same, and
    bound its error on the bound sample (occam-kl, occam-binomial).  Returns a flat record (probabilities of
    error, bits).  Raises RuntimeError if the decoded network differs (which would void the certificate)."""
    code = numerics.encode_network(network, prior_masks=prior_masks, prior_levels=prior_levels)
    back = numerics.decode_network(code.bits, network.task, prior_masks=prior_masks, prior_levels=prior_levels)
    pred = network.predict(x_bound)
    if not back.same_as(network) or not np.array_equal(back.predict(x_bound), pred):
        raise RuntimeError("the decoded network differs from the encoded one")
    errors = int(np.count_nonzero(pred != y_bound))
    bound = numerics.occam_bound(errors, len(y_bound), code.n_bits, delta, grid)
    rec = {
        "certificate_kl": bound.kl,
        "certificate_binomial": bound.binomial,
        "c_kl_nats": bound.c_kl,
        "train_error": bound.train_error,
        "train_errors": errors,
        "test_error": network.errors(x_test, y_test) / max(len(y_test), 1),
        "m": len(y_bound),
        "delta": delta,
        "grid_size": grid,
        "bits": code.n_bits,
        "dims": network.dims,
        "nonzeros": network.nonzeros,
        "pool": network.pool,
        "decoded_identical": True,
    }
    for part in PARTS:
        rec[f"bits_{part}"] = float(code.parts.get(part, 0.0))
    return rec


# ------------------------------------------------------------------------------------------------- a family
@dataclass
class Family:
    """Trained dense network of one architecture and its compressed descendants."""

    arch: Arch
    dense_error: float
    paper: dict | None
    records: list[dict] = field(default_factory=list)
    seconds: dict = field(default_factory=dict)


def run_family(
    arch: Arch,
    task: numerics.Task,
    data: dict,
    methods: tuple[str, ...],
    targets: tuple[int, ...],
    levels: tuple[int, ...],
    bias_levels: int,
    sched: Schedule,
    delta: float,
    grid: int,
    seed: int,
    paper_bounds: bool,
    say: Callable[[str], None],
    variant: str = "data-independent",
    zeros: bool = True,
) -> Family:
    """occam-kl, algorithm-1: train one dense network on data['x_fit'], prune it along each method's path, fine-tune
    and quantise at each target and level count, code and certify every result on data['x_bound'] (m = its size,
    ``grid`` = G of the union bound).  Records are probabilities of error and bits; paper-style bounds of the dense
    network are kept both as log10 and as probabilities (or an error message when compute_bounds refuses)."""
    t0 = time.perf_counter()
    x_fit = features(data["x_fit"], task, arch.pool)
    y_fit = torch.as_tensor(data["y_fit"])
    dims = [task.pooled_dim(arch.pool), *arch.hidden, task.n_classes]
    torch.manual_seed(seed)
    dense = SparseMLP(dims, seed)
    init = [w.detach().double().numpy().copy() for w in dense.weight]
    train(dense, x_fit, y_fit, sched.dense_epochs, sched.lr, sched.batch_size, seed, cosine=True)
    fam = Family(arch, error_rate(dense, x_fit, y_fit), None)
    fam.seconds["dense"] = time.perf_counter() - t0
    say(f"{arch.name}: dense network trained, training error {fam.dense_error:.4f} [{fam.seconds['dense']:.0f} s]")
    if paper_bounds:
        t1 = time.perf_counter()
        x_b = features(data["x_bound"], task, arch.pool)
        try:
            fam.paper = paper_style_bounds(dense, init, x_b, torch.as_tensor(data["y_bound"]), delta, seed)
        except ValueError as exc:  # e.g. no positive margin left (a network trained for a few epochs only)
            fam.paper = {"error": str(exc)}
            say(f"{arch.name}: paper-style bounds skipped ({exc})")
        fam.seconds["paper_bounds"] = time.perf_counter() - t1
        if "error" not in fam.paper:
            say(
                f"{arch.name}: paper-style bounds of the dense network (log10): "
                + ", ".join(f"{lbl} {fam.paper[key]:.2f}" for key, lbl in PAPER_BOUNDS)
            )
    for method in methods:
        t1 = time.perf_counter()
        smooth = arch.smooth if method == "magnitude" else 0.0  # Algorithm 1 stays the paper's
        side = task.pooled_side(arch.pool)
        spec = PruneSpec(method, arch.units, tuple(sorted(set(targets), reverse=True)), arch.inputs, smooth, side)
        snaps = prune_path(copy.deepcopy(dense), x_fit, y_fit, spec, sched, seed, progress=None)
        fam.seconds[f"prune_{method}"] = time.perf_counter() - t1
        for snap in snaps:
            net = snap["state"]
            train(net, x_fit, y_fit, sched.final_epochs, sched.lr, sched.batch_size, seed + 11, cosine=True)
            for k_max in levels:
                qn = quantise(net, task, arch.pool, k_max, bias_levels, x_fit, y_fit, sched, seed, zeros=zeros)
                rec = certify_network(
                    qn.network, data["x_bound"], data["y_bound"], data["x_test"], data["y_test"], delta, grid
                )
                rec.update(
                    {
                        "line": arch.name,
                        "variant": variant,
                        "method": method,
                        "target": snap["target"],
                        "levels": k_max,
                        "bias_levels": bias_levels,
                        "algorithm_1_d": [e.get("d") for e in snap["log"] if "d" in e][-1:] or None,
                        "smooth": smooth,
                        "zeros_pruned_at_quantisation": zeros,
                        "seed": seed,
                    }
                )
                fam.records.append(rec)
                say(
                    f"{arch.name}, {method}, {snap['target']} weights, K={k_max}: train {rec['train_error']:.4f}, "
                    f"test {rec['test_error']:.4f}, {rec['bits']} bits -> certificate {rec['certificate_kl']:.4f}"
                )
    fam.seconds["total"] = time.perf_counter() - t0
    return fam


DD_MASKS = "data-dependent prior: masks"
DD_VALUES = "data-dependent prior: masks and value model"
HOLDOUT = "reference: hold-out bound of the prior network"


def run_data_dependent(
    plan: Plan, task: numerics.Task, data: dict, delta: float, seed: int, say: Callable[[str], None]
) -> list[dict]:
    """Data-dependent priors (labelled), chosen on the prior part (data['x_prior']) only: a network is trained,
    pruned and quantised there (the prior network).  The hypothesis h has the prior network's masks; its values are
    fine-tuned on all training data and quantised.  Two codes, both fixed given the prior part: ``DD_MASKS`` does not
    transmit the masks; ``DD_VALUES`` also codes each level with the prior network's level as context.  The bound is
    evaluated on data['x_bound'] only (m = its size), independent of the prior part; ln G charges the
    targets x levels x 2 codes tried.  A third record, ``HOLDOUT``, certifies the prior network itself under the
    second code -- a hold-out bound, listed for reference (it says nothing about compression)."""
    arch, sched = plan.dd_arch, plan.dd_schedule or plan.schedule
    if arch is None:
        raise ValueError("the plan has no data-dependent-prior architecture (dd_arch)")
    x_pr = features(data["x_prior"], task, arch.pool)
    y_pr = torch.as_tensor(data["y_prior"])
    x_all = torch.cat([x_pr, features(data["x_bound"], task, arch.pool)])
    y_all = torch.cat([y_pr, torch.as_tensor(data["y_bound"])])
    dims = [task.pooled_dim(arch.pool), *arch.hidden, task.n_classes]
    dense = SparseMLP(dims, seed)
    train(dense, x_pr, y_pr, sched.dense_epochs, sched.lr, sched.batch_size, seed, cosine=True)
    smooth = arch.smooth
    spec = PruneSpec(
        "magnitude",
        arch.units,
        tuple(sorted(set(plan.dd_targets), reverse=True)),
        arch.inputs,
        smooth,
        task.pooled_side(arch.pool),
    )
    records = []
    bound = (data["x_bound"], data["y_bound"], data["x_test"], data["y_test"], delta, plan.dd_grid_size)
    holdout_grid = len(set(plan.dd_targets)) * len(plan.dd_levels)
    for snap in prune_path(dense, x_pr, y_pr, spec, sched, seed):
        net = snap["state"]
        train(net, x_pr, y_pr, sched.final_epochs, sched.lr, sched.batch_size, seed + 11, cosine=True)
        for k_max in plan.dd_levels:
            # the prior network: chosen on the prior part only (canonical, dead units dropped)
            prior = quantise(net, task, arch.pool, k_max, plan.bias_levels, x_pr, y_pr, sched, seed).network
            prior_masks = [q != 0 for q in prior.levels]
            prior_levels = [q.copy() for q in prior.levels]
            fixed = _from_compressed(prior)
            train(fixed, x_all, y_all, sched.final_epochs, sched.lr, sched.batch_size, seed + 13, cosine=True)
            h = quantise(
                fixed, task, arch.pool, k_max, plan.bias_levels, x_all, y_all, sched, seed, fixed_structure=True
            ).network
            for variant, net_c, levels_prior in (
                (DD_MASKS, h, None),
                (DD_VALUES, h, prior_levels),
                (HOLDOUT, prior, prior_levels),
            ):
                rec = certify_network(net_c, *bound, prior_masks, levels_prior)
                if variant == HOLDOUT:
                    rec.update(holdout_bound(rec, holdout_grid))
                rec.update(
                    {
                        "line": arch.name,
                        "variant": variant,
                        "method": "magnitude",
                        "target": snap["target"],
                        "levels": k_max,
                        "bias_levels": plan.bias_levels,
                        "prior_examples": len(y_pr),
                        "smooth": smooth,
                    }
                )
                records.append(rec)
                say(
                    f"{variant}, {snap['target']} weights, K={k_max}: train {rec['train_error']:.4f}, "
                    f"test {rec['test_error']:.4f}, {rec['bits']} bits -> certificate {rec['certificate_kl']:.4f}"
                )
    return records


def holdout_bound(rec: dict, grid: int) -> dict:
    """occam-kl with no code charged: the prior network is fixed by the prior part alone, so its bound on the other
    m examples is a plain hold-out (test-set) bound, kl^-1(err, ln(grid/delta)/m), ``grid`` the prior networks it
    was chosen among.  Returns the certificate fields to update ``rec`` with (its ``bits`` stay, for information)."""
    b = numerics.occam_bound(rec["train_errors"], rec["m"], 0.0, rec["delta"], grid)
    return {
        "certificate_kl": b.kl,
        "certificate_binomial": b.binomial,
        "c_kl_nats": b.c_kl,
        "charged_bits": 0.0,
        "grid_size": grid,
    }


def rederive(rec: dict) -> tuple[float, float]:
    """occam-kl, occam-binomial: a record's two certificates recomputed from its errors, m, charged bits (its code
    length unless ``charged_bits`` says otherwise), delta and grid size -- what --from-records checks."""
    b = numerics.occam_bound(
        rec["train_errors"], rec["m"], rec.get("charged_bits", rec["bits"]), rec["delta"], rec["grid_size"]
    )
    return b.kl, b.binomial


def check_result(result: dict) -> None:
    """Re-derive every certificate of a certify.json and check the grid: raises ValueError (one line) when a stored
    certificate does not follow from the record's own numbers (to 1e-9), when the number of data-independent records
    differs from the G charged, or when a summary line is not one of the records."""
    records = result.get("records") or []
    if not records or not result.get("lines"):
        raise ValueError("it holds no records or no summary lines")
    for i, rec in enumerate(records):
        kl, binomial = rederive(rec)
        if abs(kl - rec["certificate_kl"]) > 1e-9 or abs(binomial - rec["certificate_binomial"]) > 1e-9:
            raise ValueError(
                f"record {i} ({rec.get('variant')}, {rec.get('target')} weights): its certificate "
                f"{rec['certificate_kl']:.6g} does not follow from its errors, m, bits, delta and G ({kl:.6g})"
            )
    independent = [r for r in records if r.get("variant") == "data-independent"]
    if independent and len(independent) != result["grid_size"]:
        raise ValueError(
            f"{len(independent)} data-independent networks were tried but G = {result['grid_size']} was charged"
        )
    certificates = {r["certificate_kl"] for r in records}
    for ln in result["lines"]:
        if ln["certificate_kl"] not in certificates:
            raise ValueError(f"the line '{ln.get('label')}' is not one of the records")


def _from_compressed(net: numerics.CompressedMLP) -> SparseMLP:
    """A trainable SparseMLP with the architecture, masks and (dequantised) values of ``net``."""
    out = SparseMLP(net.dims, 0)
    with torch.no_grad():
        for k, (w, b) in enumerate(zip(net.weights(), net.biases())):
            out.weight[k].copy_(torch.as_tensor(w, dtype=torch.float32))
            out.bias[k].copy_(torch.as_tensor(b, dtype=torch.float32))
            out.masks[k] = torch.as_tensor(net.levels[k] != 0, dtype=torch.float32)
    return out


def best(records: list[dict]) -> dict | None:
    """occam-kl: the record with the smallest certificate (every record was charged in its grid's G)."""
    return min(records, key=lambda r: r["certificate_kl"]) if records else None


def _best_of(records: list[dict]) -> dict:
    """:func:`best` of records that must not be empty (ValueError if they are)."""
    chosen = best(records)
    if chosen is None:
        raise ValueError("no records to choose the best certificate from")
    return chosen


# ------------------------------------------------------------------------------------------------- a whole run
class _Progress:
    """A tqdm bar over the hypotheses on a TTY; plain lines on stderr otherwise; nothing with progress off."""

    def __init__(self, total: int, enabled: bool):
        import sys

        self.enabled = enabled
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="net", file=sys.stderr)

    def say(self, text: str) -> None:
        import sys

        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
            if "certificate" in text:
                self.bar.update(1)
        else:
            print(f"  {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(data, plan: Plan, args, progress: bool) -> dict:
    """The whole certificate run for one dataset; returns a JSON-ready dict (records, lines, settings, timings)."""
    from ._data import train_val_split

    t0 = time.perf_counter()
    side = int(round(math.sqrt(data.input_dim)))
    task = numerics.Task(data.input_dim, data.n_classes, side if side * side == data.input_dim else None)
    tr, va = train_val_split(len(data.train_y), args.seed)
    if getattr(args, "full_train", False):
        tr, va = np.arange(len(data.train_y)), np.arange(0)
    split = {
        "x_fit": data.train_x[tr],
        "y_fit": data.train_y[tr],
        "x_bound": data.train_x[tr],
        "y_bound": data.train_y[tr],
        "x_prior": data.train_x[va],
        "y_prior": data.train_y[va],
        "x_test": data.test_x,
        "y_test": data.test_y,
    }
    grid = plan.grid_size
    bar = _Progress(grid + plan.dd_grid_size, progress)
    paper_bounds = not args.no_paper_bounds
    families: list[Family] = []
    seconds: dict[str, float | dict] = {}
    try:
        for arch in plan.archs:
            for offset in arch.seeds:
                fam = run_family(
                    arch,
                    task,
                    split,
                    plan.methods_of(arch),
                    plan.targets,
                    plan.levels,
                    plan.bias_levels,
                    plan.schedule,
                    args.delta,
                    grid,
                    args.seed + offset,
                    paper_bounds,
                    bar.say,
                    zeros=plan.zeros,
                )
                families.append(fam)
        n_main = len(families)
        if plan.paper_arch is not None:
            fam = run_family(
                plan.paper_arch,
                task,
                split,
                ("magnitude",),
                plan.paper_targets,
                plan.levels,
                plan.bias_levels,
                plan.paper_schedule or plan.schedule,
                args.delta,
                grid,
                args.seed,
                paper_bounds,
                bar.say,
                zeros=plan.zeros,
            )
            families.append(fam)
        dd_records = []
        if plan.dd_arch is not None:
            t1 = time.perf_counter()
            dd_records = run_data_dependent(plan, task, split, args.delta, args.seed, bar.say)
            seconds["data_dependent"] = time.perf_counter() - t1
        sim = None
        if args.simulate:
            from ._simulate import coverage_study

            t1 = time.perf_counter()
            sim = coverage_study(
                args.simulate, m=args.simulate_m, delta=args.delta, seed=args.seed, fresh=args.simulate_fresh
            )
            seconds["simulation"] = time.perf_counter() - t1
            bar.say(f"simulation: {sim['failures']} failures in {sim['runs']} runs (allowed {sim['allowed_failures']})")
    finally:
        bar.close()
    records = [r for fam in families for r in fam.records] + dd_records
    for fam in families:
        for r in fam.records:
            if fam.paper is not None:
                r.update({f"dense_{k}": v for k, v in fam.paper.items()})
            r["dense_train_error"] = fam.dense_error
        seconds[f"{fam.arch.name} (seed {fam.records[0]['seed'] if fam.records else '-'})"] = fam.seconds
    lines = []
    main_records = [r for fam in families[:n_main] for r in fam.records]
    if main_records:
        lines.append({"label": "best of the grid (data-independent code)", **_best_of(main_records)})
    if plan.paper_arch is not None and families[n_main:]:
        lines.append({"label": "the paper's 5-layer MLP (data-independent code)", **_best_of(families[-1].records)})
    for variant, label in (
        (DD_MASKS, "data-dependent prior: masks chosen on held-out data"),
        (DD_VALUES, "data-dependent prior: masks and value model from held-out data"),
        (
            HOLDOUT,
            "reference: hold-out bound of the held-out-trained network (no code charged; G = its targets x levels)",
        ),
    ):
        chosen = [r for r in dd_records if r["variant"] == variant]
        if chosen:
            lines.append({"label": label, **_best_of(chosen)})
    seconds["total"] = time.perf_counter() - t0
    return {
        "dataset": data.name,
        "full_train": bool(getattr(args, "full_train", False)),
        "m": len(tr),
        "prior_examples": len(va),
        "delta": args.delta,
        "grid_size": grid,
        "dd_grid_size": plan.dd_grid_size,
        "lines": lines,
        "records": records,
        "simulation": sim,
        "settings": {
            "seed": args.seed,
            "quick": bool(args.quick),
            "plan": asdict(plan),
            "task": asdict(task),
            "threads": args.threads,
        },
        "wall_seconds": seconds,
    }


def table(result: dict):
    """One row per coded network (pandas), probabilities of error and bits side by side."""
    import pandas as pd

    cols = [
        "line",
        "variant",
        "method",
        "seed",
        "target",
        "levels",
        "dims",
        "nonzeros",
        "m",
        "train_error",
        "test_error",
        "certificate_kl",
        "certificate_binomial",
        "bits",
        *[f"bits_{p}" for p in PARTS],
        *[f"dense_{k.replace('_log10', '_probability')}" for k, _ in PAPER_BOUNDS],
        "grid_size",
    ]
    rows = [{c: r.get(c) for c in cols} for r in result["records"]]
    frame = pd.DataFrame(rows, columns=cols)
    for col in ("seed", "target", "levels", "nonzeros", "m", "bits", "grid_size"):
        frame[col] = frame[col].astype("Int64")  # integers stay integers beside missing values
    frame["dims"] = frame["dims"].map(lambda d: "-".join(map(str, d)) if isinstance(d, list) else d)
    return frame


def _p(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3g}" if v <= 1 else f"{v:.3g} (vacuous)" if v < 1e4 else f"{v:.1e} (vacuous)"


def markdown(result: dict, frame) -> str:
    """The report: the certificate lines beside the paper-style bounds, the code length by part, the grid."""
    name = {"digits": "digits", "mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}.get(
        result["dataset"], result["dataset"]
    )
    out = [
        f"# Occam certificates on {name}",
        "",
        *(
            [
                "Fitted and bounded on the whole training set. Caveat: the coder's contexts were compared on networks "
                "trained on the 20% validation part of this set, so at this m the code is not strictly chosen before "
                "all of the data were seen (the 80% certificate, m = 48,000 on MNIST, has no such caveat).",
                "",
            ]
            if result.get("full_train") and result["dataset"] == "mnist"
            else ["Fitted and bounded on the whole training set.", ""]
            if result.get("full_train")
            else []
        ),
        f"delta = {result['delta']}; data-independent certificates use m = {result['m']} training examples and charge "
        f"ln G for the G = {result['grid_size']} networks tried; all values are probabilities of error "
        "(paper-style bounds are 10**log10 of experiments._bounds.compute_bounds on the dense network before pruning; "
        "above 1 they are vacuous).",
        "",
        "| line | network | m | train error | test error | bits | certificate (kl) | certificate (binomial) | "
        + " | ".join(lbl for _, lbl in PAPER_BOUNDS)
        + " |",
        "|---|---|---|---|---|---|---|---|" + "---|" * len(PAPER_BOUNDS),
    ]
    for ln in result["lines"]:
        paper = [_p(ln.get(f"dense_{k.replace('_log10', '_probability')}")) for k, _ in PAPER_BOUNDS]
        net = f"{'-'.join(map(str, ln['dims']))}, {ln['nonzeros']} weights, K={ln['levels']}, {ln['method']}"
        out.append(
            f"| {ln['label']} | {net} | {ln['m']} | {ln['train_error']:.4f} | {ln['test_error']:.4f} | {ln['bits']} | "
            f"**{ln['certificate_kl']:.4f}** | {ln['certificate_binomial']:.4f} | " + " | ".join(paper) + " |"
        )
    out += [
        "",
        "Code length by part (bits; ideal information of each part, overhead = the rest of the real length):",
        "",
    ]
    out.append("| line | " + " | ".join(PARTS) + " | total |")
    out.append("|---|" + "---|" * (len(PARTS) + 1))
    for ln in result["lines"]:
        out.append(f"| {ln['label']} | " + " | ".join(f"{ln[f'bits_{p}']:.0f}" for p in PARTS) + f" | {ln['bits']} |")
    out += ["", "Every network tried:", "", *_frame_markdown(frame)]
    sim = result.get("simulation")
    if sim:
        out += ["", "Check of the theorem by simulation:", "", sim["summary"]]
    w = result["wall_seconds"]
    out += ["", f"Wall time: {w['total']:.0f} s."]
    return "\n".join(out) + "\n"


def _frame_markdown(frame) -> list[str]:
    def cell(v) -> str:
        if isinstance(v, float):
            return "-" if math.isnan(v) else f"{v:.4g}"
        return "-" if v is None else str(v)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return lines


# Published certificates of compressed networks, for scale (probabilities of error; delta and m as published).
PUBLISHED_ANCHORS = (
    ("Zhou et al. 2019, pruned and quantised LeNet-5 on MNIST (PAC-Bayes compression)", 0.46),
    ("Lotfi et al. 2022, compression in a random subspace on MNIST (data-independent prior)", 0.12),
)


def readme_block(result: dict, source: str) -> str:
    """occam-kl: the README's summary of a certify run (the certificate lines beside the paper-style bounds, the
    code length by part, the settings and the published anchors), generated from ``result`` (certify.json);
    ``source`` names the records folder it was read from."""
    md = markdown(result, table(result))
    body = md.split("\n", 2)[2].split("\nEvery network tried:")[0].strip()
    plan = result["settings"]["plan"]
    main_lines = [ln for ln in result["lines"] if ln["label"].startswith("best of the grid")]
    best_line = main_lines[0] if main_lines else None
    families = ", ".join(
        f"{a['name']} ({len(a['seeds'])} seed{'s' if len(a['seeds']) > 1 else ''}, "
        f"{'/'.join(a['methods'] or plan['methods'])})"
        for a in plan["archs"]
    )
    out = [
        f"Generated by `python -m experiments.certify --from-records {source} --readme README.md` from the "
        "committed records (not typed).",
        "",
        body,
        "",
        f"The grid charged in G = {result['grid_size']}: {families}; kept weights {plan['targets']}, levels "
        f"K in {plan['levels']}"
        + (f"; the paper's 784-500x4-10 MLP with kept weights {plan['paper_targets']}" if plan["paper_targets"] else "")
        + ". "
        f"Seed {result['settings']['seed']}, {result['settings']['threads']} torch thread(s), "
        f"{result['wall_seconds']['total'] / 60:.0f} min wall.",
    ]
    if best_line is not None:
        out += [
            "",
            f"Best data-independent certificate: **{best_line['certificate_kl']:.4f}** at m = {best_line['m']} "
            f"({best_line['bits']} bits, train error {best_line['train_error']:.4f}, test error "
            f"{best_line['test_error']:.4f})."
            + (
                " For scale: " + "; ".join(f"{name}: {value:.2f}" for name, value in PUBLISHED_ANCHORS) + "."
                if result["dataset"] == "mnist"
                else ""
            ),
        ]
    return "\n".join(out)

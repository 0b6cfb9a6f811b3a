"""``python -m numerics.bench [--size N] [--repeats R]``: Algorithm 1 throughput (not a test).

Times ``numerics.algorithm_1`` on an N x N float32 matrix (default 4096) against the memory-bound floor,
a plain ``rng.random(n) < p`` pass over the same number of entries, for numpy and for torch (CPU, and CUDA
when available), and prints the ratio; then the L1 sketch-recovery solve time for p = 64 when
``numerics._sketching`` provides ``time_recovery``.  Figures are medians over ``--repeats`` runs.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from theory._cli import OneLineParser

from ._algorithm1 import algorithm_1


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up (lambdify, allocations)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_figures(size: int = 4096, repeats: int = 5, seed: int = 0) -> dict:
    """algorithm-1 on numpy: seconds per call, the floor's seconds, and their ratio."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((size, size), dtype=np.float32)
    p = np.float32(0.5)
    algo = _median_seconds(lambda: algorithm_1(w, 1.0, generator=rng), repeats)
    floor = _median_seconds(lambda: rng.random(w.size, dtype=np.float32) < p, repeats)
    return {
        "backend": "numpy",
        "size": size,
        "algorithm_1_s": algo,
        "floor_s": floor,
        "ratio": algo / floor,
        "entries_per_s": w.size / algo,
    }


def torch_figures(size: int = 4096, repeats: int = 5, seed: int = 0, device: str = "cpu") -> dict:
    """algorithm-1 on torch (``device``): seconds per call, the floor's seconds, and their ratio."""
    import torch

    gen = torch.Generator(device=device).manual_seed(seed)
    w = torch.randn(size, size, generator=gen, device=device, dtype=torch.float32)

    def sync():
        if device != "cpu":
            torch.cuda.synchronize()

    def run_algo():
        algorithm_1(w, 1.0, generator=gen)
        sync()

    def run_floor():
        _ = torch.rand(w.numel(), generator=gen, device=device) < 0.5
        sync()

    algo = _median_seconds(run_algo, repeats)
    floor = _median_seconds(run_floor, repeats)
    return {
        "backend": f"torch-{device}",
        "size": size,
        "algorithm_1_s": algo,
        "floor_s": floor,
        "ratio": algo / floor,
        "entries_per_s": w.numel() / algo,
    }


def sketch_figure(p: int = 64, j: int = 2, m: int = 28) -> dict:
    """theorem-5.1: seconds of one L1 recovery at p (m = 28 is the smallest m recovering >= 90% at p=64, j=2)."""
    from ._sketching import time_recovery

    return {"p": p, "j": j, "m": m, "solve_s": float(time_recovery(p=p, j=j, m=m))}


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m numerics.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-sketch", action="store_true")
    args = parser.parse_args(argv)
    if args.size <= 0 or args.repeats <= 0:
        parser.error("--size and --repeats must be positive")
    rows = [numpy_figures(args.size, args.repeats), torch_figures(args.size, args.repeats)]
    try:
        import torch

        if torch.cuda.is_available():
            rows.append(torch_figures(args.size, args.repeats, device="cuda"))
    except ImportError:  # pragma: no cover
        pass
    print(f"Algorithm 1 on a {args.size} x {args.size} float32 matrix (median of {args.repeats}):")
    for r in rows:
        print(
            f"  {r['backend']:<12} algorithm_1 {r['algorithm_1_s'] * 1e3:8.1f} ms   floor (random < p) "
            f"{r['floor_s'] * 1e3:8.1f} ms   ratio {r['ratio']:5.2f}   {r['entries_per_s'] / 1e6:7.1f} M entries/s"
        )
    if not args.skip_sketch:
        fig = sketch_figure()
        print(
            f"sketch recovery (L1 LP, HiGHS), p = {fig['p']}, j = {fig['j']}, m = {fig['m']}: "
            f"{fig['solve_s']:.3f} s per solve"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

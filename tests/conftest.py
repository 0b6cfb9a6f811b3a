"""Shared test configuration: deterministic Hypothesis, one printed master seed, real-data lookup.

- Hypothesis runs derandomised (profile ``ci``, the default) so CI is deterministic; set
  ``HYPOTHESIS_PROFILE=random`` to explore new examples.
- Monte-Carlo tests draw their generators from ``MBP_TEST_SEED`` (default 20240601), printed in
  the pytest header, so any failure is reproducible with the same seed.
- Real-data tests find MNIST through ``MBP_DATA_DIR`` or ``../shared/data/mnist`` beside the checkout.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "random",
    derandomize=False,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO_ROOT = Path(__file__).resolve().parents[1]
MASTER_SEED = int(os.environ.get("MBP_TEST_SEED", "20240601"))


def pytest_report_header(config):
    return [
        f"MBP_TEST_SEED={MASTER_SEED} (set it to reproduce or vary Monte-Carlo draws); "
        f"HYPOTHESIS_PROFILE={os.environ.get('HYPOTHESIS_PROFILE', 'ci')}"
    ]


@pytest.fixture
def master_seed() -> int:
    return MASTER_SEED


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A generator seeded from the master seed and the test's name (independent streams per test)."""
    digest = int.from_bytes(hashlib.sha256(request.node.nodeid.encode()).digest()[:4], "little")
    return np.random.default_rng([MASTER_SEED, digest])


def find_mnist_dir() -> Path | None:
    """The MNIST directory from MBP_DATA_DIR (or its mnist/ subfolder) or ../shared/data/mnist."""
    candidates = []
    env = os.environ.get("MBP_DATA_DIR")
    if env:
        candidates += [Path(env), Path(env) / "mnist"]
    candidates.append(REPO_ROOT.parent / "shared" / "data" / "mnist")
    for c in candidates:
        if (c / "train-images-idx3-ubyte.gz").is_file():
            return c
    return None


@pytest.fixture
def mnist_dir() -> Path:
    found = find_mnist_dir()
    if found is None:
        pytest.skip("real MNIST not found: set MBP_DATA_DIR or place the archives in ../shared/data/mnist")
    return found

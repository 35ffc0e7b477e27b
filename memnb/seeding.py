"""Seeding and deterministic execution.

``seed_everything(s)`` seeds Python, NumPy and torch, turns on torch's deterministic
algorithms and fixes the CPU thread count, so that the same profile and seed give the same
numbers on any CPU machine (float reductions depend on the thread split).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

CPU_THREADS = 2
_CURRENT: list[int] = []  # the seed of the last seed_everything call (progress lines name it)


def current_seed() -> int | None:
    """The seed last passed to ``seed_everything`` in this process, or None."""
    return _CURRENT[-1] if _CURRENT else None


def seed_everything(seed: int, *, threads: int | None = CPU_THREADS) -> torch.Generator:
    """Seed every RNG; return a ``torch.Generator`` seeded with ``seed`` for explicit use."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    _CURRENT[:] = [seed]
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.Generator().manual_seed(seed)


def rng(seed: int) -> np.random.Generator:
    """A NumPy generator for data generators (independent of the global state)."""
    return np.random.default_rng(seed)

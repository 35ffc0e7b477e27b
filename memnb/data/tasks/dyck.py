"""Uniformly random Dyck words and corruptions that keep the bracket counts equal.

A word is an array of steps, +1 for an opening and -1 for a closing bracket. Negatives are made
from a valid word by one swap that leaves every bracket count unchanged, so "equal counts" is
never a shortcut to the label (a flaw of ReLSM's Dyck task; book/appendix/relsm.md §3, item 5).
"""

from __future__ import annotations

from functools import cache
from math import comb

import numpy as np


@cache
def n_completions(steps: int, depth: int) -> int:
    """Number of step sequences of length ``steps`` that go from ``depth`` to 0 without going below 0."""
    if depth < 0 or depth > steps or (steps - depth) % 2:
        return 0
    ups = (steps - depth) // 2
    return comb(steps, ups) - (comb(steps, ups - 1) if ups else 0)


def random_dyck(rng: np.random.Generator, n_pairs: int) -> np.ndarray:
    """A Dyck word with ``n_pairs`` pairs, uniform over all such words (exact ballot counts)."""
    steps = np.empty(2 * n_pairs, dtype=np.int64)
    depth = 0
    for t in range(2 * n_pairs):
        left = 2 * n_pairs - t
        p_up = n_completions(left - 1, depth + 1) / n_completions(left, depth)
        steps[t] = 1 if rng.random() < p_up else -1
        depth += steps[t]
    return steps


def prefix_violating_swap(rng: np.random.Generator, steps: np.ndarray) -> tuple[int, int]:
    """Positions ``(i, j)``, ``i < j``, of an opening and a closing bracket whose swap makes the
    valid word ``steps`` go below depth 0. Swapping lowers the depth on ``[i, j)`` by 2, so it
    breaks the word iff that stretch already comes down to depth <= 1."""
    depth = np.cumsum(steps)
    i = int(rng.choice(np.flatnonzero(steps == 1)))
    low = i + int(np.argmax(depth[i:] <= 1))  # first index >= i at depth <= 1 (exists: depth[-2] == 1)
    closers = np.flatnonzero(steps[low + 1 :] == -1) + low + 1
    return i, int(rng.choice(closers))


def matching(steps: np.ndarray) -> np.ndarray:
    """``match[j]`` = index of the opening bracket closed at ``j`` (-1 for openings)."""
    match = np.full(len(steps), -1, dtype=np.int64)
    stack: list[int] = []
    for t, s in enumerate(steps):
        if s == 1:
            stack.append(t)
        else:
            match[t] = stack.pop()
    return match

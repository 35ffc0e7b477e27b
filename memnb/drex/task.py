"""The Drex Phase 11–12 key→value recall task (seed: Drex ``research/experiments/cat47_*``,
``cat48_*``; book/appendix/drex.md §4 and §5, item 1), faithful and corrected.

Vocabulary 64: query token 0, marker 2, filler 3, keys from [4, 21), values from [32, 64).
Each sequence of L tokens holds ``n_pairs`` = 5 (key, value) pairs at positions 0 … 9, then the
filler token repeated, then the question:

- ``layout="seed"`` (faithful): ``k1 v1 … k5 v5  3 3 … 3  2  k*  0`` — the marker, the queried
  key k* at L−2, and the constant query token 0 at L−1, where the seed reads the memory;
- ``layout="kv"`` (corrected): ``k1 v1 … k5 v5  3 3 … 3  2  k*`` — the memory is read *at the
  queried key* (position L−1), so the read can depend on which key is asked.

The target is the value paired with k*. Our choices where the seed is silent: keys and values
are drawn without replacement within a sequence (so the 5 in-context values are distinct and
"pick one of the values in context" has chance exactly 1/5), and ``decoy`` is the value of a
different, uniformly drawn pair: accuracy against it measures recall that is not key-specific.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

VOCAB = 64
QUERY, MARKER, FILLER = 0, 2, 3
KEYS = (4, 21)
VALUES = (32, 64)
N_PAIRS = 5
LAYOUTS = ("seed", "kv")


@dataclass(frozen=True)
class RecallBatch:
    """``tokens`` ``[n, L]`` (int64), ``target`` and ``decoy`` ``[n]`` value tokens."""

    tokens: torch.Tensor
    target: torch.Tensor
    decoy: torch.Tensor


def min_length(layout: str, n_pairs: int = N_PAIRS) -> int:
    """Shortest sequence with at least one filler token."""
    return 2 * n_pairs + (4 if layout == "seed" else 3)


def make_recall(
    n: int, length: int, *, rng: np.random.Generator, layout: str = "seed", n_pairs: int = N_PAIRS
) -> RecallBatch:
    """``n`` sequences of ``length`` tokens in the given layout (module docstring)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if not 1 <= n_pairs <= min(KEYS[1] - KEYS[0], VALUES[1] - VALUES[0]):
        raise ValueError(f"n_pairs must be in [1, {KEYS[1] - KEYS[0]}], got {n_pairs}")
    if length < min_length(layout, n_pairs):
        raise ValueError(f"length must be >= {min_length(layout, n_pairs)} for layout {layout!r}, got {length}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    keys = np.argsort(rng.random((n, KEYS[1] - KEYS[0])), axis=1)[:, :n_pairs] + KEYS[0]
    vals = np.argsort(rng.random((n, VALUES[1] - VALUES[0])), axis=1)[:, :n_pairs] + VALUES[0]
    ask = rng.integers(0, n_pairs, n)
    other = (ask + rng.integers(1, n_pairs, n)) % n_pairs if n_pairs > 1 else ask
    tok = np.full((n, length), FILLER, dtype=np.int64)
    tok[:, 0 : 2 * n_pairs : 2] = keys
    tok[:, 1 : 2 * n_pairs : 2] = vals
    rows = np.arange(n)
    end = length - 1 if layout == "seed" else length
    tok[:, end - 2] = MARKER
    tok[:, end - 1] = keys[rows, ask]
    if layout == "seed":
        tok[:, -1] = QUERY
    return RecallBatch(torch.from_numpy(tok), torch.from_numpy(vals[rows, ask]), torch.from_numpy(vals[rows, other]))

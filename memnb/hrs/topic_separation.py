"""Topic separation by pooled hidden states: the HRS metric and a threshold-free replacement.

A text's *engram* is the L2-normalised mean of a model's final hidden states over its tokens
(HRS ``exp_kernel_attention.py``). Two texts from the same play should be more similar than two
from different plays.

- ``seed_grid_accuracy`` is HRS's metric (book/appendix/hrs.md §6): the best accuracy of the rule
  "same play iff cos > t" over t ∈ {−0.50, −0.45, …, 0.95}, on *unbalanced* pairs (same-play
  pairs are each chunk with its next ≤ 4 chunks; cross pairs all chunk pairs of two groups). The
  majority-class rate is its floor — a rule that always answers "cross" scores it — and the grid
  stops at 0.95 while the similarities sit near 0.9, so it mostly measures the imbalance.
- ``pair_auroc`` is the replacement: the area under the ROC curve of cos for same-vs-cross
  pairs (threshold-free, 0.5 = no separation), on balanced pairs with same-play pairs at least
  ``min_gap`` chunks apart, so adjacency does not do the work.
"""

from __future__ import annotations

import numpy as np
import torch

from memnb.eval.pooling import pooled_hidden, unit
from memnb.models.decoder import Decoder

GRID = np.round(np.arange(-0.50, 0.951, 0.05), 2)


def chunks(text: str, size: int, limit: int) -> list[str]:
    """The first ``limit`` non-overlapping ``size``-character chunks of ``text``."""
    return [text[i : i + size] for i in range(0, len(text) - size + 1, size)][:limit]


def engrams(model: Decoder, token_lists: list[list[int]], device: torch.device | str = "cpu") -> np.ndarray:
    """Unit-norm mean final hidden state of each token list ``[N, d]`` (one text at a time)."""
    return unit(pooled_hidden(model, token_lists, layer=-1, batch_size=1, device=device))


def seed_grid_accuracy(same: np.ndarray, cross: np.ndarray) -> tuple[float, float]:
    """(HRS's best-threshold accuracy, the majority-class rate) for same/cross cosines."""
    same, cross = np.asarray(same), np.asarray(cross)
    accs = [(np.sum(same > t) + np.sum(cross <= t)) / (same.size + cross.size) for t in GRID]
    return float(max(accs)), float(max(same.size, cross.size) / (same.size + cross.size))


def seed_pairs(groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """HRS's pairs over the first two groups: each chunk with its next ≤ 4 in its group, and all
    cross pairs between the two groups."""
    a, b = groups[0], groups[1]
    same = [g[i] @ g[j] for g in (a, b) for i in range(len(g)) for j in range(i + 1, min(i + 5, len(g)))]
    cross = (a @ b.T).ravel()
    return np.array(same), cross


def pair_auroc(groups: list[np.ndarray], *, n_pairs: int, min_gap: int, seed: int) -> float:
    """AUROC of cos(same group) vs cos(different group) over ``n_pairs`` pairs of each kind,
    drawn by ``seed``; same-group pairs are at least ``min_gap`` positions apart."""
    from sklearn.metrics import roc_auc_score

    if len(groups) < 2 or any(len(g) <= min_gap for g in groups):
        raise ValueError(f"need >= 2 groups each longer than min_gap={min_gap}")
    rng = np.random.default_rng(seed)
    same, cross = [], []
    while len(same) < n_pairs:
        g = groups[rng.integers(len(groups))]
        i, j = rng.integers(len(g), size=2)
        if abs(i - j) >= min_gap:
            same.append(g[i] @ g[j])
    while len(cross) < n_pairs:
        gi, gj = rng.choice(len(groups), 2, replace=False)
        cross.append(groups[gi][rng.integers(len(groups[gi]))] @ groups[gj][rng.integers(len(groups[gj]))])
    return float(roc_auc_score(np.r_[np.ones(n_pairs), np.zeros(n_pairs)], np.r_[same, cross]))

"""The EGR engram store (HRS ``engram_store.py`` / ``populate_store.py``, book/appendix/hrs.md §4).

A text segment x_1..x_n is read by a frozen causal LM. Its key is the L2-normalised mean of the
hidden states after block ``layer`` (seed: block 4 of GPT-2's 12),

    key(x) = m / ||m||,   m = (1/n) Σ_t h_t^(layer),

and its write score is the mean predictive entropy of the segment (``entropy.entropy_bits``).
The write gate stores a segment iff its mean entropy exceeds a threshold. The seed used 4.0 bits
for GPT-2's 50k vocabulary, which stored ~90% of segments; the book calibrates the threshold as
a percentile of held-out segment entropies instead. Search is brute-force cosine similarity
(``niah.similarities``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch.nn as nn

from memnb.eval.pooling import hidden_sums, unit
from memnb.hrs.retrieval.entropy import entropy_bits


@dataclass
class Encoded:
    keys: np.ndarray  # [N, d] unit-norm keys
    entropy: np.ndarray  # [N] mean predictive entropy per segment, bits


def encode(model: nn.Module, token_lists: list[list[int]], *, layer: int, batch_size: int = 32) -> Encoded:
    """Keys and mean entropies of token segments under a ``transformers`` causal LM, from one
    forward pass per right-padded batch (``memnb.eval.pooling.hidden_sums``; padding is masked
    out). Segments longer than the model's positions are cut to ``model.config.n_positions`` tokens."""
    cut = [t[: int(model.config.n_positions)] for t in token_lists]
    s = hidden_sums(model, cut, layer=layer, batch_size=batch_size, logit_stat=entropy_bits)
    return Encoded(unit(s.hidden / s.counts[:, None]), s.stat / s.counts)


def gate(entropy: np.ndarray, threshold: float) -> np.ndarray:
    """The write gate: which segments are stored (mean entropy > threshold, bits)."""
    return np.asarray(entropy) > threshold

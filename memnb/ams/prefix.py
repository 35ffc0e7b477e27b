"""The E7 no-learning decoder's pieces: smoothed IDF over token ids and the content-bias logit vector.

Seed v3.46 ``content_bias_scale`` (book/appendix/ams.md §3, merge gate): while answering, add
``β·IDF[t]`` to the logit of every token t that occurs in any memory. Decoding itself (greedy,
batched, KV cache, prefix as ``inputs_embeds``) is ``memnb.ams.harness.decode``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import torch


def idf(documents: Sequence[Sequence[int]], vocab_size: int) -> torch.Tensor:
    """``log((1 + n_docs) / (1 + df)) + 1`` per token id (smoothed IDF over token-id sets)."""
    df = Counter(t for d in documents for t in set(d))
    v = torch.zeros(vocab_size)
    for t, n in df.items():
        v[t] = n
    return torch.log((1 + len(documents)) / (1 + v)) + 1


def content_bias(memory_ids: Sequence[Sequence[int]], idf_vec: torch.Tensor, beta: float) -> torch.Tensor:
    """The E7 no-learning decoder's logit bias: ``β·IDF[t]`` for every token t in any memory
    (seed v3.46 ``content_bias_scale``; book/appendix/ams.md §3, merge gate), zero elsewhere."""
    if beta < 0 or not math.isfinite(beta):
        raise ValueError(f"beta must be finite and >= 0, got {beta}")
    b = torch.zeros_like(idf_vec)
    toks = torch.tensor(sorted({t for m in memory_ids for t in m}), dtype=torch.long)
    if toks.numel():
        b[toks] = beta * idf_vec[toks]
    return b

"""A text's engram: the mean hidden state of a frozen causal LM (HRS ``topic_context.py``).

HRS (book/appendix/hrs.md §3, the inference-time engram; §5) keys a text by the mean over
positions of the output of block 4 of its 6 (``extract_layer = −2``). Chapter 32 reads it from the
pretrained reader (SmolLM2-135M, 30 blocks) at the same relative depth, after 25 of 30 blocks
(``memnb.hrs.retrieval.engram_store.key_layer``: ``hidden_states[25]``), leaving out the first
position, whose massive activation would otherwise dominate every mean (chapter 31):

    e_L(x) = (1/(L−s)) Σ_{t=s+1..L} h_t^(ℓ),   s = ``skip_first`` = 1.

**One read gives every length.** A causal model's state at position t depends only on the tokens
up to t, so the engram of a chunk's first L tokens, read alone, equals the mean of the first L
states of the chunk read whole (``prefix_engrams``; tested against separate reads, up to float
rounding). Chapter 32 reads each chunk once at its longest length and takes every shorter length
from the running sum.

Engrams are returned raw; cosines are taken after subtracting a centre that depends on no
evaluation text (``scaling``): a pretrained LM's mean states share one large common direction.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from memnb.eval.pooling import n_layers_positions

BATCH = 8  # chunks per forward pass (equal lengths: no padding)


@torch.no_grad()
def prefix_engrams(
    model: nn.Module, token_lists: list[list[int]], lengths: list[int], *, layer: int, skip_first: int = 1
) -> dict[int, np.ndarray]:
    """``{L: [N, d]}`` float64 engrams of the first L tokens of each token list, for every L in
    ``lengths``, from one read of each list (a ``transformers`` causal LM; lists of equal length)."""
    longest = max(lengths)
    if not token_lists or {len(t) for t in token_lists} != {longest}:
        raise ValueError(f"every token list must hold exactly max(lengths) = {longest} tokens")
    if min(lengths) <= skip_first:
        raise ValueError(f"every length must exceed skip_first={skip_first}, got {sorted(lengths)}")
    if longest > n_layers_positions(model)[1]:
        raise ValueError(f"{longest} tokens exceed the model's {n_layers_positions(model)[1]} positions")
    was = model.training
    model.eval()
    out = {L: [] for L in lengths}
    for b in range(0, len(token_lists), BATCH):
        ids = torch.tensor(token_lists[b : b + BATCH])
        h = model.base_model(input_ids=ids, output_hidden_states=True).hidden_states[layer]
        csum = h[:, skip_first:].double().cumsum(1)  # [B, T - s, d]
        for L in lengths:
            out[L].append((csum[:, L - skip_first - 1] / (L - skip_first)).numpy())
    model.train(was)
    return {L: np.concatenate(v) for L, v in out.items()}


def bag_of_tokens(token_lists: list[list[int]], vocab_size: int) -> np.ndarray:
    """``[N, V]`` TF-IDF token-count vectors: a lexical control with no model at all
    (idf = log((1 + N) / (1 + df)) + 1, sklearn's smoothed form)."""
    counts = np.zeros((len(token_lists), vocab_size))
    for i, t in enumerate(token_lists):
        np.add.at(counts[i], t, 1.0)
    df = (counts > 0).sum(0)
    return counts * (np.log((1 + len(token_lists)) / (1 + df)) + 1)

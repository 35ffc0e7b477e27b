"""A text's engram: the mean hidden state of a frozen causal LM (HRS ``topic_context.py``).

HRS (book/appendix/hrs.md §3, the inference-time engram; §5) keys a text by the mean over
positions of the output of block 4 of its 6 (``extract_layer = −2``, the second-to-last block):

    e(x) = (1/n) Σ_{t=1..n} h_t^(ℓ),   ℓ = n_layer − 1 in ``transformers``' ``hidden_states``
                                          (index 0 = embeddings, index i = output of block i−1),

and compares engrams by cosine. The book's backbone learned positions only up to its training
length W (chapter 1: 128 tokens at the ``cpu`` profile; positions beyond were never trained), so a
text longer than W is read in consecutive windows of W tokens, each a fresh context, and the mean
runs over all its tokens. Engrams are returned raw (unnormalised); ``unit`` normalises. The
pooling itself is ``memnb.eval.pooling``; this module holds HRS's choices.
"""

from __future__ import annotations

import numpy as np
import torch.nn as nn

from memnb.eval.pooling import hidden_sums, pooled_hidden

BATCH = 64  # pieces per right-padded batch


def seed_layer(model: nn.Module) -> int:
    """The ``hidden_states`` index of the seed's ``extract_layer = −2`` (second-to-last block)."""
    return int(model.config.n_layer) - 1


def engrams(model: nn.Module, token_lists: list[list[int]], *, layer: int, window: int) -> np.ndarray:
    """``[N, d]`` raw engrams of ``token_lists``: each read in windows of ≤ ``window`` tokens, in
    length-sorted right-padded batches of 64 (``memnb.eval.pooling.pooled_hidden``)."""
    return pooled_hidden(model, token_lists, layer=layer, window=window, batch_size=BATCH, sort=True)


def piece_sums(model: nn.Module, pieces: list[list[int]], *, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """(Σ_t h_t^(layer) ``[P, d]``, token counts ``[P]``) of each piece, read as one fresh context
    in the same batches as ``engrams`` (so shared pieces can be read once: ``scaling.length_engrams``)."""
    s = hidden_sums(model, pieces, layer=layer, batch_size=BATCH, sort=True)
    return s.hidden, s.counts


def bag_of_tokens(token_lists: list[list[int]], vocab_size: int) -> np.ndarray:
    """``[N, V]`` TF-IDF token-count vectors: a lexical control with no model at all
    (idf = log((1 + N) / (1 + df)) + 1, sklearn's smoothed form)."""
    counts = np.zeros((len(token_lists), vocab_size))
    for i, t in enumerate(token_lists):
        np.add.at(counts[i], t, 1.0)
    df = (counts > 0).sum(0)
    return counts * (np.log((1 + len(token_lists)) / (1 + df)) + 1)

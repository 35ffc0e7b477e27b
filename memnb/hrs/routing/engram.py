"""A text's engram: the mean hidden state of a frozen causal LM (HRS ``topic_context.py``).

HRS (digest research/hrs.md §1.2c, §4.1) keys a text by the mean over positions of the output of
block 4 of its 6 (``extract_layer = −2``, the second-to-last block):

    e(x) = (1/n) Σ_{t=1..n} h_t^(ℓ),   ℓ = n_layer − 1 in ``transformers``' ``hidden_states``
                                          (index 0 = embeddings, index i = output of block i−1),

and compares engrams by cosine. The book's backbone learned positions only up to its training
length W (chapter 1: 128 tokens at the ``cpu`` profile; positions beyond were never trained), so a
text longer than W is read in consecutive windows of W tokens, each a fresh context, and the mean
runs over all its tokens. Engrams are returned raw (unnormalised); ``unit`` normalises.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn


def seed_layer(model: nn.Module) -> int:
    """The ``hidden_states`` index of the seed's ``extract_layer = −2`` (second-to-last block)."""
    return int(model.config.n_layer) - 1


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm."""
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(1e-12)


def _check(model: nn.Module, layer: int, window: int) -> None:
    n_layers = int(model.config.n_layer)
    if not 0 <= layer <= n_layers:
        raise ValueError(f"layer must be in 0..{n_layers} (0 = embeddings), got {layer}")
    if not 1 <= window <= int(model.config.n_positions):
        raise ValueError(f"window must be in 1..{model.config.n_positions} (the model's positions), got {window}")


@torch.inference_mode()
def piece_sums(
    model: nn.Module, pieces: list[list[int]], *, layer: int, batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """(Σ_t h_t^(layer) ``[P, d]``, token counts ``[P]``) of each piece, read as one fresh context.

    Pieces are right-padded in batches; padding is masked out of the sums (a causal model's states
    at real tokens do not depend on later padding)."""
    if not pieces or any(len(t) == 0 for t in pieces):
        raise ValueError("need a non-empty list of non-empty token lists")
    _check(model, layer, max(len(t) for t in pieces))
    order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))  # similar lengths per batch
    sums = np.zeros((len(pieces), int(model.config.n_embd)))
    counts = np.zeros(len(pieces))
    for b in range(0, len(order), batch_size):
        rows = order[b : b + batch_size]
        width = max(len(pieces[i]) for i in rows)
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width)
        for j, i in enumerate(rows):
            ids[j, : len(pieces[i])] = torch.tensor(pieces[i])
            mask[j, : len(pieces[i])] = 1.0
        h = model.transformer(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[layer]
        sums[rows] = (h * mask[..., None]).sum(1).double().numpy()
        counts[rows] = mask.sum(1).numpy()
    return sums, counts


def engrams(model: nn.Module, token_lists: list[list[int]], *, layer: int, window: int) -> np.ndarray:
    """``[N, d]`` raw engrams of ``token_lists``: each read in windows of ≤ ``window`` tokens."""
    _check(model, layer, window)
    if not token_lists or any(len(t) == 0 for t in token_lists):
        raise ValueError("engrams needs a non-empty list of non-empty token lists")
    owner = [i for i, t in enumerate(token_lists) for _ in range(0, len(t), window)]
    pieces = [t[s : s + window] for t in token_lists for s in range(0, len(t), window)]
    sums, counts = piece_sums(model, pieces, layer=layer)
    out = np.zeros((len(token_lists), sums.shape[1]))
    np.add.at(out, owner, sums)
    return out / np.bincount(owner, weights=counts)[:, None]


def bag_of_tokens(token_lists: list[list[int]], vocab_size: int) -> np.ndarray:
    """``[N, V]`` TF-IDF token-count vectors: a lexical control with no model at all
    (idf = log((1 + N) / (1 + df)) + 1, sklearn's smoothed form)."""
    counts = np.zeros((len(token_lists), vocab_size))
    for i, t in enumerate(token_lists):
        np.add.at(counts[i], t, 1.0)
    df = (counts > 0).sum(0)
    return counts * (np.log((1 + len(token_lists)) / (1 + df)) + 1)

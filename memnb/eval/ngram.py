"""Count n-gram language models: the regime baseline a trained model must beat.

A small LM that has not left the n-gram regime (its held-out loss no better than counting
characters) cannot show effects that need context. ``ngram_nll`` fits an interpolated
Witten-Bell model of order ``n`` on a training stream and scores a held-out stream, in nats per
token (Witten & Bell 1991; Chen & Goodman 1998, §2.6 — parameter-free, nothing tuned on the
held-out text)::

    P_n(w | h) = (c(h, w) + N1+(h ·) · P_{n-1}(w | h')) / (c(h) + N1+(h ·))

with h the n − 1 previous tokens, h' its last n − 2, ``N1+(h ·)`` the number of distinct tokens
seen after h, and P_0 uniform over the vocabulary; a history never seen (c(h) = 0) falls back to
P_{n-1}. The first n − 1 held-out tokens are scored with the orders their context allows.
"""

from __future__ import annotations

import numpy as np
import torch


def _ids(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return (x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)).astype(np.int64).ravel()


def ngram_token_nll(
    train: torch.Tensor | np.ndarray, held: torch.Tensor | np.ndarray, *, n: int, vocab_size: int
) -> np.ndarray:
    """Per-token NLL (nats) of ``held`` under the interpolated Witten-Bell ``n``-gram fitted on ``train``."""
    tr, he = _ids(train), _ids(held)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if vocab_size ** (n - 1) > 50_000_000:
        raise ValueError(f"vocab_size**(n-1) = {vocab_size ** (n - 1)} histories: too many for dense counts")
    if tr.size < n or max(tr.max(initial=0), he.max(initial=0)) >= vocab_size:
        raise ValueError(f"train needs >= {n} tokens and every id must be < vocab_size={vocab_size}")
    V = vocab_size
    p = np.full(he.size, 1.0 / V)  # P_0: uniform
    for k in range(1, n + 1):  # order k: history of k - 1 tokens
        hist_tr = np.zeros(tr.size - k + 1, dtype=np.int64)
        for j in range(k - 1):
            hist_tr = hist_tr * V + tr[j : tr.size - k + 1 + j]
        counts = np.bincount(hist_tr * V + tr[k - 1 :], minlength=V**k).reshape(V ** (k - 1), V)
        c_h = counts.sum(1)
        types_h = (counts > 0).sum(1)
        # held-out positions i >= k - 1 have a full history of k - 1 tokens
        i = np.arange(k - 1, he.size)
        hist = np.zeros(i.size, dtype=np.int64)
        for j in range(k - 1):
            hist = hist * V + he[i - (k - 1) + j]
        c, t = c_h[hist], types_h[hist]
        seen = c > 0
        lower = p[i]
        new = np.where(seen, (counts[hist, he[i]] + t * lower) / np.maximum(c + t, 1), lower)
        p[i] = new
    return -np.log(p)


def ngram_nll(train: torch.Tensor | np.ndarray, held: torch.Tensor | np.ndarray, *, n: int, vocab_size: int) -> float:
    """Mean NLL (nats per token) of ``held`` under the ``n``-gram fitted on ``train`` (module docstring)."""
    return float(ngram_token_nll(train, held, n=n, vocab_size=vocab_size).mean())

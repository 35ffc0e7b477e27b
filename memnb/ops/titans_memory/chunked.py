"""Titans neural memory, one mini-batch gradient step per chunk: the layer's path.

Same recurrence as ``naive.py`` (Behrouz, Zhong & Mirrokni 2024, "Titans: Learning to Memorize
at Test Time", §3.1 and the mini-batch form of §3.2). Per chunk c of C tokens, for every batch
row at once:

    G_c = ∇_W (1/C) Σ_{t∈c} ||M_W(k_t) − v_t||²  at W = W_{c−1}     ``vmap(grad(loss))``
    S_c = η S_{c−1} − θ G_c,   W_c = (1 − α) W_{c−1} + S_c

The per-sample gradient is ``torch.func.grad`` of the chunk's mean loss, mapped over the batch
with ``vmap``; the chunks follow one another. Reads are one batched MLP call per piece of a
chunk. The keys and values of an unfinished chunk wait in ``k_c``, ``v_c`` ``[B, s, d]``.
Differentiable by autograd (the outer loop trains W_0 and the projections through the steps).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import grad, vmap

Weights = tuple[torch.Tensor, torch.Tensor]  # (W_1 [d, h], W_2 [h, d]), per sample under vmap


def mlp(w1: torch.Tensor, w2: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """M_W(x) = GELU(x W_1) W_2 for row vectors x ``[..., d]`` (no biases; exact erf GELU)."""
    return F.gelu(x @ w1) @ w2


def recall(w1: torch.Tensor, w2: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """M_W(q) with per-sample weights w1 ``[B, d, h]``, w2 ``[B, h, d]``: ``q [B, T, d] -> [B, T, d]``."""
    return vmap(mlp)(w1, w2, q)


def chunk_loss(w1: torch.Tensor, w2: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The associative loss of one sample's chunk, (1/n) Σ_t ||M_W(k_t) − v_t||²."""
    return (mlp(w1, w2, k) - v).pow(2).sum(-1).mean()


def step(
    w: Weights, m: Weights, k: torch.Tensor, v: torch.Tensor, *, lr: float, momentum: float, weight_decay: float
) -> tuple[Weights, Weights]:
    """One update of every sample's weights and momentum on its chunk ``k, v [B, n, d]``."""
    grads = vmap(grad(chunk_loss, argnums=(0, 1)))(*w, k, v)
    m = tuple(momentum * m_i - lr * g for m_i, g in zip(m, grads, strict=True))
    w = tuple((1 - weight_decay) * w_i + m_i for w_i, m_i in zip(w, m, strict=True))
    return w, m


def chunked_titans_memory(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    w: Weights,
    m: Weights,
    k_c: torch.Tensor,
    v_c: torch.Tensor,
    lr: float,
    momentum: float,
    weight_decay: float,
    chunk_size: int,
    read: str,
) -> tuple[torch.Tensor, tuple[Weights, Weights, torch.Tensor, torch.Tensor]]:
    """Reads ``[B, T, d]`` and the state ``(w, m, k_c, v_c)`` after the call."""
    outputs, i, T = [], 0, q.size(1)
    while i < T:  # one piece per (part of a) chunk
        n = min(chunk_size - k_c.size(1), T - i)
        k_c = torch.cat((k_c, k[:, i : i + n]), dim=1)
        v_c = torch.cat((v_c, v[:, i : i + n]), dim=1)
        if read == "before":
            outputs.append(recall(*w, q[:, i : i + n]))
        if k_c.size(1) == chunk_size:
            w, m = step(w, m, k_c, v_c, lr=lr, momentum=momentum, weight_decay=weight_decay)
            k_c, v_c = k_c[:, :0], v_c[:, :0]
        if read == "after":
            outputs.append(recall(*w, q[:, i : i + n]))
        i += n
    return torch.cat(outputs, dim=1), (w, m, k_c, v_c)

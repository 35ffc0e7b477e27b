"""Titans neural memory, per-token reference (Behrouz, Zhong & Mirrokni 2024, "Titans: Learning
to Memorize at Test Time", §3.1; mini-batch gradient descent over chunks as in §3.2).

The memory is an MLP M_W(x) = GELU(x W_1) W_2 (row vectors; W_1 ∈ R^{d×h}, W_2 ∈ R^{h×d}),
trained at test time on ℓ_t(W) = ||M_W(k_t) − v_t||². With a_t = k_t W_1, s_t = GELU(a_t),
e_t = s_t W_2 − v_t, the per-token gradient is, written out by hand (no torch.func):

    ∇_{W_2} ℓ_t = 2 s_tᵀ e_t,     ∇_{W_1} ℓ_t = 2 k_tᵀ ((e_t W_2ᵀ) ⊙ GELU'(a_t))
    GELU'(a) = Φ(a) + a φ(a)       (Φ, φ: the standard normal CDF and density)

Tokens are grouped in chunks of C (counted from the first token of the stream). Token t adds
∇ℓ_t at the chunk-start weights W_{c−1} to the chunk's sum G; at the chunk's last token

    S_c = η S_{c−1} − θ G / C,    W_c = (1 − α) W_{c−1} + S_c,    G ← 0.

Reads: ``read="before"``: o_t = M_{W_{c−1}}(q_t); ``read="after"``: o_t = M_W(q_t) with W after
the update at t (per-token form, C = 1). The keys and values of an unfinished chunk (from an
earlier call) are replayed into G first. Differentiable by autograd.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from memnb.ops.titans_memory.chunked import Weights


def gelu_grad(a: torch.Tensor) -> torch.Tensor:
    """d GELU(a) / da = Φ(a) + a φ(a) for the exact (erf) GELU."""
    return 0.5 * (1.0 + torch.erf(a / math.sqrt(2.0))) + a * torch.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)


def naive_titans_memory(
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
    (w1, w2), (m1, m2) = w, m
    g1, g2 = torch.zeros_like(w1), torch.zeros_like(w2)

    def read_at(x: torch.Tensor) -> torch.Tensor:  # M_W(x) per sample, x [B, d]
        return torch.einsum("bh,bhd->bd", F.gelu(torch.einsum("bd,bdh->bh", x, w1)), w2)

    def add_gradient(k_t: torch.Tensor, v_t: torch.Tensor) -> None:  # G += ∇ℓ_t at the current W
        nonlocal g1, g2
        a = torch.einsum("bd,bdh->bh", k_t, w1)
        s = F.gelu(a)
        e = torch.einsum("bh,bhd->bd", s, w2) - v_t
        g2 = g2 + 2 * s.unsqueeze(-1) * e.unsqueeze(-2)
        g1 = g1 + 2 * k_t.unsqueeze(-1) * (torch.einsum("bd,bhd->bh", e, w2) * gelu_grad(a)).unsqueeze(-2)

    seen = k_c.size(1)
    for j in range(seen):
        add_gradient(k_c[:, j], v_c[:, j])
    outputs = []
    for t in range(q.size(1)):
        if read == "before":
            outputs.append(read_at(q[:, t]))
        add_gradient(k[:, t], v[:, t])
        seen += 1
        if seen == chunk_size:
            m1, m2 = momentum * m1 - lr * g1 / chunk_size, momentum * m2 - lr * g2 / chunk_size
            w1, w2 = (1 - weight_decay) * w1 + m1, (1 - weight_decay) * w2 + m2
            g1, g2, seen = torch.zeros_like(g1), torch.zeros_like(g2), 0
        if read == "after":
            outputs.append(read_at(q[:, t]))
    keys, values = torch.cat((k_c, k), dim=1), torch.cat((v_c, v), dim=1)
    rest = keys.size(1) - seen  # the last `seen` tokens form the unfinished chunk
    return torch.stack(outputs, dim=1), ((w1, w2), (m1, m2), keys[:, rest:], values[:, rest:])

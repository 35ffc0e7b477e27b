"""PEER: a feed-forward layer of many single-neuron experts chosen by product keys.

He 2024, "Mixture of A Million Experts" (PEER), with product keys from Lample et al. 2019; the
version HRS uses as its FFN (book/appendix/hrs.md §1). There are N = n² experts, expert e = (i, j)
with a down vector u_e and an up vector v_e (tables shared by all heads). For a token x:

    h = W_in x, split into H heads h_1 .. h_H of size d_h
    s_a = K_a h_m,  s_b = K_b h_m                         two sub-key tables of n keys per head
    I = top-k over the grid s_a[i] + s_b[j], e = i·n + j  (exact from top-k(s_a) × top-k(s_b))
    w = softmax(s_a[i] + s_b[j] for (i, j) in I)
    y_m = Σ_{e ∈ I} w_e σ(u_e · h_m) v_e
    PEER(x) = γ · LN(W_out [y_1; …; y_H])                 γ a learned scalar (HRS: 0.1 at init)

Both sub-key tables score the whole head vector h_m, as HRS's code does (the PEER paper splits
h_m in two halves, one per table). The top-k of the n² sums is exact: any pair in it has both
parts within the top-k of their own table, so only k² candidates are scored.
``dense_reference`` scores all n² experts and is what the fast path is tested against.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn


class PEER(nn.Module):
    def __init__(
        self,
        d_model: int,
        n_sub: int = 16,
        n_heads: int = 2,
        top_k: int = 4,
        out_gate: float = 0.1,
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        if not 1 <= top_k <= n_sub:
            raise ValueError(f"top_k must be in 1..n_sub ({n_sub}), got {top_k}")
        self.n_sub, self.n_heads, self.top_k = n_sub, n_heads, top_k
        d_head = d_model // n_heads
        self.w_in = nn.Linear(d_model, d_model, bias=False)
        self.keys_a = nn.Parameter(torch.randn(n_heads, n_sub, d_head) * 0.02)
        self.keys_b = nn.Parameter(torch.randn(n_heads, n_sub, d_head) * 0.02)
        self.down = nn.Embedding(n_sub * n_sub, d_head)  # u_e
        self.up = nn.Embedding(n_sub * n_sub, d_head)  # v_e
        nn.init.normal_(self.down.weight, 0.0, 0.01)
        nn.init.normal_(self.up.weight, 0.0, 0.01)
        self.w_out = nn.Linear(d_model, d_model, bias=False)
        self.ln = nn.LayerNorm(d_model)
        self.gate = nn.Parameter(torch.tensor(float(out_gate)))

    @property
    def n_experts(self) -> int:
        return self.n_sub * self.n_sub

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_in(x).unflatten(-1, (self.n_heads, -1))  # [..., H, d_h]

    def _sub_scores(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.einsum("...md,mnd->...mn", h, self.keys_a), torch.einsum("...md,mnd->...mn", h, self.keys_b)

    def route(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(head vectors ``[..., H, d_h]``, expert ids ``[..., H, k]``, their scores) by product keys."""
        h = self._heads(x)
        s_a, s_b = self._sub_scores(h)
        k = self.top_k
        top_a, ia = s_a.topk(k, dim=-1)
        top_b, ib = s_b.topk(k, dim=-1)
        grid = (top_a.unsqueeze(-1) + top_b.unsqueeze(-2)).flatten(-2)  # [..., H, k*k]
        scores, flat = grid.topk(k, dim=-1)
        ids = ia.gather(-1, flat // k) * self.n_sub + ib.gather(-1, flat % k)
        return h, ids, scores

    def mix(self, h: torch.Tensor, ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """γ · LN(W_out concat_m Σ_e w_e σ(u_e·h_m) v_e) for the chosen experts."""
        w = scores.softmax(dim=-1)
        act = torch.sigmoid((self.down(ids) * h.unsqueeze(-2)).sum(-1))  # [..., H, k]
        y = ((w * act).unsqueeze(-1) * self.up(ids)).sum(-2)  # [..., H, d_h]
        return self.gate * self.ln(self.w_out(y.flatten(-2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix(*self.route(x))

    def dense_reference(self, x: torch.Tensor) -> torch.Tensor:
        """The same layer with the top-k taken over all n² experts' scores (no product-key shortcut)."""
        h = self._heads(x)
        s_a, s_b = self._sub_scores(h)
        every = (s_a.unsqueeze(-1) + s_b.unsqueeze(-2)).flatten(-2)  # [..., H, n²], index i·n + j
        scores, ids = every.topk(self.top_k, dim=-1)
        return self.mix(h, ids, scores)


def peer_for(d_model: int, mlp_ratio: int) -> PEER:
    """A PEER FFN for a decoder whose dense MLP has ``mlp_ratio·d`` hidden units: n² experts with
    n² ≥ 4·mlp_ratio·d (many more, smaller experts than the MLP has neurons, as in HRS), 2 heads,
    top-4 per head. The returned module maps ``[..., d] → [..., d]`` like the MLP."""
    n_sub = 1 << math.ceil(math.log2(4 * mlp_ratio * d_model) / 2)
    return PEER(d_model, n_sub=n_sub, n_heads=2, top_k=4)

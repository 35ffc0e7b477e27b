"""ReLSM's latent thought stream (model.py ``ThoughtCore``), as shipped and causal.

Z learned thought vectors z ∈ R^{Z×d} (init N(0, 0.02)) are refined K times by one shared block
that reads the token states h (the backbone's output) by cross-attention, without RoPE:

    z ← z + CrossAttn(q = RMSNorm(z);  k, v = RMSNorm(h))
    z ← z + W_2 (SiLU(W_1 RMSNorm(z)) ⊙ W_3 RMSNorm(z))          (SwiGLU: ``memnb.models.block.MLP``)

and the result is injected back into every token:  h ← h + W_{z→h} mean_Z(z).

Two forms, one module (``causal``):

- **as shipped** (``causal=False``): one thought set per sequence, reading *all* T token states
  (only ``<pad>`` keys masked), and the same summary is added at every position. In
  teacher-forced training position t therefore reads tokens > t, its own target included
  (book/appendix/relsm.md §1, §3 item 1).
- **causal** (``causal=True``): one thought set per position t, z_t ∈ R^{Z×d}, started from the
  same learned init and reading only h_{≤t}; h_t ← h_t + W_{z→h} mean_Z(z_t). With a full mask it
  would equal the shipped form; the prefix mask is the only difference. It costs T times the
  shipped thought compute.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.layers.attention import check_heads, merge_heads, split_heads
from memnb.models.block import MLP


class ThoughtCore(nn.Module):
    """One refinement step of the thoughts: cross-attention to the tokens, then SwiGLU."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        check_heads(d_model, n_heads)
        self.n_heads = n_heads
        self.norm_z, self.norm_h, self.norm_ff = (nn.RMSNorm(d_model, eps=1e-6) for _ in range(3))
        self.q = nn.Linear(d_model, d_model, bias=False)
        self.kv = nn.Linear(d_model, 2 * d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)
        self.ff = MLP(d_model, d_ff, "swiglu", bias=False)  # ReLSM's FFN: SwiGLU without biases

    def keys(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values ``[B, H, T, D_h]`` of the token states (computed once per forward)."""
        k, v = self.kv(self.norm_h(h)).chunk(2, dim=-1)
        return split_heads(k, self.n_heads), split_heads(v, self.n_heads)

    def forward(self, z: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        """z ``[B, Q, d]`` (Q thought vectors, flattened), ``mask`` broadcastable to ``[B, H, Q, T]``."""
        q = split_heads(self.q(self.norm_z(z)), self.n_heads)
        z = z + self.out_proj(merge_heads(F.scaled_dot_product_attention(q, *kv, attn_mask=mask)))
        return z + self.ff(self.norm_ff(z))


class ThoughtStream(nn.Module):
    """The thoughts' init, their core, the key mask and the injection back into the tokens."""

    def __init__(
        self, d_model: int, n_heads: int, n_thoughts: int, d_ff: int, *, causal: bool, pad_id: int, iterations: int = 1
    ) -> None:
        super().__init__()
        if n_thoughts < 1 or iterations < 1:
            raise ValueError(f"n_thoughts and iterations must be >= 1, got {n_thoughts}, {iterations}")
        self.causal, self.pad_id, self.n_thoughts, self.iterations = causal, pad_id, n_thoughts, iterations
        self.init = nn.Parameter(torch.randn(n_thoughts, d_model) * 0.02)
        self.core = ThoughtCore(d_model, n_heads, d_ff)
        self.to_token = nn.Linear(d_model, d_model, bias=False)

    def start(self, h: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Initial thoughts ``[B, Q, d]`` and the boolean key mask ``[B, 1, Q, T]``.

        Shipped: Q = Z, every non-pad key visible. Causal: Q = T·Z, thought (t, j) sees keys ≤ t.
        """
        B, T, _ = h.shape
        Z = self.n_thoughts
        if self.causal:
            z = self.init.repeat(T, 1).unsqueeze(0).expand(B, -1, -1)  # row t*Z + j is thought j of position t
            pos = torch.arange(T, device=h.device)
            mask = (pos[None, :] <= pos[:, None]).repeat_interleave(Z, dim=0)  # [T*Z, T]
            return z, mask[None, None]
        z = self.init.unsqueeze(0).expand(B, -1, -1)
        mask = (idx != self.pad_id)[:, None, None, :].expand(B, 1, Z, T)
        return z, mask

    def summary(self, z: torch.Tensor, T: int) -> torch.Tensor:
        """mean_Z(z) per position ``[B, T, d]`` (shipped: the same vector at every position)."""
        B, Q, d = z.shape
        if self.causal:
            return z.view(B, T, self.n_thoughts, d).mean(dim=2)
        return z.mean(dim=1, keepdim=True).expand(B, T, d)

    def inject(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """h ← h + W_{z→h} mean_Z(z)."""
        return h + self.to_token(self.summary(z, h.size(1)))

    def forward(self, h: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """The fixed-K loop (ReLSM's ``latent``): K = ``iterations`` refinements, then the injection."""
        z, mask = self.start(h, idx)
        kv = self.core.keys(h)
        for _ in range(self.iterations):
            z = self.core(z, kv, mask)
        return self.inject(h, z)

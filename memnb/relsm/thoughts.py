"""ReLSM's latent thought stream (model.py ``ThoughtCore``), as shipped and causal.

Z learned thought vectors z ∈ R^{Z×d} (init N(0, 0.02)) are refined K times by one shared block
that reads the token states h (the backbone's output) by cross-attention, without RoPE:

    z ← z + CrossAttn(q = RMSNorm(z);  k, v = RMSNorm(h))
    z ← z + W_2 (SiLU(W_1 RMSNorm(z)) ⊙ W_3 RMSNorm(z))          (SwiGLU: ``memnb.models.block.MLP``)

and the result is injected back into every token:  h ← h + W_{z→h} mean_Z(z).

Three forms, one module (``mode``):

- **as shipped** (``mode="shipped"``): one thought set per sequence, reading *all* T token states
  (only ``<pad>`` keys masked), and the same summary is added at every position. In
  teacher-forced training position t therefore reads tokens > t, its own target included
  (book/appendix/relsm.md §1, §3 item 1).
- **causal** (``mode="causal"``): one thought set per position t, z_t ∈ R^{Z×d}, started from the
  same learned init and reading only h_{≤t}; h_t ← h_t + W_{z→h} mean_Z(z_t). With a full mask it
  would equal the shipped form; the prefix mask is the only difference. It costs T times the
  shipped thought compute. ``lookahead = 1`` lets thought t read key t + 1 as well: a planted
  one-token leak, the positive control of the leak probe.
- **prompt-only** (``mode="prompt"``): one thought set per sequence, reading only the prompt
  (keys at positions ≤ p, p = the sequence's first ``prompt_id`` token, ``<sep>``), injected only
  at positions ≥ p; positions before p get nothing, and a row without ``<sep>`` none at all. The
  loss is on the answer (positions ≥ p), so every scored position reads only its past, at the
  shipped stream's cost (Z thought vectors per sequence, not per position).
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


MODES = ("shipped", "causal", "prompt")


class ThoughtStream(nn.Module):
    """The thoughts' init, their core, the key mask and the injection back into the tokens."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        n_thoughts: int,
        d_ff: int,
        *,
        mode: str,
        pad_id: int,
        prompt_id: int | None = None,
        iterations: int = 1,
        lookahead: int = 0,
    ) -> None:
        super().__init__()
        if n_thoughts < 1 or iterations < 1:
            raise ValueError(f"n_thoughts and iterations must be >= 1, got {n_thoughts}, {iterations}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == "prompt" and prompt_id is None:
            raise ValueError("the prompt-only stream needs prompt_id (the token that ends a prompt)")
        if lookahead < 0 or (lookahead and mode != "causal"):
            raise ValueError(f"lookahead (a planted leak) is >= 0 and for the causal mode only, got {lookahead}")
        self.mode, self.pad_id, self.prompt_id = mode, pad_id, prompt_id
        self.n_thoughts, self.iterations, self.lookahead = n_thoughts, iterations, lookahead
        self._inject: torch.Tensor | None = None  # prompt mode: [B, T] positions that receive the thoughts
        self.init = nn.Parameter(torch.randn(n_thoughts, d_model) * 0.02)
        self.core = ThoughtCore(d_model, n_heads, d_ff)
        self.to_token = nn.Linear(d_model, d_model, bias=False)

    def start(self, h: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Initial thoughts ``[B, Q, d]`` and the boolean key mask ``[B, 1, Q, T]``.

        Shipped: Q = Z, every non-pad key visible. Causal: Q = T·Z, thought (t, j) sees keys
        ≤ t (+ ``lookahead``). Prompt: Q = Z, keys ≤ p (every key in a row without ``<sep>``, whose
        thoughts are then injected nowhere).
        """
        B, T, _ = h.shape
        Z = self.n_thoughts
        pos = torch.arange(T, device=h.device)
        self._inject = None
        if self.mode == "causal":
            z = self.init.repeat(T, 1).unsqueeze(0).expand(B, -1, -1)  # row t*Z + j is thought j of position t
            mask = (pos[None, :] <= pos[:, None] + self.lookahead).repeat_interleave(Z, dim=0)  # [T*Z, T]
            return z, mask[None, None]
        z = self.init.unsqueeze(0).expand(B, -1, -1)
        if self.mode == "prompt":
            is_sep = idx == self.prompt_id
            p = torch.where(is_sep.any(dim=1), is_sep.float().argmax(dim=1), torch.full_like(idx[:, 0], T))
            self._inject = pos[None, :] >= p[:, None]
            keys = pos[None, :] <= p.clamp(max=T - 1)[:, None]
        else:
            keys = idx != self.pad_id
        return z, keys[:, None, None, :].expand(B, 1, Z, T)

    def active(self, idx: torch.Tensor) -> torch.Tensor:
        """``[B, T]`` bool: the positions the last ``start`` injects into (all but prompt-mode's)."""
        return torch.ones_like(idx, dtype=torch.bool) if self._inject is None else self._inject

    def summary(self, z: torch.Tensor, T: int) -> torch.Tensor:
        """mean_Z(z) per position ``[B, T, d]`` (shipped: the same vector at every position;
        prompt: the same vector at positions ≥ p, zero before)."""
        B, Q, d = z.shape
        if self.mode == "causal":
            return z.view(B, T, self.n_thoughts, d).mean(dim=2)
        s = z.mean(dim=1, keepdim=True).expand(B, T, d)
        return s if self._inject is None else s * self._inject.unsqueeze(-1).to(s.dtype)

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

"""Full causal self-attention with RoPE: the baseline every memory layer is compared with.

Per head, with q_i, k_j, v_j the rotated (RoPE) projections of the tokens:

    y_i = W_o Σ_{j ≤ i} softmax_j(q_i·k_j / √D_h) v_j

(Vaswani et al. 2017; the layout follows nanoGPT's ``CausalSelfAttention``.) The state is a KV
cache of every past key and value, so processing a sequence segment by segment with the cache
gives the same outputs as one pass over the whole sequence.

The module also holds the head helpers the other attention layers share, and two hooks that
the variants override: ``mask`` (which keys a query may see) and ``cache_len`` (how many keys
the state keeps), see ``sliding_window.py`` and ``exp_kernel_attention.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.layers.rope import apply_rope


def check_heads(d_model: int, n_heads: int) -> None:
    """Raise ValueError unless ``n_heads >= 1`` divides ``d_model >= 1``."""
    if d_model < 1 or n_heads < 1 or d_model % n_heads:
        raise ValueError(
            f"d_model and n_heads must be >= 1 with n_heads dividing d_model, got d_model={d_model}, n_heads={n_heads}"
        )


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """``[B, T, H·D] -> [B, H, T, D]``."""
    B, T, d = x.shape
    return x.view(B, T, n_heads, d // n_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``[B, H, T, D] -> [B, T, H·D]``."""
    B, H, T, D = x.shape
    return x.transpose(1, 2).reshape(B, T, H * D)


@dataclass(frozen=True)
class KVCache:
    """Keys (already rotated) and values of past tokens, ``[B, H, S, D_h]``, and the absolute
    position of the next token."""

    k: torch.Tensor
    v: torch.Tensor
    pos: int


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with RoPE and a KV cache as state.

    ``rope_base=None`` turns RoPE off (positions must then come from the model).
    """

    def __init__(self, d_model: int, n_heads: int, rope_base: float | None = 10000.0) -> None:
        super().__init__()
        check_heads(d_model, n_heads)
        if rope_base is not None and (rope_base <= 1.0 or (d_model // n_heads) % 2):
            raise ValueError(
                f"RoPE needs rope_base > 1 and an even head dim, got rope_base={rope_base}, "
                f"head_dim={d_model // n_heads}"
            )
        self.n_heads = n_heads
        self.rope_base = rope_base
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)

    def forward(self, x: torch.Tensor, state: KVCache | None = None) -> tuple[torch.Tensor, KVCache]:
        T = x.size(1)
        q, k, v = (split_heads(t, self.n_heads) for t in self.qkv(x).chunk(3, dim=-1))
        start = 0 if state is None else state.pos
        if self.rope_base is not None:
            q, k = apply_rope(q, start, self.rope_base), apply_rope(k, start, self.rope_base)
        if state is not None:
            k, v = torch.cat((state.k, k), dim=2), torch.cat((state.v, v), dim=2)
        S = k.size(2)
        q_pos = torch.arange(start, start + T, device=x.device)
        k_pos = torch.arange(start + T - S, start + T, device=x.device)
        y = self.attend(q, k, v, self.mask(q_pos, k_pos))
        keep = S - self.cache_len(S)
        return self.out_proj(merge_heads(y)), KVCache(k[:, :, keep:], v[:, :, keep:], start + T)

    def mask(self, q_pos: torch.Tensor, k_pos: torch.Tensor) -> torch.Tensor:
        """``[T, S]`` boolean, True where the query at ``q_pos[i]`` may see the key at ``k_pos[j]``."""
        return k_pos[None, :] <= q_pos[:, None]

    def cache_len(self, n_keys: int) -> int:
        """How many of the ``n_keys`` most recent keys the next state keeps (all of them)."""
        return n_keys

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Scaled dot-product attention of ``[B, H, T, D]`` queries over ``[B, H, S, D]`` keys."""
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

"""Infini-attention (Munkhdalai, Faruqui & Gopal 2024, "Leave No Context Behind").

The sequence is cut into segments of N tokens. Inside a segment, tokens use ordinary causal
attention (RoPE, positions counted from the segment start). Across segments, each head keeps a
compressive memory M ∈ R^{D_k×D_v} and normaliser z ∈ R^{D_k}, read and written with
σ(x) = ELU(x) + 1:

    read  (state before this segment's write):  A_mem = σ(Q) M / (σ(Q) z)
    write (once per segment, all N tokens at once), with update =
      "delta"  (paper):     M ← M + σ(K)ᵀ (V − σ(K) M / (σ(K) z))
      "linear" (paper):     M ← M + σ(K)ᵀ V
      "drex"   (Drex L2):   M ← M + σ(K)ᵀ (V − σ(K) M)     (no σ(K)z normalisation)
    and always  z ← z + Σ_t σ(K_t)
    mix: y = W_o [ g_h A_mem + (1 − g_h) A_local ],  g_h = sigmoid(β_h), β_h learned (init 0)

An empty memory (M = 0, z = 0) reads exactly 0; the denominators are clamped at 1e-6. Drex's
seed uses the "drex" write and this same read and gate (book/appendix/drex.md §1, §5 item 6).

The memory's recurrence is the op ``memnb.ops.compressive_memory`` (whole-sequence function,
per-token reference and the segment-parallel form); this layer calls its read and write
(``memory_read``, ``memory_write``) inside its own segment loop, because the local attention
and the write share each segment's keys and values.

Segment semantics: the layer itself cuts the stream into segments of ``segment_len`` tokens
counted from the first token it ever saw; the state carries (M, z) and the keys and values of
the unfinished segment. Calling the layer on any split of a sequence, with the state carried,
therefore gives the same outputs as one call on the whole sequence. The state keeps its graph;
truncated BPTT is the caller's choice (``memnb.layers.state.detach_state``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.layers.attention import check_heads, merge_heads, split_heads
from memnb.layers.rope import apply_rope
from memnb.ops.compressive_memory import UPDATES, Update, elu1, memory_read, memory_write


@dataclass(frozen=True)
class InfiniState:
    """Memory ``M [B, H, D_k, D_v]``, normaliser ``z [B, H, D_k]``, and the keys (before RoPE)
    and values ``[B, H, s, D]`` of the s < segment_len tokens of the unfinished segment."""

    M: torch.Tensor
    z: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor


class InfiniAttention(nn.Module):
    """Local causal attention per segment plus a compressive memory across segments."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        segment_len: int,
        update: Update = "delta",
        rope_base: float = 10000.0,
    ) -> None:
        super().__init__()
        check_heads(d_model, n_heads)
        if segment_len < 1:
            raise ValueError(f"segment_len must be >= 1, got {segment_len}")
        if update not in UPDATES:
            raise ValueError(f"update must be one of {UPDATES}, got {update!r}")
        if rope_base <= 1.0 or (d_model // n_heads) % 2:
            raise ValueError(
                f"RoPE needs rope_base > 1 and an even head dim, got rope_base={rope_base}, "
                f"head_dim={d_model // n_heads}"
            )
        self.n_heads = n_heads
        self.segment_len = segment_len
        self.update = update
        self.rope_base = rope_base
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)
        self.beta = nn.Parameter(torch.zeros(n_heads))

    def empty_state(self, x: torch.Tensor) -> InfiniState:
        B, D = x.size(0), x.size(-1) // self.n_heads
        M = x.new_zeros(B, self.n_heads, D, D)
        kv = x.new_zeros(B, self.n_heads, 0, D)
        return InfiniState(M, M.new_zeros(B, self.n_heads, D), kv, kv)

    def forward(self, x: torch.Tensor, state: InfiniState | None = None) -> tuple[torch.Tensor, InfiniState]:
        state = self.empty_state(x) if state is None else state
        M, z, k_seg, v_seg = state.M, state.z, state.k, state.v
        q, k, v = (split_heads(t, self.n_heads) for t in self.qkv(x).chunk(3, dim=-1))
        g = torch.sigmoid(self.beta).view(1, -1, 1, 1)
        outputs, i, T = [], 0, x.size(1)
        while i < T:  # one piece per (part of a) segment
            s = k_seg.size(2)  # tokens of this segment already seen
            n = min(self.segment_len - s, T - i)
            q_i = q[:, :, i : i + n]
            k_seg = torch.cat((k_seg, k[:, :, i : i + n]), dim=2)
            v_seg = torch.cat((v_seg, v[:, :, i : i + n]), dim=2)
            causal = torch.ones(n, s + n, dtype=torch.bool, device=x.device).tril(s)
            local = F.scaled_dot_product_attention(
                apply_rope(q_i, s, self.rope_base),
                apply_rope(k_seg, 0, self.rope_base),
                v_seg,
                attn_mask=causal,
            )
            outputs.append(g * memory_read(elu1(q_i), M, z) + (1.0 - g) * local)
            if k_seg.size(2) == self.segment_len:
                M, z = memory_write(elu1(k_seg), v_seg, M, z, self.update)
                k_seg, v_seg = k_seg[:, :, :0], v_seg[:, :, :0]
            i += n
        y = self.out_proj(merge_heads(torch.cat(outputs, dim=2)))
        return y, InfiniState(M, z, k_seg, v_seg)

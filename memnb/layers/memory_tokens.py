"""Memory tokens carried across segments (recurrent memory; Bulatov, Kuratov & Burtsev 2022,
"Recurrent Memory Transformer"), as one attention layer.

The stream is cut into segments of N tokens. Segment c is read with m memory vectors
Mem_c ∈ R^{m×d} prepended as extra keys and values (no positions; the tokens use RoPE counted
from the segment start). With one set of projections W_Q, W_K, W_V, W_o:

    token i of segment c:  y_i = W_o Attn(q_i; [Mem_c ; x_{≤i}])        (causal in the tokens)
    at the segment's end:  Mem_{c+1} = LN(Mem_c + W_o Attn(Mem_c W_Q; [Mem_c ; x_{1..N}]))
    Mem_1 = a learned init

so the memory slots' outputs after reading the whole segment become the next segment's memory
(RMT's write tokens). A token only ever sees memory built from earlier segments, so the layer is
causal. ReLSM's ssm_mem compresses the *whole* sequence into its 64 memory tokens and lets every
token read them, which leaks future tokens (book/appendix/relsm.md §3, item 1); this layer is
the causal, segment-recurrent form of that idea. The LayerNorm keeps the carried memory on the
scale of the (pre-normed) token inputs over many segments.

State: the memory, and the keys and values of the unfinished segment, so any split of a
sequence, with the state carried, gives the one-pass outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.layers.attention import check_heads, merge_heads, split_heads
from memnb.layers.rope import apply_rope


@dataclass(frozen=True)
class MemoryTokensState:
    """The memory ``mem [B, m, d]`` read by the current segment, and the keys (rotated) and
    values ``[B, H, s, D_h]`` of its s < segment_len tokens seen so far."""

    mem: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor


class MemoryTokens(nn.Module):
    """Causal attention over [memory tokens ; segment], memory rewritten at each segment end."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        n_mem: int = 16,
        segment_len: int = 64,
        rope_base: float = 10000.0,
    ) -> None:
        super().__init__()
        check_heads(d_model, n_heads)
        if n_mem < 1 or segment_len < 1:
            raise ValueError(f"n_mem and segment_len must be >= 1, got {n_mem}, {segment_len}")
        if rope_base <= 1.0 or (d_model // n_heads) % 2:
            raise ValueError(
                f"RoPE needs rope_base > 1 and an even head dim, got rope_base={rope_base}, "
                f"head_dim={d_model // n_heads}"
            )
        self.n_heads, self.segment_len, self.rope_base = n_heads, segment_len, rope_base
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)
        self.mem_init = nn.Parameter(torch.randn(n_mem, d_model))
        self.mem_norm = nn.LayerNorm(d_model)

    def empty_state(self, x: torch.Tensor) -> MemoryTokensState:
        B, D = x.size(0), x.size(-1) // self.n_heads
        kv = x.new_zeros(B, self.n_heads, 0, D)
        return MemoryTokensState(self.mem_init.unsqueeze(0).expand(B, -1, -1), kv, kv)

    def forward(
        self, x: torch.Tensor, state: MemoryTokensState | None = None
    ) -> tuple[torch.Tensor, MemoryTokensState]:
        state = self.empty_state(x) if state is None else state
        mem, k_seg, v_seg = state.mem, state.k, state.v
        q, k, v = (split_heads(t, self.n_heads) for t in self.qkv(x).chunk(3, dim=-1))
        m = mem.size(1)
        outputs, i, T = [], 0, x.size(1)
        while i < T:  # one piece per (part of a) segment
            s = k_seg.size(2)
            n = min(self.segment_len - s, T - i)
            q_mem, k_mem, v_mem = (split_heads(t, self.n_heads) for t in self.qkv(mem).chunk(3, -1))
            k_seg = torch.cat((k_seg, apply_rope(k[:, :, i : i + n], s, self.rope_base)), dim=2)
            v_seg = torch.cat((v_seg, v[:, :, i : i + n]), dim=2)
            keys, values = torch.cat((k_mem, k_seg), dim=2), torch.cat((v_mem, v_seg), dim=2)
            mask = torch.ones(n, m + s + n, dtype=torch.bool, device=x.device).tril(m + s)
            q_i = apply_rope(q[:, :, i : i + n], s, self.rope_base)
            outputs.append(F.scaled_dot_product_attention(q_i, keys, values, attn_mask=mask))
            if k_seg.size(2) == self.segment_len:
                write = F.scaled_dot_product_attention(q_mem, keys, values)
                mem = self.mem_norm(mem + self.out_proj(merge_heads(write)))
                k_seg, v_seg = k_seg[:, :, :0], v_seg[:, :, :0]
            i += n
        y = self.out_proj(merge_heads(torch.cat(outputs, dim=2)))
        return y, MemoryTokensState(mem, k_seg, v_seg)

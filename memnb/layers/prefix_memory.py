"""AMS-style prefix memory: past segments stored as one vector each, read by cross-attention
into a few prefix slots that the current segment attends to (book/appendix/ams.md §1).

The AMS seed writes one memory entry per text (its ``fiber``, an MLP of the text's mean hidden
state), reads every entry with a single query built from the mean hidden state of the prompt
(one ``nn.MultiheadAttention`` per bundle, keys = values = the fibers), lifts the attention
output to 12 prefix slots by one linear map per slot, and prepends ``LayerNorm(slots) · s``
(a learnable scale) to the prompt's embeddings (book/appendix/ams.md §1, §3). This layer is the causal,
streaming form of that idea inside one attention layer. The stream is cut into segments of N
tokens; with x_t the (pre-normed) layer input and segment c = tokens x_{c,1..N}:

    write, at the end of segment c:   f_c = W_f x̄_c,   x̄_c = mean_t x_{c,t}      (one "fiber")
    read, at the start of segment c:  o_c = MHA(q = W_q x̄_{c−1};  keys = values = f_1 .. f_{c−1})
                                      P_c = s · LN([L_1 o_c ; ... ; L_m o_c])    (m prefix slots)
    token i of segment c:             y_i = W_o Attn(q_i; [P_c ; x_{c,≤i}])       (causal)

The MHA has its own in- and out-projections (as AMS's ``nn.MultiheadAttention``); the prefix
slots enter the layer's attention through the same W_K, W_V as the tokens (AMS feeds them as
input embeddings) and carry no position (tokens use RoPE counted from the segment start). The
query is the mean of the *last finished* segment, not of the current one: AMS's query (the mean
of the whole prompt) would let token i read a prefix chosen with tokens after i, a future leak.
Before the first segment ends there is no entry and no prefix. The scale s is initialised to 1:
the layer input is LayerNormed (norm ≈ √d), as is the prefix, so the prefix starts at the
tokens' scale (the 20-50× mismatch of AMS's LayerNormed prefix, book/appendix/ams.md §3, does
not arise).

What it keeps of AMS, by design: the bottleneck of book/appendix/ams.md §1 (144 numbers per
query) — everything the current segment learns about the past passes through one d_f-dimensional
attention output per head group, so a token's identity survives only as far as the mean of its
segment does.

State: the fibers ``[B, c, d_f]`` and the last finished segment's mean ``[B, d]``, plus the
keys, values and input sum of the unfinished segment, so any split of a sequence, with the
state carried, gives the one-pass outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.layers.attention import check_heads, merge_heads, split_heads
from memnb.layers.rope import apply_rope


@dataclass(frozen=True)
class PrefixMemoryState:
    """``fibers [B, c, d_f]`` (one per finished segment), ``last_mean [B, d]`` (the mean input
    of the last finished segment), and the unfinished segment's rotated keys and values
    ``[B, H, s, D_h]`` and input sum ``[B, d]``."""

    fibers: torch.Tensor
    last_mean: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    x_sum: torch.Tensor


class PrefixMemory(nn.Module):
    """Causal segment attention over [m prefix slots read from past-segment fibers ; segment]."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        segment_len: int = 64,
        n_slots: int = 4,
        d_fiber: int | None = None,
        fiber_heads: int = 2,
        rope_base: float = 10000.0,
    ) -> None:
        super().__init__()
        check_heads(d_model, n_heads)
        d_fiber = d_fiber or d_model // 2
        check_heads(d_fiber, fiber_heads)
        if n_slots < 1 or segment_len < 1:
            raise ValueError(f"n_slots and segment_len must be >= 1, got {n_slots}, {segment_len}")
        if (d_model // n_heads) % 2:
            raise ValueError(f"RoPE needs an even head dim, got {d_model // n_heads}")
        self.n_heads, self.segment_len, self.rope_base = n_heads, segment_len, rope_base
        self.n_slots, self.fiber_heads = n_slots, fiber_heads
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)
        self.fiber = nn.Linear(d_model, d_fiber, bias=False)  # W_f
        self.query = nn.Linear(d_model, d_fiber, bias=False)  # W_q of the read
        self.read_kv = nn.Linear(d_fiber, 2 * d_fiber, bias=False)  # MHA in-projection of the fibers
        self.read_out = nn.Linear(d_fiber, d_fiber, bias=False)  # MHA out-projection
        self.lift = nn.Linear(d_fiber, n_slots * d_model, bias=False)  # L_1 .. L_m
        self.slot_norm = nn.LayerNorm(d_model)
        self.scale = nn.Parameter(torch.ones(()))

    def empty_state(self, x: torch.Tensor) -> PrefixMemoryState:
        B, d = x.size(0), x.size(-1)
        kv = x.new_zeros(B, self.n_heads, 0, d // self.n_heads)
        fibers = x.new_zeros(B, 0, self.fiber.out_features)
        return PrefixMemoryState(fibers, x.new_zeros(B, d), kv, kv, x.new_zeros(B, d))

    def prefix(self, state: PrefixMemoryState) -> torch.Tensor | None:
        """P_c ``[B, m, d]`` from the stored fibers, or None before the first segment ends."""
        if state.fibers.size(1) == 0:
            return None
        B = state.fibers.size(0)
        q = split_heads(self.query(state.last_mean)[:, None], self.fiber_heads)  # [B, h, 1, D_f]
        k, v = (split_heads(t, self.fiber_heads) for t in self.read_kv(state.fibers).chunk(2, -1))
        o = self.read_out(merge_heads(F.scaled_dot_product_attention(q, k, v)))[:, 0]  # [B, d_f]
        return self.scale * self.slot_norm(self.lift(o).view(B, self.n_slots, -1))

    def forward(
        self, x: torch.Tensor, state: PrefixMemoryState | None = None
    ) -> tuple[torch.Tensor, PrefixMemoryState]:
        state = self.empty_state(x) if state is None else state
        q, k, v = (split_heads(t, self.n_heads) for t in self.qkv(x).chunk(3, dim=-1))
        outputs, i, T = [], 0, x.size(1)
        while i < T:  # one piece per (part of a) segment
            s = state.k.size(2)
            n = min(self.segment_len - s, T - i)
            k_seg = torch.cat((state.k, apply_rope(k[:, :, i : i + n], s, self.rope_base)), dim=2)
            v_seg = torch.cat((state.v, v[:, :, i : i + n]), dim=2)
            prefix = self.prefix(state)
            m = 0 if prefix is None else self.n_slots
            keys, values = k_seg, v_seg
            if prefix is not None:
                _, k_p, v_p = (split_heads(t, self.n_heads) for t in self.qkv(prefix).chunk(3, -1))
                keys, values = torch.cat((k_p, k_seg), dim=2), torch.cat((v_p, v_seg), dim=2)
            mask = torch.ones(n, m + s + n, dtype=torch.bool, device=x.device).tril(m + s)
            q_i = apply_rope(q[:, :, i : i + n], s, self.rope_base)
            outputs.append(F.scaled_dot_product_attention(q_i, keys, values, attn_mask=mask))
            x_sum = state.x_sum + x[:, i : i + n].sum(1)
            if s + n == self.segment_len:  # the segment is finished: write its fiber
                mean = x_sum / self.segment_len
                fibers = torch.cat((state.fibers, self.fiber(mean)[:, None]), dim=1)
                state = PrefixMemoryState(fibers, mean, k_seg[:, :, :0], v_seg[:, :, :0], torch.zeros_like(x_sum))
            else:
                state = PrefixMemoryState(state.fibers, state.last_mean, k_seg, v_seg, x_sum)
            i += n
        return self.out_proj(merge_heads(torch.cat(outputs, dim=2))), state

"""Gated cross-attention to an external memory (HRS V18's engram cross-attention;
book/appendix/hrs.md §3).

Queries come from the tokens, keys and values from a given memory tensor Mem ∈ R^{m×d_mem}
(no mask: every token may see every slot, so the layer is causal as long as the memory holds
nothing from the current sequence's future):

    y = g · W_o Attn(W_Q LN(x); W_K Mem, W_V Mem)

with a learned scalar gate g = sigmoid(a) (HRS V18: init a = 0 → g = 0.5) or g = tanh(a)
(Flamingo's gated cross-attention: init a = 0 → g = 0, the layer starts as a no-op). As in V18
the queries get their own LayerNorm and the memory is not normalised.

The memory is the state: ``forward(x, mem)`` returns ``(y, mem)`` unchanged, ``mem=None`` (no
memory) gives y = 0, and a memory of shape ``[1, m, d_mem]`` is shared by the whole batch.
Note V18's own buffer has 32 identical slots, so its softmax is exactly uniform and the layer
adds the same vector to every token (book/appendix/hrs.md §3); the tests check that property.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.layers.attention import check_heads, merge_heads, split_heads


class GatedCrossAttention(nn.Module):
    """Tokens attend to a memory tensor; the output is scaled by a learned scalar gate."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_memory: int | None = None,
        gate: Literal["sigmoid", "tanh"] = "sigmoid",
    ) -> None:
        super().__init__()
        check_heads(d_model, n_heads)
        d_memory = d_model if d_memory is None else d_memory
        if d_memory < 1:
            raise ValueError(f"d_memory must be >= 1, got {d_memory}")
        if gate not in ("sigmoid", "tanh"):
            raise ValueError(f"gate must be 'sigmoid' or 'tanh', got {gate!r}")
        self.n_heads = n_heads
        self.gate_fn = torch.sigmoid if gate == "sigmoid" else torch.tanh
        self.ln = nn.LayerNorm(d_model)
        self.q_proj = nn.Linear(d_model, d_model, bias=False)
        self.kv_proj = nn.Linear(d_memory, 2 * d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)
        self.gate_logit = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        if state is None:
            return torch.zeros_like(x), None
        q = split_heads(self.q_proj(self.ln(x)), self.n_heads)
        k, v = (split_heads(t, self.n_heads) for t in self.kv_proj(state).chunk(2, dim=-1))
        if k.size(0) != q.size(0):
            k, v = k.expand(q.size(0), -1, -1, -1), v.expand(q.size(0), -1, -1, -1)
        y = self.out_proj(merge_heads(F.scaled_dot_product_attention(q, k, v)))
        return self.gate_fn(self.gate_logit) * y, state

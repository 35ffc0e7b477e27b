"""External key-value memory with top-k retrieval from the past (our reconstruction of
Forgingalex/memory-architectures; book/appendix/memarch.md §1, §4).

Every token t writes a slot (key W_K x_t, value W_V x_t, position t) to a FIFO buffer of
``capacity`` slots. The query q_s = W_Q x_s retrieves among the slots written **strictly before
s** that are still in the buffer (s − capacity ≤ t < s), by scaled dot product:

    J_s = top-k_t (q_s·k_t / √d_k),   w = softmax_{t ∈ J_s}(q_s·k_t / √d_k)
    r_s = Σ_{t ∈ J_s} w_t v_t,        y_s = sigmoid(w_g·x_s + b_g) · W_o r_s

A token with no past (the first one) reads r = 0. Excluding t = s stops a token retrieving
itself (the identity shortcut), and t > s is never visible, so the layer is causal. The softmax
over the k selected scores is what gives W_Q and W_K a gradient (top_k=1 gives them none).

State: the keys, values and positions of the last ``capacity`` tokens; any split of a sequence
with the state carried gives the one-pass outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn


def topk_retrieve(
    q: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    q_pos: torch.Tensor,
    k_pos: torch.Tensor,
    capacity: int,
    top_k: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Read ``r [B, T, d_v]`` for queries ``q [B, T, d_k]`` at positions ``q_pos [T]`` from slots
    ``keys [B, S, d_k]``, ``values [B, S, d_v]`` written at ``k_pos [S]``; a slot is visible to
    a query iff ``1 <= q_pos - k_pos <= capacity``. Also returns the slot indices ``[B, T, k]``
    and weights ``[B, T, k]`` used (weight 0 where fewer than k slots are visible)."""
    B, T, d_k = q.shape
    S = keys.size(1)
    age = q_pos[:, None] - k_pos[None, :]
    visible = ((age >= 1) & (age <= capacity)).expand(B, T, S)
    scores = (q @ keys.transpose(1, 2)) / d_k**0.5
    scores = scores.masked_fill(~visible, torch.finfo(scores.dtype).min)
    top, idx = scores.topk(min(top_k, S), dim=-1)
    weights = torch.softmax(top, dim=-1) * visible.gather(-1, idx)
    picked = values[torch.arange(B, device=values.device)[:, None, None], idx]  # [B, T, k, d_v]
    return (weights.unsqueeze(-1) * picked).sum(dim=2), idx, weights


@dataclass(frozen=True)
class KVMemoryState:
    """The last ≤ capacity slots: keys ``[B, S, d_k]``, values ``[B, S, d]``, and the absolute
    position of the next token (slot positions are pos − S … pos − 1)."""

    keys: torch.Tensor
    values: torch.Tensor
    pos: int


class KVMemory(nn.Module):
    """Gated top-k retrieval from a FIFO buffer of past token keys and values."""

    def __init__(self, d_model: int, capacity: int = 128, top_k: int = 4, d_key: int | None = None) -> None:
        super().__init__()
        d_key = d_model if d_key is None else d_key
        if d_model < 1 or d_key < 1:
            raise ValueError(f"d_model and d_key must be >= 1, got {d_model}, {d_key}")
        if capacity < 1 or not 1 <= top_k <= capacity:
            raise ValueError(f"need capacity >= 1 and 1 <= top_k <= capacity, got capacity={capacity}, top_k={top_k}")
        self.capacity, self.top_k = capacity, top_k
        self.q_proj = nn.Linear(d_model, d_key, bias=False)
        self.k_proj = nn.Linear(d_model, d_key, bias=False)
        self.v_proj = nn.Linear(d_model, d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)
        self.gate = nn.Linear(d_model, 1)

    def query_positions(self, start: int, T: int, device: torch.device) -> torch.Tensor:
        """Absolute position of each query: a query reads only slots written at or before it."""
        return torch.arange(start, start + T, device=device)

    def lookup(
        self, x: torch.Tensor, state: KVMemoryState | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, KVMemoryState]:
        """Retrieval ``r [B, T, d]``, the absolute positions ``[B, T, k]`` and weights
        ``[B, T, k]`` of the slots read, and the new state."""
        T = x.size(1)
        start = 0 if state is None else state.pos
        keys, values = self.k_proj(x), self.v_proj(x)
        if state is not None:
            keys = torch.cat((state.keys, keys), dim=1)
            values = torch.cat((state.values, values), dim=1)
        S = keys.size(1)
        q_pos = self.query_positions(start, T, x.device)
        k_pos = torch.arange(start + T - S, start + T, device=x.device)
        r, idx, w = topk_retrieve(self.q_proj(x), keys, values, q_pos, k_pos, self.capacity, self.top_k)
        keep = max(S - self.capacity, 0)
        return r, k_pos[idx], w, KVMemoryState(keys[:, keep:], values[:, keep:], start + T)

    def forward(self, x: torch.Tensor, state: KVMemoryState | None = None) -> tuple[torch.Tensor, KVMemoryState]:
        r, _, _, state = self.lookup(x, state)
        return torch.sigmoid(self.gate(x)) * self.out_proj(r), state

"""Sliding-window causal attention (local attention; Beltagy et al. 2020, "Longformer").

Drex's L1 is called a sliding window but runs full causal attention inside the segment
(its ``window_size`` is never used; book/appendix/drex.md §1). This layer is the real thing:
the query at position i sees only the W most recent keys, itself included,

    y_i = W_o Σ_{i-W < j ≤ i} softmax_j(q_i·k_j / √D_h) v_j        (RoPE on q, k)

The state keeps the last W − 1 keys and values (and the absolute position), so a sequence
processed segment by segment gives exactly the one-pass outputs. With W ≥ T it equals full
causal attention. Cost: one call over T tokens costs O(T·(T + W)); feeding segments of about
W tokens gives the O(T·W) blocked form. (FlexAttention's block mask would also be O(T·W) in
one call, but on CPU it compiles per shape, 6–17 s on the 2-core CPU.)
"""

from __future__ import annotations

import torch

from memnb.layers.attention import CausalSelfAttention


class SlidingWindowAttention(CausalSelfAttention):
    """Causal self-attention over a window of the ``window`` most recent tokens (RoPE)."""

    def __init__(self, d_model: int, n_heads: int, window: int, rope_base: float | None = 10000.0) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1 (tokens a query sees, itself included), got {window}")
        super().__init__(d_model, n_heads, rope_base)
        self.window = window

    def mask(self, q_pos: torch.Tensor, k_pos: torch.Tensor) -> torch.Tensor:
        offset = q_pos[:, None] - k_pos[None, :]
        return (offset >= 0) & (offset < self.window)

    def cache_len(self, n_keys: int) -> int:
        return min(n_keys, self.window - 1)

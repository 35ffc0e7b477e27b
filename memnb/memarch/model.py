"""The arms of the memory-architectures comparison (our reconstruction;
book/appendix/memarch.md §1, §3: the seed's code is not available, only its README).

The seed's memory model "wraps the baseline and adds an external key-value store": during the
forward pass it writes token representations to memory and retrieves past states for later
tokens by nearest-key matching with the attention query. Here every arm is
``memnb.models.Decoder``; the memory arms attend only inside a local window of ``window`` tokens
(``memnb.layers.sliding_window``, RoPE), shorter than any training sequence, and their blocks
from ``memory_from`` on add the memory (``memnb.layers.kv_memory``) reading the same normalised
input:

    y_s = LocalAttn_W(x)_s + sigmoid(w_g·x_s + b_g) · W_o Σ_{t ∈ J_s} softmax(q_s·k_t/√d) v_t,
    J_s = top-k of the slots t visible to s.

so whatever lies more than ``window`` tokens back reaches a token only through the memory: the
memory is external to the attention, not a second view of the same context.

Arms (``ARMS``):

- ``baseline``: full causal attention with RoPE (the seed's "positional encoding");
- ``nope``: full causal attention with no positions at all (NoPE: order enters through the
  causal mask only), the position-free baseline: the memory's retrieval is position-free too, so
  a gain of the memory over ``baseline`` beyond the training lengths could be length
  extrapolation alone; against ``nope`` it cannot;
- ``window``: the memory arm without its memory (local attention only): what the window alone
  reaches;
- ``kv_memory``: local attention plus the corrected memory: slot t is visible to s iff
  1 ≤ s − t ≤ capacity, so no token reads itself or its future;
- ``write_then_read``: the README read literally ("writes ... during forward passes, then
  retrieves"): the whole sequence is written first, then every position queries the full buffer,
  its own slot and all later ones included (book/appendix/memarch.md §4, pitfalls 1 and 2). It
  is the seed's likely failure, built to show what the leak does to the numbers.

The arms without a memory have their MLPs widened (``mlp_ratio + 1``) so that they have the
memory arms' parameter count to within a few dozen parameters at any width: the memory adds
4·d² + d + 1 to one block, one extra MLP unit width adds 2·d² + d per block, and the default
``n_layers=2`` with ``memory_from=1`` matches them (``parameter_gap`` reports the rest).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from memnb.layers.attention import CausalSelfAttention
from memnb.layers.kv_memory import KVMemory
from memnb.layers.sliding_window import SlidingWindowAttention
from memnb.models.decoder import Decoder, DecoderConfig
from memnb.models.init import scale_residual

ARMS = ("baseline", "nope", "window", "kv_memory", "write_then_read")
MEMORY_ARMS = ("kv_memory", "write_then_read")


class WriteThenReadKVMemory(KVMemory):
    """``KVMemory`` whose queries see every slot in the buffer after the segment is written:
    the read at position s uses ``J_s`` = top-k over slots ``t ≤ start + T − 1``, so ``t ≥ s``
    (itself and the future) included. Not causal; kept only to measure the leak."""

    def query_positions(self, start: int, T: int, device: torch.device) -> torch.Tensor:
        # every query reads as if it stood after the last written slot: the whole buffer is visible
        return torch.full((T,), start + T, device=device)


class AttentionWithMemory(nn.Module):
    """``y = Attn(x) + KVMemory(x)``; the state is the pair (attention KV cache, memory state)."""

    def __init__(self, attn: CausalSelfAttention, memory: KVMemory) -> None:
        super().__init__()
        self.attn = attn
        self.memory = memory

    def forward(self, x: torch.Tensor, state: tuple | None = None) -> tuple[torch.Tensor, tuple]:
        attn_state, mem_state = (None, None) if state is None else state
        y, attn_state = self.attn(x, attn_state)
        r, mem_state = self.memory(x, mem_state)
        return y + r, (attn_state, mem_state)


@dataclass(frozen=True)
class ArmConfig:
    """The decoder shared by every arm and the memory's settings."""

    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    mlp_ratio: int = 4
    capacity: int = 512
    top_k: int = 4
    window: int = 8  # tokens the local attention of the window and memory arms sees, itself included
    memory_from: int = 1  # blocks with index >= memory_from carry the memory

    def __post_init__(self) -> None:
        if not 0 <= self.memory_from < self.n_layers:
            raise ValueError(f"memory_from must name a block in [0, n_layers={self.n_layers}), got {self.memory_from}")
        if self.capacity < 1 or not 1 <= self.top_k <= self.capacity:
            raise ValueError(f"need capacity >= 1 and 1 <= top_k <= capacity, got {self.capacity}, {self.top_k}")
        if self.window < 1:
            raise ValueError(f"window must be >= 1 (tokens the local attention sees), got {self.window}")


def attention(arm: str, cfg: ArmConfig) -> CausalSelfAttention:
    """The attention of ``arm``: full with RoPE (``baseline``), full without positions
    (``nope``), or local inside ``cfg.window`` tokens with RoPE (the window and memory arms)."""
    if arm == "baseline":
        return CausalSelfAttention(cfg.d_model, cfg.n_heads)
    if arm == "nope":
        return CausalSelfAttention(cfg.d_model, cfg.n_heads, rope_base=None)
    return SlidingWindowAttention(cfg.d_model, cfg.n_heads, cfg.window)


def build_model(arm: str, vocab_size: int, cfg: ArmConfig) -> Decoder:
    """A fresh ``Decoder`` for ``arm`` (see the module doc). Initialisation follows the decoder's
    (N(0, 0.02), residual output projections scaled by 1/√(2·n_layers)) in every arm."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose one of {ARMS}")
    mlp_ratio = cfg.mlp_ratio if arm in MEMORY_ARMS else cfg.mlp_ratio + 1
    dcfg = DecoderConfig(vocab_size, cfg.d_model, cfg.n_layers, cfg.n_heads, mlp_ratio)
    memory_cls = WriteThenReadKVMemory if arm == "write_then_read" else KVMemory

    def mixer(c: DecoderConfig, i: int) -> nn.Module:
        if arm not in MEMORY_ARMS or i < cfg.memory_from:
            return attention(arm, cfg)
        return AttentionWithMemory(attention(arm, cfg), memory_cls(c.d_model, cfg.capacity, cfg.top_k))

    model = Decoder(dcfg, mixer)
    # the decoder scales "mixer.out_proj.weight"; the composite's projections sit one level deeper
    scale_residual(model, cfg.n_layers, ("mixer.attn.out_proj.weight", "mixer.memory.out_proj.weight"))
    return model


def parameter_gap(vocab_size: int, cfg: ArmConfig) -> int:
    """Parameters of the memory arm minus the baseline's (small by construction)."""
    memory, baseline = (build_model(arm, vocab_size, cfg).num_params() for arm in ("kv_memory", "baseline"))
    return memory - baseline

"""The registry of memories (the "zoo"): every sequence-mixing layer under one name, built the same way.

``build(name, d_model, n_heads, segment_len)`` returns a fresh layer with the book's default
settings for that memory; ``mixer(name, **kw)`` adapts it for ``memnb.models.Decoder``. The
equations live in each layer's module (``ZOO[name].module``), one jump from here.
The checks the memory-zoo chapter runs on every entry (segment exactness, future leak) are in
``memnb.eval.probes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn as nn

from memnb import layers
from memnb.layers.state import state_tensors


@dataclass(frozen=True)
class Entry:
    name: str
    module: str  # where the equation is
    seed: str  # which seed project uses it
    make: Callable[[int, int, int], nn.Module]  # (d_model, n_heads, segment_len) -> layer


ZOO: dict[str, Entry] = {
    e.name: e
    for e in [
        Entry("attention", "memnb.layers.attention", "baseline", lambda d, h, s: layers.CausalSelfAttention(d, h)),
        Entry(
            "sliding_window",
            "memnb.layers.sliding_window",
            "Drex L1",
            lambda d, h, s: layers.SlidingWindowAttention(d, h, window=s),
        ),
        Entry(
            "infini_attention",
            "memnb.layers.infini_attention",
            "Drex L2",
            lambda d, h, s: layers.InfiniAttention(d, h, segment_len=s),
        ),
        Entry("titans", "memnb.layers.titans", "Drex L3 (corrected)", lambda d, h, s: layers.TitansMemory(d)),
        Entry(
            "drex_l4",
            "memnb.layers.drex_memory",
            "Drex L4",
            lambda d, h, s: layers.DrexL4Memory(d, segment_len=s, readout="per_position", carry_memory=True),
        ),
        Entry("kv_memory", "memnb.layers.kv_memory", "memory-architectures", lambda d, h, s: layers.KVMemory(d)),
        Entry(
            "memory_tokens",
            "memnb.layers.memory_tokens",
            "ReLSM ssm_mem (causal)",
            lambda d, h, s: layers.MemoryTokens(d, h, segment_len=s),
        ),
        Entry("mamba2", "memnb.layers.ssd", "ReLSM ssm (corrected)", lambda d, h, s: layers.Mamba2(d)),
        Entry(
            "exp_kernel",
            "memnb.layers.exp_kernel_attention",
            "HRS",
            lambda d, h, s: layers.ExpKernelAttention(d, h),
        ),
    ]
}


def build(name: str, d_model: int, n_heads: int, segment_len: int = 64) -> nn.Module:
    if name not in ZOO:
        raise ValueError(f"unknown memory {name!r}; the zoo has: {', '.join(ZOO)}")
    return ZOO[name].make(d_model, n_heads, segment_len)


def mixer(name: str, segment_len: int = 64) -> Callable[[object, int], nn.Module]:
    """A ``Decoder`` mixer factory building ``name`` in every layer."""
    build(name, 8, 2, segment_len)  # fail now, with the zoo's list, on a bad name
    return lambda cfg, i: build(name, cfg.d_model, cfg.n_heads, segment_len)


def num_params(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters())


def state_bytes(state) -> int:
    """Bytes held by every tensor in a (nested) layer state."""
    return sum(t.numel() * t.element_size() for t in state_tensors(state))

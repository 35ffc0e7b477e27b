"""The memory zoo: every sequence-mixing layer under one name, built the same way.

``build(name, d_model, n_heads, segment_len)`` returns a fresh layer with the book's default
settings for that memory; ``mixer(name, **kw)`` adapts it for ``memnb.models.Decoder``. The
equations live in each layer's module (``ZOO[name].module``), one jump from here.
Checks the memory-zoo chapter runs on every entry:

- ``segment_error``: the largest difference between one pass over a sequence and the same
  sequence fed in segments with the state carried (0 up to rounding for every layer here);
- ``future_leak``: the largest change at positions < t when the token at t is edited
  (exactly 0 for a causal layer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn

from memnb import layers
from memnb.layers.state import state_tensors
from memnb.models.decoder import DecoderConfig


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


def mixer(name: str, segment_len: int = 64) -> Callable[[DecoderConfig, int], nn.Module]:
    """A ``Decoder`` mixer factory building ``name`` in every layer."""
    build(name, 8, 2, segment_len)  # fail now, with the zoo's list, on a bad name
    return lambda cfg, i: build(name, cfg.d_model, cfg.n_heads, segment_len)


@torch.no_grad()
def segment_error(layer: nn.Module, x: torch.Tensor, segment: int) -> float:
    """max |one pass − segment by segment with the state carried| over the whole output."""
    full, _ = layer(x, None)
    state, parts = None, []
    for start in range(0, x.size(1), segment):
        y, state = layer(x[:, start : start + segment], state)
        parts.append(y)
    return (torch.cat(parts, 1) - full).abs().max().item()


@torch.no_grad()
def future_leak(layer: nn.Module, x: torch.Tensor, t: int) -> float:
    """max |change at positions < t| when the input at position t is replaced by noise."""
    edited = x.clone()
    edited[:, t] = torch.randn_like(edited[:, t])
    return (layer(edited, None)[0][:, :t] - layer(x, None)[0][:, :t]).abs().max().item()


def num_params(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters())


def state_bytes(state) -> int:
    """Bytes held by every tensor in a (nested) layer state."""
    return sum(t.numel() * t.element_size() for t in state_tensors(state))

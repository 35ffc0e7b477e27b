"""The registry of every memory: each sequence-mixing layer under one name, built the same way.

``MEMORIES`` holds one ``Entry`` per memory layer of ``memnb.layers`` with the book's default
settings for it; ``build(name, d_model, n_heads, segment_len)`` returns a fresh layer and
``mixer(name, **kw)`` adapts it for ``memnb.models.Decoder``. The equations live in each layer's
module (``MEMORIES[name].module``), one jump from here.

Two chapters read it: the memory-zoo chapter (02) checks ``ZOO``, the entries with
``in_zoo_chapter`` (the nine memories that chapter was written for; the checks are in
``memnb.eval.probes``), and the leaderboard (``memnb.leaderboard``) ranks every entry of
``MEMORIES``: the zoo plus ``prefix_memory`` (AMS) and ``retrieval_context`` (HRS), which joined
with the leaderboard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn as nn

from memnb import layers
from memnb.layers.prefix_memory import PrefixMemory
from memnb.layers.retrieval_context import RetrievalContext
from memnb.layers.state import state_tensors


@dataclass(frozen=True)
class Entry:
    name: str
    module: str  # where the equation is
    seed: str  # which seed project uses it
    make: Callable[[int, int, int], nn.Module]  # (d_model, n_heads, segment_len) -> layer
    in_zoo_chapter: bool = True  # checked by the memory-zoo chapter (02)


MEMORIES: dict[str, Entry] = {
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
        Entry(
            "prefix_memory",
            "memnb.layers.prefix_memory",
            "AMS (causal)",
            lambda d, h, s: PrefixMemory(d, h, segment_len=s),
            in_zoo_chapter=False,
        ),
        Entry(
            "retrieval_context",
            "memnb.layers.retrieval_context",
            "HRS retrieval into context",
            lambda d, h, s: RetrievalContext(d, h, segment_len=s, chunk_len=max(1, s // 4)),
            in_zoo_chapter=False,
        ),
    ]
}
ZOO: dict[str, Entry] = {name: e for name, e in MEMORIES.items() if e.in_zoo_chapter}


def check(name: str) -> None:
    """Raise ValueError, listing every memory, unless ``name`` is one."""
    if name not in MEMORIES:
        raise ValueError(f"unknown memory {name!r}; the registry has: {', '.join(MEMORIES)}")


def build(name: str, d_model: int, n_heads: int, segment_len: int = 64) -> nn.Module:
    check(name)
    return MEMORIES[name].make(d_model, n_heads, segment_len)


def mixer(name: str, segment_len: int = 64) -> Callable[[object, int], nn.Module]:
    """A ``Decoder`` mixer factory building ``name`` in every layer."""
    check(name)  # fail now, with the registry's list, on a bad name
    return lambda cfg, i: build(name, cfg.d_model, cfg.n_heads, segment_len)


def num_params(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters())


def state_bytes(state) -> int:
    """Bytes held by every tensor in a (nested) layer state."""
    return sum(t.numel() * t.element_size() for t in state_tensors(state))

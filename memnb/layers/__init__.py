"""Sequence-mixing layers with memory. Every layer has ``forward(x, state=None) -> (y, state)``
with x, y ``[B, T, d]``; ``state=None`` is the empty memory, and carrying the returned state into
the next call continues the same sequence (see each module's docstring for the exact
semantics, and ``state.detach_state`` for truncated BPTT)."""

from memnb.layers.attention import CausalSelfAttention, KVCache
from memnb.layers.cross_attention import GatedCrossAttention
from memnb.layers.drex_memory import DrexL4Memory, DrexL4State
from memnb.layers.exp_kernel_attention import ExpKernelAttention
from memnb.layers.gated_delta_rule import GatedDeltaNet
from memnb.layers.infini_attention import InfiniAttention, InfiniState
from memnb.layers.kv_memory import KVMemory, KVMemoryState
from memnb.layers.memory_tokens import MemoryTokens, MemoryTokensState
from memnb.layers.sliding_window import SlidingWindowAttention
from memnb.layers.ssd import Mamba2, SSDState
from memnb.layers.state import detach_state
from memnb.layers.titans import TitansMemory, TitansState

__all__ = [
    "CausalSelfAttention",
    "DrexL4Memory",
    "DrexL4State",
    "ExpKernelAttention",
    "GatedCrossAttention",
    "GatedDeltaNet",
    "InfiniAttention",
    "InfiniState",
    "KVCache",
    "KVMemory",
    "KVMemoryState",
    "Mamba2",
    "MemoryTokens",
    "MemoryTokensState",
    "SSDState",
    "SlidingWindowAttention",
    "TitansMemory",
    "TitansState",
    "detach_state",
]

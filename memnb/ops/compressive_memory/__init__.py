"""Infini-attention's compressive memory (Munkhdalai, Faruqui & Gopal 2024, "Leave No Context
Behind: Efficient Infinite Context Transformers with Infini-attention", §2.1.2), read and
written once per segment; the "drex" write is Drex's L2 (book/appendix/drex.md §1).

``compressive_memory(q, k, v, *, segment_len, update="delta", initial_state=None, impl="auto")
-> (o, final_state)`` with q, k ``[B, T, H, D_k]``, v ``[B, T, H, D_v]`` (fla's layout; q and k
before the feature map, which the op applies) and ``CompressiveMemoryState(M [B, H, D_k, D_v],
z [B, H, D_k], k [B, s, H, D_k], v [B, s, H, D_v])``: the memory, its normaliser, and the
keys and values of the s < segment_len tokens of the unfinished segment. Segments of
``segment_len`` tokens are counted from the first token of the stream, so any split of a
sequence, with the state carried, gives the one-pass outputs. With σ(x) = ELU(x) + 1, per
segment s (rows of Q_s, K_s, V_s are its tokens)::

    o_t = σ(q_t)ᵀ M_{s−1} / max(σ(q_t)·z_{s−1}, 1e-6)       every token of segment s
    M_s = M_{s−1} + σ(K_s)ᵀ Δ_s,   z_s = z_{s−1} + Σ_t σ(k_t)     when segment s completes
    Δ_s = V_s − σ(K_s) M_{s−1} / (σ(K_s) z_{s−1})    update="delta"  (paper)
          V_s                                        update="linear" (paper)
          V_s − σ(K_s) M_{s−1}                       update="drex"   (Drex L2)

An empty memory (zeros, the default state) reads exactly 0. o ``[B, T, H, D_v]`` has q's dtype.
Impls (``IMPLS``): ``naive`` (per-token loop, the reference) and ``chunked`` (one matmul read
and one matmul write per segment, the layer's path); ``auto`` takes ``chunked``. Both are
differentiable by autograd.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from memnb.ops.checks import check_tensor
from memnb.ops.compressive_memory.chunked import (
    EPS,
    Update,
    chunked_compressive_memory,
    elu1,
    memory_read,
    memory_write,
    segment_pieces,
)
from memnb.ops.compressive_memory.naive import naive_compressive_memory

UPDATES = ("delta", "linear", "drex")
IMPLS = ("naive", "chunked")

__all__ = [
    "EPS",
    "IMPLS",
    "UPDATES",
    "CompressiveMemoryState",
    "Update",
    "compressive_memory",
    "elu1",
    "memory_read",
    "memory_write",
    "segment_pieces",
]


class CompressiveMemoryState(NamedTuple):
    M: torch.Tensor  # [B, H, D_k, D_v]
    z: torch.Tensor  # [B, H, D_k]
    k: torch.Tensor  # [B, s, H, D_k], s < segment_len: keys of the unfinished segment
    v: torch.Tensor  # [B, s, H, D_v]


def compressive_memory(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    segment_len: int,
    update: Update = "delta",
    initial_state: CompressiveMemoryState | None = None,
    impl: str = "auto",
) -> tuple[torch.Tensor, CompressiveMemoryState]:
    """Read and write the compressive memory over ``[B, T, H, ·]`` inputs; see the module docstring."""
    if impl not in ("auto", *IMPLS):
        raise ValueError(f"impl must be one of {('auto', *IMPLS)}, got {impl!r}")
    if update not in UPDATES:
        raise ValueError(f"update must be one of {UPDATES}, got {update!r}")
    if not isinstance(segment_len, int) or segment_len < 1:
        raise ValueError(f"segment_len must be an int >= 1, got {segment_len!r}")
    check_tensor("q", q, (None, None, None, None))
    B, T, H, Dk = q.shape
    check_tensor("k", k, (B, T, H, Dk))
    check_tensor("v", v, (B, T, H, None))
    Dv = v.shape[-1]
    if T < 1:
        raise ValueError("the sequence must have at least one token (T >= 1)")
    if initial_state is None:
        M = q.new_zeros(B, H, Dk, Dv)
        initial_state = CompressiveMemoryState(M, M.new_zeros(B, H, Dk), k[:, :0], v[:, :0])
    M, z, k_seg, v_seg = initial_state
    check_tensor("initial_state.M", M, (B, H, Dk, Dv))
    check_tensor("initial_state.z", z, (B, H, Dk))
    check_tensor("initial_state.k", k_seg, (B, None, H, Dk))
    check_tensor("initial_state.v", v_seg, (B, k_seg.size(1), H, Dv))
    if k_seg.size(1) >= segment_len:
        raise ValueError(f"the state holds {k_seg.size(1)} pending tokens, expected fewer than {segment_len}")
    fn = naive_compressive_memory if impl == "naive" else chunked_compressive_memory
    heads_first = [x.transpose(1, 2) for x in (q, k, v, k_seg, v_seg)]  # [B, H, T, D]: views
    o, (M, z, k_seg, v_seg) = fn(
        *heads_first[:3], segment_len=segment_len, update=update, M=M, z=z, k_seg=heads_first[3], v_seg=heads_first[4]
    )
    return o.transpose(1, 2), CompressiveMemoryState(M, z, k_seg.transpose(1, 2), v_seg.transpose(1, 2))

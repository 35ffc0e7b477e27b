"""Infini-attention's compressive memory, segment-parallel form: the CPU path.

Same recurrence as ``naive.py`` (Munkhdalai, Faruqui & Gopal 2024, "Leave No Context Behind",
§2.1.2). Per segment s of N tokens, with σ(x) = ELU(x) + 1 applied row-wise:

    read:   A_mem = σ(Q_s) M_{s−1} / (σ(Q_s) z_{s−1})          all N reads in one matmul
    write:  M_s = M_{s−1} + σ(K_s)ᵀ Δ_s,   z_s = z_{s−1} + Σ_t σ(K_s)_t
            Δ_s = V_s − σ(K_s) M_{s−1} / (σ(K_s) z_{s−1})   "delta"
                  V_s                                      "linear"
                  V_s − σ(K_s) M_{s−1}                      "drex"

Inputs are heads-first ``[B, H, T, D]``; the keys and values of the unfinished segment wait in
``k_seg``, ``v_seg`` ``[B, H, s, D]`` and are written when it completes. Denominators are
clamped at ``EPS``, so an empty memory (M = 0, z = 0) reads exactly 0.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

Update = Literal["delta", "linear", "drex"]
EPS = 1e-6


def elu1(x: torch.Tensor) -> torch.Tensor:
    """σ(x) = ELU(x) + 1 > 0, the feature map of the memory."""
    return F.elu(x) + 1.0


def memory_read(sq: torch.Tensor, M: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """A_mem = σ(Q) M / (σ(Q) z) for ``sq = σ(Q)`` ``[B, H, T, D_k]``, M ``[B, H, D_k, D_v]``,
    z ``[B, H, D_k]``."""
    return (sq @ M) / (sq @ z.unsqueeze(-1)).clamp_min(EPS)


def memory_write(
    sk: torch.Tensor, v: torch.Tensor, M: torch.Tensor, z: torch.Tensor, update: Update
) -> tuple[torch.Tensor, torch.Tensor]:
    """One segment's write of ``sk = σ(K)`` ``[B, H, N, D_k]`` and V ``[B, H, N, D_v]``."""
    if update == "linear":
        delta = v
    elif update == "delta":
        delta = v - memory_read(sk, M, z)
    else:
        delta = v - sk @ M
    return M + sk.transpose(-2, -1) @ delta, z + sk.sum(dim=-2)


def segment_pieces(seen: int, T: int, segment_len: int) -> list[tuple[int, int]]:
    """``(start, length)`` of the pieces a ``T``-token call is cut into, each ending at a segment
    boundary or at the call's end, when ``seen`` tokens of the current segment came before."""
    pieces, i = [], 0
    while i < T:
        n = min(segment_len - seen, T - i)
        pieces.append((i, n))
        seen, i = (seen + n) % segment_len, i + n
    return pieces


def chunked_compressive_memory(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    segment_len: int,
    update: Update,
    M: torch.Tensor,
    z: torch.Tensor,
    k_seg: torch.Tensor,
    v_seg: torch.Tensor,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Reads ``[B, H, T, D_v]`` and the state ``(M, z, k_seg, v_seg)`` after the call."""
    reads = []
    for i, n in segment_pieces(k_seg.size(2), q.size(2), segment_len):
        k_seg = torch.cat((k_seg, k[:, :, i : i + n]), dim=2)
        v_seg = torch.cat((v_seg, v[:, :, i : i + n]), dim=2)
        reads.append(memory_read(elu1(q[:, :, i : i + n]), M, z))
        if k_seg.size(2) == segment_len:
            M, z = memory_write(elu1(k_seg), v_seg, M, z, update)
            k_seg, v_seg = k_seg[:, :, :0], v_seg[:, :, :0]
    return torch.cat(reads, dim=2), (M, z, k_seg, v_seg)

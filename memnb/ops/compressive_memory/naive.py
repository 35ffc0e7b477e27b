"""Infini-attention's compressive memory, per-token reference (Munkhdalai, Faruqui & Gopal 2024,
"Leave No Context Behind: Efficient Infinite Context Transformers with Infini-attention", §2.1.2).

Per head, memory M ∈ R^{D_k×D_v} and normaliser z ∈ R^{D_k}, σ(x) = ELU(x) + 1. Token t of
segment s (segments of N tokens) reads the memory as it was at the segment's start and adds its
own write to the segment's pending update, applied when the segment completes:

    o_t  = σ(q_t)ᵀ M / max(σ(q_t)·z, ε)
    δ_t  = v_t − Mᵀσ(k_t) / max(σ(k_t)·z, ε)    "delta"   (M, z: the segment-start state)
           v_t                                   "linear"
           v_t − Mᵀσ(k_t)                        "drex"    (Drex L2: no normalisation)
    ΔM  += σ(k_t) δ_tᵀ,   Δz += σ(k_t)
    at the segment's last token:  M ← M + ΔM,  z ← z + Δz,  ΔM, Δz ← 0

Heads-first layout ``[B, H, T, D]``; the pending tokens ``k_seg``, ``v_seg`` of an unfinished
segment (from an earlier call) are replayed into ΔM, Δz first. Differentiable by autograd.
"""

from __future__ import annotations

import torch

from memnb.ops.compressive_memory.chunked import EPS, Update, elu1


def naive_compressive_memory(
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
    dM, dz = torch.zeros_like(M), torch.zeros_like(z)

    def add_write(k_t: torch.Tensor, v_t: torch.Tensor) -> None:  # one token's share of the write
        nonlocal dM, dz
        sk = elu1(k_t)  # [B, H, D_k]
        if update == "linear":
            delta = v_t
        elif update == "delta":
            delta = v_t - torch.einsum("bhk,bhkv->bhv", sk, M) / (sk * z).sum(-1, keepdim=True).clamp_min(EPS)
        else:
            delta = v_t - torch.einsum("bhk,bhkv->bhv", sk, M)
        dM = dM + sk.unsqueeze(-1) * delta.unsqueeze(-2)
        dz = dz + sk

    seen = k_seg.size(2)
    for j in range(seen):
        add_write(k_seg[:, :, j], v_seg[:, :, j])
    reads = []
    for t in range(q.size(2)):
        sq = elu1(q[:, :, t])
        reads.append(torch.einsum("bhk,bhkv->bhv", sq, M) / (sq * z).sum(-1, keepdim=True).clamp_min(EPS))
        add_write(k[:, :, t], v[:, :, t])
        seen += 1
        if seen == segment_len:
            M, z = M + dM, z + dz
            dM, dz, seen = torch.zeros_like(dM), torch.zeros_like(dz), 0
    keys, values = torch.cat((k_seg, k), dim=2), torch.cat((v_seg, v), dim=2)
    rest = keys.size(2) - seen  # the last `seen` tokens form the unfinished segment
    return torch.stack(reads, dim=2), (M, z, keys[:, :, rest:], values[:, :, rest:])

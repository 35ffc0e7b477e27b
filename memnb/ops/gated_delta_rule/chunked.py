"""Gated delta rule, chunked WY/UT form in plain torch: the CPU fast path.

Same recurrence as ``naive.py`` (Yang, Kautz & Hatamizadeh 2024, Gated DeltaNet §3; the WY
representation of DeltaNet, Yang et al. 2024). The sequence is cut into chunks of C tokens.
With S the state at a chunk's start, Γ_t = exp(G_t) and G_t the cumulative log decay:

    A_ti = beta_t (Γ_t/Γ_i) k_t·k_i  (i < t),   T = (I + A)^{-1}          (UT transform)
    W    = T (beta Γ ⊙ K),   U0 = T (beta ⊙ V)
    U    = U0 − W S                                    the chunk's corrections u_t, all at once
    O    = (scale Γ ⊙ Q) S + [(Γ_t/Γ_i) scale q_t·k_i]_{i≤t} U
    S'   = Γ_C S + ((Γ_C/Γ_i) ⊙ K)ᵀ U

Chunks are processed in groups (about ``_GROUP_MATRICES`` batch·head·chunk matrices, so the
intermediates stay in cache): everything that does not depend on S is computed for the whole
group with batched matmuls, and only the state pass (three matmuls per chunk) loops.
T is formed without row-by-row substitution: 16×16 diagonal blocks by the nilpotent product
(I + N)^{-1} = (I − N)(I + N²)(I + N⁴)(I + N⁸), then merged pairwise.

Decay: when the log decay accumulated over a group stays within ±``_FACTOR_LIMIT``, Γ is
taken relative to the group start and folded into the operands (Γ_t/Γ_i as Γ_t · Γ_i^{-1}), and
the state is carried divided by Γ until the group ends, so the loop has no decay step. Otherwise
the ratios are formed as exp(G_t − G_i) inside each chunk and the state is decayed per chunk.
Differentiable by autograd.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# Largest |log decay| within a group for which Γ and 1/Γ are both formed.
_FACTOR_LIMIT = {torch.float32: 30.0, torch.float64: 300.0}
_GROUP_MATRICES = 128


def unit_lower_inverse(A: torch.Tensor, block: int = 16) -> torch.Tensor:
    """(I + A)^{-1} for strictly lower-triangular A ``[M, C, C]``, C a power of two."""
    M, C, _ = A.shape
    b = min(C, block)
    n = C // b
    N = A if n == 1 else torch.diagonal(A.view(M, n, b, n, b), dim1=1, dim2=3).permute(0, 3, 1, 2)
    X = torch.eye(b, dtype=A.dtype, device=A.device) - N
    P = N
    for _ in range(b.bit_length() - 2):  # X ← X (I + N^{2^j}), j = 1 .. log2(b) − 1
        P = P @ P
        X = X + X @ P
    s = b
    while s < C:  # [[X11, 0], [A21, X22]] → inverse with X21 = −X22 A21 X11: s → 2s
        n = C // (2 * s)
        X = X.reshape(M, n, 2, s, s)
        X11, X22 = X[:, :, 0], X[:, :, 1]
        A21 = torch.diagonal(A.view(M, n, 2, s, n, 2, s)[:, :, 1, :, :, 0, :], dim1=1, dim2=3)
        X21 = -(X22 @ (A21.permute(0, 3, 1, 2) @ X11))
        X = torch.cat([torch.cat([X11, torch.zeros_like(X11)], -1), torch.cat([X21, X22], -1)], -2)
        s *= 2
    return X.reshape(M, C, C)


def _groups(G_chunk: torch.Tensor, most: int, limit: float) -> list[tuple[int, int, bool]]:
    """Consecutive chunk groups ``(start, size, factored)`` of at most ``most`` chunks. A group is
    factored when its accumulated |log decay| is provably within ``limit`` (the sum over its
    chunks of each chunk's largest |G|); chunks that exceed it alone go to exact groups."""
    bound = G_chunk.abs().flatten(1).amax(1).tolist()
    groups, n0 = [], 0
    while n0 < len(bound):
        n, total = 0, 0.0
        while n0 + n < len(bound) and n < most and total + bound[n0 + n] <= limit:
            total += bound[n0 + n]
            n += 1
        factored = n > 0
        while not factored and n0 + n < len(bound) and n < most and bound[n0 + n] > limit:
            n += 1
        groups.append((n0, n, factored))
        n0 += n
    return groups


def chunked_gated_delta_rule(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    chunk_size: int = 32,
    factor_limit: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``factor_limit``: the largest accumulated |log decay| of a group for which Γ is folded into
    the operands (None: ``_FACTOR_LIMIT`` of the dtype). A chunk's bound covers all its tokens, so
    the path a chunk takes depends on its later tokens, and the two paths round differently;
    ``factor_limit=0`` sends every chunk down the exp-difference path (even one with no decay at
    all), whose output at t then depends on no input after t, bit for bit (~1.4x the time of the
    op on a 2-core CPU)."""
    if chunk_size < 1 or chunk_size & (chunk_size - 1):
        raise ValueError(f"chunk_size must be a power of two, got {chunk_size}")
    if factor_limit is not None and not factor_limit >= 0:
        raise ValueError(f"factor_limit must be >= 0 or None, got {factor_limit!r}")
    B, T, H, K = q.shape
    V = v.shape[-1]
    C, BH = chunk_size, B * H
    dtype = torch.float64 if q.dtype == torch.float64 else torch.float32
    pad = -T % C
    if pad:
        q, k, v = (F.pad(x, (0, 0, 0, 0, 0, pad)) for x in (q, k, v))
        g, beta = (F.pad(x, (0, 0, 0, pad)) for x in (g, beta))
    N = (T + pad) // C
    q, k, v = (x.reshape(B, N, C, H, x.shape[-1]) for x in (q, k, v))
    g, beta = (x.to(dtype).reshape(B, N, C, H).permute(1, 0, 3, 2).contiguous() for x in (g, beta))
    lower = torch.ones(C, C, dtype=torch.bool, device=q.device).tril()
    if initial_state is None:
        S = torch.zeros(BH, K, V, dtype=dtype, device=q.device)
    else:
        S = initial_state.to(dtype).reshape(BH, K, V)
    o = torch.empty(B, N, C, H, V, dtype=v.dtype, device=v.device)
    G_chunk = g.cumsum(-1)  # log decay from each chunk's start, [N, B, H, C]
    limit = _FACTOR_LIMIT[dtype] if factor_limit is None else float(factor_limit) or -math.inf
    for n0, n, factored in _groups(G_chunk, max(1, _GROUP_MATRICES // BH), limit):
        M = n * BH

        def tiles(x: torch.Tensor, s: torch.Tensor, n0: int = n0, n: int = n) -> torch.Tensor:
            """Rows of x for this group's chunks, scaled by s ``[n, B, H, C]``: ``[n·B·H, C, d]``."""
            return (s.unsqueeze(-1) * x[:, n0 : n0 + n].permute(1, 0, 3, 2, 4)).reshape(-1, C, x.shape[-1])

        bc, Gc = beta[n0 : n0 + n], G_chunk[n0 : n0 + n]
        G = Gc + (Gc[..., -1].cumsum(0) - Gc[..., -1]).unsqueeze(-1)  # log decay from the group's start
        gam = (G if factored else Gc).exp()
        kb, qg = tiles(k, bc * gam), tiles(q, gam * scale)
        if factored:
            kd = tiles(k, 1 / gam)  # k_i / Γ_i: the state is carried as S / Γ until the group ends
            A, QK = torch.bmm(kb, kd.transpose(1, 2)), torch.bmm(qg, kd.transpose(1, 2))
            decay = None
        else:
            ratio = (Gc.unsqueeze(-1) - Gc.unsqueeze(-2)).masked_fill(~lower, -torch.inf).exp()
            ratio = ratio.reshape(M, C, C)
            k_t = tiles(k, torch.ones_like(bc)).transpose(1, 2)
            A = torch.bmm(tiles(k, bc), k_t) * ratio
            QK = torch.bmm(tiles(q, torch.full_like(bc, scale)), k_t) * ratio
            kd = tiles(k, (Gc[..., -1:] - Gc).exp())  # k_i Γ_C / Γ_i
            decay = gam[..., -1].reshape(n, BH, 1, 1)
        Tinv = unit_lower_inverse(A.tril(-1))
        QK = QK.tril()
        W = torch.bmm(Tinv, kb).view(n, BH, C, K)
        U0 = torch.bmm(Tinv, tiles(v, bc)).view(n, BH, C, V)
        qg = qg.view(n, BH, C, K)
        kdT = kd.transpose(1, 2).view(n, BH, K, C)
        reads, us = [], []
        for j in range(n):  # the state pass, the only sequential part
            reads.append(torch.bmm(qg[j], S))
            U = torch.baddbmm(U0[j], W[j], S, alpha=-1)
            S = torch.baddbmm(S if decay is None else S * decay[j], kdT[j], U)
            us.append(U)
        if decay is None:
            S = S * gam[-1, ..., -1].reshape(BH, 1, 1)
        oc = torch.baddbmm(torch.cat(reads), QK, torch.cat(us))
        o[:, n0 : n0 + n] = oc.view(n, B, H, C, V).permute(1, 0, 3, 2, 4)
    o = o.view(B, N * C, H, V)[:, :T]
    return o, (S.view(B, H, K, V) if output_final_state else None)

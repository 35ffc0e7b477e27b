"""SSD (Mamba-2) selective scan, chunked state-space-dual form (Dao & Gu 2024, §6, "SSD algorithm").

Same recurrence as ``naive.py``. The sequence is cut into chunks of Q tokens. Within a chunk the
output is a masked attention-like matmul plus the carried state's contribution,

    y_t = Σ_{s≤t} exp(Σ_{s<r≤t} Δ_r A) (C_t·B_s) Δ_s x_s  +  exp(Σ_{r≤t} Δ_r A) H_0 C_t,

and the state passes from chunk to chunk,

    H' = exp(Σ_{r≤Q} Δ_r A) H_0 + Σ_s exp(Σ_{s<r≤Q} Δ_r A) Δ_s x_s B_sᵀ.

Cost: O(T·Q) for the intra-chunk products, linear in T for a fixed Q; the chunks are visited
one after the other. Differentiable by autograd.
"""

from __future__ import annotations

import math

import torch


def segsum(a: torch.Tensor) -> torch.Tensor:
    """``[..., L] -> [..., L, L]`` with entry (t, s) = Σ_{s<r≤t} a_r for s ≤ t and −inf above the
    diagonal, summed directly (no difference of cumulative sums, which loses precision)."""
    L = a.size(-1)
    ones = torch.ones(L, L, dtype=torch.bool, device=a.device)
    terms = a.unsqueeze(-1).expand(*a.shape, L).masked_fill(~ones.tril(-1), 0.0)
    return terms.cumsum(dim=-2).masked_fill(~ones.tril(0), -math.inf)


def chunked_ssd(
    x: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    h: torch.Tensor,
    chunk_size: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same map as ``naive_ssd``, in chunks of ``chunk_size`` tokens (SSD form)."""
    ys = []
    for c in range(0, x.size(1), chunk_size):
        xc, dtc = x[:, c : c + chunk_size], dt[:, c : c + chunk_size]
        Bc, Cc = B[:, c : c + chunk_size], C[:, c : c + chunk_size]
        decay = torch.exp(segsum((dtc * A).transpose(1, 2)))  # [b, H, L, L], (t, s): s → t
        u = dtc.unsqueeze(-1) * xc  # Δ_s x_s
        y_intra = torch.einsum("bhts,bts,bshp->bthp", decay, Cc @ Bc.transpose(1, 2), u)
        from_start = torch.exp((dtc * A).cumsum(dim=1))  # [b, L, H]: decay from chunk start to t
        y_inter = torch.einsum("btn,bhpn,bth->bthp", Cc, h, from_start)
        to_end = decay[:, :, -1]  # [b, H, L]: decay from s to the chunk's last token
        h = from_start[:, -1, :, None, None] * h + torch.einsum("bhs,bshp,bsn->bhpn", to_end, u, Bc)
        ys.append(y_intra + y_inter)
    return torch.cat(ys, dim=1), h

"""Drex L4 memory, loop over tokens vectorised over the batch: the CPU path.

Same recurrence as ``naive.py``. The gate depends on the memory itself, so no chunked form
exists: the steps cannot be batched over time. Both branches are stacked along the batch
(zero-padded to a common size, which leaves the recurrence exact: padded key entries are 0 and
padded value rows stay 0), so each token costs one prediction, one norm, one rank-1 update and
one read for both memories. The memories are held transposed (Mᵀ, ``[2B, D, V]``) so that reads
are row-vector products k̂ᵀMᵀ, which run much faster on CPU than matrix-vector products M k̂.
Key normalisation, value norms and write weights are hoisted out of the loop. Differentiable by
autograd (the hard gate has zero gradient).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from memnb.ops.drex_memory.naive import EPS


def _pair(sem: torch.Tensor, epi: torch.Tensor, width: int) -> torch.Tensor:
    """Stack ``[B, T, ·]`` semantic and episodic inputs, zero-padded to ``width``: ``[T, 2B, width]``."""
    both = torch.cat([F.pad(sem, (0, width - sem.shape[-1])), F.pad(epi, (0, width - epi.shape[-1]))])
    return both.transpose(0, 1).contiguous()


def vectorised_drex_memory(
    k_sem: torch.Tensor,
    k_epi: torch.Tensor,
    v_sem: torch.Tensor,
    v_epi: torch.Tensor,
    q_sem: torch.Tensor | None,
    q_epi: torch.Tensor | None,
    *,
    eta: float,
    thresh: float,
    gate: str,
    epi_weight: torch.Tensor,
    m_sem: torch.Tensor,
    m_epi: torch.Tensor,
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor, torch.Tensor]:
    B, T, Ds = k_sem.shape
    De, Vs, Ve = k_epi.shape[-1], v_sem.shape[-1], v_epi.shape[-1]
    Dm, Vm = max(Ds, De), max(Vs, Ve)
    k = _pair(k_sem, k_epi, Dm)
    k = k / k.norm(dim=-1, keepdim=True).clamp_min(EPS)
    v = _pair(v_sem, v_epi, Vm)
    bound = thresh * v.norm(dim=-1)  # [T, 2B]
    rate = torch.cat([torch.ones(T, B, dtype=v.dtype, device=v.device), epi_weight[:, None].expand(T, B)], 1) * eta
    q = None if q_sem is None else _pair(q_sem, q_epi, Dm)
    M = torch.cat([F.pad(m_sem, (0, Dm - Ds, 0, Vm - Vs)), F.pad(m_epi, (0, Dm - De, 0, Vm - Ve))])
    Mt = M.transpose(1, 2).contiguous()  # [2B, Dm, Vm]
    fires, reads = [], []
    for t in range(T):
        e = v[t] - torch.bmm(k[t].unsqueeze(1), Mt).squeeze(1)  # v − M k̂, [2B, Vm]
        over = e.norm(dim=-1) >= bound[t]
        if gate == "or":
            f = over[:B] | over[B:]
        elif gate == "and":
            f = over[:B] & over[B:]
        else:
            f = torch.ones_like(over[:B])
        step = rate[t] * f.to(v.dtype).repeat(2)
        Mt = torch.addcmul(Mt, k[t].unsqueeze(-1), (step[:, None] * e).unsqueeze(1))  # Mᵀ + k̂ (step e)ᵀ
        fires.append(f)
        if q is not None:
            reads.append(torch.bmm(q[t].unsqueeze(1), Mt).squeeze(1))
    readout = None
    if q is not None:
        r = torch.stack(reads, dim=1)  # [2B, T, Vm]
        readout = torch.cat([r[:B, :, :Vs], r[B:, :, :Ve]], dim=-1)
    M = Mt.transpose(1, 2).contiguous()
    return readout, torch.stack(fires, dim=1), M[:B, :Vs, :Ds], M[B:, :Ve, :De]

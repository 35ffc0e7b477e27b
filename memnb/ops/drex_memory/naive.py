"""Drex L4 memory, plain per-row, per-token reference (Drex ``python/drex/models/memory.py``).

Two associative matrices, semantic M_s and episodic M_e, written token by token:

    k̂ = k / max(‖k‖, 1e-6)                           (per branch)
    e_s = v_s − M_s k̂_s,   e_e = v_e − M_e k̂_e        prediction errors (v = k in the seed)
    fire_t = [‖e_s‖ ≥ θ‖v_s‖]  OR / AND  [‖e_e‖ ≥ θ‖v_e‖]   (gate "none": always 1)
    M_s ← M_s + η fire_t e_s k̂_sᵀ
    M_e ← M_e + η fire_t w_t e_e k̂_eᵀ                 w_t: episodic weight, Drex (t+1)/L
    readout_t = [M_s q_s,t ; M_e q_e,t]               state after the write at t

Returns ``(readout | None, fire, M_s, M_e)``; autograd flows through M and the keys, never
through the hard gate.
"""

from __future__ import annotations

import torch

EPS = 1e-6


def naive_drex_memory(
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
    B, T, _ = k_sem.shape
    fire = torch.zeros(B, T, dtype=torch.bool, device=k_sem.device)
    rows, finals_s, finals_e = [], [], []
    for b in range(B):
        Ms, Me, reads = m_sem[b], m_epi[b], []
        for t in range(T):
            ks = k_sem[b, t] / k_sem[b, t].norm().clamp_min(EPS)
            ke = k_epi[b, t] / k_epi[b, t].norm().clamp_min(EPS)
            es, ee = v_sem[b, t] - Ms @ ks, v_epi[b, t] - Me @ ke
            fs = bool(es.norm() >= thresh * v_sem[b, t].norm())
            fe = bool(ee.norm() >= thresh * v_epi[b, t].norm())
            f = {"or": fs or fe, "and": fs and fe, "none": True}[gate]
            fire[b, t] = f
            if f:
                Ms = Ms + eta * torch.outer(es, ks)
                Me = Me + eta * epi_weight[t] * torch.outer(ee, ke)
            if q_sem is not None:
                reads.append(torch.cat([Ms @ q_sem[b, t], Me @ q_epi[b, t]]))
        finals_s.append(Ms)
        finals_e.append(Me)
        if q_sem is not None:
            rows.append(torch.stack(reads))
    readout = torch.stack(rows) if q_sem is not None else None
    return readout, fire, torch.stack(finals_s), torch.stack(finals_e)

"""Drex L4 memory, fused-recurrent Triton kernel (forward only).

Same recurrence as ``naive.py``. One program per batch row keeps both matrices M_s and M_e in
registers for the whole sequence and walks the tokens: per token it loads the keys (and values,
queries), computes the two prediction errors, the gate and both rank-1 updates, and stores the
fire bit (and the readout). It computes in float32 whatever the input dtype. Suited to the
seed's small memories (d/2 ≤ 64 per branch); larger matrices spill. Forward only: the op's
dispatcher sends anything that needs gradients to the vectorised torch path (the hard gate
itself has zero gradient anyway).

Runs on CUDA, or on CPU tensors under ``TRITON_INTERPRET=1`` (set before triton is imported;
used by the tests).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from memnb.ops.drex_memory.naive import EPS

_GATE_CODE = {"or": 0, "and": 1, "none": 2}
_EPS = tl.constexpr(EPS)


@triton.jit
def _drex_fwd_kernel(
    ks_ptr, ke_ptr, vs_ptr, ve_ptr, qs_ptr, qe_ptr, w_ptr,  # [B,T,·] inputs, w [T]
    ms_ptr, me_ptr,  # [B, VS, DS], [B, VE, DE]: initial state in, final state out
    r_ptr, fire_ptr,  # [B, T, VS+VE], [B, T]
    T, eta, thresh,
    DS: tl.constexpr, DE: tl.constexpr, VS: tl.constexpr, VE: tl.constexpr,
    BDS: tl.constexpr, BDE: tl.constexpr, BVS: tl.constexpr, BVE: tl.constexpr,
    GATE: tl.constexpr, READ: tl.constexpr,
):  # fmt: skip
    b = tl.program_id(0)
    ds, de = tl.arange(0, BDS), tl.arange(0, BDE)
    vs, ve = tl.arange(0, BVS), tl.arange(0, BVE)
    m_s_off = b * VS * DS + vs[:, None] * DS + ds[None, :]
    m_e_off = b * VE * DE + ve[:, None] * DE + de[None, :]
    m_s_mask = (vs[:, None] < VS) & (ds[None, :] < DS)
    m_e_mask = (ve[:, None] < VE) & (de[None, :] < DE)
    Ms = tl.load(ms_ptr + m_s_off, mask=m_s_mask, other=0.0)
    Me = tl.load(me_ptr + m_e_off, mask=m_e_mask, other=0.0)
    for t in range(T):
        row = b * T + t
        k_s = tl.load(ks_ptr + row * DS + ds, mask=ds < DS, other=0.0)
        k_e = tl.load(ke_ptr + row * DE + de, mask=de < DE, other=0.0)
        v_s = tl.load(vs_ptr + row * VS + vs, mask=vs < VS, other=0.0)
        v_e = tl.load(ve_ptr + row * VE + ve, mask=ve < VE, other=0.0)
        k_s = k_s / tl.maximum(tl.sqrt(tl.sum(k_s * k_s, 0)), _EPS)
        k_e = k_e / tl.maximum(tl.sqrt(tl.sum(k_e * k_e, 0)), _EPS)
        e_s = v_s - tl.sum(Ms * k_s[None, :], 1)
        e_e = v_e - tl.sum(Me * k_e[None, :], 1)
        f_s = tl.sqrt(tl.sum(e_s * e_s, 0)) >= thresh * tl.sqrt(tl.sum(v_s * v_s, 0))
        f_e = tl.sqrt(tl.sum(e_e * e_e, 0)) >= thresh * tl.sqrt(tl.sum(v_e * v_e, 0))
        if GATE == 0:
            fire = (f_s | f_e).to(tl.float32)
        elif GATE == 1:
            fire = (f_s & f_e).to(tl.float32)
        else:
            fire = tl.full([], 1.0, tl.float32)
        step = eta * fire
        Ms += step * e_s[:, None] * k_s[None, :]
        Me += (step * tl.load(w_ptr + t)) * e_e[:, None] * k_e[None, :]
        tl.store(fire_ptr + row, fire)
        if READ:
            q_s = tl.load(qs_ptr + row * DS + ds, mask=ds < DS, other=0.0)
            q_e = tl.load(qe_ptr + row * DE + de, mask=de < DE, other=0.0)
            r_off = r_ptr + row * (VS + VE)
            tl.store(r_off + vs, tl.sum(Ms * q_s[None, :], 1), mask=vs < VS)
            tl.store(r_off + VS + ve, tl.sum(Me * q_e[None, :], 1), mask=ve < VE)
    tl.store(ms_ptr + m_s_off, Ms, mask=m_s_mask)
    tl.store(me_ptr + m_e_off, Me, mask=m_e_mask)


def triton_drex_memory(
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
    B, T, DS = k_sem.shape
    DE, VS, VE = k_epi.shape[-1], v_sem.shape[-1], v_epi.shape[-1]

    def f32(x: torch.Tensor) -> torch.Tensor:
        return x.detach().to(torch.float32).contiguous()

    read = q_sem is not None
    ms, me = f32(m_sem).clone(), f32(m_epi).clone()  # the kernel overwrites them in place
    fire = torch.empty(B, T, dtype=torch.float32, device=k_sem.device)
    r = torch.empty(B, T, VS + VE, dtype=torch.float32, device=k_sem.device) if read else fire
    ks, ke = f32(k_sem), f32(k_epi)
    _drex_fwd_kernel[(B,)](
        ks, ke, f32(v_sem), f32(v_epi),
        f32(q_sem) if read else ks, f32(q_epi) if read else ke,
        f32(epi_weight), ms, me, r, fire, T, float(eta), float(thresh),
        DS=DS, DE=DE, VS=VS, VE=VE,
        BDS=triton.next_power_of_2(DS), BDE=triton.next_power_of_2(DE),
        BVS=triton.next_power_of_2(VS), BVE=triton.next_power_of_2(VE),
        GATE=_GATE_CODE[gate], READ=read,
    )  # fmt: skip
    dtype = k_sem.dtype
    readout = r.to(dtype) if read else None
    return readout, fire.bool(), ms.to(dtype), me.to(dtype)

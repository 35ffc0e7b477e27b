"""Drex L4 episodic/semantic delta-rule memory with a state-dependent write gate.

Source: Drex (wesleyscholl/drex) ``python/drex/models/memory.py``, ``MemoryModule``; equations in
book/appendix/drex.md §2. Two associative matrices, semantic M_s ``[B, V_s, D_s]`` and
episodic M_e ``[B, V_e, D_e]``, are written token by token, t = 0..T−1::

    k̂ = k / max(‖k‖, 1e-6)                                  per branch
    e_s = v_s,t − M_s k̂_s,t          e_e = v_e,t − M_e k̂_e,t     prediction errors
    fire_t = [‖e_s‖ ≥ θ‖v_s,t‖]  op  [‖e_e‖ ≥ θ‖v_e,t‖]       op = OR ("or", the seed), AND ("and");
                                                             "none": fire_t = 1 (always write)
    M_s ← M_s + η fire_t e_s k̂_s,tᵀ
    M_e ← M_e + η fire_t w_t e_e k̂_e,tᵀ                       w_t = epi_weight[t]
    readout_t = [M_s q_s,t ; M_e q_e,t]                      the state after the write at t

The seed is auto-associative (values = the keys themselves, v = k, so the gate reads
‖k − M k̂‖ ≥ θ‖k‖); pass ``v_sem``/``v_epi`` for the key→value variant, whose gate is the same
relative prediction error with the value as target. Drex's step size is η = 1 − α with
α = 0.95 fixed or length-adaptive ``alpha_for_length(L) = 0.95 ** (96 / L)``, the episodic
weight is the recency ramp ``recency_weight(L − 1, seq_len=L)`` = (t+1)/L (the seed writes the
first L − 1 positions of an L-token segment and reads at the last), and θ = 0.70.

Signature::

    drex_memory(k_sem [B,T,D_s], k_epi [B,T,D_e], *, v_sem [B,T,V_s] = k_sem,
                v_epi [B,T,V_e] = k_epi, q_sem [B,T,D_s] = None, q_epi [B,T,D_e] = None,
                eta, thresh, gate="or", epi_weight [T] = None (all ones),
                initial_state: DrexMemoryState = None (zeros), impl="auto")
        -> DrexMemoryOut(readout [B,T,V_s+V_e] | None, fire [B,T] bool, state: DrexMemoryState)

Queries are used as given (the seed normalises them; the layer does that). Impls: ``naive``
(per row, per token: the reference), ``vectorised`` (loop over T, batched over B: the CPU path,
differentiable), ``triton`` (fused recurrent kernel, forward only; on CUDA, or CPU under
``TRITON_INTERPRET=1``; computes in float32). ``auto`` takes ``triton`` for CUDA inputs that
need no gradient and are not float64, else ``vectorised``. Gradients flow through the memory and the keys, values and
queries; the hard gate has zero gradient (the seed also runs the write loop under no_grad).
"""

from __future__ import annotations

import importlib.util
import math
import os
from typing import NamedTuple

import torch

from memnb.ops.checks import check_tensor
from memnb.ops.drex_memory.naive import naive_drex_memory
from memnb.ops.drex_memory.vectorised import vectorised_drex_memory

GATES = ("or", "and", "none")
KNOWN_IMPLS = ("naive", "vectorised", "triton")
_TRITON_READY = importlib.util.find_spec("triton") is not None and (
    torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET") == "1"
)
IMPLS = KNOWN_IMPLS if _TRITON_READY else ("naive", "vectorised")


class DrexMemoryState(NamedTuple):
    sem: torch.Tensor  # [B, V_s, D_s]
    epi: torch.Tensor  # [B, V_e, D_e]


class DrexMemoryOut(NamedTuple):
    readout: torch.Tensor | None  # [B, T, V_s + V_e], or None without queries
    fire: torch.Tensor  # [B, T] bool
    state: DrexMemoryState


def alpha_for_length(length: int, *, alpha_ref: float = 0.95, ref_len: int = 96) -> float:
    """Drex's length-adaptive EMA coefficient α(L) = alpha_ref ** (ref_len / L)."""
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    return alpha_ref ** (ref_len / length)


def tau_over_L(alpha: float, length: int) -> float:
    """τ/L with τ = 1/(1 − α), the "memory time constant" per segment length (≈0.21 in Drex)."""
    return 1.0 / ((1.0 - alpha) * length)


def recency_weight(n: int, *, seq_len: int, start: int = 0, device: torch.device | str | None = None) -> torch.Tensor:
    """Drex's episodic weights w_t = (t + 1)/seq_len for positions t = start .. start + n − 1."""
    return (torch.arange(start, start + n, device=device, dtype=torch.float64) + 1) / seq_len


def drex_memory(
    k_sem: torch.Tensor,
    k_epi: torch.Tensor,
    *,
    v_sem: torch.Tensor | None = None,
    v_epi: torch.Tensor | None = None,
    q_sem: torch.Tensor | None = None,
    q_epi: torch.Tensor | None = None,
    eta: float,
    thresh: float,
    gate: str = "or",
    epi_weight: torch.Tensor | None = None,
    initial_state: DrexMemoryState | None = None,
    impl: str = "auto",
) -> DrexMemoryOut:
    """Run the Drex L4 write loop (module docstring has the equations and shapes)."""
    if impl not in ("auto", *KNOWN_IMPLS):
        raise ValueError(f"impl must be one of {('auto', *KNOWN_IMPLS)}, got {impl!r}")
    if gate not in GATES:
        raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
    if not (isinstance(eta, (int, float)) and 0.0 < eta <= 1.0):
        raise ValueError(f"eta must be a float in (0, 1] (eta = 1 - alpha), got {eta!r}")
    if not (isinstance(thresh, (int, float)) and math.isfinite(thresh) and thresh >= 0.0):
        raise ValueError(f"thresh must be a finite float >= 0, got {thresh!r}")
    check_tensor("k_sem", k_sem, (None, None, None))
    B, T, _ = k_sem.shape
    if T < 1:
        raise ValueError("the sequence must have at least one token (T >= 1)")
    for name, x in (("k_epi", k_epi), ("v_sem", v_sem), ("v_epi", v_epi)):
        check_tensor(name, x, (B, T, None))
    if (q_sem is None) != (q_epi is None):
        raise ValueError("pass both q_sem and q_epi, or neither")
    check_tensor("q_sem", q_sem, (B, T, k_sem.shape[-1]))
    check_tensor("q_epi", q_epi, (B, T, k_epi.shape[-1]))
    v_sem = k_sem if v_sem is None else v_sem
    v_epi = k_epi if v_epi is None else v_epi
    dtype = k_sem.dtype
    if any(x is not None and x.dtype != dtype for x in (k_epi, v_sem, v_epi, q_sem, q_epi)):
        raise ValueError("k_sem, k_epi, v_sem, v_epi, q_sem and q_epi must share one dtype")
    if epi_weight is None:
        epi_weight = torch.ones(T, dtype=dtype, device=k_sem.device)
    if not isinstance(epi_weight, torch.Tensor) or tuple(epi_weight.shape) != (T,):
        raise ValueError(f"epi_weight must be a tensor of shape [T] = [{T}]")
    epi_weight = epi_weight.to(dtype)
    shapes = ((B, v_sem.shape[-1], k_sem.shape[-1]), (B, v_epi.shape[-1], k_epi.shape[-1]))
    if initial_state is None:
        m_sem, m_epi = (k_sem.new_zeros(s) for s in shapes)
    else:
        m_sem, m_epi = initial_state
        check_tensor("initial_state.sem", m_sem, shapes[0])
        check_tensor("initial_state.epi", m_epi, shapes[1])
        m_sem, m_epi = m_sem.to(dtype), m_epi.to(dtype)
    tensors = (k_sem, k_epi, v_sem, v_epi, q_sem, q_epi, m_sem, m_epi)
    needs_grad = torch.is_grad_enabled() and any(x is not None and x.requires_grad for x in tensors)
    if impl == "auto":
        fused_ok = k_sem.is_cuda and _TRITON_READY and not needs_grad and dtype != torch.float64
        impl = "triton" if fused_ok else "vectorised"
    if impl == "triton":
        if not _TRITON_READY:
            raise RuntimeError(
                "impl='triton' needs triton and a CUDA device (or TRITON_INTERPRET=1 set before "
                "triton is imported, for CPU tests); use impl='vectorised'"
            )
        if needs_grad:
            raise ValueError("impl='triton' is forward-only; use impl='vectorised' for gradients")
        from memnb.ops.drex_memory.fused_recurrent import triton_drex_memory as fn
    else:
        fn = naive_drex_memory if impl == "naive" else vectorised_drex_memory
    readout, fire, m_sem, m_epi = fn(
        k_sem, k_epi, v_sem, v_epi, q_sem, q_epi, eta=float(eta), thresh=float(thresh),
        gate=gate, epi_weight=epi_weight, m_sem=m_sem, m_epi=m_epi,
    )  # fmt: skip
    return DrexMemoryOut(readout, fire, DrexMemoryState(m_sem, m_epi))

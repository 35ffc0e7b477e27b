"""Gated delta rule (Yang, Kautz & Hatamizadeh 2024, Gated DeltaNet), fla-compatible.

``gated_delta_rule(q, k, v, g, beta, *, scale=None, initial_state=None,
output_final_state=False, impl="auto", exact_causal=False) -> (o, final_state)`` with q, k
``[B, T, H, K]``, v ``[B, T, H, V]``, g (log decay) and beta ``[B, T, H]``, state ``[B, H, K, V]``::

    S_t = exp(g_t) S_{t-1};   S_t += k_t (beta_t (v_t − S_tᵀ k_t))ᵀ;   o_t = S_tᵀ (scale q_t)

scale defaults to K**-0.5. Impls (``IMPLS`` lists those this machine offers):

- ``naive``: the per-token loop, batched over B·H; the reference and the loop baseline.
- ``chunked``: the WY/UT chunked form in torch; the CPU fast path. Chunks of 32 tokens: on
  a 2-core CPU this ran ~1.5x faster than fla's 64 (less intra-chunk work, cheaper inverses).
- ``fla``: fla-core's CUDA ``chunk_gated_delta_rule`` (needs fla-core and a GPU).

``auto`` takes ``fla`` for CUDA inputs in float16/bfloat16/float32 when available; otherwise
``naive`` for T ≤ 8 (a few steps cost less than the chunked set-up; measured on a 2-core CPU)
and ``chunked`` beyond. The output has v's dtype; the state is float32 (float64 for float64 inputs).

``exact_causal=True`` makes the chunked form's output at t independent of every later input bit
for bit (its decay path is chosen per chunk from all of a chunk's tokens, and the two paths round
differently; see ``chunked_gated_delta_rule``'s ``factor_limit``); it costs the op ~1.4x on CPU.
The per-token loop is exactly causal as it is; fla's kernel is not covered.
"""

from __future__ import annotations

import torch

from memnb.ops.gated_delta_rule.chunked import chunked_gated_delta_rule
from memnb.ops.gated_delta_rule.fla import AVAILABLE as _FLA_AVAILABLE
from memnb.ops.gated_delta_rule.fla import fla_gated_delta_rule
from memnb.ops.gated_delta_rule.naive import naive_gated_delta_rule

KNOWN_IMPLS = ("naive", "chunked", "fla")
IMPLS = KNOWN_IMPLS if _FLA_AVAILABLE else ("naive", "chunked")
_FNS = {"naive": naive_gated_delta_rule, "chunked": chunked_gated_delta_rule, "fla": fla_gated_delta_rule}
_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_NAIVE_MAX_T = 8


def _validate(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    initial_state: torch.Tensor | None,
) -> None:
    named = {"q": q, "k": k, "v": v, "g": g, "beta": beta}
    for name, x in named.items():
        if not isinstance(x, torch.Tensor) or x.dtype not in _DTYPES:
            raise ValueError(f"{name} must be a tensor of dtype in {_DTYPES}")
    if q.dim() != 4:
        raise ValueError(f"q must be [B, T, H, K], got shape {list(q.shape)}")
    B, T, H, K = q.shape
    expected = {"k": (B, T, H, K), "v": (B, T, H, v.shape[-1]), "g": (B, T, H), "beta": (B, T, H)}
    for name, shape in expected.items():
        if tuple(named[name].shape) != shape:
            raise ValueError(f"{name} has shape {list(named[name].shape)}, expected {list(shape)}")
    if T < 1:
        raise ValueError("the sequence must have at least one token (T >= 1)")
    if not (q.dtype == k.dtype == v.dtype):
        raise ValueError(f"q, k, v must share one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if len({x.device for x in named.values()}) > 1:
        raise ValueError("q, k, v, g, beta must be on one device")
    if initial_state is not None:
        if not isinstance(initial_state, torch.Tensor) or initial_state.dtype not in _DTYPES:
            raise ValueError(f"initial_state must be a tensor of dtype in {_DTYPES}")
        if tuple(initial_state.shape) != (B, H, K, v.shape[-1]):
            raise ValueError(
                f"initial_state has shape {list(initial_state.shape)}, expected [B, H, K, V] = {[B, H, K, v.shape[-1]]}"
            )


def gated_delta_rule(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float | None = None,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    impl: str = "auto",
    exact_causal: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Gated delta rule over ``[B, T, H, ·]`` inputs; see the module docstring."""
    if impl not in ("auto", *KNOWN_IMPLS):
        raise ValueError(f"impl must be one of {('auto', *KNOWN_IMPLS)}, got {impl!r}")
    _validate(q, k, v, g, beta, initial_state)
    if scale is None:
        scale = q.shape[-1] ** -0.5
    elif not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f"scale must be a positive float or None, got {scale!r}")
    if impl == "auto":
        if _FLA_AVAILABLE and q.is_cuda and q.dtype != torch.float64:
            impl = "fla"
        else:
            impl = "naive" if q.shape[1] <= _NAIVE_MAX_T else "chunked"
    extra = {"factor_limit": 0.0} if exact_causal and impl == "chunked" else {}
    return _FNS[impl](
        q,
        k,
        v,
        g,
        beta,
        scale=float(scale),
        initial_state=initial_state,
        output_final_state=output_final_state,
        **extra,
    )

"""SSD: Mamba-2's selective state space scan with a scalar decay per head (Dao & Gu 2024,
"Transformers are SSMs: Generalized Models and Efficient Algorithms Through Structured State
Space Duality").

``ssd(x, dt, A, B, C, *, initial_state=None, chunk_size=64, impl="auto") -> (y, final_state)``
with x ``[b, T, H, P]`` (H heads of P channels), dt ``[b, T, H]`` (the step Δ > 0, after the
softplus), A ``[H]`` (the decay rate, < 0), B, C ``[b, T, N]`` (one group shared by all heads)
and the state ``[b, H, P, N]`` (zeros when ``initial_state`` is None)::

    H_t = exp(Δ_t A) H_{t−1} + Δ_t x_t B_tᵀ;    y_t = H_t C_t

y ``[b, T, H, P]`` has no D x_t skip (the layer adds it). The final state is always returned;
carrying it into the next call continues the sequence. Impls (``IMPLS``):

- ``naive``: the per-token loop (``naive.py``), the reference;
- ``chunked``: the SSD chunked form (``chunked.py``), chunks of ``chunk_size`` tokens.

``auto`` takes ``chunked``. Differentiable by autograd in every impl.
"""

from __future__ import annotations

import torch

from memnb.ops.ssd.chunked import chunked_ssd, segsum
from memnb.ops.ssd.naive import naive_ssd

IMPLS = ("naive", "chunked")

__all__ = ["IMPLS", "chunked_ssd", "naive_ssd", "segsum", "ssd"]


def _validate(x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor) -> None:
    named = {"x": x, "dt": dt, "A": A, "B": B, "C": C}
    for name, t in named.items():
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor")
    if x.dim() != 4:
        raise ValueError(f"x must be [b, T, H, P], got shape {list(x.shape)}")
    b, T, H, _ = x.shape
    N = B.shape[-1] if B.dim() == 3 else -1
    expected = {"dt": (b, T, H), "A": (H,), "B": (b, T, N), "C": (b, T, N)}
    for name, shape in expected.items():
        if tuple(named[name].shape) != shape:
            raise ValueError(f"{name} has shape {list(named[name].shape)}, expected {list(shape)}")
    if T < 1:
        raise ValueError("the sequence must have at least one token (T >= 1)")


def ssd(
    x: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    *,
    initial_state: torch.Tensor | None = None,
    chunk_size: int = 64,
    impl: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The SSD scan over ``[b, T, H, P]`` inputs; see the module docstring."""
    if impl not in ("auto", *IMPLS):
        raise ValueError(f"impl must be one of {('auto', *IMPLS)}, got {impl!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    _validate(x, dt, A, B, C)
    b, _, H, P = x.shape
    if initial_state is None:
        initial_state = x.new_zeros(b, H, P, B.shape[-1])
    elif tuple(initial_state.shape) != (b, H, P, B.shape[-1]):
        raise ValueError(
            f"initial_state has shape {list(initial_state.shape)}, expected [b, H, P, N] = {[b, H, P, B.shape[-1]]}"
        )
    if impl == "naive":
        return naive_ssd(x, dt, A, B, C, initial_state)
    return chunked_ssd(x, dt, A, B, C, initial_state, chunk_size)

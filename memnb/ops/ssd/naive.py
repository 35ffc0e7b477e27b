"""SSD (Mamba-2) selective scan, per-token reference (Dao & Gu 2024, "Transformers are SSMs", §3).

Per batch row and head h (P channels, state size N, scalar decay A_h < 0), for t = 1..T:

    H_t = exp(Δ_t A) H_{t−1} + Δ_t x_t B_tᵀ          H_t ∈ R^{P×N}
    y_t = H_t C_t                                     (the layer adds the D x_t skip)

with x_t ∈ R^P per head and B_t, C_t ∈ R^N shared by all heads (one group). This loop is the
specification the chunked form is tested against; it is batched over rows and heads and
differentiable by autograd.
"""

from __future__ import annotations

import torch


def naive_ssd(
    x: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    h: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """x ``[b, T, H, P]``, dt ``[b, T, H]``, A ``[H]``, B, C ``[b, T, N]``, initial state h
    ``[b, H, P, N]``; returns y ``[b, T, H, P]`` and the final state."""
    ys = []
    for t in range(x.size(1)):
        decay = torch.exp(dt[:, t] * A)[..., None, None]
        h = decay * h + (dt[:, t, :, None] * x[:, t]).unsqueeze(-1) * B[:, t, None, None, :]
        ys.append(torch.einsum("bhpn,bn->bhp", h, C[:, t]))
    return torch.stack(ys, dim=1), h

"""The inert AMS geometry (seed ``bundles/base.py``, book/appendix/ams.md §1, "Geometry"), kept off the main path.

In the seed these modules hold most of the "trainable" parameters, yet nothing in ``write``,
``prepare_decode_context``, ``generate`` or any training loss calls them, so they never receive a
gradient. They are built here only to (i) count them and (ii) show that removing them leaves every
output bit-identical (experiment E6; ``AMS(with_geometry=True)`` attaches them under a forked RNG).

- ``RiemannianMetric(d)``: MLP d→4d→4d→d(d+1)/2 fills a lower-triangular L with diagonal
  softplus(·)+1e-3; ``g(x) = L Lᵀ`` (SPD by construction).
- ``FiberConnection(d, F)``: MLP on [x, v, upper-tri(g(x))] → 4F → 4F → F·F, antisymmetrised
  ``A = (R − Rᵀ)/2 ∈ so(F)``.
- ``transport(f, path)``: RK4 of ``df = −A(x, Δx) f`` along a piecewise-linear path, renormalised
  to the initial norm every 4 segments (the exact flow of an antisymmetric generator preserves
  the norm).
- The ContextEncoder's attention pool over ``prev_turns`` (W_q, W_k, W_v, d_attn 48): dead because
  ``prev_turns`` is always None.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class RiemannianMetric(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.d = d
        self.net = nn.Sequential(
            nn.Linear(d, 4 * d), nn.SiLU(), nn.Linear(4 * d, 4 * d), nn.SiLU(), nn.Linear(4 * d, d * (d + 1) // 2)
        )
        self.register_buffer("tril", torch.tril_indices(d, d), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        L = x.new_zeros(*x.shape[:-1], self.d, self.d)
        L[..., self.tril[0], self.tril[1]] = self.net(x)
        diag = torch.nn.functional.softplus(torch.diagonal(L, dim1=-2, dim2=-1)) + 1e-3
        L = L.tril(-1) + torch.diag_embed(diag)
        return L @ L.transpose(-1, -2)


class FiberConnection(nn.Module):
    def __init__(self, d: int, f: int) -> None:
        super().__init__()
        self.f = f
        self.metric = RiemannianMetric(d)
        n_in = 2 * d + d * (d + 1) // 2
        self.net = nn.Sequential(
            nn.Linear(n_in, 4 * f), nn.SiLU(), nn.Linear(4 * f, 4 * f), nn.SiLU(), nn.Linear(4 * f, f * f)
        )
        self.register_buffer("triu", torch.triu_indices(d, d), persistent=False)

    def forward(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        g = self.metric(x)[..., self.triu[0], self.triu[1]]
        R = self.net(torch.cat([x, v, g], -1)).reshape(*x.shape[:-1], self.f, self.f)
        return (R - R.transpose(-1, -2)) / 2

    def transport(self, f: torch.Tensor, path: torch.Tensor, renorm_every: int = 4) -> torch.Tensor:
        n0 = f.norm()
        for k in range(len(path) - 1):
            p0, p1 = path[k], path[k + 1]
            v, mid = p1 - p0, (p0 + p1) / 2

            def rhs(x, y, v=v):
                return -(self.forward(x, v) @ y)

            k1 = rhs(p0, f)
            k2 = rhs(mid, f + k1 / 2)
            k3 = rhs(mid, f + k2 / 2)
            k4 = rhs(p1, f + k3)
            f = f + (k1 + 2 * k2 + 2 * k3 + k4) / 6
            if (k + 1) % renorm_every == 0:
                f = f * (n0 / f.norm())
        return f


class InertGeometry(nn.Module):
    """One connection (with its metric) per bundle plus the dead context attention pool."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.conn = nn.ModuleDict(
            {"time": FiberConnection(8, 32), "topic": FiberConnection(16, 64), "ctx": FiberConnection(12, 48)}
        )
        self.ctx_pool = nn.ModuleDict({k: nn.Linear(d_model, 48) for k in ("q", "k", "v")})

"""Mamba-2 block with the state space dual (SSD) scan, in pure torch (Dao & Gu 2024,
"Transformers are SSMs").

Per head h (P channels, state size N, scalar decay), with Δ_t = softplus(w_Δ·u_t + b_Δ) > 0 and
A_h = −exp(A_log_h) < 0, the selective state space recurrence is

    H_t = exp(Δ_t A) H_{t−1} + Δ_t x_t B_tᵀ          (H_t ∈ R^{P×N})
    y_t = H_t C_t + D x_t

with x_t, B_t, C_t ∈ R^P, R^N, R^N input-dependent (one B, C group shared by all heads).
The scan is the op ``memnb.ops.ssd.ssd``: ``impl="chunked"`` (the default) is its SSD chunked
form, ``impl="sequential"`` its per-token reference loop (``naive``); both are exact.

The block around it (Mamba-2's layout): in_proj → [z, x, B, C, Δ]; a causal depthwise conv
(kernel 4) + SiLU over [x, B, C]; the scan; y ← RMSNorm(y ⊙ SiLU(z)); out_proj.

State: the SSM state H and the last kernel − 1 conv inputs, so any split of a sequence, with
the state carried, gives the one-pass outputs. (ReLSM's "ssm" is not this: its scan drops the
input x and is sequential only; book/appendix/relsm.md §3, item 3.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.ops.ssd import ssd


@dataclass(frozen=True)
class SSDState:
    """SSM state ``h [B, H, P, N]`` and the last ``d_conv − 1`` conv inputs ``[B, d_conv−1, C]``."""

    h: torch.Tensor
    conv: torch.Tensor


class Mamba2(nn.Module):
    """A Mamba-2 mixer: selective scalar-decay SSM per head, computed with the SSD scan."""

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        expand: int = 2,
        head_dim: int = 16,
        d_conv: int = 4,
        chunk_size: int = 64,
        impl: Literal["chunked", "sequential"] = "chunked",
    ) -> None:
        super().__init__()
        if min(d_model, d_state, expand, head_dim, d_conv, chunk_size) < 1:
            raise ValueError(
                "d_model, d_state, expand, head_dim, d_conv and chunk_size must all be >= 1, got "
                f"{d_model}, {d_state}, {expand}, {head_dim}, {d_conv}, {chunk_size}"
            )
        if (expand * d_model) % head_dim:
            raise ValueError(f"head_dim must divide expand * d_model = {expand * d_model}, got {head_dim}")
        if impl not in ("chunked", "sequential"):
            raise ValueError(f"impl must be 'chunked' or 'sequential', got {impl!r}")
        self.d_inner, self.d_state, self.head_dim = expand * d_model, d_state, head_dim
        self.n_heads = self.d_inner // head_dim
        self.chunk_size, self.impl = chunk_size, impl
        conv_dim = self.d_inner + 2 * d_state
        self.in_proj = nn.Linear(d_model, self.d_inner + conv_dim + self.n_heads, bias=False)
        self.conv = nn.Conv1d(conv_dim, conv_dim, d_conv, groups=conv_dim)
        dt = torch.exp(torch.empty(self.n_heads).uniform_(math.log(1e-3), math.log(1e-1)))
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))  # softplus⁻¹(dt)
        self.A_log = nn.Parameter(torch.log(torch.empty(self.n_heads).uniform_(1.0, 16.0)))
        self.D = nn.Parameter(torch.ones(self.n_heads))
        self.norm = nn.RMSNorm(self.d_inner, eps=1e-6)
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=False)

    def empty_state(self, x: torch.Tensor) -> SSDState:
        B = x.size(0)
        h = x.new_zeros(B, self.n_heads, self.head_dim, self.d_state)
        conv = x.new_zeros(B, self.conv.kernel_size[0] - 1, self.conv.in_channels)
        return SSDState(h, conv)

    def forward(self, x: torch.Tensor, state: SSDState | None = None) -> tuple[torch.Tensor, SSDState]:
        state = self.empty_state(x) if state is None else state
        b, T, _ = x.shape
        z, xBC, dt = self.in_proj(x).split([self.d_inner, self.conv.in_channels, self.n_heads], -1)
        conv_in = torch.cat((state.conv, xBC), dim=1)
        xBC = F.silu(self.conv(conv_in.transpose(1, 2)).transpose(1, 2))
        xs, B, C = xBC.split([self.d_inner, self.d_state, self.d_state], dim=-1)
        xs = xs.view(b, T, self.n_heads, self.head_dim)
        dt = F.softplus(dt + self.dt_bias)
        A = -torch.exp(self.A_log)
        impl = "chunked" if self.impl == "chunked" else "naive"
        y, h = ssd(xs, dt, A, B, C, initial_state=state.h, chunk_size=self.chunk_size, impl=impl)
        y = (y + self.D[:, None] * xs).reshape(b, T, self.d_inner)
        y = self.out_proj(self.norm(y * F.silu(z)))
        tail = conv_in[:, conv_in.size(1) - state.conv.size(1) :]
        return y, SSDState(h, tail)

"""Gated DeltaNet: a fixed-size matrix memory written by the gated delta rule (Yang, Kautz &
Hatamizadeh 2024, "Gated Delta Networks: Improving Mamba2 with Delta Rule", §3–4).

Per head h (key width K, value width V), from the layer input x_t:

    q_t = L2(SiLU(W_q x_t)),  k_t = L2(SiLU(W_k x_t)),  v_t = SiLU(W_v x_t)
    β_t = σ(W_β x_t + b_β) ∈ (0, 1)                                     write strength
    g_t = −exp(A_log) · softplus(W_a x_t + b_Δ) < 0                     log decay (Mamba-2's)

    S_t = exp(g_t) S_{t−1} + k_t (β_t (v_t − (exp(g_t) S_{t−1})ᵀ k_t))ᵀ   S_t ∈ R^{K×V}
    o_t = S_tᵀ q_t / √K

    y_t = W_o [RMSNorm(o_t) ⊙ SiLU(W_g x_t)]_heads                      gated output (``gate=True``)

The recurrence is the op ``memnb.ops.gated_delta_rule`` (``impl="auto"``: the chunked WY form
on CPU beyond 8 tokens, the per-token loop below; fla's kernel on a GPU when installed), called
with ``exact_causal=True`` so that no output depends on a later input even in its last bit. The
delta rule replaces the value stored under k_t by v_t at rate β_t; the decay exp(g_t) forgets the
whole memory at a learned, input-dependent rate.

Departures from the paper's block: there is no short convolution inside the layer (the book's
decoder puts one in front of every mixer alike, ``DecoderConfig.short_conv``), and no
negative-eigenvalue option. The projections' init is the decoder's (GPT-2's); A_log and b_Δ
take Mamba-2's init (A ~ U[1, 16], Δ = softplus(b_Δ) ~ logU[1e-3, 1e-1]).

State: the memory S ``[B, H, K, V]`` (float32, float64 for float64 inputs), carried across
segments; ``None`` is the empty memory. State size per layer: H·K·V floats.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.ops.gated_delta_rule import KNOWN_IMPLS, gated_delta_rule


class GatedDeltaNet(nn.Module):
    """A Gated DeltaNet mixer: ``forward(x [B, T, d], S [B, H, K, V] | None) -> (y, S')``."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        head_dim: int | None = None,
        expand_v: int = 1,
        *,
        gate: bool = True,
        impl: str = "auto",
    ) -> None:
        super().__init__()
        head_dim = d_model // n_heads if head_dim is None else head_dim
        if min(d_model, n_heads, head_dim, expand_v) < 1:
            raise ValueError(
                "d_model, n_heads, head_dim and expand_v must be >= 1, "
                f"got {d_model}, {n_heads}, {head_dim}, {expand_v}"
            )
        if impl not in ("auto", *KNOWN_IMPLS):
            raise ValueError(f"impl must be one of {('auto', *KNOWN_IMPLS)}, got {impl!r}")
        self.n_heads, self.head_k, self.head_v, self.impl = n_heads, head_dim, expand_v * head_dim, impl
        hk, hv = n_heads * self.head_k, n_heads * self.head_v
        self.q_proj = nn.Linear(d_model, hk, bias=False)
        self.k_proj = nn.Linear(d_model, hk, bias=False)
        self.v_proj = nn.Linear(d_model, hv, bias=False)
        self.b_proj = nn.Linear(d_model, n_heads)  # β
        self.a_proj = nn.Linear(d_model, n_heads, bias=False)  # decay rate
        self.A_log = nn.Parameter(torch.log(torch.empty(n_heads).uniform_(1.0, 16.0)))
        dt = torch.exp(torch.empty(n_heads).uniform_(math.log(1e-3), math.log(1e-1)))
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))  # softplus⁻¹(dt)
        self.g_proj = nn.Linear(d_model, hv, bias=False) if gate else None
        self.o_norm = nn.RMSNorm(self.head_v, eps=1e-5)
        self.out_proj = nn.Linear(hv, d_model, bias=False)

    def state_size(self) -> int:
        """Floats of recurrent state per sequence: H·K·V."""
        return self.n_heads * self.head_k * self.head_v

    def inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The op's inputs ``q, k, v [B, T, H, ·]``, ``g, beta [B, T, H]`` for ``x [B, T, d]``."""
        B, T, _ = x.shape
        H = self.n_heads
        q = F.normalize(F.silu(self.q_proj(x)).view(B, T, H, self.head_k), dim=-1)
        k = F.normalize(F.silu(self.k_proj(x)).view(B, T, H, self.head_k), dim=-1)
        v = F.silu(self.v_proj(x)).view(B, T, H, self.head_v)
        beta = torch.sigmoid(self.b_proj(x))
        g = -torch.exp(self.A_log) * F.softplus(self.a_proj(x) + self.dt_bias)
        return q, k, v, g, beta

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, _ = x.shape
        q, k, v, g, beta = self.inputs(x)
        o, S = gated_delta_rule(
            q, k, v, g, beta, initial_state=state, output_final_state=True, impl=self.impl, exact_causal=True
        )
        o = self.o_norm(o)
        if self.g_proj is not None:
            o = o * F.silu(self.g_proj(x)).view(B, T, self.n_heads, self.head_v)
        return self.out_proj(o.reshape(B, T, -1)), S

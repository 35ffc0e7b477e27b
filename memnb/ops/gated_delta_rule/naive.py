"""Gated delta rule, per-token reference (Yang, Kautz & Hatamizadeh 2024, "Gated Delta Networks").

With state S ∈ R^{K×V} per (batch, head), for t = 1..T:

    S_t = exp(g_t) S_{t-1}                       decay
    u_t = beta_t (v_t - S_tᵀ k_t)                 delta-rule correction (uses the decayed state)
    S_t = S_t + k_t u_tᵀ                          write
    o_t = S_tᵀ (scale q_t)                        read, after the write

This loop is the specification every fast form is tested against. It is vectorised over batch
and heads (a few batched ops per step), so it is also the benchmark's "efficient per-token loop"
baseline. It computes in float64 for float64 inputs and float32 otherwise, and supports
autograd.
"""

from __future__ import annotations

import torch


def naive_gated_delta_rule(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    *,
    scale: float,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    B, T, H, K = q.shape
    V = v.shape[-1]
    dtype = torch.float64 if q.dtype == torch.float64 else torch.float32

    def heads_first(x: torch.Tensor) -> torch.Tensor:  # [B, T, H, ...] -> [B*H, T, ...]
        return x.to(dtype).transpose(1, 2).reshape(B * H, T, *x.shape[3:])

    q, k, v = heads_first(q) * scale, heads_first(k), heads_first(v)
    decay, beta = heads_first(g).exp(), heads_first(beta)
    if initial_state is None:
        S = q.new_zeros(B * H, K, V)
    else:
        S = initial_state.to(dtype).reshape(B * H, K, V)
    out = []
    for t in range(T):
        k_t = k[:, t].unsqueeze(1)  # [BH, 1, K]
        S = S * decay[:, t, None, None]
        u_t = beta[:, t, None] * (v[:, t] - torch.bmm(k_t, S).squeeze(1))
        S = torch.addcmul(S, k_t.transpose(1, 2), u_t.unsqueeze(1))  # S + k_t u_tᵀ
        out.append(torch.bmm(q[:, t].unsqueeze(1), S))
    o = torch.cat(out, dim=1).view(B, H, T, V).transpose(1, 2).to(v.dtype)
    return o, (S.view(B, H, K, V) if output_final_state else None)

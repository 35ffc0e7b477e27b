"""The seed's own trained probe model of Phases 11–12, as its code has it.

Seed: Drex ``research/experiments/cat47_length_adaptive_ema/exp_47_1_adaptive_alpha_sweep.py``
(``AdaptiveEMAModel``: one d×d memory) and ``exp_47_2_full_system_validation.py``
(``FullAdaptiveModel``: the episodic/semantic split that exp_48_1 sweeps); commit f526970.
Per token, no token mixing:

    h_t = LN(e_t + W_2 ReLU(W_1 e_t)),  e_t = Emb(x_t),  W_1: d → 2d, W_2: 2d → d
    writes t = 0 … L−2 through ``memnb.ops.drex_memory`` (η = 1 − α, gate θ, OR of the
    branches; the episodic branch weighted by (t+1)/L):
        ``layout="seed"``: key = value = P h_t (auto-associative); read q = P h_{L−1}, *not*
                           normalised (the seed's read);
        ``layout="kv"`` (our correction): key P h_{t−1} (h_{−1} = 0), value P_v h_t; read
                           q = n(P h_{L−1}), the queried key.
    logits = W_out (W_r r + b_r) + b_out,  r = M q  (split: r = [M_s q_s ; M_e q_e])
    ``combine="gate"`` (split only; exp_38_3's learned read-combination gate, as ``RecallProbe``
    has it): r = [c M_s q_s ; (1 − c) M_e q_e],  c = σ(w_c·h_{L−1} + b_c)

P is one d×d projection (``memory="single"``) or two d → d/2 projections (``"split"``);
``memory="none"`` replaces r by zeros (the memory-removed control). Unlike the production L4
(and ``memnb.drex.probe.RecallProbe``) the seed's Phase 11–12 scripts write **with gradient**:
the keys, values and memories stay in the autograd graph, so the projections learn through the
writes (back-propagation through the whole write loop). The hard gate has zero gradient.
``ProbeConfig.gate="none"`` is the seed's ``use_gate=False`` reference (every position written).

Computation (same numbers, faster): the gate is a step function of the memory, so its firing
pattern is first computed without autograd (``fire_pattern``: ``drex_memory``'s recurrence
with in-place updates, both branches stacked on the batch); given the pattern the write is
the delta rule M ← M + β_t (v_t − M k̂_t) k̂_tᵀ with β_t = η · fire_t · w_t, which is run
differentiably by the chunked ``memnb.ops.gated_delta_rule`` (state Mᵀ, no decay).
``impl="loop"`` back-propagates through ``drex_memory``'s token loop instead (the reference;
tests check both agree).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.drex.probe import ProbeConfig
from memnb.ops.drex_memory import drex_memory, recency_weight
from memnb.ops.gated_delta_rule import gated_delta_rule

IMPLS = ("chunked", "loop")
EPS = 1e-6


@torch.no_grad()
def fire_pattern(
    ks: list[torch.Tensor],
    vs: list[torch.Tensor],
    *,
    eta: float,
    thresh: float,
    gate: str,
    epi_weight: torch.Tensor | None,
) -> torch.Tensor:
    """``[B, T]`` firing pattern of the Drex write loop (``memnb.ops.drex_memory``'s equations)
    for one branch or two equal-width branches (semantic, episodic), without autograd."""
    n, (B, T, _) = len(ks), ks[0].shape
    k = torch.cat(ks).transpose(0, 1)  # [T, nB, D]
    k = (k / k.norm(dim=-1, keepdim=True).clamp_min(EPS)).contiguous()
    v = torch.cat(vs).transpose(0, 1).contiguous()
    bound = thresh * v.norm(dim=-1)
    rate = torch.full((T, n * B), eta, dtype=v.dtype, device=v.device)
    if n == 2 and epi_weight is not None:
        rate[:, B:] *= epi_weight.to(v.dtype)[:, None]
    Mt = v.new_zeros(n * B, k.shape[-1], v.shape[-1])  # Mᵀ per row
    fires = []
    for t in range(T):
        e = v[t] - torch.bmm(k[t].unsqueeze(1), Mt).squeeze(1)
        over = (e.norm(dim=-1) >= bound[t]).view(n, B)
        f = over.any(0) if gate == "or" else (over.all(0) if gate == "and" else torch.ones_like(over[0]))
        Mt.baddbmm_(k[t].unsqueeze(-1), (e * (rate[t] * f.repeat(n))[:, None])[:, None, :])
        fires.append(f)
    return torch.stack(fires, 1)


class SeedRecallModel(nn.Module):
    """See the module docstring. ``forward(tokens [B, L]) -> (logits [B, vocab], fire [B, L−1])``."""

    def __init__(self, cfg: ProbeConfig, *, impl: str = "chunked") -> None:
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        self.impl = impl
        if cfg.null_gate:
            raise ValueError("the seed's exp_47 model has no null gate (use arch='probe')")
        self.cfg = cfg
        d = cfg.d
        d_m = d if cfg.memory == "single" else d // 2
        self.embed = nn.Embedding(cfg.vocab, d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))
        self.norm = nn.LayerNorm(d)
        n_branch = 1 if cfg.memory == "single" else 2
        self.keys = nn.ModuleList(nn.Linear(d, d_m, bias=False) for _ in range(n_branch))
        kv = cfg.layout == "kv"
        self.values = nn.ModuleList(nn.Linear(d, d_m, bias=False) for _ in range(n_branch if kv else 0))
        self.rp = nn.Linear(d, d)
        self.out = nn.Linear(d, cfg.vocab)
        # created last, so that every other weight starts as in the concatenated arm of the same seed
        self.mix = nn.Linear(d, 1) if cfg.combine == "gate" else None

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        e = self.embed(tokens)
        h = self.norm(e + self.ff(e))
        B, L, d = h.shape
        if cfg.memory == "none":
            return self.out(self.rp(h.new_zeros(B, d))), torch.zeros(B, L - 1, dtype=torch.bool)
        kv = cfg.layout == "kv"
        h_w = h[:, :-1]
        h_k = torch.cat([h.new_zeros(B, 1, d), h_w[:, :-1]], 1) if kv else h_w
        ks = [P(h_k) for P in self.keys]
        vs = [P(h_w) for P in self.values] if kv else ks
        single = cfg.memory == "single"
        w = None if single else recency_weight(L - 1, seq_len=L, device=h.device)
        gate = "none" if cfg.gate == "none" else ("or" if single else cfg.gate)
        eta = 1.0 - cfg.alpha
        if self.impl == "loop":
            res = drex_memory(
                ks[0], ks[0] if single else ks[1], v_sem=vs[0], v_epi=vs[0] if single else vs[1],
                eta=eta, thresh=cfg.thresh, gate=gate, epi_weight=w, impl="vectorised",
            )  # fmt: skip
            fire, mems = res.fire, [res.state.sem] if single else [res.state.sem, res.state.epi]
        else:  # the same writes, differentiably, given the firing pattern
            fire = fire_pattern(ks, vs, eta=eta, thresh=cfg.thresh, gate=gate, epi_weight=w)
            k = F.normalize(torch.stack(ks, 2), dim=-1, eps=EPS)  # [B, T, H, d_m]
            beta = eta * fire.to(h.dtype)[:, :, None].expand(-1, -1, len(ks))
            if w is not None:
                beta = beta * torch.stack([torch.ones_like(w), w], -1).to(h.dtype)
            _, S = gated_delta_rule(
                k, k, torch.stack(vs, 2), torch.zeros_like(beta), beta.contiguous(), output_final_state=True,
                impl="chunked",
            )  # fmt: skip
            mems = list(S.transpose(-1, -2).unbind(1))  # M = Sᵀ per branch
        qs = [P(h[:, -1]) for P in self.keys]
        if kv:
            qs = [F.normalize(q, dim=-1, eps=1e-6) for q in qs]
        reads = [torch.bmm(M, q[:, :, None]).squeeze(-1) for M, q in zip(mems, qs, strict=True)]
        if self.mix is not None:  # the learned combination gate (exp_38_3): c r_s and (1 − c) r_e
            c = torch.sigmoid(self.mix(h[:, -1]))
            reads = [c * reads[0], (1 - c) * reads[1]]
        return self.out(self.rp(torch.cat(reads, -1))), fire

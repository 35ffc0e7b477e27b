"""The small probe model of Drex Phases 11–12 (seed: ``exp_47_1_adaptive_alpha_sweep.py``,
``exp_48_1_thresh_sweep_adaptive.py``; book/appendix/drex.md §3).

Encoder (per token, no token mixing, as in the seed): e = Emb(x_t), h_t = LN(e + MLP(e)),
MLP = Linear(d, d) → GELU → Linear(d, d). Memory (``memnb.ops.drex_memory``), written at
t = 0 … L−2 and read once at t = L−1:

- ``layout="seed"`` (faithful, auto-associative): key = value = W h_t, query W h_{L−1}
  *unnormalised* (the seed's read);
- ``layout="kv"`` (corrected): key W h_{t−1} (h_{−1} = 0), value W_v h_t, so each value is
  stored under the token before it; query n(W h_{L−1}), the queried key itself.

``memory="single"``: one d×d matrix (exp_47_1; run through the op as two identical branches
with a constant step and only the first read, which is exactly one memory); ``"split"``: the L4
split, two d/2 × d/2 matrices with the OR/AND gate and the episodic recency ramp (exp_48_1);
``"none"``: the read is replaced by zeros (the memory-removed control). Read options:
``null_gate`` r ← σ(w·h_{L−1} + b) r; ``combine="gate"`` r = [c r_s ; (1 − c) r_e],
c = σ(w_c·h_{L−1} + b_c). Logits = W_out r + b.

Writes run under ``no_grad`` on detached keys (the seed's production L4): the encoder and W
learn only through the query and the head. The gate is hard (non-differentiable either way).
This is our probe of the memory, not the seed's exp_47 script line by line: that model (ReLU
MLP d → 2d → d, a read projection before the head, writes *with* gradient) is
``memnb.drex.seed_model.SeedRecallModel``, selected by ``ProbeConfig(arch="exp47")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.drex.task import LAYOUTS, VOCAB
from memnb.ops.drex_memory import GATES, drex_memory, recency_weight

MEMORIES = ("single", "split", "none")
ARCHS = ("probe", "exp47")  # RecallProbe (below) or the seed's exp_47 model (memnb.drex.seed_model)


@dataclass(frozen=True)
class ProbeConfig:
    """One arm: memory kind, write step α, gate threshold θ and kind, read options."""

    layout: str = "seed"
    memory: str = "split"
    alpha: float = 0.95
    thresh: float = 0.70
    gate: str = "or"
    null_gate: bool = False
    combine: str = "concat"
    d: int = 64
    vocab: int = VOCAB
    arch: str = "probe"

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        if self.memory not in MEMORIES:
            raise ValueError(f"memory must be one of {MEMORIES}, got {self.memory!r}")
        if self.gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, got {self.gate!r}")
        if self.combine not in ("concat", "gate"):
            raise ValueError(f"combine must be 'concat' or 'gate', got {self.combine!r}")
        if self.combine == "gate" and self.memory != "split":
            raise ValueError("combine='gate' needs memory='split' (it mixes the two branches)")
        if not 0.0 <= self.alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {self.alpha}")
        if self.d % 2:
            raise ValueError(f"d must be even, got {self.d}")


class RecallProbe(nn.Module):
    """See the module docstring. ``forward(tokens [B, L]) -> (logits [B, vocab], fire [B, L−1])``."""

    def __init__(self, cfg: ProbeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, d_m = cfg.d, cfg.d if cfg.memory == "single" else cfg.d // 2
        self.emb = nn.Embedding(cfg.vocab, d)
        self.mlp = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))
        self.norm = nn.LayerNorm(d)
        self.W_s = nn.Linear(d, d_m, bias=False)
        self.W_e = nn.Linear(d, d_m, bias=False) if cfg.memory == "split" else None
        kv = cfg.layout == "kv"
        self.V_s = nn.Linear(d, d_m, bias=False) if kv else None
        self.V_e = nn.Linear(d, d_m, bias=False) if kv and cfg.memory == "split" else None
        self.null = nn.Linear(d, 1) if cfg.null_gate else None
        self.mix = nn.Linear(d, 1) if cfg.combine == "gate" else None
        self.head = nn.Linear(d if cfg.memory != "single" else d_m, cfg.vocab)

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        e = self.emb(tokens)
        return self.norm(e + self.mlp(e))

    def read(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The memory read r ``[B, d]`` (before null/combination gates), fire ``[B, L−1]``, h."""
        cfg = self.cfg
        h = self.encode(tokens)
        B, L, _ = h.shape
        if cfg.memory == "none":
            return h.new_zeros(B, self.head.in_features), torch.zeros(B, L - 1, dtype=torch.bool), h
        split = cfg.memory == "split"
        W_e = self.W_e if split else self.W_s
        h_w = h[:, :-1]
        with torch.no_grad():
            h_k = torch.cat([h.new_zeros(B, 1, h.shape[-1]), h_w[:, :-1]], 1) if cfg.layout == "kv" else h_w
            k_s, k_e = self.W_s(h_k), W_e(h_k)
            v_s = self.V_s(h_w) if self.V_s is not None else None
            v_e = (self.V_e if split else self.V_s)(h_w) if self.V_s is not None else None
            res = drex_memory(
                k_s, k_e, v_sem=v_s, v_epi=v_e, eta=1.0 - cfg.alpha, thresh=cfg.thresh,
                gate=cfg.gate if split else "or",
                epi_weight=recency_weight(L - 1, seq_len=L, device=h.device) if split else None,
                impl="vectorised",
            )  # fmt: skip
        q_s, q_e = self.W_s(h[:, -1]), W_e(h[:, -1])
        if cfg.layout == "kv":
            q_s, q_e = F.normalize(q_s, dim=-1, eps=1e-6), F.normalize(q_e, dim=-1, eps=1e-6)
        r_s = torch.bmm(res.state.sem, q_s[:, :, None]).squeeze(-1)
        if not split:
            return r_s, res.fire, h
        r_e = torch.bmm(res.state.epi, q_e[:, :, None]).squeeze(-1)
        return torch.cat([r_s, r_e], -1), res.fire, h

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r, fire, h = self.read(tokens)
        q = h[:, -1]
        if self.mix is not None:
            c = torch.sigmoid(self.mix(q))
            half = r.shape[-1] // 2
            r = torch.cat([c * r[:, :half], (1 - c) * r[:, half:]], -1)
        if self.null is not None:
            r = torch.sigmoid(self.null(q)) * r
        return self.head(r), fire

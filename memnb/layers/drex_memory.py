"""Drex L4 memory layer: episodic/semantic delta-rule memory with a state-dependent write gate.

Seed: Drex (wesleyscholl/drex) ``python/drex/models/memory.py``, ``MemoryModule``; equations in
book/appendix/drex.md §2. For a segment x of L tokens and d_h = d/2:

    h_t  = LayerNorm_mem(x_t)
    k_t  = W_s h_t,  k'_t = W_e h_t                                   (d → d/2, no bias)
    writes t = 0 .. L−2 (the op ``memnb.ops.drex_memory``, keys as values):
        fire_t = [‖k − M_s k̂‖ ≥ θ‖k‖] OR [‖k' − M_e k̂'‖ ≥ θ‖k'‖]
        M_s ← M_s + η fire_t (k − M_s k̂) k̂ᵀ,   M_e ← M_e + η fire_t (t+1)/L (k' − M_e k̂') k̂'ᵀ
        η = 1 − α,  α = alpha_for_length(L) = 0.95^(96/L)  (or a fixed α)
    read at t = L−1:  r = [M_s n(W_s h_t) ; M_e n(W_e h_t)],   n(z) = z / max(‖z‖, 1e-6)
        null gate:    r ← σ(w·h_t + b) r
    y_t  = LayerNorm(W_o r + b_o) at t = L−1, and 0 at every other position

so ``x + y`` adds the memory only to the segment's last token, as the seed does. Both matrices
start at zero in every segment, and the write loop runs on detached keys (the seed's
``no_grad`` write): W_s and W_e learn only through the query.

Named variants (constructor flags; the seed is the default for each):
``readout="per_position"`` writes every position and reads each one from the state after its
own write; ``combine="gate"`` replaces the concatenation by [c r_s ; (1 − c) r_e] with
c = σ(w_c·h_t + b_c) (our form of the seed's rejected "learned read-combination gate");
``null_gate=False``; ``gate="and"/"none"``; ``recency=False`` (w_t = 1); ``alpha=0.95`` (fixed);
``carry_memory=True`` keeps the matrices across segments; ``write_grad=True`` lets gradients
through the writes.

Segments: with ``segment_len=None`` every call is one segment (L = the call's length, as in the
seed). With ``segment_len=L`` the layer cuts the stream into segments of L tokens counted from
the first token it saw, and the state carries the memory and the position inside the current
segment, so any split of a sequence, with the state carried, gives the one-pass outputs.
Write-rate monitoring: ``last_fire`` ``[B, writes]`` and ``last_write_rate`` (Σ fire / (B ·
writes), the seed's wr) after each call; the state keeps running totals (``fires``, ``writes``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from memnb.ops.drex_memory import GATES, KNOWN_IMPLS, alpha_for_length, drex_memory, recency_weight

READOUTS = ("last", "per_position")
COMBINES = ("concat", "gate")
EPS = 1e-6


@dataclass(frozen=True)
class DrexL4State:
    """Memories ``sem``, ``epi`` ``[B, d/2, d/2]``; ``pos``: tokens already seen of the current
    segment; ``fires`` ``[B]`` and ``writes``: running totals for the write rate."""

    sem: torch.Tensor
    epi: torch.Tensor
    pos: int
    fires: torch.Tensor
    writes: int


class DrexL4Memory(nn.Module):
    """Drex's L4 memory as a residual branch; see the module docstring for the equations."""

    def __init__(
        self,
        d_model: int,
        *,
        segment_len: int | None = None,
        thresh: float = 0.70,
        alpha: float | None = None,
        gate: str = "or",
        recency: bool = True,
        null_gate: bool = True,
        combine: str = "concat",
        readout: str = "last",
        carry_memory: bool = False,
        write_grad: bool = False,
        impl: str = "auto",
    ) -> None:
        super().__init__()
        if d_model % 2:
            raise ValueError(f"d_model must be even (two d/2 memories), got {d_model}")
        if gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
        if impl not in ("auto", *KNOWN_IMPLS):
            raise ValueError(f"impl must be one of {('auto', *KNOWN_IMPLS)}, got {impl!r}")
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        if combine not in COMBINES:
            raise ValueError(f"combine must be one of {COMBINES}, got {combine!r}")
        if segment_len is not None and segment_len < 1:
            raise ValueError(f"segment_len must be >= 1 or None, got {segment_len}")
        if alpha is not None and not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1) or None (length-adaptive), got {alpha}")
        d_h = d_model // 2
        self.d_model, self.segment_len, self.thresh, self.alpha = d_model, segment_len, thresh, alpha
        self.gate, self.recency, self.readout, self.impl = gate, recency, readout, impl
        self.carry_memory, self.write_grad = carry_memory, write_grad
        self.norm = nn.LayerNorm(d_model)
        self.W_s = nn.Linear(d_model, d_h, bias=False)
        self.W_e = nn.Linear(d_model, d_h, bias=False)
        self.null = nn.Linear(d_model, 1) if null_gate else None
        self.mix = nn.Linear(d_model, 1) if combine == "gate" else None
        self.out = nn.Linear(d_model, d_model)
        self.out_norm = nn.LayerNorm(d_model)
        self.last_fire: torch.Tensor | None = None
        self.last_write_rate: torch.Tensor | None = None

    def eta(self, length: int) -> float:
        """Write step η = 1 − α for a segment of ``length`` tokens."""
        return 1.0 - (alpha_for_length(length) if self.alpha is None else self.alpha)

    def forward(self, x: torch.Tensor, state: DrexL4State | None = None) -> tuple[torch.Tensor, DrexL4State]:
        B, T, d = x.shape
        L = self.segment_len or T
        d_h = d // 2
        if state is None:
            zeros = x.new_zeros(B, d_h, d_h)
            state = DrexL4State(zeros, zeros, 0, x.new_zeros(B), 0)
        h = self.norm(x)
        k_s, k_e = self.W_s(h), self.W_e(h)
        q_s = k_s / k_s.norm(dim=-1, keepdim=True).clamp_min(EPS)
        q_e = k_e / k_e.norm(dim=-1, keepdim=True).clamp_min(EPS)
        if not self.write_grad:
            k_s, k_e = k_s.detach(), k_e.detach()
        mem = (state.sem, state.epi)
        pos = state.pos if self.segment_len else 0
        reads, read_at, fires = [], [], []
        t = 0
        while t < T:  # one piece per (part of a) segment
            if pos == 0 and not self.carry_memory:
                mem = (x.new_zeros(B, d_h, d_h), x.new_zeros(B, d_h, d_h))
            if not self.write_grad:
                mem = (mem[0].detach(), mem[1].detach())
            n = min(T - t, L - pos)
            per_pos = self.readout == "per_position"
            n_w = n if per_pos else max(0, min(n, L - 1 - pos))  # the seed never writes t = L−1
            if n_w:
                w = slice(t, t + n_w)
                res = drex_memory(
                    k_s[:, w],
                    k_e[:, w],
                    q_sem=q_s[:, w] if per_pos else None,
                    q_epi=q_e[:, w] if per_pos else None,
                    eta=self.eta(L),
                    thresh=self.thresh,
                    gate=self.gate,
                    epi_weight=recency_weight(n_w, seq_len=L, start=pos, device=x.device) if self.recency else None,
                    initial_state=mem,
                    impl=self.impl,
                )
                mem = tuple(res.state)
                fires.append(res.fire)
                if per_pos:
                    reads.append(res.readout)
                    read_at.extend(range(t, t + n))
            if not per_pos and pos + n == L:  # the segment's last token reads the memory
                i = t + n - 1
                r_s = torch.bmm(mem[0], q_s[:, i, :, None]).squeeze(-1)
                r_e = torch.bmm(mem[1], q_e[:, i, :, None]).squeeze(-1)
                reads.append(torch.cat([r_s, r_e], -1).unsqueeze(1))
                read_at.append(i)
            t, pos = t + n, (pos + n) % L
        y = torch.zeros_like(x)
        if read_at:
            r, hr = torch.cat(reads, 1), h[:, read_at]
            if self.mix is not None:
                c = torch.sigmoid(self.mix(hr))
                r = torch.cat([c * r[..., :d_h], (1 - c) * r[..., d_h:]], -1)
            if self.null is not None:
                r = torch.sigmoid(self.null(hr)) * r
            y[:, read_at] = self.out_norm(self.out(r))
        fire = torch.cat(fires, 1) if fires else x.new_zeros(B, 0, dtype=torch.bool)
        self.last_fire = fire
        self.last_write_rate = fire.float().mean() if fire.numel() else None
        new_state = DrexL4State(
            mem[0], mem[1], pos if self.segment_len else 0, state.fires + fire.sum(1), state.writes + fire.shape[1]
        )
        return y, new_state

"""Adaptive halting over the thought stream (ReLSM's ``act``): as shipped, and Graves-style.

**As shipped** (model.py; book/appendix/relsm.md §3, item 2). After refinement k,
p_k = σ(w·mean_Z(z_k) + b), forced to 0 for k < min_K; the cumulative halt c ← c + (1 − c) p_k;
the loop stops when *every* sequence of the batch has c ≥ 0.99 (so halting is per batch). The
output is the last z (not a mixture of the steps), and the loss adds
λ · float(Σ_k mean p_k) re-wrapped as a new tensor: a constant, so **no gradient ever reaches
the halting head**, which therefore stays at its random init.

**Graves** (Graves 2016, "Adaptive Computation Time for Recurrent Neural Networks"), per
position t with halting units h_k = σ(w·mean_Z(z_k) + b):

    N(t) = min{ n ≤ max_K : Σ_{k≤n} h_k ≥ 1 − ε },     R(t) = 1 − Σ_{k<N} h_k
    p_k = h_k (k < N),  p_N = R,     z̄ = Σ_k p_k mean_Z(z_k)   (the output: a weighted mixture)
    ponder cost  ρ(t) = N(t) + R(t),   loss += τ · mean_t ρ(t)

N is piecewise constant; the gradient of ρ flows through R into the halting head and pushes
toward halting earlier. Positions that have halted keep being computed (all positions run in
one batch) but get zero weight, so the output equals the per-position early stop. Positions the
stream does not inject into (the prompt-only stream's prompt) take no part: no iterations, no
ponder cost. Over the prompt-only stream every answer position of a sequence shares one
thought set, so halting is per sequence.

Initialisation (issue 17): halting bias 0 (h = σ(0) = 1/2, so N = 2 at init) and τ = 1e-3. With
the earlier bias 1 every position halted after exactly 2 iterations and stayed there.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from memnb.relsm.thoughts import ThoughtStream


class ShippedHalting(nn.Module):
    """ReLSM's ACT loop: per-batch stop, last-step output, detached ponder penalty."""

    def __init__(
        self, stream: ThoughtStream, min_k: int, max_k: int, threshold: float = 0.99, penalty: float = 0.01
    ) -> None:
        super().__init__()
        if not 1 <= min_k <= max_k:
            raise ValueError(f"need 1 <= min_k <= max_k, got min_k={min_k}, max_k={max_k}")
        self.stream, self.min_k, self.max_k = stream, min_k, max_k
        self.threshold, self.penalty = threshold, penalty
        self.halt = nn.Linear(stream.init.size(1), 1)
        self.last_ponder = torch.zeros(())
        self.last_iterations = torch.zeros(())

    def forward(self, h: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        z, mask = self.stream.start(h, idx)
        kv = self.stream.core.keys(h)
        c = h.new_zeros(h.size(0), h.size(1))
        ponder = 0.0
        for k in range(self.max_k):
            z = self.stream.core(z, kv, mask)
            p = torch.sigmoid(self.halt(self.stream.summary(z, h.size(1)))).squeeze(-1)
            if k < self.min_k:
                p = torch.zeros_like(p)
            c = c + (1 - c) * p
            ponder = ponder + p.mean()
            if bool((c >= self.threshold).all()):
                break
        self.last_iterations = torch.full(idx.shape, float(k + 1))
        self.last_ponder = torch.tensor(float(ponder.detach()))  # as shipped: float() drops the graph
        return self.stream.inject(h, z)

    def ponder_loss(self) -> torch.Tensor:
        return self.penalty * self.last_ponder


class GravesHalting(nn.Module):
    """Graves' ACT per position: halting-weighted mixture of the steps, differentiable N + R."""

    def __init__(self, stream: ThoughtStream, max_k: int, epsilon: float = 0.01, tau: float = 1e-3) -> None:
        super().__init__()
        if max_k < 1 or not 0 < epsilon < 1 or tau < 0:
            raise ValueError(f"need max_k >= 1, 0 < epsilon < 1, tau >= 0; got {max_k}, {epsilon}, {tau}")
        self.stream, self.max_k, self.epsilon, self.tau = stream, max_k, epsilon, tau
        self.halt = nn.Linear(stream.init.size(1), 1)
        self.reset_parameters()
        self.last_ponder = torch.zeros(())
        self.last_iterations = torch.zeros(())
        self._valid = torch.ones(())

    def reset_parameters(self) -> None:
        """Halting bias 0: h = 1/2 at init (weights N(0, 0.02) from the model's init)."""
        nn.init.zeros_(self.halt.bias)

    def forward(self, h: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        B, T, d = h.shape
        z, mask = self.stream.start(h, idx)
        kv = self.stream.core.keys(h)
        cum = h.new_zeros(B, T)
        remainder = h.new_zeros(B, T)
        n_used = h.new_zeros(B, T)
        out = h.new_zeros(B, T, d)
        running = self.stream.active(idx).clone()
        for k in range(1, self.max_k + 1):
            z = self.stream.core(z, kv, mask)
            s = self.stream.summary(z, T)
            hk = torch.sigmoid(self.halt(s)).squeeze(-1)
            halt_now = running if k == self.max_k else running & (cum + hk >= 1 - self.epsilon)
            p = torch.where(halt_now, 1 - cum, torch.where(running, hk, torch.zeros_like(hk)))
            out = out + p.unsqueeze(-1) * s
            n_used = torch.where(running, torch.full_like(n_used, k), n_used)
            remainder = torch.where(halt_now, 1 - cum, remainder)
            cum = cum + torch.where(running & ~halt_now, hk, torch.zeros_like(hk))
            running = running & ~halt_now
            if not bool(running.any()):
                break
        self.last_iterations = n_used.detach()
        self.last_ponder = n_used + remainder
        self._valid = (idx != self.stream.pad_id) & self.stream.active(idx)
        return h + self.stream.to_token(out)

    def ponder_loss(self) -> torch.Tensor:
        """τ · mean over non-pad positions of N + R (differentiable through R)."""
        valid = self._valid.to(self.last_ponder.dtype)
        return self.tau * (self.last_ponder * valid).sum() / valid.sum().clamp(min=1)
